//! `osmo token ...` and `osmo apitoken create`.

use std::path::{Path, PathBuf};

use super::{
    Ctx, Location, confirm, env_token, read_stdin_token, read_token_file, warn_if_expiring,
};
use crate::cli::{ApitokenCommand, ExpiryArgs, Global, TokenCommand};
use crate::error::{Error, ExitStatus, Result};
use crate::output::{self, Format, emit};
use crate::sessions;
use crate::setup;
use crate::store::Create;
use crate::time::{self, Expiry, Span};
use crate::tokens::{self, Announce, Invalid, ListFilter, NewToken, scan};

fn expiry(args: &ExpiryArgs) -> Expiry<'_> {
    match (&args.expires_at, &args.expires_in) {
        (Some(date), _) => Expiry::Date(date),
        (None, Some(span)) => Expiry::In(span),
        (None, None) => Expiry::Default,
    }
}

/// `-q` prints the token alone; with `-t json` it would not be JSON.
fn announce(format: Format, quiet: bool, otherwise: Announce) -> Result<Announce> {
    match (quiet, format) {
        (false, _) => Ok(otherwise),
        (true, Format::Text) => Ok(Announce::Quiet),
        (true, Format::Json) => Err(Error::invalid(
            "--quiet prints the token alone, which is not JSON: use one of -q and -t json.",
        )),
    }
}

fn list_filter(expired: bool, active: bool, within: Option<&str>) -> Result<ListFilter> {
    Ok(match (expired, active, within) {
        (true, _, _) => ListFilter::Expired,
        (_, _, Some(span)) => ListFilter::ExpiringWithin(Span::parse(span)?.seconds),
        (_, true, None) => ListFilter::Active,
        (false, false, None) => ListFilter::Every,
    })
}

pub fn run(ctx: &mut Ctx, cmd: TokenCommand) -> Result<()> {
    let (store, caller, format, now) = (&mut ctx.store, &ctx.caller, ctx.format, ctx.now);
    match cmd {
        TokenCommand::Set {
            name,
            expiry: when,
            description,
            user,
            roles,
            quiet,
        } => {
            let announce = announce(
                format,
                quiet,
                Announce::Osmo {
                    for_user: user.is_some(),
                    roles_given: !roles.is_empty(),
                },
            )?;
            let req = NewToken {
                name: Some(&name),
                owner: user.as_deref(),
                description: &description,
                roles: &roles,
                expiry: expiry(&when),
            };
            emit(
                format,
                &tokens::issue(store, caller, &ctx.settings, &req, announce, now)?,
            )
        }
        TokenCommand::Delete {
            name: Some(name),
            user,
            ..
        } => emit(
            format,
            &tokens::delete(store, caller, &name, user.as_deref(), now)?,
        ),
        TokenCommand::Delete {
            name: None,
            user,
            force,
            ..
        } => {
            let (owner, count) = tokens::count_tokens(store, caller, user.as_deref())?;
            confirm(
                &format!("Delete all {count} access tokens of user {owner}?"),
                force,
                &format!("The tokens of user {owner} were not deleted"),
            )?;
            emit(
                format,
                &tokens::delete_all(store, caller, user.as_deref(), now)?,
            )
        }
        TokenCommand::List {
            user,
            all,
            expired,
            active,
            expiring_within,
        } => {
            let filter = list_filter(expired, active, expiring_within.as_deref())?;
            let heading = user.as_deref().filter(|_| !all);
            output::token::token_list(format, heading, all, |each| {
                tokens::list(store, caller, user.as_deref(), all, filter, now, each)
            })
        }
        TokenCommand::Prune { user, all, dry_run } => emit(
            format,
            &tokens::prune(store, caller, user.as_deref(), all, dry_run, now)?,
        ),
        TokenCommand::Roles { name, user } => emit(
            format,
            &tokens::roles(store, caller, &name, user.as_deref())?,
        ),
        TokenCommand::Verify { .. } | TokenCommand::Scan { .. } => {
            unreachable!("dispatched by commands::run")
        }
        TokenCommand::Rotate {
            name,
            user,
            expiry: when,
            quiet,
        } => {
            let announce = announce(
                format,
                quiet,
                Announce::Osmo {
                    for_user: user.is_some(),
                    roles_given: false,
                },
            )?;
            let mut issued = tokens::rotate(
                store,
                caller,
                &ctx.settings,
                &name,
                user.as_deref(),
                expiry(&when),
                now,
            )?;
            issued.announce = announce;
            emit(format, &issued)
        }
    }
}

/// `token scan`: exit 7 when an active token was found, revoked or not (a leak happened).
pub fn scan(ctx: &mut Ctx, paths: &[PathBuf], revoke: bool) -> Result<ExitStatus> {
    let found = scan::find(paths, &mut std::io::stdin().lock())?;
    for warning in &found.warnings {
        output::warn(warning);
    }
    let report = scan::report(&mut ctx.store, &ctx.caller, found.hits, revoke, ctx.now)?;
    emit(ctx.format, &report)?;
    Ok(if report.any_active() {
        ExitStatus::No(7)
    } else {
        ExitStatus::Success
    })
}

pub fn run_apitoken(ctx: &mut Ctx, cmd: ApitokenCommand) -> Result<()> {
    let ApitokenCommand::Create {
        name,
        expiry_date,
        owner,
        quiet,
    } = cmd;
    let announce = announce(ctx.format, quiet, Announce::Vast)?;
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
        announce,
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
    let location = Location::of(global.db.as_deref())?;
    let (mut store, _) = setup::open(&location.path, Create::Never, now)?;
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
