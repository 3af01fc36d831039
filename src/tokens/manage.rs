//! Existing tokens: delete, list, show roles, rotate (DESIGN §5).

use super::issue::{Fresh, check_limit};
use super::{
    AllDeleted, Announce, ListFilter, Pruned, PrunedToken, TokenDeleted, TokenInfo, TokenIssued,
    TokenRoles, owner_of,
};
use crate::access::{Caller, Need};
use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::settings::Settings;
use crate::store::{Flow, Store, TokenRef, TokenRow, Tx};
use crate::time::Expiry;
use crate::{users, validate};

/// Deletes a token (ending its sessions) and audits it under `action`: delete, prune,
/// or a revocation by `token scan`.
pub(super) fn revoke(
    tx: &Tx<'_>,
    now: i64,
    caller: &Caller,
    action: Action,
    row_id: i64,
    owner: &str,
    name: &str,
) -> Result<()> {
    tx.delete_token(row_id)?;
    let target = format!("{owner}/{name}");
    audit::record_ok(tx, now, &caller.user, action, &target, Some(owner))
}

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
        revoke(
            tx,
            now,
            caller,
            Action::TokenDelete,
            row.row_id,
            &owner,
            name,
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

/// The owner `token list`/`prune` act on, or none for `--all` (admin only).
fn scope(caller: &Caller, user: Option<&str>, all: bool, what: &str) -> Result<Option<String>> {
    if all {
        caller.authorize(Need::Admin(what))?;
        Ok(None)
    } else {
        owner_of(caller, user).map(Some)
    }
}

/// One owner's tokens (the caller's, or `user`'s), or with `all` everyone's, with their
/// status at `now`, narrowed by `filter`, handed to `each` as they are read.
#[allow(clippy::too_many_arguments)]
pub fn list(
    store: &mut Store,
    caller: &Caller,
    user: Option<&str>,
    all: bool,
    filter: ListFilter,
    now: i64,
    each: &mut dyn FnMut(TokenInfo) -> Result<Flow>,
) -> Result<()> {
    let owner = scope(caller, user, all, "Listing every user's tokens")?;
    store.read(|tx| {
        if let Some(owner) = &owner {
            users::require(tx, owner)?;
        }
        tx.each_token(owner.as_deref(), &mut |row, roles| {
            if !filter.keeps(row.expires_at.0, now) {
                return Ok(Flow::Continue(()));
            }
            let active = row.expires_at.0 > now;
            each(TokenInfo {
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
            })
        })
    })
}

/// Deletes the expired tokens of one owner (the caller's, or `user`'s), or with `all`
/// everyone's, in one transaction, auditing each. A dry run only says what would go.
pub fn prune(
    store: &mut Store,
    caller: &Caller,
    user: Option<&str>,
    all: bool,
    dry_run: bool,
    now: i64,
) -> Result<Pruned> {
    let owner = scope(caller, user, all, "Pruning every user's tokens")?;
    let expired = |tx: &Tx<'_>| -> Result<Vec<TokenRow>> {
        if let Some(owner) = &owner {
            users::require(tx, owner)?;
        }
        Ok(tx
            .list_tokens(owner.as_deref())?
            .into_iter()
            .map(|(row, _)| row)
            .filter(|row| row.expires_at.0 <= now)
            .collect())
    };
    let gone = if dry_run {
        store.read(expired)?
    } else {
        store.write(|tx| {
            let gone = expired(tx)?;
            for row in &gone {
                revoke(
                    tx,
                    now,
                    caller,
                    Action::TokenPrune,
                    row.row_id,
                    &row.user_id,
                    &row.name,
                )?;
            }
            Ok(gone)
        })?
    };
    let pruned = gone
        .into_iter()
        .map(|row| PrunedToken {
            id: row.public_id,
            token_name: row.name,
            user_name: row.user_id,
            expires_at: row.expires_at,
        })
        .collect();
    Ok(Pruned { dry_run, pruned })
}

/// How many tokens `token delete --all` would delete, and whose (checked first, so the
/// question is asked only of a caller who may).
pub fn count_tokens(
    store: &mut Store,
    caller: &Caller,
    user: Option<&str>,
) -> Result<(String, i64)> {
    let owner = owner_of(caller, user)?;
    let count = store.read(|tx| {
        users::require(tx, &owner)?;
        tx.count_user_tokens(&owner)
    })?;
    Ok((owner, count))
}

/// Deletes every token of one owner (bulk revoke) in one transaction, ending their
/// sessions; each is audited.
pub fn delete_all(
    store: &mut Store,
    caller: &Caller,
    user: Option<&str>,
    now: i64,
) -> Result<AllDeleted> {
    let owner = owner_of(caller, user)?;
    let deleted = store.write(|tx| {
        users::require(tx, &owner)?;
        let mut deleted = Vec::new();
        for (row, _) in tx.list_tokens(Some(&owner))? {
            revoke(
                tx,
                now,
                caller,
                Action::TokenDelete,
                row.row_id,
                &owner,
                &row.name,
            )?;
            deleted.push(row.name);
        }
        Ok(deleted)
    })?;
    Ok(AllDeleted {
        user_name: owner,
        deleted,
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
    let keep_lifetime = matches!(expiry, Expiry::Default);
    let mut fresh = Fresh::new(settings, &expiry, now)?;
    store.write_durable(|tx| {
        let old = find(tx, &owner, name)?;
        if keep_lifetime {
            // A 90-day token rotates into a 90-day token, never past the maximum.
            let lifetime = (old.expires_at - old.created_at).min(settings.max_token_lifetime.seconds);
            fresh.expire_at(now + lifetime);
        }
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
