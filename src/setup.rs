//! Opening the database for the rules above the store: a new database gets its first
//! admin (DESIGN §1) inside the transaction that creates its schema.

use std::path::Path;

use crate::access::DEFAULT_ADMIN;
use crate::error::Result;
use crate::store::{Create, Store};
use crate::users;

/// `osmo init`: the database made and its first admin.
#[derive(Debug, serde::Serialize)]
pub struct Initialized {
    pub database: String,
    pub admin: String,
}

/// Opens the database at `path`, creating it (as `create` allows) on first use with the
/// admin `admin`. Returns whether this call created it.
pub fn open(path: &Path, create: Create, now: i64) -> Result<(Store, bool)> {
    open_as(path, create, DEFAULT_ADMIN, now)
}

/// Opens the database, creating it (as `create` allows) on first use with `admin` as its
/// first admin. Returns whether this call created it.
pub fn open_as(path: &Path, create: Create, admin: &str, now: i64) -> Result<(Store, bool)> {
    Store::open(path, create, &|tx| users::bootstrap(tx, admin, now))
}

/// A new database in memory with the admin `admin`, for tests of the rules.
pub fn in_memory(now: i64) -> Result<Store> {
    Store::in_memory(&|tx| users::bootstrap(tx, DEFAULT_ADMIN, now))
}
