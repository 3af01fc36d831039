//! Existing tokens: delete, list, show roles, rotate (DESIGN §5).

use super::issue::{Fresh, check_limit};
use super::{Announce, TokenDeleted, TokenInfo, TokenIssued, TokenList, TokenRoles, owner_of};
use crate::access::{Caller, Need};
use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::store::{Store, TokenRef, Tx};
use crate::time::Expiry;
use crate::{users, validate};

/// Finds `owner`'s token `name`: the user must exist, then the token.
fn find(tx: &Tx<'_>, owner: &str, name: &str) -> Result<TokenRef> {
    users::require(tx, owner)?;
    tx.find_token(owner, name)?
        .ok_or_else(|| Error::not_found(format!("Access token {name} does not exist.")))
}

pub fn delete(
    store: &mut Store,
    caller: &Caller,
    name: &str,
    user: Option<&str>,
    now: i64,
) -> Result<TokenDeleted> {
    let owner = owner_of(caller, user)?;
    validate::token_name(name)?;
    store.write(|tx| {
        let row = find(tx, &owner, name)?;
        tx.delete_token(row.row_id)?;
        let target = format!("{owner}/{name}");
        audit::record_ok(
            tx,
            now,
            &caller.user,
            Action::TokenDelete,
            &target,
            Some(&owner),
        )?;
        Ok(TokenDeleted {
            id: row.public_id,
            token_name: name.to_string(),
            user_name: owner,
            deleted: true,
            for_user: user.is_some(),
        })
    })
}

/// One owner's tokens (the caller's, or `user`'s), or with `all` everyone's, with their
/// status at `now`.
pub fn list(
    store: &mut Store,
    caller: &Caller,
    user: Option<&str>,
    all: bool,
    now: i64,
) -> Result<TokenList> {
    let owner = if all {
        caller.authorize(Need::Admin("Listing every user's tokens"))?;
        None
    } else {
        Some(owner_of(caller, user)?)
    };
    let rows = store.read(|tx| {
        if let Some(owner) = &owner {
            users::require(tx, owner)?;
        }
        tx.list_tokens(owner.as_deref())
    })?;
    let tokens = rows
        .into_iter()
        .map(|(row, roles)| {
            let active = row.expires_at.0 > now;
            TokenInfo {
                id: row.public_id,
                token_name: row.name,
                user_name: row.user_id,
                description: row.description,
                status: if active { "active" } else { "expired" },
                active,
                roles,
                created_at: row.created_at,
                expires_at: row.expires_at,
                last_used_at: row.last_used_at,
            }
        })
        .collect();
    Ok(TokenList {
        tokens,
        user: user.filter(|_| !all).map(str::to_string),
        all,
    })
}

pub fn roles(
    store: &mut Store,
    caller: &Caller,
    name: &str,
    user: Option<&str>,
) -> Result<TokenRoles> {
    let owner = owner_of(caller, user)?;
    validate::token_name(name)?;
    let grants = store.read(|tx| tx.token_grants(find(tx, &owner, name)?.row_id))?;
    Ok(TokenRoles {
        user_name: owner,
        token_name: name.to_string(),
        roles: grants,
    })
}

/// A new secret and public id for the same name, description and roles, in one
/// transaction: the old token (and every session it opened) stops working at once.
pub fn rotate(
    store: &mut Store,
    caller: &Caller,
    settings: &Settings,
    name: &str,
    user: Option<&str>,
    expiry: Expiry<'_>,
    now: i64,
) -> Result<TokenIssued> {
    let owner = owner_of(caller, user)?;
    validate::token_name(name)?;
    let fresh = Fresh::new(settings, &expiry, now)?;
    store.write_durable(|tx| {
        let old = find(tx, &owner, name)?;
        check_limit(tx, &owner, settings.max_tokens_per_user, now, Some(old.row_id))?;
        // The new row keeps the old grants; deleting the old row ends its sessions.
        let grants = tx.token_grants(old.row_id)?;
        // Rotation hands out a secret, so it may not escalate either: a token caller
        // can only rotate tokens whose roles its own token carries, expired ones too.
        let bound = caller.token.as_ref().map(|t| &t.roles);
        if let Some(g) = grants
            .iter()
            .find(|g| bound.is_some_and(|b| !b.contains(&g.role_name)))
        {
            return Err(Error::forbidden(format!(
                "the token you are using does not carry role {}, so it cannot rotate token {name}, which does.",
                g.role_name
            )));
        }
        tx.delete_token(old.row_id)?;
        fresh.insert(tx, &owner, name, &old.description, &caller.user, &grants)?;
        let target = format!("{owner}/{name}");
        audit::record_ok(tx, now, &caller.user, Action::TokenRotate, &target, Some(&owner))?;
        let roles = grants.into_iter().map(|g| g.role_name).collect();
        let announce = Announce::Osmo {
            for_user: user.is_some(),
            roles_given: false,
        };
        Ok(fresh.issued(name, &owner, &old.description, roles, announce))
    })
}
