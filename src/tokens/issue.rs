//! Issuing a new token: `token set` and `apitoken create` (DESIGN §5), and the pieces
//! rotation shares (a fresh secret, the token limit).

use super::{Announce, NewToken, TokenIssued, default_name, owner_of};
use crate::access::Caller;
use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::roles;
use crate::settings::Settings;
use crate::store::{NewTokenRow, RoleGrant, Store, Tx};
use crate::time::{Expiry, Timestamp};
use crate::tokens::format::Token;
use crate::{users, validate};

pub fn issue(
    store: &mut Store,
    caller: &Caller,
    settings: &Settings,
    req: &NewToken<'_>,
    announce: Announce,
    now: i64,
) -> Result<TokenIssued> {
    let owner = owner_of(caller, req.owner)?;
    let name = req
        .name
        .map_or_else(|| default_name(&owner), str::to_string);
    validate::token_name(&name)?;
    validate::description(req.description)?;
    let requested = roles::dedup(req.roles)?;
    let fresh = Fresh::new(settings, &req.expiry, now)?;
    store.write_durable(|tx| {
        users::require(tx, &owner)?;
        let roles = token_roles(tx, caller, &owner, requested)?;
        if tx.find_token(&owner, &name)?.is_some() {
            return Err(Error::conflict(format!(
                "Token name {name} already exists."
            )));
        }
        check_limit(tx, &owner, settings.max_tokens_per_user, now, None)?;
        let grants: Vec<RoleGrant> = roles
            .iter()
            .map(|role| RoleGrant {
                role_name: role.clone(),
                assigned_by: caller.user.clone(),
                assigned_at: Timestamp(now),
            })
            .collect();
        fresh.insert(tx, &owner, &name, req.description, &caller.user, &grants)?;
        let target = format!("{owner}/{name}");
        audit::record_ok(
            tx,
            now,
            &caller.user,
            Action::TokenCreate,
            &target,
            Some(&owner),
        )?;
        Ok(fresh.issued(&name, &owner, req.description, roles, announce))
    })
}

/// The roles a new token gets: those asked for, or the owner's; never beyond the owner's
/// roles, nor beyond the caller token's roles when the caller is a token.
pub(crate) fn token_roles(
    tx: &Tx<'_>,
    caller: &Caller,
    owner: &str,
    requested: Vec<String>,
) -> Result<Vec<String>> {
    let held = tx.user_roles(owner)?;
    let holds_none = held.is_empty();
    let bound = caller.token.as_ref().map(|t| &t.roles);
    let mut roles = if requested.is_empty() {
        held.into_iter()
            .filter(|r| bound.is_none_or(|b| b.contains(r)))
            .collect()
    } else {
        roles::require_exist(tx, &requested)?;
        for role in &requested {
            if !held.contains(role) {
                return Err(Error::invalid(format!(
                    "User {owner} does not have role {role}."
                )));
            }
            if bound.is_some_and(|b| !b.contains(role)) {
                return Err(Error::forbidden(format!(
                    "the token you are using does not carry role {role}, so it cannot give it to a new token."
                )));
            }
        }
        requested
    };
    if roles.is_empty() {
        let mut message = "At least one role must be specified for the access token.".to_string();
        if holds_none {
            message.push_str(&format!(
                " User {owner} has no roles: osmo user update {owner} --add-roles ROLE"
            ));
        }
        return Err(Error::invalid(message));
    }
    roles.sort();
    Ok(roles)
}

/// Refuses a new unexpired token past `max-tokens-per-user` (0 = no limit). Runs inside
/// the write transaction that inserts, so parallel callers cannot overshoot (see the
/// store's note on this rule).
pub(crate) fn check_limit(
    tx: &Tx<'_>,
    owner: &str,
    limit: u32,
    now: i64,
    replacing: Option<i64>,
) -> Result<()> {
    if limit == 0 {
        return Ok(());
    }
    let live = tx.count_live_tokens(owner, now, replacing, i64::from(limit))?;
    if live >= i64::from(limit) {
        return Err(Error::conflict(format!(
            "User {owner} already has {live} unexpired tokens, the limit set by max-tokens-per-user ({limit}). Delete one, or raise the setting with `osmo config set max-tokens-per-user N`."
        )));
    }
    Ok(())
}

/// A new token, its hash and its expiry, made before the write lock is taken so that
/// parallel callers wait less.
pub(super) struct Fresh {
    now: i64,
    expires_at: i64,
    token: Token,
    hash: String,
}

impl Fresh {
    pub(super) fn new(settings: &Settings, expiry: &Expiry<'_>, now: i64) -> Result<Fresh> {
        let expires_at = expiry.resolve(
            now,
            &settings.default_token_lifetime,
            &settings.max_token_lifetime,
        )?;
        let token = Token::generate()?;
        let hash = token.hash()?;
        Ok(Fresh {
            now,
            expires_at,
            token,
            hash,
        })
    }

    /// Sets the expiry when it depends on what is found under the write lock (rotation
    /// keeping the old token's lifetime).
    pub(super) fn expire_at(&mut self, expires_at: i64) {
        self.expires_at = expires_at;
    }

    /// Inserts the token row and its role grants.
    pub(super) fn insert(
        &self,
        tx: &Tx<'_>,
        owner: &str,
        name: &str,
        description: &str,
        created_by: &str,
        grants: &[RoleGrant],
    ) -> Result<()> {
        let row = NewTokenRow {
            public_id: self.token.public_id(),
            owner,
            name,
            description,
            secret_hash: &self.hash,
            created_at: self.now,
            created_by,
            expires_at: self.expires_at,
        };
        tx.insert_token(&row, grants)?;
        Ok(())
    }

    /// The result shown once the token is committed.
    pub(super) fn issued(
        &self,
        name: &str,
        owner: &str,
        description: &str,
        roles: Vec<String>,
        announce: Announce,
    ) -> TokenIssued {
        TokenIssued {
            id: self.token.public_id().to_string(),
            token: self.token.clone(),
            token_name: name.to_string(),
            user_name: owner.to_string(),
            description: description.to_string(),
            roles,
            created_at: Timestamp(self.now),
            expires_at: Timestamp(self.expires_at),
            announce,
        }
    }
}
