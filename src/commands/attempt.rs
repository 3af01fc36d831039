//! What a command tried to do, in audit terms, so that a refusal (exit 3) can be recorded
//! with outcome `denied` (DESIGN §2) in one place for every command.

use crate::audit;
use crate::cli::{ApitokenCommand, Command, ConfigCommand, RoleCommand, TokenCommand, UserCommand};
use crate::identity::Caller;
use crate::store::Store;

/// The audit action, and the user and name it was aimed at.
pub struct Attempt {
    action: &'static str,
    /// The user acted on; `None` with `own` means the caller itself.
    user: Option<String>,
    name: Option<String>,
    /// A token command without `--user` acts on the caller's own tokens.
    own: bool,
}

impl Attempt {
    pub fn of(command: &Command) -> Attempt {
        let on = |action, user: &Option<String>, name: Option<&String>, own| Attempt {
            action,
            user: user.clone(),
            name: name.cloned(),
            own,
        };
        let none = None;
        match command {
            Command::Token(cmd) => match cmd {
                TokenCommand::Set { name, user, .. } => on("token.create", user, Some(name), true),
                TokenCommand::Delete { name, user } => on("token.delete", user, Some(name), true),
                TokenCommand::List { user, .. } => on("token.list", user, None, false),
                TokenCommand::Roles { name, user } => on("token.roles", user, Some(name), true),
                TokenCommand::Rotate { name, user, .. } => {
                    on("token.rotate", user, Some(name), true)
                }
                TokenCommand::Verify { .. } => on("token.verify", &none, None, false),
            },
            Command::Apitoken(ApitokenCommand::Create { name, owner, .. }) => {
                on("token.create", owner, name.as_ref(), true)
            }
            Command::User(cmd) => match cmd {
                UserCommand::Create { id, .. } => on("user.create", &Some(id.clone()), None, false),
                UserCommand::List { .. } => on("user.list", &none, None, false),
                UserCommand::Get { id } => on("user.get", &Some(id.clone()), None, false),
                UserCommand::Update { id, .. } => on("user.update", &Some(id.clone()), None, false),
                UserCommand::Delete { id, .. } => on("user.delete", &Some(id.clone()), None, false),
            },
            Command::Role(cmd) => match cmd {
                RoleCommand::List => on("role.list", &none, None, false),
                RoleCommand::Create { name, .. } => on("role.create", &none, Some(name), false),
                RoleCommand::Delete { name, .. } => on("role.delete", &none, Some(name), false),
            },
            Command::Config(cmd) => match cmd {
                ConfigCommand::List => on("config.list", &none, None, false),
                ConfigCommand::Get { key } => on("config.get", &none, Some(key), false),
                ConfigCommand::Set { key, .. } => on("config.set", &none, Some(key), false),
            },
            Command::Audit(crate::cli::AuditCommand::List { user, .. }) => {
                on("audit.list", user, None, false)
            }
            Command::Profile(_) => on("profile.list", &none, None, false),
            Command::Init { .. } => on("init", &none, None, false),
            Command::Login { .. } => on("login", &none, None, false),
            Command::Logout => on("logout", &none, None, false),
            Command::Completion { .. } => on("completion", &none, None, false),
        }
    }

    /// Audits the refusal: actor the caller, target `USER/NAME` (or whichever is known),
    /// subject the user acted on, so `audit list -u USER` shows who tried.
    pub fn record_denial(&self, store: &mut Store, caller: &Caller) {
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
        audit::record_denial(store, &caller.user, self.action, &target, user);
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
