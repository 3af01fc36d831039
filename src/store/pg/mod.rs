//! The PostgreSQL backend (DESIGN §10): a server several hosts share, reached by a
//! `postgres://` URL. `Pg` is what `Store` holds for one; `PgTx` implements the seam's
//! traits (`rows.rs`) in the files beside this one.
//!
//! The rules that span rows (the token limit, the last admin; see `store/rows.rs`) need
//! the writers of one database to run one at a time, as SQLite's single writer does. Here
//! every write transaction first locks the one row of `osmo_schema` (`FOR UPDATE`): an
//! explicit row lock, held to commit, that a second writer waits for (up to the busy
//! timeout). Under READ COMMITTED each statement after the lock sees every write committed
//! before it, so a count taken inside the transaction is exact, as on SQLite. Readers
//! never take it: they read one snapshot (REPEATABLE READ) beside the writer.

mod check;
mod migrations;
mod rows;
mod tls;
mod url;

use std::cell::RefCell;
use std::path::PathBuf;
use std::time::Duration;

use postgres::error::SqlState;
use postgres::{Client, IsolationLevel};

use super::fault::{BUSY_TIMEOUT, located, rule_refused};
use super::rows::{Bootstrap, Create, FileInfo, Record, Tx};
use crate::error::{Error, Fault, Result};

pub use url::without_password;

/// An open connection to an osmo schema on a PostgreSQL server.
pub(super) struct Pg {
    client: Client,
    /// The URL without its password, as every message shows it.
    pub(super) shown: PathBuf,
}

/// One PostgreSQL transaction, as the seam's traits see it. Its statements need the
/// transaction mutably; the traits hand it out shared, one call at a time.
pub(super) struct PgTx<'c> {
    tx: RefCell<postgres::Transaction<'c>>,
    /// Imported rows of one table not inserted yet (`db copy`): they go in together.
    pending: RefCell<Vec<Record>>,
}

impl<'c> PgTx<'c> {
    fn new(tx: postgres::Transaction<'c>) -> PgTx<'c> {
        PgTx {
            tx: RefCell::new(tx),
            pending: RefCell::new(Vec::new()),
        }
    }

    fn commit(self) -> Result<()> {
        self.flush()?;
        Ok(self.tx.into_inner().commit()?)
    }
}

impl Pg {
    /// Connects, checks the schema the URL's `search_path` names first, migrates it and
    /// bootstraps a new one. Returns whether this call bootstrapped it.
    pub(super) fn open(url: &str, create: Create, bootstrap: Bootstrap<'_>) -> Result<(Pg, bool)> {
        let mut pg = Pg::connect(url)?;
        let shown = pg.shown.clone();
        let created = migrations::migrate(&mut pg.client, &shown, create, bootstrap)
            .map_err(|err| located(&shown, err))?;
        Ok((pg, created))
    }

    /// Connects to an existing, up-to-date osmo schema, creating and migrating nothing.
    pub(super) fn open_existing(url: &str) -> Result<Pg> {
        let mut pg = Pg::connect(url)?;
        let shown = pg.shown.clone();
        migrations::require_current(&mut pg.client, &shown).map_err(|err| located(&shown, err))?;
        Ok(pg)
    }

    /// Whether the schema `url` names holds no table at all (`db copy`'s destination).
    pub(super) fn schema_is_empty(url: &str) -> Result<bool> {
        let mut pg = Pg::connect(url)?;
        let shown = pg.shown.clone();
        Ok(migrations::tables(&mut pg.client)
            .map_err(|err| located(&shown, err))?
            .is_empty())
    }

