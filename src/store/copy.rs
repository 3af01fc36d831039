//! Whole databases moved: a backup written to an SQLite file, a restore from one, and
//! `db copy` into an empty database of either kind (DESIGN §5 db, §10). Within SQLite,
//! pages are copied; across kinds, rows (`CopyRows`), ids, hashes and timestamps as they
//! are, so every token keeps verifying.

use std::cell::{Cell, RefCell};
use std::fs::{self, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand::TryRng;

use super::fault::{located, read_only_fault};
use super::rows::Create;
use super::rows::Table;
use super::sqlite;
use super::{Backend, Store, is_server_url};
use crate::error::{Error, Result};

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
        remove_database_file(&self.path);
    }
}

fn remove_database_file(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = fs::remove_file(sqlite::sidecar(path, suffix));
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

/// Opens a new or migrated database with no first admin: its rows come from elsewhere.
fn open_bare(location: &Path, create: Create) -> Result<Store> {
    Ok(Store::open(location, create, &|_| Ok(false))?.0)
}

fn counted(store: &mut Store) -> Result<(i64, i64)> {
    store.read(|tx| Ok((tx.count_rows(Table::Users)?, tx.count_rows(Table::Tokens)?)))
}

impl Store {
    /// Writes a consistent osmo SQLite file of the database to `dest` (mode 0600), while
    /// other processes keep working. An existing `dest` is replaced only when `replace`.
    pub fn backup_to(&mut self, dest: &Path, replace: bool) -> Result<Copied> {
        if is_server_url(dest) {
            return Err(Error::invalid(format!(
                "{} is a server: a backup is an SQLite file. To copy the database onto a server, use osmo db copy --to URL.",
                Store::shown(dest)
            )));
        }
        if is_same_file(dest, self.path()) {
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
        let copied = self
            .fill_file(&temp)
            .map_err(|err| located(self.path(), err))
            .and_then(|(users, tokens)| {
                let size_bytes = fs::metadata(&temp)?.len();
                // Without --force, a link fails if `dest` appeared meanwhile; a rename
                // would replace it.
                let placed = if replace {
                    fs::rename(&temp, dest)
                } else {
                    fs::hard_link(&temp, dest)
                };
                placed
                    .map(|()| Copied {
                        users,
                        tokens,
                        size_bytes,
                    })
                    .map_err(|err| match err.kind() {
                        std::io::ErrorKind::AlreadyExists => Error::conflict(format!(
                            "{} already exists: pass --force to replace it.",
                            dest.display()
                        )),
                        _ => Error::invalid(format!("Cannot write {}: {err}.", dest.display())),
                    })
            });
        remove_database_file(&temp);
        copied
    }

    /// Fills the new, empty file `temp` with this database: SQLite's pages, or a server's
    /// rows. Returns how many users and tokens it holds. The file is whole, with no WAL
    /// beside it, when this returns.
    fn fill_file(&mut self, temp: &Path) -> Result<(i64, i64)> {
        match &mut self.backend {
            Backend::Lite(lite) => {
                lite.copy_pages_into(temp)?;
                sqlite::count_users_and_tokens(temp)
            }
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => {
                let counts = self.copy_to(temp)?;
                for suffix in ["-wal", "-shm"] {
                    let _ = fs::remove_file(sqlite::sidecar(temp, suffix));
                }
                Ok(counts)
            }
        }
    }

    /// Copies the backup at `source` (an osmo SQLite file) to a temporary file and opens
    /// it, migrating an older schema, so it can be checked before it replaces anything.
    /// A file that is not an osmo database of this or an older schema is invalid input
    /// (exit 2).
    pub fn stage(&self, source: &Path) -> Result<Staged> {
        let near = match &self.backend {
            Backend::Lite(lite) if lite.read_only => {
                return Err(located(&lite.path, read_only_fault()));
            }
            Backend::Lite(lite) => lite.path.clone(),
            #[cfg(feature = "postgres")]
            Backend::Pg(_) => std::env::temp_dir().join("osmo.db"),
        };
        let refuse = |why: String| {
            Error::invalid(format!("Cannot restore from {}: {why}", source.display()))
        };
        let temp = private_temp(&near, "restore")?;
        let mut staged = Staged {
            store: None,
            path: temp.clone(),
        };
        sqlite::copy_backup(source, &temp, &refuse)?;
        let store = open_bare(&temp, Create::Never).map_err(|err| refuse(err.to_string()))?;
        staged.store = Some(store);
        Ok(staged)
    }

    /// Replaces this database's contents with the staged copy's, in one commit under
    /// the write lock.
    pub fn replace_with(&mut self, staged: &mut Staged) -> Result<()> {
        let from = staged.store();
        match &mut self.backend {
            Backend::Lite(lite) => match &from.backend {
                Backend::Lite(from) => lite.replace_pages(from),
                #[cfg(feature = "postgres")]
                Backend::Pg(_) => unreachable!("a staged backup is an SQLite file"),
            },
            #[cfg(feature = "postgres")]
            Backend::Pg(pg) => pg.replace(|dest| {
                from.read(|source| source.export(&mut |record| dest.import(&record)))
            }),
        }
    }

    /// `db copy`: everything but sessions into `dest`, which must be empty: a missing or
    /// zero-length file, or a PostgreSQL schema with no tables. A new file is made 0600.
    /// The rows go in with the schema, in the transaction that creates it: a copy that
    /// fails leaves `dest` as empty as it was, so it can be tried again. Returns how many
    /// users and tokens `dest` holds.
    pub fn copy_to(&mut self, dest: &Path) -> Result<(i64, i64)> {
        let occupied = || {
            Error::conflict(format!(
                "{} is not empty: db copy writes only into a new database.",
                Store::shown(dest)
            ))
        };
        if Store::holds_data(dest)? || is_same_file(dest, self.path()) {
            return Err(occupied());
        }
        let file_was_there = fs::symlink_metadata(dest).is_ok();
        let source = RefCell::new(&mut *self);
        let copied = Cell::new(false);
        let opened = Store::open(dest, Create::File, &|to| {
            source
                .borrow_mut()
                .read(|from| from.export(&mut |record| to.import(&record)))?;
            copied.set(true);
            Ok(true)
        });
        let mut to = match opened {
            // Someone else made a database there meanwhile: nothing was copied.
            Ok(_) if !copied.get() => return Err(occupied()),
            Ok((to, _)) => to,
            Err(err) => {
                if !is_server_url(dest) {
                    undo_file(dest, file_was_there);
                }
                return Err(err);
            }
        };
        let counts = counted(&mut to)?;
        to.checkpoint()?;
        Ok(counts)
    }

    /// How `location` reads in messages: a URL without its password.
    pub fn shown(location: &Path) -> String {
        #[cfg(feature = "postgres")]
        if is_server_url(location) {
            return super::pg::without_password(&location.to_string_lossy());
        }
        location.display().to_string()
    }

    /// Whether anything is at `location` already: a file that is not empty (or a
    /// folder), or a PostgreSQL schema with tables in it.
    pub fn holds_data(location: &Path) -> Result<bool> {
        if is_server_url(location) {
            return Store::server_holds_tables(location);
        }
        Ok(fs::metadata(location).is_ok_and(|meta| meta.is_dir() || meta.len() > 0))
    }

    #[cfg(feature = "postgres")]
    fn server_holds_tables(url: &Path) -> Result<bool> {
        Ok(!super::pg::Pg::schema_is_empty(&url.to_string_lossy())?)
    }

    #[cfg(not(feature = "postgres"))]
    fn server_holds_tables(url: &Path) -> Result<bool> {
        Store::open_server(url, Create::Never, &|_| Ok(false)).map(|_| true)
    }
}

/// Puts a copy's destination file back as it was: gone, or empty.
fn undo_file(dest: &Path, was_there: bool) {
    for suffix in ["-wal", "-shm", "-journal"] {
        let _ = fs::remove_file(sqlite::sidecar(dest, suffix));
    }
    let _ = if was_there {
        fs::write(dest, "")
    } else {
        fs::remove_file(dest)
    };
}

fn is_same_file(a: &Path, b: &Path) -> bool {
    fs::canonicalize(a).is_ok_and(|a| fs::canonicalize(b).is_ok_and(|b| a == b))
}
