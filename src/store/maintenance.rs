//! The file as a whole: what it holds, whether it is sound, and copying it out (backup)
//! or in (restore) while other processes keep using it (DESIGN §5 db, §7).

use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rand::TryRng;
use rusqlite::Connection;
use rusqlite::backup::{Backup, StepResult};

use super::probe::{self, Found};
use super::{BUSY_TIMEOUT, Create, Store, Tx, file, located};
use crate::error::{Error, Result};

/// What the file looks like from outside SQLite's tables.
#[derive(Debug)]
pub struct FileInfo {
    pub schema_version: i64,
    pub journal_mode: String,
    pub size_bytes: u64,
    pub wal_bytes: u64,
}

/// What a backup holds.
#[derive(Debug)]
pub struct Copied {
    pub users: i64,
    pub tokens: i64,
    pub size_bytes: u64,
}

/// A verified, migrated copy of a backup, waiting to replace the live database. Its
/// temporary file goes when it does.
pub struct Staged {
    store: Option<Store>,
    path: PathBuf,
}

impl Staged {
    pub fn store(&mut self) -> &mut Store {
        self.store
            .as_mut()
            .expect("a staged copy keeps its store until dropped")
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        drop(self.store.take());
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = fs::remove_file(file::sidecar(&self.path, suffix));
        }
    }
}

/// A new file beside `near`, created empty with mode 0600 and a name no one else has.
fn private_temp(near: &Path, what: &str) -> Result<PathBuf> {
    let name = near.file_name().unwrap_or_default().to_string_lossy();
    let mut random = [0u8; 8];
    rand::rngs::SysRng
        .try_fill_bytes(&mut random)
        .map_err(|err| Error::Internal(format!("OS random source: {err}")))?;
    let suffix = u64::from_le_bytes(random);
    let temp = near.with_file_name(format!(".{name}.{what}-{suffix:016x}"));
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&temp)
        .map_err(|err| {
            Error::invalid(format!(
                "Cannot create a file beside {}: {err}.",
                near.display()
            ))
        })?;
    Ok(temp)
}

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

