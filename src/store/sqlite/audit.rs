//! The audit trail.

use super::LiteTx;
use crate::error::Result;
use crate::store::rows::{AuditRows, Flow};
use crate::store::rows::{Event, NewEvent};
use crate::time::Timestamp;

impl AuditRows for LiteTx<'_> {
    fn append_audit(&self, event: &NewEvent<'_>) -> Result<()> {
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

    /// The newest `count` events, or only those where `user` is actor or subject, one at a
    /// time. For a user, the newest `count` by actor and the newest `count` by subject,
    /// each read backwards along its own index, are merged: a few pages, not every event
    /// of an actor as busy as the operator (plan: `audit_by_actor` and `audit_by_subject`,
    /// then a merge of at most 2 × `count` rows).
    fn each_audit_event(
        &self,
        user: Option<&str>,
        count: u32,
        each: &mut dyn FnMut(Event) -> Result<Flow>,
    ) -> Result<()> {
        let mut stmt = self.tx.prepare_cached(match user {
            Some(_) => EVENTS_OF_USER,
            None => EVERY_EVENT,
        })?;
        let mut rows = stmt.query((user, count))?;
        while let Some(row) = rows.next()? {
            let event = Event {
                at: Timestamp(row.get(0)?),
                actor: row.get(1)?,
                action: row.get(2)?,
                target: row.get(3)?,
                outcome: row.get(4)?,
            };
            if each(event)?.is_break() {
                break;
            }
        }
        Ok(())
    }
}

/// The newest events where a user is the actor or the subject: each index read backwards
/// for at most ?2 rows, then the two merged.
pub(super) const EVENTS_OF_USER: &str = "SELECT at, actor, action, target, outcome FROM (
        SELECT * FROM (SELECT id, at, actor, action, target, outcome FROM audit
                       WHERE actor = ?1 ORDER BY id DESC LIMIT ?2)
        UNION
        SELECT * FROM (SELECT id, at, actor, action, target, outcome FROM audit
                       WHERE subject = ?1 ORDER BY id DESC LIMIT ?2))
     ORDER BY id DESC LIMIT ?2";

pub(super) const EVERY_EVENT: &str = "SELECT at, actor, action, target, outcome FROM audit
     WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2";
