//! The SQLite file: where it lives, how it is opened, migrated and bootstrapped.

mod migrations;
mod probe;

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

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
    warnings: Vec<String>,
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
            Ok(meta) => {
                probe::existing(path, &meta)?;
            }
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
            warnings: open_to_others(path),
        })
    }

    /// Checks the file is ours and not from a newer osmo, then brings the schema up to date
    /// and bootstraps a new database, all in one exclusive transaction.
    fn migrate(&mut self, admin: &str) -> Result<bool> {
        let version = self.check_schema()?;
        // WAL with NORMAL survives a killed process; commits that hand out a secret use
        // `write_durable`, which also survives a power cut.
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        let latest = MIGRATIONS.len() as i64;
        // Migrations and the bootstrap commit together, so an up-to-date schema has its
        // first admin already.
        if version == latest {
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
        for (done, migration) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            tx.execute_batch(migration)?;
            tx.pragma_update(None, "user_version", done as i64 + 1)?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
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
        let created = bootstrap(&tx, admin)?;
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
    pub fn read<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    fn transaction<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self.conn.transaction_with_behavior(behavior)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Runs `f` in a `BEGIN IMMEDIATE` transaction and commits it if `f` succeeds.
    pub fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Immediate, f)
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

/// The file's permissions are the trust boundary (DESIGN §2): whoever may write the file,
/// or its folder, is an admin of it. Says so, as ssh does for keys.
fn open_to_others(path: &Path) -> Vec<String> {
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    [(path, "600"), (folder, "700")]
        .into_iter()
        .filter(|(p, _)| fs::metadata(p).is_ok_and(|m| m.mode() & 0o022 != 0))
        .map(|(p, mode)| {
            format!(
                "{} is writable by group or others: anyone who can write it is an admin (chmod {mode} {})",
                p.display(),
                p.display()
            )
        })
        .collect()
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
