//! The `db` commands: what the database holds, whether it is sound, and backing it up
//! and restoring it while others keep using it (DESIGN §5 db).

use std::path::Path;

use serde::Serialize;

use crate::access::{ADMIN, Caller, Need};
use crate::audit::{self, Action};
use crate::error::{Error, Fault, Result};
use crate::settings::OPERATOR_USER;
use crate::store::{Staged, Store, Table, Tx};

/// `db info`.
#[derive(Debug, Serialize)]
pub struct Info {
    pub path: String,
    pub schema_version: i64,
    pub journal_mode: Option<String>,
    pub size_bytes: u64,
    pub wal_bytes: Option<u64>,
    pub users: i64,
    pub roles: i64,
    pub tokens_active: i64,
    pub tokens_expired: i64,
    pub sessions: i64,
    pub audit_events: i64,
}

pub fn info(store: &mut Store, caller: &Caller, now: i64) -> Result<Info> {
    caller.authorize(Need::Admin("Reading the database's details"))?;
    let file = store.file_info()?;
    let (users, roles, tokens, live, sessions, audit_events) = store.read(|tx| {
        Ok((
            tx.count_rows(Table::Users)?,
            tx.count_rows(Table::Roles)?,
            tx.count_rows(Table::Tokens)?,
            tx.count_all_live_tokens(now)?,
            tx.count_rows(Table::Sessions)?,
            tx.count_rows(Table::Audit)?,
        ))
    })?;
    Ok(Info {
        path: store.path().display().to_string(),
        schema_version: file.schema_version,
        journal_mode: file.journal_mode,
        size_bytes: file.size_bytes,
        wal_bytes: file.wal_bytes,
        users,
        roles,
        tokens_active: live,
        tokens_expired: tokens - live,
        sessions,
        audit_events,
    })
}

/// `db check`: `ok`, or what is wrong. Problems name users and tokens, so a caller who
/// may not see them gets how many there are instead.
#[derive(Debug, Serialize)]
pub struct Checked {
    pub ok: bool,
    pub problems: Vec<String>,
}

pub fn check(store: &mut Store, caller: &Caller) -> Result<Checked> {
    caller.authorize(Need::Anyone)?;
    let problems = problems(store)?;
    let shown = match problems.len() {
        0 => Vec::new(),
        _ if caller.is_admin() => problems,
        n => vec![format!(
            "{n} problem(s) found: an osmo-admin running osmo db check sees which"
        )],
    };
    Ok(Checked {
        ok: shown.is_empty(),
        problems: shown,
    })
}

/// Everything wrong with the database: damage SQLite finds, broken references, and
/// osmo's own invariants (DESIGN §3). Damage that stops a check half-way is a problem
/// too, not a failure: the check reports it and looks no further.
fn problems(store: &mut Store) -> Result<Vec<String>> {
    let mut problems = Vec::new();
    let checked = store.read(|tx| {
        let damage = tx.integrity_problems()?;
        problems.extend(damage.into_iter().map(|line| format!("damage: {line}")));
        invariants(tx, &mut problems)
    });
    match checked {
        Ok(()) => Ok(problems),
        // SQLite stopped at a page it could not read (and may end the transaction).
        Err(Error::Unusable {
            fault: Fault::Damaged,
            ..
        }) => {
            problems.push(
                "damage: SQLite stopped at a malformed page (database disk image is malformed)"
                    .into(),
            );
            Ok(problems)
        }
        Err(err) => Err(err),
    }
}

