//! The seam between the rules and the database: one transaction, and the rows it reads
//! and writes, named in the domain's words.
//!
//! Every `pub fn` on `Tx` (here and in the `users`, `roles`, `tokens`, `sessions`,
//! `settings` and `audit` files beside this one) is the interface a second backend
//! implements: none of them takes or returns an SQLite type. The domain modules decide
//! what happens in one transaction; `Tx` only says how a row is stored.
//!
//! Two rules span rows, and hold only because of how a backend runs a transaction:
//! - the token limit: `count_live_tokens` and `insert_token` in one `write`. SQLite's
//!   `write` is `BEGIN IMMEDIATE`, a single writer, so no two counts can both see room;
//!   a backend with concurrent writers must serialize them (a SERIALIZABLE transaction
//!   retried on conflict, or a lock on the owner's user row before counting);
//! - the last admin: the schema's trigger counts the other holders of `osmo-admin` inside
//!   the deleting transaction, which SQLite's single writer makes exact; another backend
//!   needs the same serialization around `revoke_role` and `delete_user`.

use serde::Serialize;

use crate::error::Result;
use crate::time::Timestamp;

/// Whether a reader handed rows one at a time wants more (a closed pipe does not).
pub type Flow = std::ops::ControlFlow<()>;

/// One write or read transaction. Commits when the closure given to `Store::read`,
/// `Store::write` or `Store::write_durable` returns `Ok`; rolls back otherwise.
pub struct Tx<'c> {
    pub(super) tx: rusqlite::Transaction<'c>,
}

impl Tx<'_> {
    pub(super) fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    /// Role grants read by `sql`, whose columns are role, assigned_by, assigned_at.
    pub(super) fn grants(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<RoleGrant>> {
        let mut stmt = self.tx.prepare_cached(sql)?;
        let grants = stmt.query_map(params, |row| {
            Ok(RoleGrant {
                role_name: row.get(0)?,
                assigned_by: row.get(1)?,
                assigned_at: Timestamp(row.get(2)?),
            })
        })?;
        Ok(grants.collect::<rusqlite::Result<_>>()?)
    }
}

/// Role names aggregated by `group_concat(role, ',')` (a role name holds no comma) as a
/// sorted list; none for a NULL. Sorting the few names here is cheaper than asking SQLite
/// to sort inside the aggregate for every row.
pub(super) fn role_list(joined: Option<String>) -> Vec<String> {
    let mut roles: Vec<String> = joined.map_or_else(Vec::new, |joined| {
        joined.split(',').map(str::to_string).collect()
    });
    roles.sort_unstable();
    roles
}

/// One role held by a user or a token, and who gave it when.
#[derive(Debug, Clone, Serialize)]
pub struct RoleGrant {
    pub role_name: String,
    pub assigned_by: String,
    pub assigned_at: Timestamp,
}

/// A role of the catalogue.
#[derive(Debug, Serialize)]
pub struct Role {
    pub name: String,
    pub description: String,
    pub built_in: bool,
}

/// A user's own row.
#[derive(Debug)]
pub struct UserRow {
    pub id: String,
    pub created_at: Timestamp,
    pub created_by: String,
}

/// A token as the commands that name one (by owner and name) find it.
#[derive(Debug)]
pub struct TokenRef {
    pub row_id: i64,
    pub public_id: String,
    pub description: String,
    pub created_at: i64,
    pub expires_at: i64,
}

/// A token as `token list` shows it, with its roles, sorted.
#[derive(Debug)]
pub struct TokenRow {
    pub row_id: i64,
    pub public_id: String,
    pub name: String,
    pub user_id: String,
    pub description: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_used_at: Option<Timestamp>,
}

/// A token as a presented secret is checked against it.
#[derive(Debug)]
pub struct StoredToken {
    pub row_id: i64,
    pub name: String,
    pub user_id: String,
    pub secret_hash: String,
    pub expires_at: i64,
    pub last_used_at: Option<i64>,
}

/// A new token row: everything but its internal id, which the store assigns.
pub struct NewTokenRow<'a> {
    pub public_id: &'a str,
    pub owner: &'a str,
    pub name: &'a str,
    pub description: &'a str,
    pub secret_hash: &'a str,
    pub created_at: i64,
    pub created_by: &'a str,
    pub expires_at: i64,
}

/// A login session joined with the token it stands for.
#[derive(Debug)]
pub struct SessionRow {
    pub secret_hash: String,
    pub last_used_at: i64,
    pub url: Option<String>,
    pub token_row_id: i64,
    pub public_id: String,
    pub token_name: String,
    pub user_id: String,
    pub expires_at: i64,
}

/// One audit event as stored.
#[derive(Debug, Serialize)]
pub struct Event {
    pub at: Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

/// One audit event to append.
pub struct NewEvent<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: &'a str,
    pub target: &'a str,
    /// The user the target belongs to, so `audit list -u` finds events about a user.
    pub subject: Option<&'a str>,
    pub outcome: &'a str,
}
