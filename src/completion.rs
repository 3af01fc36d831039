//! Shell completion (DESIGN §5). `osmo completion SHELL` prints a script that registers a
//! function calling `osmo` back (`_OSMO_COMPLETE=SHELL osmo -- WORDS...`); clap's engine
//! completes commands and flags, and the functions here complete values from the
//! database: token names, user ids, role names, setting keys. They read only: a missing
//! database is not created, an old one not upgraded, nothing is recorded, and any
//! failure offers nothing.

use std::env;
use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};
use clap_complete::{CompleteEnv, Shell};

use crate::access::Caller;
use crate::error::Result;
use crate::identity;
use crate::invocation::{self, Location};
use crate::settings::{self, Settings};
use crate::store::Store;
use crate::time;

/// The variable the registered script sets when it calls back. Not clap's default
/// `COMPLETE`, which a user's environment may well hold for something else.
const VAR: &str = "_OSMO_COMPLETE";

/// At most this many values are offered (a prefix narrows them).
const LIMIT: u32 = 500;

/// Answers a shell's completion request and exits, when this process is one; otherwise
/// returns at once (one environment lookup).
pub fn answer_shell(command: fn() -> clap::Command) {
    CompleteEnv::with_factory(command).var(VAR).complete();
}

/// The script `osmo completion SHELL` prints. It calls back the binary it was made by:
/// by name when that was run from `PATH`, else by its full path (as clap does).
pub fn script(shell: Shell) -> Result<Vec<u8>> {
    let completer: &dyn EnvCompleter = match shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::PowerShell => &Powershell,
        _ => &Bash,
    };
    let argv0 = PathBuf::from(env::args_os().next().unwrap_or_else(|| "osmo".into()));
    let callee = if argv0.components().count() > 1 {
        env::current_dir()?.join(argv0)
    } else {
        argv0
    };
    let mut buf = Vec::new();
    completer.write_registration(VAR, "osmo", "osmo", &callee.to_string_lossy(), &mut buf)?;
    Ok(buf)
}

/// Token names after `token delete/roles/rotate`: the caller's own, or with `--user U`
/// on the line, U's when the caller may see them.
pub fn token_names(current: &OsStr) -> Vec<CompletionCandidate> {
    offer(current, |store, caller, prefix| {
        let owner = match flag_value(&["-u", "--user"]) {
            Some(user) if caller.is_admin() => user,
            _ => caller.user.clone(),
        };
        store.read(|tx| tx.token_names(&owner, prefix, LIMIT))
    })
}

/// User ids: every user for an admin, only oneself for anyone else (who may not list
/// users).
pub fn user_ids(current: &OsStr) -> Vec<CompletionCandidate> {
    offer(current, |store, caller, prefix| {
        if caller.is_admin() {
            store.read(|tx| tx.user_ids(prefix, LIMIT))
        } else {
            Ok(Some(caller.user.clone())
                .filter(|id| id.starts_with(prefix))
                .into_iter()
                .collect())
        }
    })
}

/// Role names (anyone may list roles).
pub fn role_names(current: &OsStr) -> Vec<CompletionCandidate> {
    offer(current, |store, _, prefix| {
        let roles = store.read(|tx| tx.roles())?;
        Ok(roles
            .into_iter()
            .map(|role| role.name)
            .filter(|name| name.starts_with(prefix))
            .collect())
    })
}

/// Setting keys: fixed, so no database is needed.
pub fn setting_keys(current: &OsStr) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    settings::KEYS
        .iter()
        .map(|(key, _)| *key)
        .filter(|key| key.starts_with(prefix.as_ref()))
        .map(CompletionCandidate::new)
        .collect()
}

/// Opens the database read only, finds the caller without recording anything, and asks
/// `values` for those starting with `current`. Any failure offers nothing: a TAB must not
/// print errors into the user's command line.
fn offer(
    current: &OsStr,
    values: impl FnOnce(&mut Store, &Caller, &str) -> Result<Vec<String>>,
) -> Vec<CompletionCandidate> {
    let prefix = current.to_string_lossy();
    let found = (|| -> Result<Vec<String>> {
        let flag = flag_value(&["--db"]).map(PathBuf::from);
        let path = Location::of(flag.as_deref())?.path;
        // A token file of `-` would read the terminal: offer nothing instead.
        if env::var_os("OSMO_TOKEN_FILE").is_some_and(|file| file == "-") {
            return Ok(Vec::new());
        }
        let mut store = Store::open_for_reading(&path)?;
        let settings = Settings::load(&mut store)?;
        let presented = invocation::presented(&path, &mut Vec::new())?;
        match identity::peek(&mut store, &settings, &presented, time::now())? {
            Some(caller) => values(&mut store, &caller, &prefix),
            None => Ok(Vec::new()),
        }
    })();
    found
        .unwrap_or_default()
        .into_iter()
        .map(CompletionCandidate::new)
        .collect()
}

/// The words being completed: what the script passed after `--`.
fn words() -> Vec<OsString> {
    env::args_os()
        .skip_while(|arg| arg != "--")
        .skip(1)
        .collect()
}

/// The value of the last of `names` on the line being completed (`-u X`, `--user X`,
/// `--user=X`, `-uX`), if any.
fn flag_value(names: &[&str]) -> Option<String> {
    let words: Vec<String> = words()
        .iter()
        .map(|w| w.to_string_lossy().into_owned())
        .collect();
    let mut found = None;
    for (i, word) in words.iter().enumerate() {
        for name in names {
            if word == name {
                found = words.get(i + 1).cloned();
            } else if let Some(value) = word.strip_prefix(&format!("{name}=")) {
                found = Some(value.to_string());
            } else if name.len() == 2
                && let Some(value) = word.strip_prefix(name).filter(|v| !v.is_empty())
            {
                found = Some(value.to_string());
            }
        }
    }
    found
}
