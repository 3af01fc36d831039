//! The audit trail: who did what to whom, and whether it worked. Never a secret.

use crate::access::{Caller, Need};
use crate::error::Result;
pub use crate::store::Event;
use crate::store::{Flow, NewEvent, Store, Tx};

/// What an audit event records being done (or tried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Init,
    Login,
    /// A command authenticated by `$OSMO_TOKEN`/`$OSMO_TOKEN_FILE`.
    Authenticate,
    SessionResume,
    TokenCreate,
    TokenDelete,
    TokenList,
    TokenRoles,
    TokenRotate,
    TokenVerify,
    TokenPrune,
    TokenScan,
    UserCreate,
    UserList,
    UserGet,
    UserUpdate,
    UserRoleAdd,
    UserRoleRemove,
    UserDelete,
    RoleList,
    RoleCreate,
    RoleDelete,
    ConfigList,
    ConfigGet,
    ConfigSet,
    AuditList,
    ProfileList,
    DbInfo,
    DbCheck,
    DbBackup,
    DbRestore,
    DbCopy,
}

impl Action {
    /// The name stored in the log and shown by `audit list`.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Init => "init",
            Action::Login => "login",
            Action::Authenticate => "authenticate",
            Action::SessionResume => "session.resume",
            Action::TokenCreate => "token.create",
            Action::TokenDelete => "token.delete",
            Action::TokenList => "token.list",
            Action::TokenRoles => "token.roles",
            Action::TokenRotate => "token.rotate",
            Action::TokenVerify => "token.verify",
            Action::TokenPrune => "token.prune",
            Action::TokenScan => "token.scan",
            Action::UserCreate => "user.create",
            Action::UserList => "user.list",
            Action::UserGet => "user.get",
            Action::UserUpdate => "user.update",
            Action::UserRoleAdd => "user.role.add",
            Action::UserRoleRemove => "user.role.remove",
            Action::UserDelete => "user.delete",
            Action::RoleList => "role.list",
            Action::RoleCreate => "role.create",
            Action::RoleDelete => "role.delete",
            Action::ConfigList => "config.list",
            Action::ConfigGet => "config.get",
            Action::ConfigSet => "config.set",
            Action::AuditList => "audit.list",
            Action::ProfileList => "profile.list",
            Action::DbInfo => "db.info",
            Action::DbCheck => "db.check",
            Action::DbBackup => "db.backup",
            Action::DbRestore => "db.restore",
            Action::DbCopy => "db.copy",
        }
    }
}

/// One event to record: at `at`, `actor` did `action` to `target` (which belongs to
/// `subject`, if a user), with `outcome`.
pub struct Record<'a> {
    pub at: i64,
    pub actor: &'a str,
    pub action: Action,
    pub target: &'a str,
    pub subject: Option<&'a str>,
    pub outcome: &'a str,
}

impl Record<'_> {
    /// Appends the event inside the caller's transaction.
    pub fn append(&self, tx: &Tx<'_>) -> Result<()> {
        tx.append_audit(&NewEvent {
            at: self.at,
            actor: self.actor,
            action: self.action.as_str(),
            target: self.target,
            subject: self.subject,
            outcome: self.outcome,
        })
    }
}

/// Appends one successful change by `actor`.
pub fn record_ok(
    tx: &Tx<'_>,
    now: i64,
    actor: &str,
    action: Action,
    target: &str,
    subject: Option<&str>,
) -> Result<()> {
    Record {
        at: now,
        actor,
        action,
        target,
        subject,
        outcome: "ok",
    }
    .append(tx)
}

/// Records a refused attempt (exit 3, a failed session resume) with outcome `denied`.
/// Bookkeeping: the caller's answer is the refusal, and a database that cannot take the
/// record promptly (busy, read-only) must not delay it or turn it into another error.
pub fn record_denial(
    store: &mut Store,
    now: i64,
    actor: &str,
    action: Action,
    target: &str,
    subject: Option<&str>,
) {
    let record = Record {
        at: now,
        actor,
        action,
        target,
        subject,
        outcome: "denied",
    };
    store.write_if_free(|tx| record.append(tx));
}

/// The newest `count` events, optionally only those where `user` is actor or subject,
/// handed to `each` as they are read.
pub fn list(
    store: &mut Store,
    caller: &Caller,
    user: Option<&str>,
    count: u32,
    each: &mut dyn FnMut(Event) -> Result<Flow>,
) -> Result<()> {
    caller.authorize(Need::Admin("Reading the audit log"))?;
    if let Some(user) = user {
        crate::validate::user_id(user)?;
    }
    store.read(|tx| tx.each_audit_event(user, count, each))
}
