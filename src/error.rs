//! One error type for the whole crate, with one variant per exit-code class (DESIGN §6).

use std::io;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Invalid input (exit 2, HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// A command line the argument parser refused (exit 2, HTTP 400, code `usage`).
    #[error("{0}")]
    Usage(String),
    /// The caller may not do this (exit 3, HTTP 403).
    #[error("permission denied (403): {0}")]
    Forbidden(String),
    /// A user, token or role that does not exist (exit 4, HTTP 404).
    #[error("{0}")]
    NotFound(String),
    /// Already exists, a limit, the last admin, a built-in (exit 5, HTTP 409).
    #[error("{0}")]
    Conflict(String),
    /// No valid credential (exit 6, HTTP 401).
    #[error("{0}")]
    Unauthenticated(String),
    /// The database file cannot be used: not ours, too new, unreadable (exit 1).
    #[error("{0}")]
    Database(String),
    /// The database failed a statement (exit 1); the store maps its backend's errors
    /// to this, so nothing above it names a database library. The store names its file
    /// in the message of every fault it recognizes before the error leaves it.
    #[error("database error: {detail}")]
    Storage { fault: Fault, detail: String },
    /// A database fault a user can act on, with the file named (exit 1, DESIGN §7).
    #[error("{message}")]
    Unusable { fault: Fault, message: String },
    /// The machine is not as osmo needs it: a session folder that is a file (exit 1).
    #[error("{0}")]
    Environment(String),
    /// Something that should not fail did: the OS random source, serializing a result.
    #[error("{0}")]
    Internal(String),
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// The kinds of database failure a user can act on (DESIGN §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The file, its folder or its medium cannot be written.
    ReadOnly,
    /// Another process held the write lock for the whole busy timeout.
    Busy,
    /// The disk is full.
    Full,
    /// The file is corrupt.
    Damaged,
    Other,
}

/// How a command ended, when it ran to its answer: success, or a "no" that is the
/// answer itself (`token verify` of a bad token), with its exit code (DESIGN §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Success,
    /// The answer was "no"; the code says which (6: the token is not valid).
    No(u8),
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::No(code) => code,
        }
    }
}

impl Error {
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Invalid(_) | Error::Usage(_) => 2,
            Error::Forbidden(_) => 3,
            Error::NotFound(_) => 4,
            Error::Conflict(_) => 5,
            Error::Unauthenticated(_) => 6,
            Error::Database(_)
            | Error::Storage { .. }
            | Error::Unusable { .. }
            | Error::Environment(_)
            | Error::Internal(_)
            | Error::Io(_) => 1,
        }
    }

    /// The HTTP status an OSMO server would have answered with.
    pub fn status(&self) -> u16 {
        match self.exit_code() {
            2 => 400,
            3 => 403,
            4 => 404,
            5 => 409,
            6 => 401,
            _ => 500,
        }
    }

    /// A stable, machine-readable name for the error class.
    pub fn code(&self) -> &'static str {
        if let Error::Usage(_) = self {
            return "usage";
        }
        match self.exit_code() {
            2 => "invalid_input",
            3 => "permission_denied",
            4 => "not_found",
            5 => "conflict",
            6 => "unauthenticated",
            _ => "internal",
        }
    }

    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::Invalid(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        Error::NotFound(msg.into())
    }

    pub fn conflict(msg: impl Into<String>) -> Self {
        Error::Conflict(msg.into())
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        Error::Forbidden(msg.into())
    }
}
