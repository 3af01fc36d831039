//! The database: opened, migrated and bootstrapped, and the one place that runs SQL.
//! Every statement lives under this folder, in one backend or the other: an SQLite file
//! (`sqlite/`, the default) or a PostgreSQL server (`pg/`, DESIGN §10). The rest of the
//! crate reads and writes through `Tx`'s named methods (see `rows.rs`), the same on both.

mod copy;
mod fault;
#[cfg(feature = "postgres")]
mod pg;
mod rows;
mod sqlite;

use std::path::Path;

pub use copy::{Copied, Staged};
pub use rows::{
    Bootstrap, Create, Event, FileInfo, Flow, NewEvent, NewTokenRow, Role, RoleGrant, SessionRow,
    StoredToken, Table, TokenRef, TokenRow, Tx, UserRow,
};
pub use sqlite::{APPLICATION_ID, MIGRATIONS, default_path, expand_home};

#[cfg(feature = "postgres")]
use fault::{BOOKKEEPING_WAIT, BUSY_TIMEOUT};

use crate::error::Result;

/// An open database of either kind.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Lite(sqlite::Lite),
    #[cfg(feature = "postgres")]
    Pg(pg::Pg),
}

/// Whether `location` names a PostgreSQL database rather than a file (DESIGN §10).
pub fn is_server_url(location: &Path) -> bool {
    let text = location.to_string_lossy();
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

impl Store {
    /// Opens the database at `location` (a file path, or a `postgres://` URL), creating it
    /// on first use and running `bootstrap` in the transaction that creates its schema.
    /// Returns whether it was bootstrapped.
    pub fn open(
        location: &Path,
        create: Create,
        bootstrap: Bootstrap<'_>,
    ) -> Result<(Store, bool)> {
        if is_server_url(location) {
            return Store::open_server(location, create, bootstrap);
        }
        let (lite, created) = sqlite::Lite::open(location, create, bootstrap)?;
        Ok((Store::from(Backend::Lite(lite)), created))
    }

    #[cfg(feature = "postgres")]
    fn open_server(url: &Path, create: Create, bootstrap: Bootstrap<'_>) -> Result<(Store, bool)> {
        let (pg, created) = pg::Pg::open(&url.to_string_lossy(), create, bootstrap)?;
        Ok((Store::from(Backend::Pg(pg)), created))
    }

    #[cfg(not(feature = "postgres"))]
    fn open_server(url: &Path, _: Create, _: Bootstrap<'_>) -> Result<(Store, bool)> {
        let _ = url;
        Err(crate::error::Error::Database(
            "this osmo was built without PostgreSQL support (cargo feature `postgres`)".into(),
        ))
    }

    /// Opens an existing, up-to-date database for reading only: nothing created,
    /// migrated, checkpointed or waited for long (shell completion, on every TAB).
    pub fn open_for_reading(location: &Path) -> Result<Store> {
        if is_server_url(location) {
            return Store::open_server_for_reading(location);
        }
        Ok(Store::from(Backend::Lite(sqlite::Lite::open_for_reading(
            location,
        )?)))
    }

    #[cfg(feature = "postgres")]
    fn open_server_for_reading(url: &Path) -> Result<Store> {
        let pg = pg::Pg::open_existing(&url.to_string_lossy())?;
        Ok(Store::from(Backend::Pg(pg)))
    }

    #[cfg(not(feature = "postgres"))]
    fn open_server_for_reading(url: &Path) -> Result<Store> {
        Ok(Store::open_server(url, Create::Never, &|_| Ok(false))?.0)
    }

    /// A private database in memory, for tests of the rules.
    pub fn in_memory(bootstrap: Bootstrap<'_>) -> Result<Store> {
        Ok(Store::from(Backend::Lite(sqlite::Lite::in_memory(
            bootstrap,
        )?)))
    }

    fn from(backend: Backend) -> Store {
        Store { backend }
    }

    /// Where the database is, as messages show it: a file's path, or a server's URL
    /// without its password.
    pub fn path(&self) -> &Path {
        match &self.backend {
            Backend::Lite(lite) => &lite.path,
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => &pg.shown,
        }
    }

    /// Warnings about the file found while opening it, for the caller to print.
    pub fn warnings(&self) -> &[String] {
        match &self.backend {
            Backend::Lite(lite) => &lite.warnings,
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => &[],
        }
    }

    /// Runs `f` in one read transaction: everything it reads comes from one snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &mut self.backend {
            Backend::Lite(lite) => lite.read(f),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.read(f),
        }
    }

    /// Runs `f` in a write transaction, the only writer of the database while it runs,
    /// and commits it if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &mut self.backend {
            Backend::Lite(lite) => lite.write(f),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.write(f, BUSY_TIMEOUT),
        }
    }

    /// As `write`, but the commit is on disk (fsynced) before this returns: for commits
    /// whose result hands out a secret that must never be lost once shown.
    pub fn write_durable<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        match &mut self.backend {
            Backend::Lite(lite) => lite.write_durable(f),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.write_durable(f),
        }
    }

    /// Bookkeeping that no answer depends on (a token's last use, the audit of a refusal):
    /// written if the write lock comes within about half a second and the database can be
    /// written, else skipped. Returns whether it was written.
    pub fn write_if_free(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<()>) -> bool {
        match &mut self.backend {
            Backend::Lite(lite) => lite.write_if_free(f),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.write(f, BOOKKEEPING_WAIT).is_ok(),
        }
    }

    /// Copies SQLite's WAL into the file and empties it, as the last process would on
    /// exit; nothing to do on PostgreSQL.
    pub fn checkpoint(&self) -> Result<()> {
        match &self.backend {
            Backend::Lite(lite) => lite.checkpoint(),
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => Ok(()),
        }
    }

    /// The schema version and the sizes `db info` reports.
    pub fn file_info(&mut self) -> Result<FileInfo> {
        match &mut self.backend {
            Backend::Lite(lite) => lite.file_info(),
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.info(),
        }
    }
}
