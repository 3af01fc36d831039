//! What a command tried to do, in audit terms, so that a refusal (exit 3) can be recorded
//! with outcome `denied` (DESIGN §2) in one place for every command.

use crate::access::Caller;
use crate::audit::{self, Action};
use crate::cli::{
    ApitokenCommand, Command, ConfigCommand, DbCommand, RoleCommand, TokenCommand, UserCommand,
};
use crate::store::Store;

/// The audit action, and the user and name it was aimed at.
pub struct Attempt {
    action: Action,
    /// The user acted on; `None` with `own` means the caller itself.
    user: Option<String>,
    name: Option<String>,
    /// A token command without `--user` acts on the caller's own tokens.
    own: bool,
}

impl Attempt {
    /// What `command` attempts, for the commands a caller's permissions can refuse.
    pub fn of(command: &Command) -> Option<Attempt> {
        let on = |action, user: &Option<String>, name: Option<&String>, own| {
            Some(Attempt {
                action,
                user: user.clone(),
                name: name.cloned(),
                own,
            })
        };
        let none = None;
        match command {
            Command::Token(cmd) => match cmd {
                TokenCommand::Set { name, user, .. } => {
                    on(Action::TokenCreate, user, Some(name), true)
                }
                TokenCommand::Delete { name, user, .. } => {
                    on(Action::TokenDelete, user, name.as_ref(), true)
                }
                TokenCommand::List { user, .. } => on(Action::TokenList, user, None, false),
                TokenCommand::Roles { name, user } => {
                    on(Action::TokenRoles, user, Some(name), true)
                }
                TokenCommand::Rotate { name, user, .. } => {
                    on(Action::TokenRotate, user, Some(name), true)
                }
                TokenCommand::Prune { user, .. } => on(Action::TokenPrune, user, None, true),
                TokenCommand::Scan { .. } => on(Action::TokenScan, &none, None, false),
                // Checks the token it is given, as anyone may: nothing to refuse.
                TokenCommand::Verify { .. } => None,
            },
            Command::Apitoken(ApitokenCommand::Create { name, owner, .. }) => {
                on(Action::TokenCreate, owner, name.as_ref(), true)
            }
            Command::User(cmd) => match cmd {
                UserCommand::Create { id, .. } => {
                    on(Action::UserCreate, &Some(id.clone()), None, false)
                }
                UserCommand::List { .. } => on(Action::UserList, &none, None, false),
                UserCommand::Get { id } => on(Action::UserGet, &Some(id.clone()), None, false),
                UserCommand::Update { id, .. } => {
                    on(Action::UserUpdate, &Some(id.clone()), None, false)
                }
                UserCommand::Delete { id, .. } => {
                    on(Action::UserDelete, &Some(id.clone()), None, false)
                }
            },
            Command::Role(cmd) => match cmd {
                RoleCommand::List => on(Action::RoleList, &none, None, false),
                RoleCommand::Create { name, .. } => {
                    on(Action::RoleCreate, &none, Some(name), false)
                }
                RoleCommand::Delete { name, .. } => {
                    on(Action::RoleDelete, &none, Some(name), false)
                }
            },
            Command::Config(cmd) => match cmd {
                ConfigCommand::List => on(Action::ConfigList, &none, None, false),
                ConfigCommand::Get { key } => on(Action::ConfigGet, &none, Some(key), false),
                ConfigCommand::Set { key, .. } => on(Action::ConfigSet, &none, Some(key), false),
            },
            Command::Audit(crate::cli::AuditCommand::List { user, .. }) => {
                on(Action::AuditList, user, None, false)
            }
            Command::Profile(_) => on(Action::ProfileList, &none, None, false),
            Command::Db(cmd) => match cmd {
                DbCommand::Info => on(Action::DbInfo, &none, None, false),
                DbCommand::Check => on(Action::DbCheck, &none, None, false),
                DbCommand::Backup { .. } => on(Action::DbBackup, &none, None, false),
                DbCommand::Restore { .. } => on(Action::DbRestore, &none, None, false),
                DbCommand::Copy { .. } => on(Action::DbCopy, &none, None, false),
            },
            Command::Init { .. }
            | Command::Login { .. }
            | Command::Logout
            | Command::Completion { .. }
            | Command::Man => None,
        }
    }

    /// Audits the refusal: actor the caller, target `USER/NAME` (or whichever is known),
    /// subject the user acted on, so `audit list -u USER` shows who tried.
    pub fn record_denial(&self, store: &mut Store, caller: &Caller, now: i64) {
        let user = self
            .user
            .as_deref()
            .or(self.own.then_some(caller.user.as_str()));
        let target = match (user.map(shown), self.name.as_deref().map(shown)) {
            (Some(user), Some(name)) => format!("{user}/{name}"),
            (Some(user), None) => user,
            (None, Some(name)) => name,
            (None, None) => "-".to_string(),
        };
        audit::record_denial(store, now, &caller.user, self.action, &target, user);
    }
}

/// A name as typed, which a refusal records before anything checked its shape: kept as it
/// is when it looks like a name, else quoted and shortened.
fn shown(text: &str) -> String {
    let plain = text.len() <= 128
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.@+:-".contains(c));
    if plain {
        text.to_string()
    } else {
        crate::validate::quoted(text)
    }
}
