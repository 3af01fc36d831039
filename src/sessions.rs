//! Login sessions: `osmo login` trades a token for a session credential of its own, kept
//! in the session file (0600); the token itself is never written there (DESIGN §5).

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::store::Store;
use crate::time::{self, Timestamp};
use crate::token::{self, Secret, Token};
use crate::tokens::{self, Rejection};

const SESSION_ID_LEN: usize = 16;

/// What a successful login hands back: who, and the credential for the session file.
pub struct LoggedIn {
    pub user_name: String,
    pub token_name: String,
    pub expires_at: Timestamp,
    pub session_id: String,
    pub secret: Secret,
}

/// `login`: JSON `{user_name, token_name, expires_at}`.
#[derive(Debug, Serialize)]
pub struct LoginSummary {
    pub user_name: String,
    pub token_name: String,
    pub expires_at: Timestamp,
}

/// `logout`: JSON `{logged_out}`, false when there was no session.
#[derive(Debug, Serialize)]
pub struct LogoutSummary {
    pub logged_out: bool,
}

/// The identity a live session stands for.
pub struct Resumed {
    pub token: tokens::Verified,
    pub url: Option<String>,
}

/// Checks `presented` and opens a session for it, in one write transaction: the token
/// is checked again under the write lock, so a rotation or delete racing this login
/// either ends the new session with its token or makes the login fail; the session can
/// never land on another token. A bad token opens nothing.
pub fn login(store: &mut Store, presented: &str, url: Option<&str>) -> Result<LoggedIn> {
    let session_id = token::random_base62(SESSION_ID_LEN)?;
    let secret = Secret::generate()?;
    let hash = token::hash_secret(&secret)?;
    let now = time::now();
    let verdict = store.write_durable(|tx| {
        let verified = match tokens::check(tx, presented, now)? {
            Ok(verified) => verified,
            Err(rejection) => {
                tokens::record_failure(tx, presented, rejection, "login")?;
                return Ok(Err(rejection));
            }
        };
        let rehash = match (&verified.outdated_hash, Token::parse(presented)) {
            (Some(_), Ok(token)) => Some(token.hash()?),
            _ => None,
        };
        tokens::record_use_raw(tx, &verified, rehash.as_deref(), now)?;
        tx.prepare_cached(
            "INSERT INTO sessions (id, token_id, secret_hash, url, created_at, last_used_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )?
        .execute((&session_id, verified.row_id, &hash, url, now))?;
        let target = format!("{}/{}", verified.user_name, verified.token_name);
        audit::record(
            tx,
            &verified.user_name,
            "login",
            &target,
            Some(&verified.user_name),
            "ok",
        )?;
        Ok(Ok(verified))
    })?;
    let verified = verdict.map_err(invalid_token)?;
    Ok(LoggedIn {
        user_name: verified.user_name,
        token_name: verified.token_name,
        expires_at: verified.expires_at,
        session_id,
        secret,
    })
}

/// The exit-6 error for a refused token.
pub fn invalid_token(rejection: Rejection) -> Error {
    Error::Unauthenticated(format!("invalid token ({})", rejection.reason()))
}

fn ended(why: &str) -> Error {
    Error::Unauthenticated(format!(
        "Your login session has ended ({why}). Log in again with `osmo login --method token`."
    ))
}

/// A session row with its token, read in one snapshot with the token's roles.
struct SessionRow {
    hash: String,
    last_used: i64,
    url: Option<String>,
    public_id: String,
    token_name: String,
    user_name: String,
    expires_at: i64,
    row_id: i64,
    roles: Vec<String>,
}

fn find(tx: &rusqlite::Connection, session_id: &str) -> Result<Option<SessionRow>> {
    let row = tx
        .prepare_cached(
            "SELECT s.secret_hash, s.last_used_at, s.url, t.public_id, t.name, t.user_id, t.expires_at, t.id
             FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id = ?1",
        )?
        .query_row([session_id], |row| {
            Ok(SessionRow {
                hash: row.get(0)?,
                last_used: row.get(1)?,
                url: row.get(2)?,
                public_id: row.get(3)?,
                token_name: row.get(4)?,
                user_name: row.get(5)?,
                expires_at: row.get(6)?,
                row_id: row.get(7)?,
                roles: Vec::new(),
            })
        })
        .optional()?;
    row.map(|mut row| {
        row.roles = tokens::role_names(tx, row.row_id)?;
        Ok(row)
    })
    .transpose()
}

/// Resumes a session: it must exist, match its secret, have been used within
/// `session-idle-timeout`, and its token must still be live. Use refreshes it. A resume
/// that fails is audited as `denied`.
pub fn resume(store: &mut Store, settings: &Settings, entry: &Entry) -> Result<Resumed> {
    const ACTION: &str = "session.resume";
    let now = time::now();
    let Some(row) = store.read(|tx| find(tx, &entry.session_id))? else {
        // The file's own word for whose session it was, if it is a user id at all.
        let user = crate::validate::user_id(&entry.user_name)
            .ok()
            .map(|()| entry.user_name.as_str());
        audit::record_denial(store, "-", ACTION, user.unwrap_or("-"), user);
        return Err(ended(
            "its token was deleted or rotated, or it was logged out",
        ));
    };
    let target = format!("{}/{}", row.user_name, row.token_name);
    if !token::secret_matches(&Secret::from_text(&entry.secret), &row.hash) {
        audit::record_denial(store, "-", ACTION, &target, Some(&row.user_name));
        return Err(ended("the session file does not match"));
    }
    let idle = now - row.last_used;
    if idle >= settings.session_idle_timeout.seconds || row.expires_at <= now {
        store.write(|tx| {
            end_raw(tx, &entry.session_id)?;
            audit::record(tx, "-", ACTION, &target, Some(&row.user_name), "denied")
        })?;
        return Err(if row.expires_at <= now {
            ended("its token expired")
        } else {
            ended(&format!(
                "unused for longer than session-idle-timeout, {}",
                settings.session_idle_timeout
            ))
        });
    }
    // Refresh the session, and the token's last use, unless that was done a moment ago:
    // a quarter of the idle timeout (at most a minute) is plenty of precision.
    let granularity = (settings.session_idle_timeout.seconds / 4).min(tokens::USE_GRANULARITY);
    if tokens::use_is_news(Some(row.last_used), now, granularity) {
        store.write(|tx| {
            tx.prepare_cached("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")?
                .execute((&entry.session_id, now))?;
            tx.prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
                .execute((row.row_id, now))?;
            Ok(())
        })?;
    }
    Ok(Resumed {
        token: tokens::Verified {
            row_id: row.row_id,
            public_id: row.public_id,
            token_name: row.token_name,
            user_name: row.user_name,
            roles: row.roles,
            expires_at: Timestamp(row.expires_at),
            last_used_at: Some(now),
            outdated_hash: None,
        },
        url: row.url,
    })
}

/// Ends a session in the database; a session already gone is fine.
pub fn end(store: &mut Store, session_id: &str) -> Result<()> {
    store.write(|tx| end_raw(tx, session_id))
}

fn end_raw(tx: &rusqlite::Connection, session_id: &str) -> Result<()> {
    tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
        .execute([session_id])?;
    Ok(())
}

/// One login, as kept in the session file. Holds a secret: no `Debug`.
#[derive(Serialize, Deserialize, Clone)]
pub struct Entry {
    pub session_id: String,
    pub secret: String,
    pub user_name: String,
    pub url: Option<String>,
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
    fs::canonicalize(db)
        .unwrap_or_else(|_| db.to_path_buf())
        .display()
        .to_string()
}

impl SessionFile {
    /// Takes the lock on the session file's folder, creating the folder (0700) if needed.
    pub fn lock(path: &Path) -> Result<Locked> {
        let folder = folder_of(path);
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(folder)?;
        let handle = File::open(folder)?;
        handle.lock()?;
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
            Err(err) if err.kind() == ErrorKind::NotFound => SessionFile::default(),
            Err(err) => {
                return Err(Error::Io(std::io::Error::new(
                    err.kind(),
                    format!("Cannot read the session file {}: {err}", path.display()),
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
        name.push(format!(".tmp-{}", token::random_base62(12)?));
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

fn folder_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}
