//! `osmo token ...` and `osmo apitoken create`.

use std::path::Path;

use super::{Ctx, db_path, env_token, read_stdin_token, read_token_file, warn_if_expiring};
use crate::cli::{ApitokenCommand, ExpiryArgs, Global, TokenCommand};
use crate::error::{Error, Result};
use crate::output::{Format, emit};
use crate::sessions;
use crate::store::Store;
use crate::time::Expiry;
use crate::tokens::{self, Announce, Invalid, NewToken};

fn expiry(args: &ExpiryArgs) -> Expiry<'_> {
    match (&args.expires_at, &args.expires_in) {
        (Some(date), _) => Expiry::Date(date),
        (None, Some(span)) => Expiry::In(span),
        (None, None) => Expiry::Default,
    }
}

pub fn run(ctx: &mut Ctx, cmd: TokenCommand) -> Result<()> {
    let (store, caller, format) = (&mut ctx.store, &ctx.caller, ctx.format);
    match cmd {
        TokenCommand::Set {
            name,
            expiry: when,
            description,
            user,
            roles,
        } => {
            let req = NewToken {
                name: Some(&name),
                owner: user.as_deref(),
                description: &description,
                roles: &roles,
                expiry: expiry(&when),
            };
            let announce = Announce::Osmo {
                for_user: user.is_some(),
                roles_given: !roles.is_empty(),
            };
            emit(
                format,
                &tokens::issue(store, caller, &ctx.settings, &req, announce)?,
            )
        }
        TokenCommand::Delete { name, user } => emit(
            format,
            &tokens::delete(store, caller, &name, user.as_deref())?,
        ),
        TokenCommand::List { user, all } => {
            emit(format, &tokens::list(store, caller, user.as_deref(), all)?)
        }
        TokenCommand::Roles { name, user } => emit(
            format,
            &tokens::roles(store, caller, &name, user.as_deref())?,
        ),
        TokenCommand::Verify { .. } => unreachable!("dispatched by commands::run"),
        TokenCommand::Rotate {
            name,
            user,
            expiry: when,
        } => emit(
            format,
            &tokens::rotate(
                store,
                caller,
                &ctx.settings,
                &name,
                user.as_deref(),
                expiry(&when),
            )?,
        ),
    }
}

pub fn run_apitoken(ctx: &mut Ctx, cmd: ApitokenCommand) -> Result<()> {
    let ApitokenCommand::Create {
        name,
        expiry_date,
        owner,
    } = cmd;
    let req = NewToken {
        name: name.as_deref(),
        owner: owner.as_deref(),
        description: "",
        roles: &[],
        expiry: expiry_date.as_deref().map_or(Expiry::Default, Expiry::In),
    };
    let issued = tokens::issue(
        &mut ctx.store,
        &ctx.caller,
        &ctx.settings,
        &req,
        Announce::Vast,
    )?;
    emit(ctx.format, &issued)
}

/// `token verify`: the token from `--token-file`, else `$OSMO_TOKEN`, else stdin.
pub fn verify(global: &Global, token_file: Option<&Path>, roles: &[String]) -> Result<()> {
    let presented = match token_file {
        Some(path) => read_token_file(path)?,
        None => match env_token() {
            // Set but blank: no token was given, and stdin is not read in its place.
            Some(token) if token.is_empty() => {
                return Err(Error::invalid(
                    "No token given: OSMO_TOKEN is set but empty.",
                ));
            }
            Some(token) => token,
            None => read_stdin_token()?,
        },
    };
    let mut store = Store::open(&db_path(global)?)?;
    match tokens::verify(&mut store, &presented, roles)? {
        Ok(valid) => {
            warn_if_expiring(&valid.token_name, valid.expires_at);
            emit(global.format_type, &valid)
        }
        Err(rejection) if global.format_type == Format::Json => {
            let invalid = Invalid {
                valid: false,
                reason: rejection.reason(),
            };
            emit(Format::Json, &invalid)?;
            Err(Error::Reported(6))
        }
        Err(rejection) => Err(sessions::invalid_token(rejection)),
    }
}
