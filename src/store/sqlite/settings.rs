//! Stored settings: key and text value.

use rusqlite::OptionalExtension;

use super::LiteTx;
use crate::error::Result;
use crate::store::rows::SettingRows;

impl SettingRows for LiteTx<'_> {
    /// A stored value, if any.
    fn setting(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .tx
            .prepare_cached("SELECT value FROM settings WHERE key = ?1")?
            .query_row([key], |row| row.get(0))
            .optional()?)
    }

    /// Every stored key and value.
    fn settings(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.tx.prepare_cached("SELECT key, value FROM settings")?;
        let rows = stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn put_setting(&self, key: &str, value: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )?
            .execute((key, value))?;
        Ok(())
    }
}
