//! Text for `audit list`.

use super::{Render, table};
use crate::audit::EventList;

impl Render for EventList {
    fn text(&self, out: &mut String) {
        if self.0.is_empty() {
            out.push_str("No events found\n");
            return;
        }
        let rows = self
            .0
            .iter()
            .map(|e| {
                [
                    e.at.rfc3339(),
                    e.actor.clone(),
                    e.action.clone(),
                    e.target.clone(),
                    e.outcome.clone(),
                ]
            })
            .collect();
        table(
            out,
            ["At (UTC)", "Actor", "Action", "Target", "Outcome"],
            rows,
        );
    }
}
