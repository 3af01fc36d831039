//! Login sessions: `osmo login` trades a token for a session credential of its own, kept
//! in the session file (0600); the token itself is never written there (DESIGN §5).

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, OpenOptions};
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};

use crate::audit;
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::store::Store;
use crate::time::{self, Timestamp};
use crate::token::{self, Secret};
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

/// Checks `presented` and opens a session for it. A bad token opens nothing.
pub fn login(store: &mut Store, presented: &str, url: Option<&str>) -> Result<LoggedIn> {
    let verified = match tokens::authenticate(store, presented, "login")? {
        Ok(verified) => verified,
        Err(rejection) => return Err(invalid_token(rejection)),
    };
    let session_id = token::random_base62(SESSION_ID_LEN)?;
    let secret = Secret::generate()?;
    let hash = token::hash_secret(&secret)?;
    let now = time::now();
    store.write_durable(|tx| {
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
        )
    })?;
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

/// Resumes a session: it must exist, match its secret, have been used within
/// `session-idle-timeout`, and its token must still be live. Use refreshes it.
pub fn resume(store: &mut Store, settings: &Settings, entry: &Entry) -> Result<Resumed> {
    let now = time::now();
    let row = store
        .conn()
        .prepare_cached(
            "SELECT s.secret_hash, s.last_used_at, s.url, t.public_id, t.name, t.user_id, t.expires_at, t.id
             FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id = ?1",
        )?
        .query_row([&entry.session_id], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, i64>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, i64>(6)?,
                row.get::<_, i64>(7)?,
            ))
        })
        .optional()?;
    let Some((hash, last_used, url, public_id, token_name, user_name, expires_at, row_id)) = row
    else {
        return Err(ended(
            "its token was deleted or rotated, or it was logged out",
        ));
    };
    if !token::secret_matches(&Secret::from_text(&entry.secret), &hash) {
        return Err(ended("the session file does not match"));
    }
    let idle = now - last_used;
    if idle >= settings.session_idle_timeout.seconds || expires_at <= now {
        end(store, &entry.session_id)?;
        return Err(if expires_at <= now {
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
    if tokens::use_is_news(Some(last_used), now, granularity) {
        store.write(|tx| {
            tx.prepare_cached("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")?
                .execute((&entry.session_id, now))?;
            tx.prepare_cached("UPDATE tokens SET last_used_at = ?2 WHERE id = ?1")?
                .execute((row_id, now))?;
            Ok(())
        })?;
    }
    let roles = tokens::role_names(store.conn(), row_id)?;
    Ok(Resumed {
        token: tokens::Verified {
            row_id,
            public_id,
            token_name,
            user_name,
            roles,
            expires_at: Timestamp(expires_at),
            last_used_at: Some(now),
            needs_rehash: false,
        },
        url,
    })
}

/// Ends a session in the database; a session already gone is fine.
pub fn end(store: &mut Store, session_id: &str) -> Result<()> {
    store.write(|tx| {
        tx.prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute([session_id])?;
        Ok(())
    })
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
    sessions: BTreeMap<String, Entry>,
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
        Ok(file)
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

    /// Writes the file (0600, folder 0700) through a temporary file and a rename, so a
    /// reader never sees half of it; with no sessions left the file is removed.
    pub fn save(&self) -> Result<()> {
        if self.sessions.is_empty() {
            return match fs::remove_file(&self.path) {
                Err(err) if err.kind() != ErrorKind::NotFound => Err(err.into()),
                _ => Ok(()),
            };
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let body = serde_json::to_vec_pretty(self).map_err(std::io::Error::from)?;
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()?;
        fs::rename(&tmp, &self.path)?;
        Ok(())
    }
}
