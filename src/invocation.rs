//! What a process was started with, beyond its arguments: where the database is, and
//! which credential the environment presents (DESIGN §1, §2). Shared by the commands
//! and by shell completion, which must find the same database and caller.

use std::env;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::identity::Presented;
use crate::sessions::{self, Held, SessionFile};
use crate::store::{self, Create};
use crate::tokens::input as token_input;

/// Where the database is: `--db`, else `$OSMO_DB`, else the default data folder.
pub struct Location {
    pub path: PathBuf,
    /// The default path, whose missing folders may be created (DESIGN §1).
    pub default: bool,
}

impl Location {
    /// From the `--db` flag, if given, else the environment.
    pub fn of(flag: Option<&Path>) -> Result<Location> {
        let given = flag.map(Path::to_path_buf).or_else(|| {
            env::var_os("OSMO_DB")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        Ok(match given {
            Some(path) => Location {
                path: store::expand_home(&path),
                default: false,
            },
            None => Location {
                path: store::default_path()?,
                default: true,
            },
        })
    }

    /// What a command that may create the database may create here.
    pub fn create(&self) -> Create {
        if self.default {
            Create::WithFolders
        } else {
            Create::File
        }
    }
}

/// Whether the environment presents a token (`$OSMO_TOKEN` or `$OSMO_TOKEN_FILE`), set
/// even if empty: a token is a claim about an existing database.
pub fn token_given() -> bool {
    ["OSMO_TOKEN", "OSMO_TOKEN_FILE"]
        .iter()
        .any(|var| env::var_os(var).is_some())
}

/// `$OSMO_TOKEN`, trimmed: `Some("")` when it is set but blank. A value that is not UTF-8
/// is still a token (a malformed one), so it cannot fall through to the next identity.
pub fn env_token() -> Option<String> {
    env::var_os("OSMO_TOKEN").map(|raw| raw.to_string_lossy().trim().to_string())
}

pub fn session_file_path() -> Result<PathBuf> {
    let dir = env::var_os("OSMO_CONFIG_FILE_DIR").filter(|d| !d.is_empty());
    sessions::default_path(dir.as_deref().map(Path::new))
}

/// A token from a file, or from standard input when the file is `-`; a warning about
/// the file's permissions goes into `warnings`.
pub fn read_token_file(path: &Path, warnings: &mut Vec<String>) -> Result<String> {
    if path == Path::new("-") {
        return token_input::read_stream(&mut std::io::stdin().lock(), "standard input");
    }
    let read = token_input::read_file(&store::expand_home(path))?;
    warnings.extend(read.warning);
    Ok(read.token)
}

/// The credential this process was started with: `$OSMO_TOKEN`, `$OSMO_TOKEN_FILE`, or
/// the login session for the database at `db`. A variable that is set never falls
/// through to the next source, even when it is empty: `OSMO_TOKEN="$UNSET"` must not act
/// as the operator. Warnings (a file others may read) go into `warnings`.
pub fn presented(db: &Path, warnings: &mut Vec<String>) -> Result<Presented> {
    if let Some(token) = env_token() {
        if token.is_empty() {
            return Err(Error::Unauthenticated(
                "OSMO_TOKEN is set but empty: set it to a token, or unset it.".into(),
            ));
        }
        return Ok(Presented::Token {
            text: token,
            source: "OSMO_TOKEN".into(),
        });
    }
    if let Some(file) = env::var_os("OSMO_TOKEN_FILE") {
        if file.is_empty() {
            return Err(Error::invalid(
                "OSMO_TOKEN_FILE is set but empty: set it to a file holding a token, or unset it.",
            ));
        }
        let file = Path::new(&file);
        return Ok(Presented::Token {
            text: read_token_file(file, warnings)?,
            source: format!("OSMO_TOKEN_FILE {}", file.display()),
        });
    }
    let path = session_file_path()?;
    let file = SessionFile::load(&path)?;
    warnings.extend(file.warning().map(str::to_string));
    let key = sessions::database_key(db);
    Ok(match file.get(&key) {
        Some(entry) => Presented::Session(Held {
            entry: entry.clone(),
            file: Some(path),
            key,
        }),
        None => Presented::Nothing,
    })
}