impl Store {
    /// The schema version, journal mode and the sizes of the file and its WAL.
    pub fn file_info(&self) -> Result<FileInfo> {
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
            journal_mode,
            size_bytes: size(&self.path),
            wal_bytes: size(&file::sidecar(&self.path, "-wal")),
        })
    }

    /// Writes a consistent copy of the database to `dest` (mode 0600), while other
    /// processes keep working. An existing `dest` is replaced only when `replace`.
    pub fn backup_to(&self, dest: &Path, replace: bool) -> Result<Copied> {
        let same = |a: &Path, b: &Path| {
            fs::canonicalize(a).is_ok_and(|a| fs::canonicalize(b).is_ok_and(|b| a == b))
        };
        if same(dest, &self.path) {
            return Err(Error::invalid(format!(
                "{} is the database itself: back it up to another file.",
                dest.display()
            )));
        }
        if !replace && fs::symlink_metadata(dest).is_ok() {
            return Err(Error::conflict(format!(
                "{} already exists: pass --force to replace it.",
                dest.display()
            )));
        }
        let temp = private_temp(dest, "backup")?;
        let copied = Connection::open(&temp)
            .map_err(Error::from)
            .and_then(|mut to| {
                copy_pages(&self.conn, &mut to)?;
                let (users, tokens) = to.query_row(
                    "SELECT (SELECT count(*) FROM users), (SELECT count(*) FROM tokens)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
                to.close().map_err(|(_, err)| Error::from(err))?;
                let size_bytes = fs::metadata(&temp)?.len();
                Ok(Copied {
                    users,
                    tokens,
                    size_bytes,
                })
            })
            .map_err(|err| located(&self.path, err))
            .and_then(|copied| {
                // Without --force, a link fails if `dest` appeared meanwhile; a rename
                // would replace it.
                let placed = if replace {
                    fs::rename(&temp, dest)
                } else {
                    fs::hard_link(&temp, dest)
                };
                placed.map(|()| copied).map_err(|err| match err.kind() {
                    std::io::ErrorKind::AlreadyExists => Error::conflict(format!(
                        "{} already exists: pass --force to replace it.",
                        dest.display()
                    )),
                    _ => Error::invalid(format!("Cannot write {}: {err}.", dest.display())),
                })
            });
        let _ = fs::remove_file(&temp);
        copied
    }

    /// Copies the backup at `source` beside this database and opens it, migrating an
    /// older schema, so it can be checked before it replaces anything. A file that is not
    /// an osmo database of this or an older schema is invalid input (exit 2).
    pub fn stage(&self, source: &Path) -> Result<Staged> {
        if self.read_only {
            return Err(located(&self.path, super::read_only_fault()));
        }
        let refuse = |why: String| {
            Error::invalid(format!("Cannot restore from {}: {why}", source.display()))
        };
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
        let temp = private_temp(&self.path, "restore")?;
        let mut staged = Staged {
            store: None,
            path: temp.clone(),
        };
        let from = file::open_read_only(source).map_err(|err| refuse(format!("{err}.")))?;
        let mut to = Connection::open(&temp)?;
        copy_pages(&from, &mut to).map_err(|err| refuse(err.to_string()))?;
        to.close().map_err(|(_, err)| Error::from(err))?;
        let (store, _) = Store::open(&temp, Create::Never, &|_| Ok(false))
            .map_err(|err| refuse(err.to_string()))?;
        staged.store = Some(store);
        Ok(staged)
    }

    /// Replaces this database's contents with the staged copy's, in one commit under
    /// the write lock.
    pub fn replace_with(&mut self, staged: &mut Staged) -> Result<()> {
        if self.read_only {
            return Err(located(&self.path, super::read_only_fault()));
        }
        let from = &staged.store().conn;
        copy_pages(from, &mut self.conn).map_err(|err| located(&self.path, err))
    }
}

impl Tx<'_> {
    /// SQLite's own check of every page and index: one line per problem.
    pub fn integrity_problems(&self) -> Result<Vec<String>> {
        let mut stmt = self.tx.prepare("PRAGMA integrity_check")?;
        let lines = stmt.query_map([], |row| row.get::<_, String>(0))?;
        let lines: Vec<String> = lines.collect::<rusqlite::Result<_>>()?;
        Ok(lines.into_iter().filter(|line| line != "ok").collect())
    }

    /// Rows whose references point at nothing: (table, parent table).
    pub fn broken_references(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare("PRAGMA foreign_key_check")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Tokens that carry no role at all: (owner, token name).
    pub fn tokens_without_roles(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare(
            "SELECT user_id, name FROM tokens t
             WHERE NOT EXISTS (SELECT 1 FROM token_roles r WHERE r.token_id = t.id)
             ORDER BY user_id, name",
        )?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Token roles their token's owner does not hold: (owner, token name, role).
    pub fn token_roles_not_held(&self) -> Result<Vec<(String, String, String)>> {
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
    pub fn count_rows(&self, table: Table) -> Result<i64> {
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
    pub fn count_all_live_tokens(&self, now: i64) -> Result<i64> {
        Ok(self
            .tx
            .prepare_cached("SELECT count(*) FROM tokens WHERE expires_at > ?1")?
            .query_row([now], |r| r.get(0))?)
    }

    /// Ends every session (a restored database's sessions belong to another time).
    pub fn delete_all_sessions(&self) -> Result<()> {
        self.tx.execute("DELETE FROM sessions", [])?;
        Ok(())
    }
}

/// The tables `count_rows` counts.
#[derive(Debug, Clone, Copy)]
pub enum Table {
    Users,
    Roles,
    Tokens,
    Sessions,
    Audit,
}
