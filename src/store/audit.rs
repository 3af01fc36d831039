//! The audit trail.

use super::Tx;
use super::tx::{Event, NewEvent};
use crate::error::Result;
use crate::time::Timestamp;

impl Tx<'_> {
    pub fn append_audit(&self, event: &NewEvent<'_>) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO audit (at, actor, action, target, subject, outcome)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute((
                event.at,
                event.actor,
                event.action,
                event.target,
                event.subject,
                event.outcome,
            ))?;
        Ok(())
    }

    /// The newest `count` events, or only those where `user` is actor or subject.
    pub fn audit_events(&self, user: Option<&str>, count: u32) -> Result<Vec<Event>> {
        // Two statements, so the filtered one can use the actor and subject indexes.
        const COLUMNS: &str = "SELECT at, actor, action, target, outcome FROM audit";
        let mut stmt = self.tx.prepare_cached(&match user {
            Some(_) => {
                format!("{COLUMNS} WHERE actor = ?1 OR subject = ?1 ORDER BY id DESC LIMIT ?2")
            }
            None => format!("{COLUMNS} WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2"),
        })?;
        let events = stmt.query_map((user, count), |row| {
            Ok(Event {
                at: Timestamp(row.get(0)?),
                actor: row.get(1)?,
                action: row.get(2)?,
                target: row.get(3)?,
                outcome: row.get(4)?,
            })
        })?;
        Ok(events.collect::<rusqlite::Result<_>>()?)
    }
}
