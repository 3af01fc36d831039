//! The database: how it is opened, migrated and bootstrapped, and the one place that
//! runs SQL. Everything `rusqlite` lives under this folder; the rest of the crate reads
//! and writes through `Tx`'s named methods (see `tx.rs`).

mod audit;
mod file;
mod migrations;
mod probe;
mod roles;
mod sessions;
mod settings;
mod tokens;
mod tx;
mod users;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use file::{default_path, expand_home};
pub use migrations::{APPLICATION_ID, MIGRATIONS};
pub use tx::{
    Event, NewEvent, NewTokenRow, Role, RoleGrant, SessionRow, StoredToken, TokenRef, TokenRow, Tx,
    UserRow,
};

use crate::error::{Error, Result};

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const WAL_SIZE_LIMIT: i64 = 4 << 20;

/// What a new database is given inside its first migration's transaction (the first
/// admin); returns whether it did anything. The rules of that live above the store.
pub type Bootstrap<'a> = &'a dyn Fn(&Tx<'_>) -> Result<bool>;

pub struct Store {
    conn: Connection,
    path: PathBuf,
    warnings: Vec<String>,
}

impl Store {
    /// Opens the database at `path`, creating it on first use and running `bootstrap`
    /// in the transaction that creates its schema. Returns whether it was bootstrapped.
    pub fn open(path: &Path, bootstrap: Bootstrap<'_>) -> Result<(Store, bool)> {
        let mut store = Store::connect(path)?;
        let created = store.migrate(bootstrap)?;
        Ok((store, created))
    }

    /// A private database in memory, for tests of the rules.
    pub fn in_memory(bootstrap: Bootstrap<'_>) -> Result<Store> {
        let mut store = Store {
            conn: Connection::open_in_memory()?,
            path: PathBuf::from(":memory:"),
            warnings: Vec::new(),
        };
        store.migrate(bootstrap)?;
        Ok(store)
    }

    fn connect(path: &Path) -> Result<Store> {
        let shown = path.display();
        let unusable = |why: String| Error::Database(format!("Cannot use database {shown}: {why}"));
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(unusable("it is a directory.".into())),
            Ok(meta) => {
                probe::existing(path, &meta)?;
            }
            Err(err) if err.kind() == ErrorKind::NotFound => file::create_private(path)
                .map_err(|err| Error::Database(format!("Cannot create database {shown}: {err}")))?,
            Err(err) => return Err(unusable(err.to_string())),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|err| unusable(format!("{err}.")))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        file::persist_wal(&conn);
        // With a persistent WAL, a non-negative limit makes the last connection truncate
        // the WAL to zero after its closing checkpoint. Without it the WAL keeps its old
        // frames, the next process's recovery counts them as live again, and every
        // closing checkpoint copies them all once more while the WAL keeps growing.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            warnings: file::open_to_others(path),
        })
    }

    /// Checks the file is ours and not from a newer osmo, then brings the schema up to date
    /// and bootstraps a new database, all in one exclusive transaction.
    fn migrate(&mut self, bootstrap: Bootstrap<'_>) -> Result<bool> {
        let version = self.check_schema()?;
        // WAL with NORMAL survives a killed process; commits that hand out a secret use
        // `write_durable`, which also survives a power cut.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        // Migrations and the bootstrap commit together, so an up-to-date schema has its
        // first admin already.
        if version == MIGRATIONS.len() as i64 {
            self.conn.pragma_update(None, "foreign_keys", true)?;
            return Ok(false);
        }
        if version == 0 {
            // Mark the file as ours while it is still in rollback mode, so the mark is in
            // the file itself (not only in a WAL) from the first byte: a process that looks
            // at it meanwhile never mistakes it for someone else's database.
            self.conn
                .pragma_update(None, "application_id", APPLICATION_ID)?;
        }
        self.use_wal()?;
        // A migration may rebuild a table that others refer to (SQLite's documented
        // procedure): foreign keys are off while it runs and checked before it commits.
        self.conn.pragma_update(None, "foreign_keys", false)?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)?;
        // Another process may have migrated while we waited for the lock.
        let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        migrations::apply(&tx, version as usize, MIGRATIONS.len())?;
        let broken: i64 =
            tx.query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                r.get(0)
            })?;
        if broken != 0 {
            return Err(Error::Database(format!(
                "Upgrading {} would break {broken} references between rows; it was left unchanged.",
                self.path.display()
            )));
        }
        let tx = Tx { tx };
        let created = bootstrap(&tx)?;
        tx.commit()?;
        self.conn.pragma_update(None, "foreign_keys", true)?;
        Ok(created)
    }

    /// The schema version of a file `probe` found to be ours, or empty. A file it let
    /// through on its header alone is refused here if it is newer or damaged, and then
    /// closed without the checkpoint that would rewrite it.
    fn check_schema(&self) -> Result<i64> {
        let read = || -> rusqlite::Result<i64> {
            self.conn
                .query_row("SELECT count(*) FROM sqlite_schema", [], |_| Ok(()))?;
            self.conn
                .pragma_query_value(None, "user_version", |r| r.get(0))
        };
        let refused = match read().map_err(|err| probe::unreadable(&self.path, err)) {
            Ok(version) if version > MIGRATIONS.len() as i64 => probe::newer(&self.path, version),
            Ok(version) => return Ok(version),
            Err(err) => err,
        };
        let _ = self
            .conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true);
        Err(refused)
    }

    /// WAL lets readers run beside a writer; the mode is stored in the file, so this runs once.
    fn use_wal(&self) -> Result<()> {
        let mode: String = self
            .conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            self.conn
                .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Warnings about the file found while opening it, for the caller to print.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Runs `f` in one read transaction: everything it reads comes from one snapshot.
    pub fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`: the one writer) and commits it
    /// if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Immediate, f)
    }

    /// As `write`, but the commit is on disk (fsynced) before this returns: for commits
    /// whose result hands out a secret that must never be lost once shown.
    pub fn write_durable<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let out = self.write(f);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        out
    }

    fn transaction<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = Tx {
            tx: self.conn.transaction_with_behavior(behavior)?,
        };
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Copies the WAL into the file and empties it, as the last process would on exit.
    pub fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// The one place SQLite's errors become the crate's. The schema's triggers abort with
/// `osmo: ...` messages: rule violations (exit 5), not database failures.
impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(_, Some(msg)) = &err {
            match msg.as_str() {
                "osmo: last admin" => {
                    return Error::conflict(
                        "Cannot remove the last user with the osmo-admin role: there must always be one.",
                    );
                }
                "osmo: token roles are immutable" => {
                    return Error::conflict(
                        "Token roles are immutable: delete the token and create a new one.",
                    );
                }
                _ => {}
            }
        }
        Error::Storage(err.to_string())
    }
}
