//! The database: opened, migrated and bootstrapped, and the one place that runs SQL.
//! Every statement lives under this folder, in one backend or the other: an SQLite file
//! (`sqlite/`, the default) or a PostgreSQL server (`pg/`, DESIGN §10). The rest of the
//! crate reads and writes through `Tx`'s named methods (see `rows.rs`), the same on both.

mod copy;
#[cfg(feature = "postgres")]
mod pg;
mod rows;
mod sqlite;

use std::path::Path;
use std::time::Duration;

pub use copy::{Copied, Staged};
pub use rows::{
    Event, Flow, NewEvent, NewTokenRow, Role, RoleGrant, SessionRow, StoredToken, Table, TokenRef,
    TokenRow, Tx, UserRow,
};
pub use sqlite::{APPLICATION_ID, MIGRATIONS, default_path, expand_home};

use crate::error::{Error, Fault, Result};

/// How long a write waits for the write lock before it gives up (DESIGN §7).
const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long bookkeeping (a token's last use, the audit of a failed check) waits for the
/// write lock before it is skipped: a verify must answer promptly whatever writers do.
const BOOKKEEPING_WAIT: Duration = Duration::from_millis(500);

/// What a new database is given inside its first migration's transaction (the first
/// admin); returns whether it did anything. The rules of that live above the store.
pub type Bootstrap<'a> = &'a dyn Fn(&Tx<'_>) -> Result<bool>;

/// What opening a path that holds no file may do (DESIGN §1): a mistyped `--db` must
/// not quietly become a new database, and a token caller has no database to be new in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Create {
    /// Refuse: `no osmo database at PATH` (login, verify, token callers, completion).
    Never,
    /// Create the file in a folder that exists (a `--db`/`$OSMO_DB` path).
    File,
    /// Create the file and any missing folders (the default data folder).
    WithFolders,
}

/// An open database of either kind.
pub struct Store {
    backend: Backend,
}

enum Backend {
    Lite(sqlite::Lite),
    #[cfg(feature = "postgres")]
    Pg(pg::Pg),
}

/// What the database looks like from outside its tables (`db info`).
#[derive(Debug)]
pub struct FileInfo {
    pub schema_version: i64,
    /// SQLite's journal mode; none on PostgreSQL.
    pub journal_mode: Option<String>,
    /// The file's size, or PostgreSQL's `pg_database_size`.
    pub size_bytes: u64,
    /// The size of SQLite's write-ahead log; none on PostgreSQL.
    pub wal_bytes: Option<u64>,
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
        Err(Error::Database(
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

    /// Whether this is a PostgreSQL database.
    pub fn is_server(&self) -> bool {
        !matches!(self.backend, Backend::Lite(_))
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
            // Every PostgreSQL commit is flushed before it returns (synchronous_commit).
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.write(f, BUSY_TIMEOUT),
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

fn read_only_fault() -> Error {
    Error::Storage {
        fault: Fault::ReadOnly,
        detail: "attempt to write a readonly database".into(),
    }
}

/// Names the database in a fault a user can act on (DESIGN §7).
fn located(path: &Path, err: Error) -> Error {
    let shown = path.display();
    let (fault, message) = match &err {
        Error::Storage { fault, .. } => (
            *fault,
            match fault {
                Fault::ReadOnly => format!("database {shown} is read-only"),
                Fault::Busy => format!(
                    "database {shown} is busy: another process has held its write lock for {} s",
                    BUSY_TIMEOUT.as_secs()
                ),
                Fault::Full => format!("cannot write database {shown}: the disk is full"),
                Fault::Damaged => format!(
                    "database {shown} is damaged: run osmo db check, and osmo db restore from a backup"
                ),
                Fault::Other => return err,
            },
        ),
        _ => return err,
    };
    Error::Unusable { fault, message }
}
