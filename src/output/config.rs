//! Text for `config` commands and `init`.

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::{Render, table};
use crate::settings::{Setting, SettingChanged, SettingList};
use crate::setup::Initialized;

impl Render for Initialized {
    fn text(&self, out: &mut String) {
        out.push_str(&format!(
            "Initialized {} with admin user {}\n",
            self.database, self.admin
        ));
    }
}

impl Render for Setting {
    fn text(&self, out: &mut String) {
        out.push_str(&self.value);
        out.push('\n');
    }
}

impl Render for SettingChanged {
    fn text(&self, out: &mut String) {
        out.push_str(&format!("{} set to {}\n", self.0.key, self.0.value));
    }
}

/// `config list` is a JSON object of key → value, in the documented order.
impl Serialize for SettingList {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for setting in &self.0 {
            map.serialize_entry(&setting.key, &setting.value)?;
        }
        map.end()
    }
}

impl Render for SettingList {
    fn text(&self, out: &mut String) {
        let rows = self
            .0
            .iter()
            .map(|s| [s.key.clone(), s.value.clone()])
            .collect();
        table(out, ["Key", "Value"], rows);
    }
}
