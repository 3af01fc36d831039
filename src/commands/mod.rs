//! Runs a parsed command line: open the store, resolve the caller, call the library,
//! hand the result to the output layer. No SQL and no formatting rules here.

mod attempt;
mod audit;
mod config;
mod db;
mod role;
mod session;
mod token;
mod user;

use std::io::IsTerminal;
use std::path::Path;

use crate::access::{Caller, DEFAULT_ADMIN};
use crate::cli::{AuditCommand, Cli, Command, Global, ProfileCommand, TokenCommand};
use crate::error::{Error, ExitStatus, Result};
use crate::identity::{self, Presented};
use crate::invocation::{self, Location, env_token, session_file_path};
use crate::output::{self, Format};
use crate::settings::Settings;
use crate::store::{Create, Store};
use crate::time::{self, Timestamp};
use crate::tokens::{self, input as token_input};
use crate::{completion, setup, validate};

use attempt::Attempt;

/// What every data command works with.
pub struct Ctx {
    pub store: Store,
    pub settings: Settings,
    pub caller: Caller,
    pub format: Format,
    /// The instant the command runs at, read once at the edge.
    pub now: i64,
}

impl Ctx {
    /// Opens the database and resolves the caller (DESIGN §2).
    fn open(global: &Global, now: i64) -> Result<Ctx> {
        let location = Location::of(global.db.as_deref())?;
        // A token is a claim about an existing database: never make one up for it.
        let create = if invocation::token_given() {
            Create::Never
        } else {
            location.create()
        };
        let mut store = open_store(&location, create, global.format_type, now)?;
        let settings = Settings::load(&mut store)?;
        let presented = presented(&location.path)?;
        let caller = identity::resolve(&mut store, &settings, &presented, now)?;
        if let Some(token) = &caller.token {
            warn_if_expiring(&token.name, token.expires_at, now);
        }
        Ok(Ctx {
            store,
            settings,
            caller,
            format: global.format_type,
            now,
        })
    }

    /// Runs `command` as the resolved caller; a refusal (exit 3) is audited as `denied`.
    fn run(
        global: &Global,
        attempt: Option<Attempt>,
        command: impl FnOnce(&mut Ctx) -> Result<()>,
    ) -> Result<ExitStatus> {
        Ctx::answer(global, attempt, |ctx| {
            command(ctx).map(|()| ExitStatus::Success)
        })
    }

    /// As `run`, for a command whose answer may be "no" (`db check` finding damage).
    fn answer(
        global: &Global,
        attempt: Option<Attempt>,
        command: impl FnOnce(&mut Ctx) -> Result<ExitStatus>,
    ) -> Result<ExitStatus> {
        let mut ctx = Ctx::open(global, time::now())?;
        let result = command(&mut ctx);
        if let (Err(Error::Forbidden(_)), Some(attempt)) = (&result, attempt) {
            attempt.record_denial(&mut ctx.store, &ctx.caller, ctx.now);
        }
        result
    }
}

/// Opens the database and prints what it found worth a warning (a file others may
/// write), and, when it was just created, where and with which admin, so that a
/// mistyped path is noticed (not under `-t json`, where stderr holds only warnings and
/// errors).
fn open_store(location: &Location, create: Create, format: Format, now: i64) -> Result<Store> {
    let (store, created) = setup::open(&location.path, create, now)?;
    for warning in store.warnings() {
        output::warn(warning);
    }
    if created && format == Format::Text {
        output::note(&format!(
            "created database {} (admin user: {DEFAULT_ADMIN})",
            store.path().display()
        ));
    }
    Ok(store)
}

/// The credential this process was started with, its warnings printed.
fn presented(db: &Path) -> Result<Presented> {
    let mut warnings = Vec::new();
    let presented = invocation::presented(db, &mut warnings);
    warnings.iter().for_each(|w| output::warn(w));
    presented
}

/// A token from a file, or from standard input when the file is `-`.
fn read_token_file(path: &Path) -> Result<String> {
    let mut warnings = Vec::new();
    let token = invocation::read_token_file(path, &mut warnings);
    warnings.iter().for_each(|w| output::warn(w));
    token
}

