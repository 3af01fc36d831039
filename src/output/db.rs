//! Text for `db` commands.

use super::Render;
use crate::db::{BackedUp, Checked, CopiedTo, Info, Restored};

impl Render for Info {
    fn text(&self, out: &mut String) {
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        for (key, value) in [
            ("path", self.path.clone()),
            ("schema_version", self.schema_version.to_string()),
            ("journal_mode", shown(&self.journal_mode)),
            ("size_bytes", self.size_bytes.to_string()),
            ("wal_bytes", shown(&self.wal_bytes.map(|b| b.to_string()))),
            ("users", self.users.to_string()),
            ("roles", self.roles.to_string()),
            ("tokens_active", self.tokens_active.to_string()),
            ("tokens_expired", self.tokens_expired.to_string()),
            ("sessions", self.sessions.to_string()),
            ("audit_events", self.audit_events.to_string()),
        ] {
            out.push_str(&format!("{key}: {value}\n"));
        }
    }
}

impl Render for Checked {
    fn text(&self, out: &mut String) {
        if self.ok {
            out.push_str("ok\n");
        }
        for problem in &self.problems {
            out.push_str(problem);
            out.push('\n');
        }
    }
}

impl Render for BackedUp {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Backup written: {} ({} users, {} tokens)\n",
            self.path, self.users, self.tokens
        ));
    }
}

impl Render for Restored {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Restored from {} ({} users, {} tokens)\n",
            self.path, self.users, self.tokens
        ));
    }
}

impl Render for CopiedTo {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Copied {} to {} ({} users, {} tokens)\n",
            self.from, self.to, self.users, self.tokens
        ));
    }
}
