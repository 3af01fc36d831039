//! Text for `token` and `apitoken` commands (seeds 000–002, 004).

use super::stream::{Flow, Out, Table, json_list};
use super::{Format, Render, role_grants};
use crate::error::Result;
use crate::tokens::scan::Report;
use crate::tokens::{
    AllDeleted, Announce, Pruned, TokenDeleted, TokenInfo, TokenIssued, TokenRoles,
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

/// `token list`: runs `list`, handing it where each token goes, and renders them as they
/// come. `user` is the `--user` given (the text heading), `all` adds a User column.
pub fn token_list(
    format: Format,
    user: Option<&str>,
    all: bool,
    list: impl FnOnce(&mut dyn FnMut(TokenInfo) -> Result<Flow>) -> Result<()>,
) -> Result<()> {
    let mut out = Out::new(format);
    match format {
        Format::Json => json_list(&mut out, list)?,
        Format::Text if all => {
            let [a, b, c, d, e, f] = HEADERS;
            let table = Table::new(["User", a, b, c, d, e, f]);
            token_table(&mut out, user, table, list, |t| {
                let [a, b, c, d, e, f] = cells(&t);
                [t.user_name, a, b, c, d, e, f]
            })?;
        }
        Format::Text => token_table(&mut out, user, Table::new(HEADERS), list, |t| cells(&t))?,
    }
    out.finish()
}

const HEADERS: [&str; 6] = [
    "Name",
    "Description",
    "Active",
    "Expires At (UTC)",
    "Last Used",
    "Roles",
];

fn cells(t: &TokenInfo) -> [String; 6] {
    [
        t.token_name.clone(),
        t.description.clone(),
        if t.active { "Active" } else { "Expired" }.to_string(),
        t.expires_at.date(),
        t.last_used_at
            .map_or_else(|| "never".to_string(), |at| at.minute()),
        t.roles.join(", "),
    ]
}

/// The text listing: a heading for `--user`, then the table, or the words for none.
fn token_table<const N: usize>(
    out: &mut Out,
    user: Option<&str>,
    mut table: Table<N>,
    list: impl FnOnce(&mut dyn FnMut(TokenInfo) -> Result<Flow>) -> Result<()>,
    row: impl Fn(TokenInfo) -> [String; N],
) -> Result<()> {
    let mut any = false;
    list(&mut |token| {
        if !any {
            any = true;
            if let Some(user) = user {
                out.put(&format!("Tokens for user: {user}\n\n"))?;
            }
        }
        table.push(out, row(token))
    })?;
    match (any, user) {
        (true, _) => table.finish(out)?,
        (false, Some(user)) => out.put(&format!("No tokens found for user {user}\n"))?,
        (false, None) => out.put("No tokens found\n")?,
    }
    Ok(())
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
