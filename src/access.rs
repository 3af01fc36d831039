//! Who is calling, and the one place that decides what they may do (DESIGN §2).

use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The built-in role that may do anything.
pub const ADMIN: &str = "osmo-admin";
/// The built-in role of ordinary users.
pub const USER: &str = "osmo-user";
/// The user id the first admin gets when nobody says otherwise.
pub const DEFAULT_ADMIN: &str = "admin";

/// How the caller proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Login {
    /// Whoever can write the database file: always an admin.
    Operator,
    /// `$OSMO_TOKEN` or `$OSMO_TOKEN_FILE`.
    Token,
    /// A session opened by `osmo login`.
    Session,
}

/// The identity a command runs as.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user the caller acts as (the `operator-user` for the operator).
    pub user: String,
    /// Effective roles: what the caller may use, sorted.
    pub roles: Vec<String>,
    pub login: Login,
    /// The token the caller authenticated with, if any.
    pub token: Option<CallerToken>,
    /// The URL given to `osmo login`, for `profile list`.
    pub url: Option<String>,
}

/// The token behind a token caller; its roles bound what the caller may mint.
#[derive(Debug, Clone)]
pub struct CallerToken {
    pub row_id: i64,
    pub name: String,
    pub expires_at: Timestamp,
    pub roles: Vec<String>,
}

/// What a command needs from its caller.
#[derive(Debug, Clone, Copy)]
pub enum Need<'a> {
    /// Anyone who could be identified.
    Anyone,
    /// The osmo-admin role; the text says what for ("Creating users").
    Admin(&'a str),
    /// To act on `user`'s own things: that user, or an admin.
    SelfOrAdmin { user: &'a str, what: &'a str },
}

impl Caller {
    pub fn is_admin(&self) -> bool {
        self.login == Login::Operator || self.roles.iter().any(|r| r == ADMIN)
    }

    /// The single permission check every command goes through.
    pub fn authorize(&self, need: Need<'_>) -> Result<()> {
        let refused = |what: &str| {
            Err(Error::forbidden(format!(
                "{what} requires the {ADMIN} role."
            )))
        };
        match need {
            Need::Anyone => Ok(()),
            _ if self.is_admin() => Ok(()),
            Need::Admin(what) => refused(what),
            Need::SelfOrAdmin { user, .. } if user == self.user => Ok(()),
            Need::SelfOrAdmin { what, .. } => refused(what),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(user: &str, roles: &[&str], login: Login) -> Caller {
        Caller {
            user: user.to_string(),
            roles: roles.iter().map(|r| r.to_string()).collect(),
            login,
            token: None,
            url: None,
        }
    }

    #[test]
    fn authorize_lets_admins_do_anything_and_others_only_their_own() {
        let operator = caller("admin", &[USER], Login::Operator);
        let admin = caller("root", &[ADMIN, USER], Login::Token);
        let alice = caller("alice", &[USER], Login::Session);
        let own = Need::SelfOrAdmin {
            user: "alice",
            what: "x",
        };
        for (who, anyone, admin_only, alices) in [
            (&operator, true, true, true),
            (&admin, true, true, true),
            (&alice, true, false, true),
            (&caller("bob", &[USER], Login::Token), true, false, false),
        ] {
            assert_eq!(who.authorize(Need::Anyone).is_ok(), anyone, "{}", who.user);
            assert_eq!(
                who.authorize(Need::Admin("x")).is_ok(),
                admin_only,
                "{}",
                who.user
            );
            assert_eq!(who.authorize(own).is_ok(), alices, "{}", who.user);
        }
        let refused = alice.authorize(Need::Admin("Creating users")).unwrap_err();
        assert_eq!(refused.exit_code(), 3);
        assert_eq!(
            refused.to_string(),
            "permission denied (403): Creating users requires the osmo-admin role."
        );
    }
}
