//! `osmo token ...` and `osmo apitoken create`.

use std::path::Path;

use super::{Ctx, db_path, env_token, read_stdin_token, read_token_file, warn_if_expiring};
use crate::cli::{ApitokenCommand, ExpiryArgs, Global, TokenCommand};
use crate::error::{Error, ExitStatus, Result};
use crate::output::{self, Format, emit};
use crate::sessions;
use crate::setup;
use crate::time::{self, Expiry};
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
                &tokens::issue(store, caller, &ctx.settings, &req, announce, ctx.now)?,
            )
        }
        TokenCommand::Delete { name, user } => emit(
            format,
            &tokens::delete(store, caller, &name, user.as_deref(), ctx.now)?,
        ),
        TokenCommand::List { user, all } => emit(
            format,
            &tokens::list(store, caller, user.as_deref(), all, ctx.now)?,
        ),
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
                ctx.now,
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
        ctx.now,
    )?;
    emit(ctx.format, &issued)
}

/// `token verify`: the token from `--token-file`, else `$OSMO_TOKEN`, else stdin. A token
/// that is not valid is the command's answer, not a failure: exit 6 with the reason.
pub fn verify(global: &Global, token_file: Option<&Path>, roles: &[String]) -> Result<ExitStatus> {
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
    let now = time::now();
    let mut store = setup::open(&db_path(global)?, now)?;
    match tokens::verify(&mut store, &presented, roles, now)? {
        Ok(valid) => {
            warn_if_expiring(&valid.token_name, valid.expires_at, now);
            emit(global.format_type, &valid)?;
            Ok(ExitStatus::Success)
        }
        Err(rejection) => {
            let refused = sessions::invalid_token(rejection);
            match global.format_type {
                Format::Json => emit(
                    Format::Json,
                    &Invalid {
                        valid: false,
                        reason: rejection.reason(),
                    },
                )?,
                Format::Text => output::error(Format::Text, &refused),
            }
            Ok(ExitStatus::No(refused.exit_code()))
        }
    }
}
