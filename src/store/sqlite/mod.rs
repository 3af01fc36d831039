//! The SQLite backend: one file, opened, migrated and bootstrapped here, and every
//! statement run on it. `Lite` is what `Store` holds for a file; `LiteTx` implements the
//! seam's traits (`rows.rs`) in the files beside this one.

mod audit;
mod copy;
mod file;
mod maintenance;
mod migrations;
mod probe;
mod roles;
mod sessions;
mod settings;
mod tokens;
mod users;

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

pub(super) use file::sidecar;
pub use file::{default_path, expand_home};
pub(super) use maintenance::{copy_backup, count_users_and_tokens};
pub use migrations::{APPLICATION_ID, MIGRATIONS};

use super::fault::{BOOKKEEPING_WAIT, BUSY_TIMEOUT, located, read_only_fault, rule_refused};
use super::rows::{Bootstrap, Create, RoleGrant, Tx};
use crate::error::{Error, Fault, Result};
use crate::time::Timestamp;

const WAL_SIZE_LIMIT: i64 = 4 << 20;

/// An open SQLite database file.
pub(super) struct Lite {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
    pub(super) warnings: Vec<String>,
    /// The file, its folder or its medium cannot be written: reads work, writes are
    /// refused, bookkeeping is skipped.
    pub(super) read_only: bool,
}

impl Lite {
    /// Opens the database at `path`, creating it on first use and running `bootstrap`
    /// in the transaction that creates its schema. Returns whether it was bootstrapped.
    pub(super) fn open(
        path: &Path,
        create: Create,
        bootstrap: Bootstrap<'_>,
    ) -> Result<(Lite, bool)> {
        let mut store = Lite::connect(path, create).map_err(|err| located(path, err))?;
        let created = store.migrate(bootstrap).map_err(|err| located(path, err))?;
        Ok((store, created))
    }

    /// Opens an existing, up-to-date database for reading only: nothing created,
    /// migrated, checkpointed or waited for long (shell completion, on every TAB).
    pub(super) fn open_for_reading(path: &Path) -> Result<Lite> {
        let store = (|| {
            probe::existing(path, &fs::metadata(path)?)?;
            let conn = file::open_read_only(path)?;
            conn.busy_timeout(Duration::from_millis(200))?;
            let store = Lite {
                conn,
                path: path.to_path_buf(),
                warnings: Vec::new(),
                read_only: true,
            };
            let version = store.check_schema()?;
            if version != MIGRATIONS.len() as i64 {
                return Err(Error::Database(format!(
                    "database {} has schema version {version}; any other command upgrades it",
                    path.display()
                )));
            }
            Ok(store)
        })();
        store.map_err(|err| located(path, err))
    }

    /// A private database in memory, for tests of the rules.
    pub(super) fn in_memory(bootstrap: Bootstrap<'_>) -> Result<Lite> {
        let mut store = Lite {
            conn: Connection::open_in_memory()?,
            path: PathBuf::from(":memory:"),
            warnings: Vec::new(),
            read_only: false,
        };
        store.migrate(bootstrap)?;
        Ok(store)
    }

    fn connect(path: &Path, create: Create) -> Result<Lite> {
        let shown = path.display();
        let unusable = |why: String| Error::Database(format!("Cannot use database {shown}: {why}"));
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Err(unusable("it is a directory.".into())),
            Ok(meta) => {
                probe::existing(path, &meta)?;
            }
            Err(err) if err.kind() == ErrorKind::NotFound => file::create_private(path, create)?,
            Err(err) => return Err(unusable(err.to_string())),
        }
        let read_only = !file::writable(path);
        let conn = if read_only {
            file::open_read_only(path)
        } else {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            Connection::open_with_flags(path, flags)
        }
        .map_err(|err| unusable(format!("{err}.")))?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        file::persist_wal(&conn);
        // With a persistent WAL, a non-negative limit makes the last connection truncate
        // the WAL to zero after its closing checkpoint. Without it the WAL keeps its old
        // frames, the next process's recovery counts them as live again, and every
        // closing checkpoint copies them all once more while the WAL keeps growing.
        conn.pragma_update(None, "journal_size_limit", WAL_SIZE_LIMIT)?;
        Ok(Lite {
            conn,
            path: path.to_path_buf(),
            warnings: file::open_to_others(path),
            read_only,
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
        if self.read_only {
            return Err(Error::Database(format!(
                "database {} is read-only, and was written by an older osmo (schema version {version}): open it once where it can be written, to upgrade it",
                self.path.display()
            )));
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
        let tx = LiteTx { tx };
        let created = bootstrap(&tx)?;
        // Checked after the bootstrap, whose rows (a first admin, or a whole copied
        // database) came in with foreign keys off too.
        let broken: i64 =
            tx.tx
                .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
                    r.get(0)
                })?;
        if broken != 0 {
            return Err(Error::Database(format!(
                "Upgrading {} would break {broken} references between rows; it was left unchanged.",
                self.path.display()
            )));
        }
        tx.commit()?;
        self.conn.pragma_update(None, "foreign_keys", true)?;
        Ok(created)
    }

