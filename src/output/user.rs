//! Text for `user` commands (seed 003).

use super::stream::{Flow, JsonArray, Out, Table};
use super::{Format, Render, role_grants};
use crate::error::Result;
use crate::users::{Listed, RoleChange, UserCreated, UserDeleted, UserDetail, UserUpdated};

impl Render for UserCreated {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("User created: {}\n", self.0.id));
        if !self.0.roles.is_empty() {
            let names: Vec<&str> = self.0.roles.iter().map(|g| g.role_name.as_str()).collect();
            out.push_str(&format!("Roles assigned: {}\n", names.join(", ")));
        }
    }
}

impl Render for UserDetail {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("User ID: {}\n", self.id));
        out.push_str(&format!("Created At: {}\n", self.created_at.date()));
        out.push_str(&format!("Created By: {}\n", self.created_by));
        role_grants(out, &self.roles);
    }
}

/// `user list`: runs `list`, which tells the total and then hands over each user, and
/// renders them as they come.
pub fn user_list(
    format: Format,
    list: impl FnOnce(&mut dyn FnMut(Listed) -> Result<Flow>) -> Result<()>,
) -> Result<()> {
    let mut out = Out::new(format);
    match format {
        Format::Json => {
            // `{total_results, users}` as serde_json pretty-prints it, the array streamed.
            let mut array = JsonArray::new(1);
            let mut started = false;
            list(&mut |listed| match listed {
                Listed::Total(n) => {
                    started = true;
                    out.write(&format!("{{\n  \"total_results\": {n},\n  \"users\": "))
                }
                Listed::User(user) => array.push(&mut out, &user),
            })?;
            if started {
                array.finish(&mut out)?;
                out.put("\n}\n")?;
            }
        }
        Format::Text => {
            let mut table = Table::new(["User ID", "Created At", "Created By", "Roles"]);
            let (mut total, mut any) = (0, false);
            list(&mut |listed| match listed {
                Listed::Total(n) => {
                    total = n;
                    Ok(Flow::Continue(()))
                }
                Listed::User(u) => {
                    if !any {
                        any = true;
                        out.put(&format!("Total users: {total}\n\n"))?;
                    }
                    let row = [u.id, u.created_at.date(), u.created_by, u.roles.join(", ")];
                    table.push(&mut out, row)
                }
            })?;
            if any {
                table.finish(&mut out)?;
            } else {
                out.put("No users found\n")?;
            }
        }
    }
    out.finish()
}

impl Render for UserUpdated {
    fn text(&self, out: &mut String) {
        for change in &self.changes {
            let line = match change {
                RoleChange::Added(r) => format!("Added role: {r}"),
                RoleChange::AlreadyAssigned(r) => format!("Role {r} already assigned"),
                RoleChange::Removed(r) => format!("Removed role: {r}"),
                RoleChange::NotAssigned(r) => format!("Role {r} not assigned"),
            };
            out.push_str(&line);
            out.push('\n');
        }
    }
}

impl Render for UserDeleted {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("User deleted: {}\n", self.id));
    }
}
