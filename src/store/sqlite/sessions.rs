//! Login sessions, each tied to the token it was opened with.

use rusqlite::OptionalExtension;

use super::LiteTx;
use crate::error::Result;
use crate::store::rows::SessionRow;
use crate::store::rows::SessionRows;

impl SessionRows for LiteTx<'_> {
    fn insert_session(
        &self,
        id: &str,
        token_row_id: i64,
        secret_hash: &str,
        url: Option<&str>,
        now: i64,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sessions (id, token_id, secret_hash, url, created_at, last_used_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
            )?
            .execute((id, token_row_id, secret_hash, url, now))?;
        Ok(())
    }

    /// A session with its token; `None` once either is gone.
    fn find_session(&self, id: &str) -> Result<Option<SessionRow>> {
        Ok(self
            .tx
            .prepare_cached(
                "SELECT s.secret_hash, s.last_used_at, s.url, t.id, t.public_id, t.name, t.user_id, t.expires_at
                 FROM sessions s JOIN tokens t ON t.id = s.token_id WHERE s.id = ?1",
            )?
            .query_row([id], |row| {
                Ok(SessionRow {
                    secret_hash: row.get(0)?,
                    last_used_at: row.get(1)?,
                    url: row.get(2)?,
                    token_row_id: row.get(3)?,
                    public_id: row.get(4)?,
                    token_name: row.get(5)?,
                    user_id: row.get(6)?,
                    expires_at: row.get(7)?,
                })
            })
            .optional()?)
    }

    fn touch_session(&self, id: &str, now: i64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE sessions SET last_used_at = ?2 WHERE id = ?1")?
            .execute((id, now))?;
        Ok(())
    }

    /// Ends a session; one already gone is fine.
    fn delete_session(&self, id: &str) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM sessions WHERE id = ?1")?
            .execute([id])?;
        Ok(())
    }
}
