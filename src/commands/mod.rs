//! Runs a parsed command line: open the store, resolve the caller, call the library,
//! hand the result to the output layer. No SQL and no formatting rules here.

mod config;
mod role;
mod token;
mod user;

use std::io::IsTerminal;
use std::path::PathBuf;

use crate::cli::{Cli, Command, Global};
use crate::error::{Error, Result};
use crate::identity::{self, Caller};
use crate::output::{self, Format};
use crate::settings::Settings;
use crate::store::{self, Store};
use crate::validate;

/// What every data command works with.
pub struct Ctx {
    pub store: Store,
    pub settings: Settings,
    pub caller: Caller,
    pub format: Format,
}

impl Ctx {
    fn open(global: &Global) -> Result<Ctx> {
        let store = Store::open(&db_path(global)?)?;
        let settings = Settings::load(store.conn())?;
        let caller = identity::resolve(&store, &settings)?;
        Ok(Ctx {
            store,
            settings,
            caller,
            format: global.format_type,
        })
    }
}

fn db_path(global: &Global) -> Result<PathBuf> {
    match &global.db {
        Some(path) => Ok(store::expand_home(path)),
        None => store::default_path(),
    }
}

pub fn run(cli: Cli) -> Result<()> {
    let global = &cli.global;
    match cli.command {
        Command::Init { admin } => init(global, &admin),
        Command::Completion { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "osmo", &mut std::io::stdout());
            Ok(())
        }
        Command::Token(cmd) => token::run(Ctx::open(global)?, cmd),
        Command::Apitoken(cmd) => token::run_apitoken(Ctx::open(global)?, cmd),
        Command::User(cmd) => user::run(Ctx::open(global)?, cmd),
        Command::Role(cmd) => role::run(Ctx::open(global)?, cmd),
        Command::Config(cmd) => config::run(Ctx::open(global)?, cmd),
    }
}

#[derive(serde::Serialize)]
struct Initialized {
    database: String,
    admin: String,
}

impl output::Render for Initialized {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Initialized {} with admin user {}\n",
            self.database, self.admin
        ));
    }
}

fn init(global: &Global, admin: &str) -> Result<()> {
    validate::user_id(admin)?;
    let path = db_path(global)?;
    let in_use = std::fs::metadata(&path).is_ok_and(|meta| meta.is_dir() || meta.len() > 0);
    if in_use {
        return Err(Error::conflict(format!(
            "{} already exists; nothing was changed.",
            path.display()
        )));
    }
    let (_, created) = Store::open_or_init(&path, admin)?;
    if !created {
        return Err(Error::conflict(format!(
            "{} was initialized by another process; nothing was changed.",
            path.display()
        )));
    }
    output::emit(
        global.format_type,
        &Initialized {
            database: path.display().to_string(),
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
