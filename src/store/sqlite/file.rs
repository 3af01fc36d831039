//! Where the database file lives, and what is done to the file itself around SQLite:
//! created private, its permissions checked, its WAL kept between processes.

use std::fs::{self, DirBuilder, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

use crate::error::{Error, Result};
use crate::store::rows::Create;

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

/// Keeps the -wal and -shm files when the last connection closes (after its checkpoint),
/// instead of deleting them for the next process to create again. Only a speed-up: if
/// SQLite refuses, it deletes them as usual.
pub(super) fn persist_wal(conn: &Connection) {
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
pub(super) fn open_to_others(path: &Path) -> Vec<String> {
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

/// Creates the database file (0600) before SQLite opens it, and, where `create` allows,
/// its missing folders (0700). Another process creating it meanwhile is fine.
pub(super) fn create_private(path: &Path, create: Create) -> Result<()> {
    let shown = path.display();
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let missing = parent.filter(|p| !p.exists());
    match (create, missing) {
        (Create::Never, _) => {
            return Err(Error::Database(format!("no osmo database at {shown}")));
        }
        (Create::File, Some(folder)) => {
            return Err(Error::Database(format!(
                "Cannot create database {shown}: folder {} does not exist (check --db or OSMO_DB, or create the folder first)",
                folder.display()
            )));
        }
        (Create::WithFolders, Some(folder)) => DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(|err| Error::Database(format!("Cannot create database {shown}: {err}")))?,
        (_, None) => {}
    }
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Err(err) if err.kind() != ErrorKind::AlreadyExists => Err(Error::Database(format!(
            "Cannot create database {shown}: {err}"
        ))),
        _ => Ok(()),
    }
}

/// Whether this process can write the database: the file itself (mode, `chattr +i`, a
/// read-only mount all answer here), and where its `-wal`/`-shm` are missing, the folder
/// that must hold them.
pub(super) fn writable(path: &Path) -> bool {
    let can_write = |p: &Path| {
        use std::os::unix::ffi::OsStrExt;
        let Ok(c_path) = std::ffi::CString::new(p.as_os_str().as_bytes()) else {
            return false;
        };
        // SAFETY: `c_path` is a valid NUL-terminated string for the call's duration.
        unsafe { libc::access(c_path.as_ptr(), libc::W_OK) == 0 }
    };
    let sides = [sidecar(path, "-wal"), sidecar(path, "-shm")];
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    can_write(path)
        && (sides.iter().all(|side| side.exists() && can_write(side)) || can_write(folder))
}

/// Opens a database this process cannot write. With no `-wal` beside it (or an empty
/// one) the file is the whole database, and `immutable=1` reads it without the `-shm` a read-only folder
/// could not hold; with one, SQLite reads the WAL too, and never checkpoints it.
pub(super) fn open_read_only(path: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    // An empty WAL holds nothing either: the file alone is the database.
    let immutable = fs::metadata(sidecar(path, "-wal")).is_ok_and(|m| m.len() == 0)
        || !sidecar(path, "-wal").exists();
    let uri = read_only_uri(path, immutable);
    let conn = Connection::open_with_flags(uri, flags)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true)?;
    Ok(conn)
}

/// A `file:` URI that opens `path` read-only, and without locks or `-shm` when
/// `immutable` (only right when no `-wal` holds part of the database).
pub(super) fn read_only_uri(path: &Path, immutable: bool) -> String {
    let mut uri = format!("file:{}?mode=ro", uri_path(path));
    if immutable {
        uri.push_str("&immutable=1");
    }
    uri
}

/// `PATH-wal`, `PATH-shm`.
pub(in crate::store) fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// A path as the path part of an SQLite `file:` URI: everything but unreserved
/// characters and `/` percent-encoded, so `?`, `#` and `%` in a name stay a name.
fn uri_path(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for &byte in absolute.as_os_str().as_bytes() {
        if byte.is_ascii_alphanumeric() || b"/-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_paths_escape_what_a_uri_would_read() {
        assert_eq!(uri_path(Path::new("/a/b.db")), "/a/b.db");
        assert_eq!(uri_path(Path::new("/a?b#c%d e")), "/a%3Fb%23c%25d%20e");
    }
}