/// One line of standard input; on a terminal, there is nothing to read, so say how.
fn read_stdin_token() -> Result<String> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        return Err(Error::invalid(
            "No token given: pass --token-file FILE, set OSMO_TOKEN, or pipe the token on standard input.",
        ));
    }
    token_input::read_line(&mut stdin.lock())
}

/// `warning: access token NAME expires on YYYY-MM-DD at HH:MM UTC`, within 7 days.
fn warn_if_expiring(name: &str, expires_at: Timestamp, now: i64) {
    if tokens::expires_soon(expires_at, now) {
        output::warn(&format!(
            "access token {name} expires on {}",
            expires_at.date_time()
        ));
    }
}

/// Runs the command line to its exit status: success, or a "no" that is the command's
/// answer (`token verify` of a bad token). Failures are the `Err`.
pub fn run(cli: Cli) -> Result<ExitStatus> {
    let global = &cli.global;
    let attempt = Attempt::of(&cli.command);
    let done = |result: Result<()>| result.map(|()| ExitStatus::Success);
    match cli.command {
        Command::Init { admin } => done(init(global, &admin)),
        Command::Man => {
            output::bytes(&crate::cli::man::page(crate::cli::command())?)?;
            Ok(ExitStatus::Success)
        }
        Command::Completion { shell } => {
            output::bytes(&completion::script(shell)?)?;
            Ok(ExitStatus::Success)
        }
        Command::Login {
            url,
            method,
            token,
            token_file,
        } => done(session::login(
            global,
            url.as_deref(),
            &method,
            token,
            token_file.as_deref(),
        )),
        Command::Logout => done(session::logout(global)),
        // `verify` checks the token it is given; it does not authenticate its caller.
        Command::Token(TokenCommand::Verify { token_file, role }) => {
            token::verify(global, token_file.as_deref(), &role)
        }
        Command::Profile(ProfileCommand::List) => Ctx::run(global, attempt, session::profile),
        Command::Audit(AuditCommand::List { user, count }) => Ctx::run(global, attempt, |ctx| {
            audit::list(ctx, user.as_deref(), count)
        }),
        Command::Token(TokenCommand::Scan { paths, revoke }) => {
            Ctx::answer(global, attempt, |ctx| token::scan(ctx, &paths, revoke))
        }
        Command::Token(cmd) => Ctx::run(global, attempt, |ctx| token::run(ctx, cmd)),
        Command::Apitoken(cmd) => Ctx::run(global, attempt, |ctx| token::run_apitoken(ctx, cmd)),
        Command::User(cmd) => Ctx::run(global, attempt, |ctx| user::run(ctx, cmd)),
        Command::Role(cmd) => Ctx::run(global, attempt, |ctx| role::run(ctx, cmd)),
        Command::Config(cmd) => Ctx::run(global, attempt, |ctx| config::run(ctx, cmd)),
        Command::Db(cmd) => Ctx::answer(global, attempt, |ctx| db::run(ctx, cmd)),
    }
}

fn init(global: &Global, admin: &str) -> Result<()> {
    validate::user_id(admin)?;
    let location = Location::of(global.db.as_deref())?;
    let path = &location.path;
    if Store::holds_data(path)? {
        return Err(Error::conflict(format!(
            "{} already exists; nothing was changed. To make another database, pass --db PATH (or set OSMO_DB) with a new path.",
            Store::shown(path)
        )));
    }
    let (store, created) = setup::open_as(path, location.create(), admin, time::now())?;
    for warning in store.warnings() {
        output::warn(warning);
    }
    if !created {
        return Err(Error::conflict(format!(
            "{} was initialized by another process; nothing was changed.",
            Store::shown(path)
        )));
    }
    output::emit(
        global.format_type,
        &setup::Initialized {
            database: store.path().display().to_string(),
            admin: admin.to_string(),
        },
    )
}

/// Asks a yes/no question on the terminal; without one, refuses unless `--force`.
fn confirm(prompt: &str, force: bool, refusal: &str) -> Result<()> {
    if force {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
        return Err(Error::invalid(format!(
            "{refusal}: there is no terminal to confirm on. Pass --force to go ahead."
        )));
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt(prompt)
        .default(false)
        .interact()
        .map_err(|err| Error::invalid(format!("{refusal}: {err}")))?;
    if yes {
        Ok(())
    } else {
        Err(Error::invalid(format!("{refusal}: not confirmed.")))
    }
}
