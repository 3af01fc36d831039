//! Text for `login`, `logout`, `profile list` and `token verify`.

use super::Render;
use crate::identity::Profile;
use crate::sessions::{LoginSummary, LogoutSummary};
use crate::tokens::{Invalid, Valid};
use crate::validate;

impl Render for LoginSummary {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Successfully logged in. Welcome {}.\n",
            self.user_name
        ));
    }
}

impl Render for LogoutSummary {
    fn text(&self, out: &mut String) {
        out.push_str(if self.logged_out {
            "Successfully logged out.\n"
        } else {
            "Not logged in: there is no session for this database.\n"
        });
    }
}

impl Render for Profile {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("user:\n  name: {}\n", self.user.name));
        out.push_str(&format!("login: {}\n", self.login));
        if let Some(url) = &self.url {
            // Stored by an older osmo, a URL may hold anything: keep it on its line.
            out.push_str(&format!("url: {}\n", validate::escape_hidden(url, false)));
        }
        if let Some(token) = &self.token {
            out.push_str(&format!(
                "token:\n  name: {}\n  expires_at: {}\n",
                token.name,
                token.expires_at.date()
            ));
        }
        out.push_str("roles:\n");
        for role in &self.roles {
            out.push_str(&format!("  - {role}\n"));
        }
    }
}

impl Render for Valid {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "valid: {} of {}, expires {}, roles {}\n",
            self.token_name,
            self.user_name,
            self.expires_at.date(),
            self.roles.join(", ")
        ));
    }
}

impl Render for Invalid {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("invalid token ({})\n", self.reason));
    }
}