fn invariants(tx: &Tx<'_>, problems: &mut Vec<String>) -> Result<()> {
    for (table, parent) in tx.broken_references()? {
        problems.push(format!(
            "a row of {table} refers to a missing row of {parent}"
        ));
    }
    for (owner, name) in tx.tokens_without_roles()? {
        problems.push(format!("token {name} of {owner} has no role"));
    }
    for (owner, name, role) in tx.token_roles_not_held()? {
        problems.push(format!(
            "token {name} of {owner} carries {role}, which {owner} does not hold"
        ));
    }
    if tx.count_role_holders(ADMIN)? == 0 {
        problems.push(format!("no user holds {ADMIN}"));
    }
    match tx.setting(OPERATOR_USER)? {
        None => problems.push(format!("the {OPERATOR_USER} setting is missing")),
        Some(user) if !tx.user_exists(&user)? => {
            problems.push(format!("the {OPERATOR_USER} {user} does not exist"))
        }
        Some(_) => {}
    }
    Ok(())
}

/// `db backup`.
#[derive(Debug, Serialize)]
pub struct BackedUp {
    pub path: String,
    pub size_bytes: u64,
    pub users: i64,
    pub tokens: i64,
}

pub fn backup(
    store: &mut Store,
    caller: &Caller,
    dest: &Path,
    force: bool,
    now: i64,
) -> Result<BackedUp> {
    caller.authorize(Need::Admin("Backing up the database"))?;
    let copied = store.backup_to(dest, force)?;
    let shown = dest.display().to_string();
    store.write_if_free(|tx| {
        audit::record_ok(tx, now, &caller.user, Action::DbBackup, &shown, None)
    });
    Ok(BackedUp {
        path: shown,
        size_bytes: copied.size_bytes,
        users: copied.users,
        tokens: copied.tokens,
    })
}

/// `db copy`.
#[derive(Debug, Serialize)]
pub struct CopiedTo {
    pub from: String,
    pub to: String,
    pub users: i64,
    pub tokens: i64,
}

/// Copies every row but sessions into the empty database `dest`, leaving this one as it
/// is (not even an audit event: the copy is exact).
pub fn copy(store: &mut Store, caller: &Caller, dest: &Path) -> Result<CopiedTo> {
    caller.authorize(Need::Admin("Copying the database"))?;
    let (users, tokens) = store.copy_to(dest)?;
    Ok(CopiedTo {
        from: store.path().display().to_string(),
        to: Store::shown(dest),
        users,
        tokens,
    })
}

/// A backup checked and ready to restore, with what it holds.
pub struct Restorable {
    staged: Staged,
    pub users: i64,
    pub tokens: i64,
}

/// `db restore`.
#[derive(Debug, Serialize)]
pub struct Restored {
    pub path: String,
    pub users: i64,
    pub tokens: i64,
}

/// Copies and checks the backup at `source` (migrating an older schema) before anything
/// is asked or changed: a file that fails `db check` is refused (exit 2).
pub fn prepare_restore(store: &mut Store, caller: &Caller, source: &Path) -> Result<Restorable> {
    caller.authorize(Need::Admin("Restoring the database"))?;
    let mut staged = store.stage(source)?;
    let problems = problems(staged.store())?;
    if !problems.is_empty() {
        return Err(Error::invalid(format!(
            "Cannot restore from {}: it does not pass osmo db check ({}).",
            source.display(),
            problems.join("; ")
        )));
    }
    let (users, tokens) = staged.store().write(|tx| {
        tx.delete_all_sessions()?;
        Ok((tx.count_rows(Table::Users)?, tx.count_rows(Table::Tokens)?))
    })?;
    Ok(Restorable {
        staged,
        users,
        tokens,
    })
}

/// Replaces the live database with the prepared backup in one step; every session ends.
pub fn restore(
    store: &mut Store,
    caller: &Caller,
    source: &Path,
    mut prepared: Restorable,
    now: i64,
) -> Result<Restored> {
    store.replace_with(&mut prepared.staged)?;
    let shown = source.display().to_string();
    store.write_if_free(|tx| {
        audit::record_ok(tx, now, &caller.user, Action::DbRestore, &shown, None)
    });
    Ok(Restored {
        path: shown,
        users: prepared.users,
        tokens: prepared.tokens,
    })
}
