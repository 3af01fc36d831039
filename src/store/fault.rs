//! How long a backend waits for the write lock, and the faults it reports, named so a
//! user can act on them (DESIGN §7).

use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Fault};

/// How long a write waits for the write lock before it gives up (DESIGN §7).
pub(in crate::store) const BUSY_TIMEOUT: Duration = Duration::from_secs(30);

/// How long bookkeeping (a token's last use, the audit of a failed check) waits for the
/// write lock before it is skipped: a verify must answer promptly whatever writers do.
pub(in crate::store) const BOOKKEEPING_WAIT: Duration = Duration::from_millis(500);

/// The rule a schema's trigger refused, from the message it raised (`osmo: ...`, the
/// same in both backends' schemas): a conflict (exit 5), not a database failure.
pub(in crate::store) fn rule_refused(message: &str) -> Option<Error> {
    match message {
        "osmo: last admin" => Some(Error::conflict(
            "Cannot remove the last user with the osmo-admin role: there must always be one.",
        )),
        "osmo: token roles are immutable" => Some(Error::conflict(
            "Token roles are immutable: delete the token and create a new one.",
        )),
        _ => None,
    }
}

pub(in crate::store) fn read_only_fault() -> Error {
    Error::Storage {
        fault: Fault::ReadOnly,
        detail: "attempt to write a readonly database".into(),
    }
}

/// Names the database in a fault a user can act on (DESIGN §7).
pub(in crate::store) fn located(path: &Path, err: Error) -> Error {
    let shown = path.display();
    let (fault, message) = match &err {
        Error::Storage { fault, .. } => (
            *fault,
            match fault {
                Fault::ReadOnly => format!("database {shown} is read-only"),
                Fault::Busy => format!(
                    "database {shown} is busy: another process has held its write lock for {} s",
                    BUSY_TIMEOUT.as_secs()
                ),
                Fault::Full => format!("cannot write database {shown}: the disk is full"),
                Fault::Damaged => format!(
                    "database {shown} is damaged: run osmo db check, and osmo db restore from a backup"
                ),
                Fault::Other => return err,
            },
        ),
        _ => return err,
    };
    Error::Unusable { fault, message }
}
