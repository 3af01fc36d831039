//! Text for `user` commands (seed 003).

use super::{Render, role_grants, table};
use crate::users::{RoleChange, UserCreated, UserDeleted, UserDetail, UserList, UserUpdated};

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

impl Render for UserList {
    fn text(&self, out: &mut String) {
        if self.users.is_empty() {
            out.push_str("No users found\n");
            return;
        }
        out.push_str(&format!("Total users: {}\n\n", self.total_results));
        let rows = self
            .users
            .iter()
            .map(|u| {
                [
                    u.id.clone(),
                    u.created_at.date(),
                    u.created_by.clone(),
                    u.roles.join(", "),
                ]
            })
            .collect();
        table(out, ["User ID", "Created At", "Created By", "Roles"], rows);
    }
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
