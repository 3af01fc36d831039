//! `osmo config ...`

use super::Ctx;
use crate::cli::ConfigCommand;
use crate::error::Result;
use crate::output::emit;
use crate::settings;

pub fn run(ctx: &mut Ctx, cmd: ConfigCommand) -> Result<()> {
    let (store, caller, format) = (&mut ctx.store, &ctx.caller, ctx.format);
    match cmd {
        ConfigCommand::List => emit(format, &settings::list(store, caller)?),
        ConfigCommand::Get { key } => emit(format, &settings::get(store, caller, &key)?),
        ConfigCommand::Set { key, value } => emit(
            format,
            &settings::set(store, caller, &key, &value, ctx.now)?,
        ),
    }
}
