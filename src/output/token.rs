//! Text for `token` and `apitoken` commands (seeds 000–002, 004).

use super::{Render, role_grants, table};
use crate::tokens::scan::Report;
use crate::tokens::{
    AllDeleted, Announce, Pruned, TokenDeleted, TokenIssued, TokenList, TokenRoles,
};

impl Render for TokenIssued {
    fn text(&self, out: &mut String) {
        let token = self.token.reveal();
        match self.announce {
            Announce::Quiet => out.push_str(&format!("{token}\n")),
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
                t.last_used_at
                    .map_or_else(|| "never".to_string(), |at| at.minute()),
                t.roles.join(", "),
            ]
        };
        const HEADERS: [&str; 6] = [
            "Name",
            "Description",
            "Active",
            "Expires At (UTC)",
            "Last Used",
            "Roles",
        ];
        if self.all {
            let rows = self
                .tokens
                .iter()
                .map(|t| {
                    let [a, b, c, d, e, f] = cells(t);
                    [t.user_name.clone(), a, b, c, d, e, f]
                })
                .collect();
            let [a, b, c, d, e, f] = HEADERS;
            table(out, ["User", a, b, c, d, e, f], rows);
        } else {
            let rows = self.tokens.iter().map(cells).collect();
            table(out, HEADERS, rows);
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

impl Render for Pruned {
    fn text(&self, out: &mut String) {
        if self.dry_run {
            for t in &self.pruned {
                out.push_str(&format!(
                    "Would prune: {} of {}, expired {}\n",
                    t.token_name,
                    t.user_name,
                    t.expires_at.date()
                ));
            }
            out.push_str(&format!(
                "{} expired tokens would be pruned\n",
                self.pruned.len()
            ));
        } else {
            out.push_str(&format!("Pruned {} expired tokens\n", self.pruned.len()));
        }
    }
}

impl Render for AllDeleted {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Deleted {} access tokens for user {}\n",
            self.deleted.len(),
            self.user_name
        ));
    }
}

impl Render for Report {
    fn text(&self, out: &mut String) {
        for hit in &self.hits {
            let token = format!("osmo_{}_…", hit.id);
            match (&hit.token_name, &hit.user_name) {
                (Some(name), Some(user)) => out.push_str(&format!(
                    "{}:{}: {token} {name} of {user} ({})\n",
                    hit.path, hit.line, hit.status
                )),
                _ => out.push_str(&format!(
                    "{}:{}: {token} ({})\n",
                    hit.path, hit.line, hit.status
                )),
            }
        }
        let active = self.hits.iter().filter(|h| h.status == "active").count();
        out.push_str(&format!(
            "{} tokens found, {active} active\n",
            self.hits.len()
        ));
    }
}
