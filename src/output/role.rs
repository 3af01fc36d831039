//! Text for `role` commands.

use super::{Render, table};
use crate::roles::{RoleCreated, RoleDeleted, RoleList};

impl Render for RoleList {
    fn text(&self, out: &mut String) {
        let rows = self
            .0
            .iter()
            .map(|r| {
                let built_in = if r.built_in { "yes" } else { "no" };
                [r.name.clone(), r.description.clone(), built_in.to_string()]
            })
            .collect();
        table(out, ["Name", "Description", "Built-in"], rows);
    }
}

impl Render for RoleCreated {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("Role created: {}\n", self.0.name));
    }
}

impl Render for RoleDeleted {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("Role deleted: {}\n", self.name));
    }
}
