//! `osmo db ...`

use super::{Ctx, confirm};
use crate::cli::DbCommand;
use crate::db;
use crate::error::{ExitStatus, Result};
use crate::output::emit;

pub fn run(ctx: &mut Ctx, cmd: DbCommand) -> Result<ExitStatus> {
    let (store, caller, format, now) = (&mut ctx.store, &ctx.caller, ctx.format, ctx.now);
    match cmd {
        DbCommand::Info => emit(format, &db::info(store, caller, now)?)?,
        DbCommand::Check => {
            let checked = db::check(store, caller)?;
            emit(format, &checked)?;
            if !checked.ok {
                return Ok(ExitStatus::No(1));
            }
        }
        DbCommand::Backup { path, force } => {
            emit(format, &db::backup(store, caller, &path, force, now)?)?
        }
        DbCommand::Copy { to } => emit(
            format,
            &db::copy(store, caller, &crate::store::expand_home(&to))?,
        )?,
        DbCommand::Restore { path, force } => {
            let prepared = db::prepare_restore(store, caller, &path)?;
            confirm(
                &format!(
                    "Replace every user, role and token of {} with the {} users and {} tokens of {}? Every session ends.",
                    store.path().display(),
                    prepared.users,
                    prepared.tokens,
                    path.display()
                ),
                force,
                "The database was not restored",
            )?;
            emit(format, &db::restore(store, caller, &path, prepared, now)?)?
        }
    }
    Ok(ExitStatus::Success)
}
