//! `osmo login`, `logout` and `profile list`.

use std::io::IsTerminal;
use std::path::Path;

use super::{Ctx, Location, open_store, read_stdin_token, read_token_file, session_file_path};
use crate::cli::Global;
use crate::error::{Error, Result};
use crate::identity::Profile;
use crate::output::emit;
use crate::sessions::{self, Entry, LoginSummary, LogoutSummary, SessionFile};
use crate::store::Create;
use crate::{time, validate};

pub fn login(
    global: &Global,
    url: Option<&str>,
    method: &str,
    token: Option<String>,
    token_file: Option<&Path>,
) -> Result<()> {
    if method != "token" {
        return Err(Error::invalid(format!(
            "Login method {method} is not available: this local osmo has no identity provider. Use --method token."
        )));
    }
    if let Some(url) = url {
        validate::login_url(url)?;
    }
    let presented = match (token, token_file) {
        (Some(token), _) => token.trim().to_string(),
        (None, Some(path)) => read_token_file(path)?,
        (None, None) if std::io::stdin().is_terminal() => dialoguer::Password::new()
            .with_prompt("Access token")
            .interact()
            .map_err(|err| Error::invalid(format!("No token given: {err}")))?
            .trim()
            .to_string(),
        (None, None) => read_stdin_token()?,
    };
    let now = time::now();
    let location = Location::of(global.db.as_deref())?;
    let path = location.path.clone();
    // A login is to a database that exists; a mistyped --db must not become a new one.
    let mut store = open_store(&location, Create::Never, global.format_type, now)?;
    let session_path = session_file_path()?;
    // Read the session file first, so a damaged one stops us before a session is opened,
    // and hold its lock until the new session is written, so a parallel login's is kept.
    let lock = SessionFile::lock(&session_path)?;
    let mut file = SessionFile::load(&session_path)?;
    let logged_in = sessions::login(&mut store, &presented, url, now)?;
    let key = sessions::database_key(&path);
    if let Some(old) = file.get(&key) {
        sessions::end(&mut store, &old.session_id)?;
    }
    file.put(
        key,
        Entry {
            session_id: logged_in.session_id.clone(),
            secret: logged_in.secret.reveal().to_string(),
            user_name: logged_in.user_name.clone(),
            url: url.map(str::to_string),
            ended: None,
        },
    );
    if let Err(err) = file.save(&lock) {
        sessions::end(&mut store, &logged_in.session_id)?;
        return Err(err);
    }
    drop(lock);
    emit(
        global.format_type,
        &LoginSummary {
            user_name: logged_in.user_name,
            token_name: logged_in.token_name,
            expires_at: logged_in.expires_at,
        },
    )
}

pub fn logout(global: &Global) -> Result<()> {
    let location = Location::of(global.db.as_deref())?;
    let path = &location.path;
    let session_path = session_file_path()?;
    let key = sessions::database_key(path);
    // Only a file that holds a session for this database is worth its lock.
    let entry = match SessionFile::load(&session_path)?.get(&key) {
        None => None,
        Some(_) => {
            let lock = SessionFile::lock(&session_path)?;
            let mut file = SessionFile::load(&session_path)?;
            let entry = file.remove(&key);
            if let Some(entry) = &entry {
                // Never create a database just to log out of it.
                if path.exists() || crate::store::is_server_url(path) {
                    let mut store =
                        open_store(&location, Create::Never, global.format_type, time::now())?;
                    sessions::end(&mut store, &entry.session_id)?;
                }
                file.save(&lock)?;
            }
            entry
        }
    };
    emit(
        global.format_type,
        &LogoutSummary {
            logged_out: entry.is_some(),
        },
    )
}

pub fn profile(ctx: &mut Ctx) -> Result<()> {
    emit(ctx.format, &Profile::of(&ctx.caller))
}