    /// The schema version of a file `probe` found to be ours, or empty. A file it let
    /// through on its header alone is refused here if it is newer or damaged, and then
    /// closed without the checkpoint that would rewrite it. One statement, so a process
    /// bootstrapping the file meanwhile is seen before or after, never half-way.
    fn check_schema(&self) -> Result<i64> {
        let read = || -> rusqlite::Result<i64> {
            self.conn.query_row(
                "SELECT user_version FROM pragma_user_version, (SELECT count(*) FROM sqlite_schema)",
                [],
                |r| r.get(0),
            )
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

    /// WAL lets readers run beside a writer; the mode is stored in the file, so this runs
    /// once. Changing the mode needs the file to itself, and SQLite answers "busy" at
    /// once instead of waiting, so the wait is here: up to the busy timeout.
    fn use_wal(&self) -> Result<()> {
        let started = Instant::now();
        loop {
            let switched = self
                .conn
                .pragma_query_value(None, "journal_mode", |r| r.get::<_, String>(0))
                .and_then(|mode| {
                    if mode.eq_ignore_ascii_case("wal") {
                        return Ok(());
                    }
                    self.conn
                        .pragma_update_and_check(None, "journal_mode", "WAL", |_| Ok(()))
                });
            match switched {
                Err(err)
                    if err.sqlite_error_code() == Some(ErrorCode::DatabaseBusy)
                        && started.elapsed() < BUSY_TIMEOUT =>
                {
                    std::thread::sleep(Duration::from_millis(5));
                }
                other => return Ok(other?),
            }
        }
    }

    /// Runs `f` in one read transaction: everything it reads comes from one snapshot.
    pub(super) fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.transaction(TransactionBehavior::Deferred, f)
    }

    /// Runs `f` in a write transaction (`BEGIN IMMEDIATE`: the one writer) and commits it
    /// if `f` succeeds.
    pub(super) fn write<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        if self.read_only {
            return Err(located(&self.path, read_only_fault()));
        }
        self.transaction(TransactionBehavior::Immediate, f)
    }

    /// As `write`, but the commit is on disk (fsynced) before this returns: for commits
    /// whose result hands out a secret that must never be lost once shown.
    pub(super) fn write_durable<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        let out = self.write(f);
        self.conn.pragma_update(None, "synchronous", "NORMAL")?;
        out
    }

    /// Bookkeeping that no answer depends on (a token's last use, the audit of a refusal):
    /// written if the write lock comes within about half a second and the medium can be
    /// written, else skipped. Returns whether it was written.
    pub(super) fn write_if_free(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<()>) -> bool {
        if self.read_only {
            return false;
        }
        if self.conn.busy_timeout(BOOKKEEPING_WAIT).is_err() {
            return false;
        }
        let written = self.transaction(TransactionBehavior::Immediate, f).is_ok();
        let _ = self.conn.busy_timeout(BUSY_TIMEOUT);
        written
    }

    fn transaction<T>(
        &mut self,
        behavior: TransactionBehavior,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let run = || {
            let tx = LiteTx {
                tx: self.conn.transaction_with_behavior(behavior)?,
            };
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|err| located(&self.path, err))
    }

    /// Copies the WAL into the file and empties it, as the last process would on exit.
    pub(super) fn checkpoint(&self) -> Result<()> {
        self.conn
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }
}

/// The one place SQLite's errors become the crate's. The schema's triggers abort with
/// `osmo: ...` messages: rule violations (exit 5), not database failures.
impl From<rusqlite::Error> for Error {
    fn from(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(_, Some(msg)) = &err
            && let Some(refused) = rule_refused(msg)
        {
            return refused;
        }
        let fault = match err.sqlite_error_code() {
            Some(ErrorCode::ReadOnly) => Fault::ReadOnly,
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => Fault::Busy,
            Some(ErrorCode::DiskFull) => Fault::Full,
            Some(ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase) => Fault::Damaged,
            _ => Fault::Other,
        };
        Error::Storage {
            fault,
            detail: err.to_string(),
        }
    }
}

/// One SQLite transaction, as the seam's traits see it.
pub(super) struct LiteTx<'c> {
    pub(super) tx: rusqlite::Transaction<'c>,
}

impl LiteTx<'_> {
    fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }

    /// Role grants read by `sql`, whose columns are role, assigned_by, assigned_at.
    fn grants(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<RoleGrant>> {
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
fn role_list(joined: Option<String>) -> Vec<String> {
    let mut roles: Vec<String> = joined.map_or_else(Vec::new, |joined| {
        joined.split(',').map(str::to_string).collect()
    });
    roles.sort_unstable();
    roles
}

#[cfg(test)]
mod tests;
