//! Looking at an existing file before opening it for writing (DESIGN §1): a file that is
//! refused must stay byte-identical, with no `-wal`/`-shm` created beside it, so the
//! decision is made from a plain read of its header and a read-only SQLite connection
//! that creates nothing, never checkpoints, and is closed before any write.

use std::fs::{File, Metadata};
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use rusqlite::ErrorCode;

use super::migrations::{APPLICATION_ID, MIGRATIONS};
use crate::error::{Error, Result};

const MAGIC: &[u8; 16] = b"SQLite format 3\0";
const HEADER_LEN: usize = 100;

/// What an existing file turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// Zero bytes, or an SQLite file with nothing in it: becomes a new osmo database.
    Empty,
    /// An osmo database this osmo can open (perhaps after migrating it).
    Osmo,
}

/// Decides whether `path` (which exists and is not a folder) may be opened for writing.
/// An empty file is adopted only when the caller owns it and nobody else may write it:
/// otherwise whoever planted it would hold the new database's files.
pub(super) fn existing(path: &Path, meta: &Metadata) -> Result<Found> {
    let found = if meta.len() == 0 {
        Found::Empty
    } else {
        classify(path)?
    };
    if found == Found::Empty {
        adoptable(path, meta)?;
    }
    Ok(found)
}

fn not_ours(path: &Path, why: &str) -> Error {
    Error::Database(format!(
        "{} is not an osmo database ({why}); it was left unchanged.",
        path.display()
    ))
}

fn adoptable(path: &Path, meta: &Metadata) -> Result<()> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let me = unsafe { libc::geteuid() };
    let shown = path.display();
    if meta.uid() != me {
        return Err(Error::Database(format!(
            "{shown} is an empty file owned by another user (uid {}); refusing to make it a database that user could control. Remove it, or use another path; it was left unchanged.",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(Error::Database(format!(
            "{shown} is an empty file that group or others may write (mode {:o}); refusing to make it a database. Run `chmod 600 {shown}` first; it was left unchanged.",
            meta.mode() & 0o777
        )));
    }
    Ok(())
}

/// Reads the header by hand (a short or foreign file never reaches SQLite, which would
/// take a file shorter than a page for an empty database and write over it), then asks a
/// read-only connection what the schema holds.
pub(super) fn classify(path: &Path) -> Result<Found> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    File::open(path)
        .and_then(|file| file.take(HEADER_LEN as u64).read_to_end(&mut header))
        .map_err(|err| {
            Error::Database(format!("Cannot read database {}: {err}.", path.display()))
        })?;
    if header.len() < HEADER_LEN || !header.starts_with(MAGIC) {
        return Err(not_ours(path, "not an SQLite file"));
    }
    let field = |at: usize| i64::from(i32::from_be_bytes([0, 1, 2, 3].map(|i| header[at + i])));
    let app = field(68);
    if app != 0 && app != APPLICATION_ID {
        return Err(not_ours(
            path,
            "an SQLite file that belongs to something else",
        ));
    }
    // The common case, an osmo database in use (its WAL files persist between
    // processes): opening it creates nothing, so its schema is checked on the connection
    // that opens it, without a second connection here.
    if app == APPLICATION_ID
        && super::file::sidecar(path, "-wal").exists()
        && super::file::sidecar(path, "-shm").exists()
    {
        return Ok(Found::Osmo);
    }
    let (app, version, objects) = read_schema(path).map_err(|err| unreadable(path, err))?;
    if app != APPLICATION_ID {
        if version != 0 || objects != 0 {
            return Err(not_ours(
                path,
                "an SQLite file that belongs to something else",
            ));
        }
        return Ok(Found::Empty);
    }
    if version > MIGRATIONS.len() as i64 {
        return Err(newer(path, version));
    }
    Ok(Found::Osmo)
}

pub(super) fn newer(path: &Path, version: i64) -> Error {
    Error::Database(format!(
        "{} was written by a newer osmo (schema version {version}; this osmo {} knows up to {}). Upgrade osmo to use it; the file was left unchanged.",
        path.display(),
        env!("CARGO_PKG_VERSION"),
        MIGRATIONS.len(),
    ))
}

/// How SQLite's "this is not a database" errors read to a user.
pub(super) fn unreadable(path: &Path, err: rusqlite::Error) -> Error {
    match err.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => not_ours(path, "not an SQLite file"),
        Some(ErrorCode::DatabaseCorrupt) => not_ours(path, "the file is corrupt"),
        _ => Error::Database(format!("Cannot read database {}: {err}.", path.display())),
    }
}

/// `application_id`, `user_version` and the number of schema objects, read without
/// writing anything. With no `-wal` beside the file, the file alone is the database, and
/// `immutable=1` reads it without creating a `-shm`; with one, SQLite must read the WAL
/// too, and a read-only connection never checkpoints it into the file.
fn read_schema(path: &Path) -> rusqlite::Result<(i64, i64, i64)> {
    let conn = super::file::open_read_only(path)?;
    conn.busy_timeout(super::BUSY_TIMEOUT)?;
    let tx = conn.unchecked_transaction()?;
    let app = tx.pragma_query_value(None, "application_id", |r| r.get(0))?;
    let version = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
    let objects = tx.query_row("SELECT count(*) FROM sqlite_schema", [], |r| r.get(0))?;
    Ok((app, version, objects))
}
