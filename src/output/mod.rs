//! Rendering results as OSMO-style text or JSON, and errors and warnings on stderr (DESIGN §6).

pub mod audit;
mod config;
mod db;
mod role;
mod session;
pub mod stream;
pub mod token;
pub mod user;

use std::io::{self, Write};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::validate;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    #[default]
    Text,
    Json,
}

/// The text form of a command's result; the JSON form is its `Serialize`.
pub trait Render: Serialize {
    fn text(&self, out: &mut String);
}

/// Prints a result on stdout. A closed pipe (`osmo ... | head -1`) is not an error.
pub fn emit<T: Render>(format: Format, value: &T) -> Result<()> {
    let mut doc = match format {
        // Whatever came from outside (a login URL, an old stored description, a path)
        // reaches the terminal escaped, never as raw control or bidi characters.
        Format::Text => {
            let mut out = String::new();
            value.text(&mut out);
            validate::escape_hidden_owned(out, true)
        }
        Format::Json => serde_json::to_string_pretty(value)
            .map_err(|err| Error::Internal(format!("cannot write JSON: {err}")))?,
    };
    if !doc.ends_with('\n') {
        doc.push('\n');
    }
    bytes(doc.as_bytes())
}

/// Writes `bytes` to stdout as they are (a completion script, the manual page). A
/// closed pipe (`osmo completion bash | head -1`) is not an error.
pub fn bytes(bytes: &[u8]) -> Result<()> {
    let mut stdout = io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Err(err) if err.kind() != io::ErrorKind::BrokenPipe => Err(err.into()),
        _ => Ok(()),
    }
}

/// Prints an error on stderr: `error: ...`, or a JSON object under `-t json`.
pub fn error(format: Format, err: &Error) {
    let text = match format {
        Format::Text => format!(
            "error: {}\n",
            validate::escape_hidden(&err.to_string(), false)
        ),
        Format::Json => {
            #[derive(Serialize)]
            struct Body<'a> {
                code: &'a str,
                status: u16,
                message: String,
            }
            #[derive(Serialize)]
            struct Doc<'a> {
                error: Body<'a>,
            }
            let doc = Doc {
                error: Body {
                    code: err.code(),
                    status: err.status(),
                    message: err.to_string(),
                },
            };
            serde_json::to_string_pretty(&doc).unwrap_or_default() + "\n"
        }
    };
    let _ = io::stderr().write_all(text.as_bytes());
}

/// `note: ...` on stderr: something the user should notice that is not a problem.
pub fn note(message: &str) {
    notice("note", message);
}

pub fn warn(message: &str) {
    notice("warning", message);
}

/// One `KIND: message` line on stderr, hidden characters escaped.
fn notice(kind: &str, message: &str) {
    let _ = writeln!(
        io::stderr(),
        "{kind}: {}",
        validate::escape_hidden(message, false)
    );
}

/// An OSMO-style table: left-aligned header, a rule of `=` under it, no vertical borders.
pub fn table<const N: usize>(out: &mut String, headers: [&'static str; N], rows: Vec<[String; N]>) {
    out.push_str(&stream::Table::render(headers, rows));
}

/// `Roles: None` or `Roles:` and one `  - ROLE (assigned by WHO on DATE)` line each.
fn role_grants(out: &mut String, grants: &[crate::store::RoleGrant]) {
    if grants.is_empty() {
        out.push_str("Roles: None\n");
        return;
    }
    out.push_str("Roles:\n");
    for g in grants {
        out.push_str(&format!(
            "  - {} (assigned by {} on {})\n",
            g.role_name,
            g.assigned_by,
            g.assigned_at.date()
        ));
    }
}
