//! The SQLite file: where it lives, how it is opened, migrated and bootstrapped.

mod migrations;

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags, Transaction, TransactionBehavior};

pub use migrations::{APPLICATION_ID, MIGRATIONS};

use crate::error::{Error, Result};
use crate::{audit, time};

/// The user id the first admin gets when nobody says otherwise.
pub const DEFAULT_ADMIN: &str = "admin";

const BUSY_TIMEOUT: Duration = Duration::from_secs(30);
const WAL_SIZE_LIMIT: i64 = 4 << 20;

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// The database path: `--db`/`$OSMO_DB` (already merged by clap), else the data dir.
pub fn default_path() -> Result<PathBuf> {
    directories::ProjectDirs::from("", "", "osmo")
        .map(|dirs| dirs.data_dir().join("osmo.db"))
        .ok_or_else(|| {
            Error::Database(
                "Cannot find a home folder for the database: pass --db PATH or set OSMO_DB.".into(),
            )
        })
}

/// Expands a leading `~/`, which the shell leaves alone in `--flag=~/x`.
pub fn expand_home(path: &Path) -> PathBuf {
    match (path.strip_prefix("~"), directories::BaseDirs::new()) {
        (Ok(rest), Some(dirs)) if path.starts_with("~/") => dirs.home_dir().join(rest),
        _ => path.to_path_buf(),
    }
}

impl Store {
    /// Opens the database at `path`, creating and bootstrapping it on first use.
    pub fn open(path: &Path) -> Result<Store> {
        Ok(Store::open_or_init(path, DEFAULT_ADMIN)?.0)
    }

    /// Opens the database, bootstrapping it with `admin` as the first admin if it is new.
    /// Returns whether this call did the bootstrap.
    pub fn open_or_init(path: &Path, admin: &str) -> Result<(Store, bool)> {
        let mut store = Store::connect(path)?;
        let created = store.migrate(admin)?;
        Ok((store, created))
    }

    fn connect(path: &Path) -> Result<Store> {
        let shown = path.display();
        let unusable = |why: String| Error::Database(format!("Cannot use database {shown}: {why}"));
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(unusable("it is a directory.".into())),
            Ok(_) => {}
            Err(err) if err.kind() == ErrorKind::NotFound => create_private(path)
                .map_err(|err| Error::Database(format!("Cannot create database {shown}: {err}")))?,
            Err(err) => return Err(unusable(err.to_string())),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn =
            Connection::open_with_flags(path, flags).map_err(|err| unusable(format!("{err}.")))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        persist_wal(&conn);
        // With a persistent WAL, a non-negative limit makes the last connection truncate
        // the WAL to zero after its closing checkpoint. Without it the WAL keeps its old
        // frames, the next process's recovery counts them as live again, and every
        // closing checkpoint copies them all once more while the WAL keeps growing.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Checks the file is ours and not from a newer osmo, then brings the schema up to date
    /// and bootstraps a new database, all in one exclusive transaction.
    fn migrate(&mut self, admin: &str) -> Result<bool> {
        let version = self.check_schema()?;
        self.conn.pragma_update(None, "foreign_keys", true)?;
        // WAL with NORMAL survives a killed process; commits that hand out a secret use
        // `write_durable`, which also survives a power cut.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let latest = MIGRATIONS.len() as i64;
        // Migrations and the bootstrap commit together, so an up-to-date schema has its
        // first admin already.
        if version == latest {
            return Ok(false);
        }
        self.use_wal()?;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)?;
        // Another process may have migrated while we waited for the lock.
        let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
        for (done, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", done as i64 + 1)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        let created = bootstrap(&tx, admin)?;
        tx.commit()?;
        Ok(created)
    }

    /// Returns the schema version, refusing files that are not osmo databases or are newer.
    fn check_schema(&self) -> Result<i64> {
        let not_ours = |why: &str| {
            Error::Database(format!(
                "{} is not an osmo database ({why}); it was left unchanged.",
                self.path.display()
            ))
        };
        let read = || -> rusqlite::Result<(i64, i64, i64)> {
            let app: i64 = self
                .conn
                .pragma_query_value(None, "application_id", |r| r.get(0))?;
            let version: i64 = self
                .conn
                .pragma_query_value(None, "user_version", |r| r.get(0))?;
            let objects: i64 =
                self.conn
                    .query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
            Ok((app, version, objects))
        };
        let (app, version, objects) = read().map_err(|err| match err.sqlite_error_code() {
            Some(ErrorCode::NotADatabase) => not_ours("not an SQLite file"),
            Some(ErrorCode::DatabaseCorrupt) => not_ours("the file is corrupt"),
            _ => Error::from(err),
        })?;
        if app != APPLICATION_ID && (version != 0 || objects != 0) {
            return Err(not_ours("an SQLite file that belongs to something else"));
        }
        let latest = MIGRATIONS.len() as i64;
        if version > latest {
            return Err(Error::Database(format!(
                "{} was written by a newer osmo (schema version {version}; this osmo {} knows up to {latest}). Upgrade osmo to use it; the file was left unchanged.",
                self.path.display(),
                env!("CARGO_PKG_VERSION"),
            )));
        }
        Ok(version)
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

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction and commits it if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// As `write`, but the commit is on disk (fsynced) before this returns: for commits
    /// whose result hands out a secret that must never be lost once shown.
    pub fn write_durable<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let out = self.write(f);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        out
    }
}

/// Keeps the -wal and -shm files when the last connection closes (after its checkpoint),
/// instead of deleting them for the next process to create again. Only a speed-up: if
/// SQLite refuses, it deletes them as usual.
fn persist_wal(conn: &Connection) {
    let mut on: std::ffi::c_int = 1;
    // SAFETY: the handle is valid while `conn` lives; SQLITE_FCNTL_PERSIST_WAL reads and
    // writes one int through the pointer, which outlives the call.
    unsafe {
        rusqlite::ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            rusqlite::ffi::SQLITE_FCNTL_PERSIST_WAL,
            (&raw mut on).cast(),
        );
    }
}

/// Creates the database file (0600) and any missing folders (0700) before SQLite opens it.
fn create_private(path: &Path) -> std::io::Result<()> {
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(parent) = parent.filter(|p| !p.exists()) {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(parent)?;
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(err) if err.kind() != ErrorKind::AlreadyExists => Err(err),
        _ => Ok(()),
    }
}

/// Creates the first admin on a new database. Returns false when one already exists.
fn bootstrap(tx: &Transaction<'_>, admin: &str) -> Result<bool> {
    if crate::settings::stored(tx, "operator-user")?.is_some() {
        return Ok(false);
    }
    let now = time::now();
    tx.execute(
        "INSERT INTO users (id, created_at, created_by) VALUES (?1, ?2, 'system')",
        (admin, now),
    )?;
    for role in [crate::roles::ADMIN, crate::roles::USER] {
        tx.execute(
            "INSERT INTO user_roles (user_id, role, assigned_by, assigned_at)
             VALUES (?1, ?2, 'system', ?3)",
            (admin, role, now),
        )?;
    }
    crate::settings::put(tx, "operator-user", admin)?;
    audit::record(tx, "system", "init", admin, Some(admin), "ok")?;
    Ok(true)
}
