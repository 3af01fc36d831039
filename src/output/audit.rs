//! Text and JSON for `audit list`, written as the events are read.

use super::Format;
use super::stream::{Flow, Out, Table, json_list};
use crate::audit::Event;
use crate::error::Result;

/// Runs `list`, handing it where each event goes, and renders them as they come.
pub fn events(
    format: Format,
    list: impl FnOnce(&mut dyn FnMut(Event) -> Result<Flow>) -> Result<()>,
) -> Result<()> {
    let mut out = Out::new(format);
    match format {
        Format::Json => json_list(&mut out, list)?,
        Format::Text => {
            let mut table = Table::new(["At (UTC)", "Actor", "Action", "Target", "Outcome"]);
            let mut any = false;
            list(&mut |e| {
                any = true;
                table.push(
                    &mut out,
                    [e.at.rfc3339(), e.actor, e.action, e.target, e.outcome],
                )
            })?;
            if any {
                table.finish(&mut out)?;
            } else {
                out.put("No events found\n")?;
            }
        }
    }
    out.finish()
}
