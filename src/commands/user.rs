//! `osmo user ...`

use super::{Ctx, confirm};
use crate::cli::UserCommand;
use crate::error::Result;
use crate::output::{self, emit};
use crate::users::{self, ListQuery};

pub fn run(ctx: &mut Ctx, cmd: UserCommand) -> Result<()> {
    let (store, caller, format) = (&mut ctx.store, &ctx.caller, ctx.format);
    match cmd {
        UserCommand::Create { id, roles } => {
            emit(format, &users::create(store, caller, &id, &roles, ctx.now)?)
        }
        UserCommand::List {
            id_prefix,
            roles,
            count,
        } => {
            let query = ListQuery {
                id_prefix: id_prefix.as_deref(),
                roles: &roles,
                count,
            };
            output::user::user_list(format, |each| users::list(store, caller, &query, each))
        }
        UserCommand::Get { id } => emit(format, &users::get(store, caller, &id)?),
        UserCommand::Update {
            id,
            add_roles,
            remove_roles,
        } => emit(
            format,
            &users::update(store, caller, &id, &add_roles, &remove_roles, ctx.now)?,
        ),
        UserCommand::Delete { id, force } => {
            users::check_delete(store, caller, &id)?;
            confirm(
                &format!(
                    "Are you sure you want to delete user \"{id}\"? This will delete all associated tokens and roles."
                ),
                force,
                &format!("User {id} was not deleted"),
            )?;
            emit(format, &users::delete(store, caller, &id, ctx.now)?)
        }
    }
}
