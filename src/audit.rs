//! The audit trail: who did what to whom, and whether it worked. Never a secret.

use rusqlite::Connection;

use crate::error::Result;
use crate::time;

/// Appends one event. `subject` is the user the target belongs to, if any.
pub fn record(
    conn: &Connection,
    actor: &str,
    action: &str,
    target: &str,
    subject: Option<&str>,
    outcome: &str,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit (at, actor, action, target, subject, outcome)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((time::now(), actor, action, target, subject, outcome))?;
    Ok(())
}

/// Records a refused attempt (exit 3, a failed session resume) with outcome `denied`.
/// Best effort: the caller's answer is the refusal, and a database that cannot take the
/// record (busy, read-only) must not turn it into another error.
pub fn record_denial(
    store: &mut crate::store::Store,
    actor: &str,
    action: &str,
    target: &str,
    subject: Option<&str>,
) {
    let _ = store.write(|tx| record(tx, actor, action, target, subject, "denied"));
}

/// One event of `audit list`.
#[derive(Debug, serde::Serialize)]
pub struct Event {
    pub at: crate::time::Timestamp,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub outcome: String,
}

#[derive(Debug, serde::Serialize)]
#[serde(transparent)]
pub struct EventList(pub Vec<Event>);

/// The newest `count` events, optionally only those where `user` is actor or subject.
pub fn list(
    store: &crate::store::Store,
    caller: &crate::identity::Caller,
    user: Option<&str>,
    count: u32,
) -> Result<EventList> {
    caller.authorize(crate::identity::Need::Admin("Reading the audit log"))?;
    if let Some(user) = user {
        crate::validate::user_id(user)?;
    }
    // Two statements, so the filtered one can use the actor and subject indexes.
    const COLUMNS: &str = "SELECT at, actor, action, target, outcome FROM audit";
    let mut stmt = store.conn().prepare_cached(&match user {
        Some(_) => format!("{COLUMNS} WHERE actor = ?1 OR subject = ?1 ORDER BY id DESC LIMIT ?2"),
        None => format!("{COLUMNS} WHERE ?1 IS NULL ORDER BY id DESC LIMIT ?2"),
    })?;
    let events = stmt.query_map((user, count), |row| {
        Ok(Event {
            at: crate::time::Timestamp(row.get(0)?),
            actor: row.get(1)?,
            action: row.get(2)?,
            target: row.get(3)?,
            outcome: row.get(4)?,
        })
    })?;
    Ok(EventList(events.collect::<rusqlite::Result<_>>()?))
}
