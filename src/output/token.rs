//! Text for `token` and `apitoken` commands (seeds 000–002, 004).

use super::{Render, role_grants, table};
use crate::tokens::{Announce, TokenDeleted, TokenIssued, TokenList, TokenRoles};

impl Render for TokenIssued {
    fn text(&self, out: &mut String) {
        let token = self.token.reveal();
        match self.announce {
            Announce::Vast => out.push_str(&format!(
                "ApiToken with id: {} has been created, your token is: {token} please keep it safe\n",
                self.id
            )),
            Announce::Osmo {
                for_user,
                roles_given,
            } => {
                out.push_str("Note: Save the token in a secure location as it will not be shown again\n");
                out.push_str(&format!("Access token: {token}\n"));
                if for_user {
                    out.push_str(&format!("Created for user: {}\n", self.user_name));
                }
                if roles_given {
                    out.push_str(&format!("Roles: {}\n", self.roles.join(", ")));
                }
            }
        }
    }
}

impl Render for TokenDeleted {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("Access token {} deleted", self.token_name));
        if self.for_user {
            out.push_str(&format!(" for user {}", self.user_name));
        }
        out.push('\n');
    }
}

impl Render for TokenList {
    fn text(&self, out: &mut String) {
        if let Some(user) = &self.user {
            if self.tokens.is_empty() {
                out.push_str(&format!("No tokens found for user {user}\n"));
                return;
            }
            out.push_str(&format!("Tokens for user: {user}\n\n"));
        }
        if self.tokens.is_empty() {
            out.push_str("No tokens found\n");
            return;
        }
        let cells = |t: &crate::tokens::TokenInfo| {
            [
                t.token_name.clone(),
                t.description.clone(),
                if t.active { "Active" } else { "Expired" }.to_string(),
                t.expires_at.date(),
                t.roles.join(", "),
            ]
        };
        if self.all {
            let rows = self
                .tokens
                .iter()
                .map(|t| {
                    let [a, b, c, d, e] = cells(t);
                    [t.user_name.clone(), a, b, c, d, e]
                })
                .collect();
            let headers = [
                "User",
                "Name",
                "Description",
                "Active",
                "Expires At (UTC)",
                "Roles",
            ];
            table(out, headers, rows);
        } else {
            let rows = self.tokens.iter().map(cells).collect();
            let headers = ["Name", "Description", "Active", "Expires At (UTC)", "Roles"];
            table(out, headers, rows);
        }
    }
}

impl Render for TokenRoles {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Token: {}\nOwner: {}\n\n",
            self.token_name, self.user_name
        ));
        role_grants(out, &self.roles);
    }
}
