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
