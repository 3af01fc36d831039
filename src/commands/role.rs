//! `osmo role ...`

use super::{Ctx, confirm};
use crate::cli::RoleCommand;
use crate::error::Result;
use crate::output::emit;
use crate::roles;

pub fn run(ctx: &mut Ctx, cmd: RoleCommand) -> Result<()> {
    let (store, caller, format) = (&mut ctx.store, &ctx.caller, ctx.format);
    match cmd {
        RoleCommand::List => emit(format, &roles::list(store, caller)?),
        RoleCommand::Create { name, description } => emit(
            format,
            &roles::create(store, caller, &name, &description, ctx.now)?,
        ),
        RoleCommand::Delete { name, force } => {
            let (users, tokens) = roles::check_delete(store, caller, &name)?;
            confirm(
                &format!(
                    "Are you sure you want to delete role \"{name}\"? It will be removed from {users} user(s) and {tokens} token(s)."
                ),
                force,
                &format!("Role {name} was not deleted"),
            )?;
            emit(format, &roles::delete(store, caller, &name, ctx.now)?)
        }
    }
}
