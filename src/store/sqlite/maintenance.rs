//! The file as a whole: its size, whether it is sound, and copying its pages out
//! (backup) or in (restore) while other processes keep using it (DESIGN §5 db, §7).

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::probe::{self, Found};
use super::{Lite, LiteTx, file};
use crate::error::{Error, Result};
use crate::store::fault::{BUSY_TIMEOUT, located, read_only_fault};
use crate::store::rows::{CheckRows, FileInfo, Table};

/// Copies every page of `from` into `to` in one step: the source is read from one
/// snapshot (writers carry on in its WAL), and the destination changes in one commit
/// under its write lock, so its readers see all of the old or all of the new.
fn copy_pages(from: &Connection, to: &mut Connection) -> Result<()> {
    let started = Instant::now();
    let backup = Backup::new(from, to)?;
    loop {
        match backup.step(-1)? {
            StepResult::Done => return Ok(()),
            StepResult::Busy | StepResult::Locked if started.elapsed() < BUSY_TIMEOUT => {
                std::thread::sleep(Duration::from_millis(10));
            }
            StepResult::More => {}
            _ => {
                return Err(Error::Storage {
                    fault: crate::error::Fault::Busy,
                    detail: "the backup could not take its locks".into(),
                });
            }
        }
    }
}

/// How many users and tokens the database file at `path` holds, read on a plain
/// connection that leaves no WAL behind.
pub(in crate::store) fn count_users_and_tokens(path: &Path) -> Result<(i64, i64)> {
    let conn = Connection::open(path)?;
    let counts = conn.query_row(
        "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tokens)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    conn.close().map_err(|(_, err)| Error::from(err))?;
    Ok(counts)
}

impl Lite {
    /// The schema version, journal mode and the sizes of the file and its WAL.
    pub(in crate::store) fn file_info(&self) -> Result<FileInfo> {
        let read = || -> rusqlite::Result<(i64, String)> {
            Ok((
                self.conn
                    .pragma_query_value(None, "user_version", |r| r.get(0))?,
                self.conn
                    .pragma_query_value(None, "journal_mode", |r| r.get(0))?,
            ))
        };
        let (schema_version, journal_mode) =
            read().map_err(|err| located(&self.path, err.into()))?;
        let size = |p: &Path| fs::metadata(p).map_or(0, |m| m.len());
        Ok(FileInfo {
            schema_version,
            journal_mode: Some(journal_mode),
            size_bytes: size(&self.path),
            wal_bytes: Some(size(&file::sidecar(&self.path, "-wal"))),
        })
    }

    /// Writes a consistent copy of every page into the new, empty file `temp`, while
    /// other processes keep working.
    pub(in crate::store) fn copy_pages_into(&self, temp: &Path) -> Result<()> {
        let mut to = Connection::open(temp)?;
        copy_pages(&self.conn, &mut to)?;
        to.close().map_err(|(_, err)| Error::from(err))?;
        Ok(())
    }

    /// Replaces this database's contents with `from`'s, in one commit under the write
    /// lock.
    pub(in crate::store) fn replace_pages(&mut self, from: &Lite) -> Result<()> {
        if self.read_only {
            return Err(located(&self.path, read_only_fault()));
        }
        copy_pages(&from.conn, &mut self.conn).map_err(|err| located(&self.path, err))
    }
}

/// Copies the osmo database file `source` (of this or an older schema) page by page into
/// the new, empty file `temp`, checking first that it is one. `refuse` words the reason
/// it cannot be used.
pub(in crate::store) fn copy_backup(
    source: &Path,
    temp: &Path,
    refuse: &dyn Fn(String) -> Error,
) -> Result<()> {
    let meta = fs::metadata(source).map_err(|err| refuse(format!("{err}.")))?;
    if meta.is_dir() {
        return Err(refuse("it is a directory.".into()));
    }
    match probe::classify(source) {
        _ if meta.len() == 0 => return Err(refuse("it is empty.".into())),
        Ok(Found::Osmo) => {}
        Ok(Found::Empty) => return Err(refuse("it holds no osmo database.".into())),
        Err(err) => return Err(refuse(err.to_string())),
    }
    let from = file::open_read_only(source).map_err(|err| refuse(format!("{err}.")))?;
    let mut to = Connection::open(temp)?;
    copy_pages(&from, &mut to).map_err(|err| refuse(err.to_string()))?;
    to.close().map_err(|(_, err)| Error::from(err))?;
    Ok(())
}

impl CheckRows for LiteTx<'_> {
    /// SQLite's own check of every page and index: one line per problem.
    fn integrity_problems(&self) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare("PRAGMA integrity_check")?;
        let lines = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let lines: Vec<String> = lines.collect::<rusqlite::Result<_>>()?;
        Ok(lines.into_iter().filter(|line| line != "ok").collect())
    }

    /// Rows whose references point at nothing: (table, parent table).
    fn broken_references(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Tokens that carry no role at all: (owner, token name).
    fn tokens_without_roles(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare(
            "SELECT user_id, name FROM tokens t
             WHERE NOT EXISTS (SELECT 1 FROM token_roles r WHERE r.token_id = t.id)
             ORDER BY user_id, name",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Token roles their token's owner does not hold: (owner, token name, role).
    fn token_roles_not_held(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.tx.prepare(
            "SELECT r.user_id, coalesce(t.name, '?'), r.role FROM token_roles r
             LEFT JOIN tokens t ON t.id = r.token_id
             WHERE NOT EXISTS (SELECT 1 FROM user_roles u
                               WHERE u.user_id = r.user_id AND u.role = r.role)
             ORDER BY 1, 2, 3",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many rows each table the `db info` command reports holds.
    fn count_rows(&self, table: Table) -> Result<i64> {
        let sql = match table {
            Table::Users => "SELECT count(*) FROM users",
            Table::Roles => "SELECT count(*) FROM roles",
            Table::Tokens => "SELECT count(*) FROM tokens",
            Table::Sessions => "SELECT count(*) FROM sessions",
            Table::Audit => "SELECT count(*) FROM audit",
        };
        Ok(self.tx.prepare_cached(sql)?.query_row([], |r| r.get(0))?)
    }

    /// How many tokens are unexpired at `now`.
    fn count_all_live_tokens(&self, now: i64) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM tokens WHERE expires_at > ?1")?
            .query_row([now], |r| r.get(0))?)
    }

    /// Ends every session (a restored database's sessions belong to another time).
    fn delete_all_sessions(&self) -> Result<()> {
        self.tx.execute("DELETE FROM sessions", [])?;
        Ok(())
    }
}
