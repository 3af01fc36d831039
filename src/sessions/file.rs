//! The session file: one login per database, kept in `login.json` (0600) beside the
//! user's other osmo settings, written so that no reader sees half of it, no planted
//! link is followed, and parallel logins each keep theirs (DESIGN §1).

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tokens::format;

/// One login, as kept in the session file. Holds a secret: no `Debug`.
#[derive(Serialize, Deserialize, Clone)]
pub struct Entry {
    pub session_id: String,
    pub secret: String,
    pub user_name: String,
    pub url: Option<String>,
    /// Why the session ended, once a command found it so: later commands repeat it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended: Option<String>,
}

/// The session file: one login per database, keyed by the database's full path.
#[derive(Serialize, Deserialize, Default)]
pub struct SessionFile {
    #[serde(skip)]
    path: PathBuf,
    /// Set when the file is readable by group or others.
    #[serde(skip)]
    warning: Option<String>,
    sessions: BTreeMap<String, Entry>,
}

/// The session folder's advisory lock, held from reading the file to replacing it, so
/// parallel `login`s (to different databases) each keep their session.
pub struct Locked {
    _folder: File,
}

/// `$OSMO_CONFIG_FILE_DIR/login.json`, else `<config dir>/osmo/login.json`.
pub fn default_path(config_dir: Option<&Path>) -> Result<PathBuf> {
    let dir = match config_dir {
        Some(dir) => dir.to_path_buf(),
        None => directories::ProjectDirs::from("", "", "osmo")
            .map(|dirs| dirs.config_dir().to_path_buf())
            .ok_or_else(|| {
                Error::invalid("Cannot find a config folder: set OSMO_CONFIG_FILE_DIR.")
            })?,
    };
    Ok(dir.join("login.json"))
}

/// The key a database's session is kept under.
pub fn database_key(db: &Path) -> String {
    if crate::store::is_server_url(db) {
        return crate::store::Store::shown(db);
    }
    fs::canonicalize(db)
        .unwrap_or_else(|_| db.to_path_buf())
        .display()
        .to_string()
}

impl SessionFile {
    /// Takes the lock on the session file's folder, creating the folder (0700) if needed.
    pub fn lock(path: &Path) -> Result<Locked> {
        let folder = folder_of(path);
        let cannot = |err: std::io::Error| {
            Error::Environment(format!(
                "Cannot write the session file {}: {} cannot be its folder ({err}).",
                path.display(),
                folder.display()
            ))
        };
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)
            .map_err(cannot)?;
        let handle = File::open(folder).map_err(cannot)?;
        handle.lock().map_err(cannot)?;
        Ok(Locked { _folder: handle })
    }

    /// Reads the session file; a missing file is an empty one.
    pub fn load(path: &Path) -> Result<SessionFile> {
        let mut file = match fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<SessionFile>(&bytes).map_err(|err| {
                Error::Unauthenticated(format!(
                    "The session file {} is damaged ({err}); delete it and log in again.",
                    path.display()
                ))
            })?,
            // No file, or a "folder" that is a regular file and so can hold no session:
            // there is no session (DESIGN §1); only `login`, which must write one, fails.
            Err(err) if matches!(err.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
                SessionFile::default()
            }
            Err(err) => {
                return Err(Error::Environment(format!(
                    "Cannot read the session file {}: {err}",
                    path.display()
                )));
            }
        };
        file.path = path.to_path_buf();
        let mode = fs::metadata(path).map_or(0, |meta| meta.permissions().mode());
        file.warning = (mode & 0o077 != 0).then(|| {
            format!(
                "session file {} is readable by others (mode {:o}); run `chmod 600 {}`",
                path.display(),
                mode & 0o777,
                path.display()
            )
        });
        Ok(file)
    }

    /// A warning to print about the file's permissions, if any.
    pub fn warning(&self) -> Option<&str> {
        self.warning.as_deref()
    }

    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.sessions.get(key)
    }

    pub fn put(&mut self, key: String, entry: Entry) {
        self.sessions.insert(key, entry);
    }

    pub fn remove(&mut self, key: &str) -> Option<Entry> {
        self.sessions.remove(key)
    }

    /// Writes the file (0600, folder 0700) through a freshly created temporary file and a
    /// rename, so a reader never sees half of it; with no sessions left the file is
    /// removed. Call it holding `lock`. The temporary file has a random name and is
    /// created exclusively (`O_EXCL`), so a planted file or link there is never written
    /// through.
    pub fn save(&self, _lock: &Locked) -> Result<()> {
        if self.sessions.is_empty() {
            return match fs::remove_file(&self.path) {
                Err(err) if err.kind() != ErrorKind::NotFound => Err(err.into()),
                _ => Ok(()),
            };
        }
        let body = serde_json::to_vec_pretty(self).map_err(std::io::Error::from)?;
        let mut name = self.path.file_name().unwrap_or_default().to_owned();
        name.push(format!(".tmp-{}", format::random_base62(12)?));
        let tmp = self.path.with_file_name(name);
        let written = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .and_then(|mut file| {
                file.write_all(&body)?;
                file.sync_all()
            })
            .and_then(|()| fs::rename(&tmp, &self.path));
        if written.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        Ok(written?)
    }
}

/// Keeps the reason an entry's session ended in the session file at `path`, if the entry
/// under `key` is still that session. Best effort: a file that cannot be written keeps
/// nothing, and the next command finds its own reason.
pub(super) fn mark_ended(path: &Path, key: &str, session_id: &str, reason: &str) {
    let Ok(lock) = SessionFile::lock(path) else {
        return;
    };
    let Ok(mut file) = SessionFile::load(path) else {
        return;
    };
    if let Some(entry) = file.sessions.get_mut(key)
        && entry.session_id == session_id
    {
        entry.ended = Some(reason.to_string());
        let _ = file.save(&lock);
    }
}

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}