    fn connect(url: &str) -> Result<Pg> {
        let target = url::parse(url)?;
        let shown = PathBuf::from(&target.shown);
        let cannot = |err: &dyn std::fmt::Display| {
            Error::Database(format!(
                "cannot connect to database {}: {err}",
                target.shown
            ))
        };
        let client = match &target.tls {
            None => target.config.connect(postgres::NoTls),
            Some(tls) => target
                .config
                .connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls.clone())),
        }
        .map_err(|err| cannot(&connect_error(&err)))?;
        Ok(Pg { client, shown })
    }

    /// Runs `f` in one read-only transaction, on one snapshot.
    pub(super) fn read<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        let run = || {
            let tx = self
                .client
                .build_transaction()
                .isolation_level(IsolationLevel::RepeatableRead)
                .read_only(true)
                .start()?;
            let tx = PgTx::new(tx);
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|err| located(&self.shown, err))
    }

    /// Runs `f` as the database's one writer (see the top of this file), waiting at most
    /// `wait` for the writer before it.
    pub(super) fn write<T>(
        &mut self,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
        wait: Duration,
    ) -> Result<T> {
        self.write_locked(wait, "", f)
    }

    /// As `write`, with the commit flushed to the server's disk before it returns, whatever
    /// the server's default for `synchronous_commit`.
    pub(super) fn write_durable<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.write_locked(BUSY_TIMEOUT, "SET LOCAL synchronous_commit = on;", f)
    }

    /// Replaces every row with what `f` imports, in one write transaction: the rows are
    /// deleted first, with the last-admin rule set aside for this transaction alone (the
    /// import brings its own admins, which `db restore` checked).
    pub(super) fn replace<T>(&mut self, f: impl FnOnce(&Tx<'_>) -> Result<T>) -> Result<T> {
        self.write_locked(
            BUSY_TIMEOUT,
            "SET LOCAL osmo.replacing = 'on';
             DELETE FROM sessions; DELETE FROM audit; DELETE FROM token_roles;
             DELETE FROM tokens; DELETE FROM user_roles; DELETE FROM users;
             DELETE FROM settings; DELETE FROM roles WHERE NOT built_in;
             SET LOCAL osmo.replacing = 'off';",
            f,
        )
    }

    fn write_locked<T>(
        &mut self,
        wait: Duration,
        first: &str,
        f: impl FnOnce(&Tx<'_>) -> Result<T>,
    ) -> Result<T> {
        let run = || {
            let mut tx = self.client.transaction()?;
            tx.batch_execute(&format!(
                "SET LOCAL lock_timeout = {}; SELECT 1 FROM osmo_schema FOR UPDATE; {first}",
                wait.as_millis()
            ))?;
            let tx = PgTx::new(tx);
            let out = f(&tx)?;
            tx.commit()?;
            Ok(out)
        };
        run().map_err(|err| located(&self.shown, err))
    }

    /// `db info`: the schema version and `pg_database_size`; no journal or WAL.
    pub(super) fn info(&mut self) -> Result<FileInfo> {
        let read = |client: &mut Client| -> Result<(i64, i64)> {
            let row = client.query_one(
                "SELECT (SELECT version FROM osmo_schema), pg_database_size(current_database())",
                &[],
            )?;
            Ok((row.get(0), row.get(1)))
        };
        let (schema_version, size) =
            read(&mut self.client).map_err(|err| located(&self.shown, err))?;
        Ok(FileInfo {
            schema_version,
            journal_mode: None,
            size_bytes: size.max(0) as u64,
            wal_bytes: None,
        })
    }
}

/// A connection failure as one line: the server's own message when it sent one.
fn connect_error(err: &postgres::Error) -> String {
    match err.as_db_error() {
        Some(db) => db.message().to_string(),
        None => with_causes(err),
    }
}

/// An error and what caused it, as one line.
fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}

/// The one place PostgreSQL's errors become the crate's. The schema's triggers raise
/// `osmo: ...` messages: rule violations (exit 5), not database failures.
impl From<postgres::Error> for Error {
    fn from(err: postgres::Error) -> Self {
        if let Some(refused) = err.as_db_error().and_then(|db| rule_refused(db.message())) {
            return refused;
        }
        let fault = match err.code() {
            Some(code)
                if *code == SqlState::READ_ONLY_SQL_TRANSACTION
                    || *code == SqlState::INSUFFICIENT_PRIVILEGE =>
            {
                Fault::ReadOnly
            }
            Some(code)
                if *code == SqlState::LOCK_NOT_AVAILABLE
                    || *code == SqlState::T_R_SERIALIZATION_FAILURE
                    || *code == SqlState::T_R_DEADLOCK_DETECTED =>
            {
                Fault::Busy
            }
            Some(code) if *code == SqlState::DISK_FULL => Fault::Full,
            Some(code)
                if *code == SqlState::DATA_CORRUPTED || *code == SqlState::INDEX_CORRUPTED =>
            {
                Fault::Damaged
            }
            _ => Fault::Other,
        };
        Error::Storage {
            fault,
            detail: connect_error(&err),
        }
    }
}
