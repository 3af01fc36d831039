//! Reading a token from a file or a stream: whitespace trimmed, group/other-readable
//! files warned about as ssh does (DESIGN §4).

use std::fs;
use std::io::BufRead;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// A token read from somewhere, and a warning to print if the file was too open.
pub struct Read {
    pub token: String,
    pub warning: Option<String>,
}

pub fn read_file(path: &Path) -> Result<Read> {
    let shown = path.display();
    let meta = fs::metadata(path).map_err(|err| {
        Error::invalid(match err.kind() {
            std::io::ErrorKind::NotFound => format!("Token file {shown} does not exist."),
            _ => format!("Cannot read token file {shown}: {err}."),
        })
    })?;
    if meta.is_dir() {
        return Err(Error::invalid(format!(
            "Token file {shown} is a directory, not a file."
        )));
    }
    let text = fs::read_to_string(path)
        .map_err(|err| Error::invalid(format!("Cannot read token file {shown}: {err}.")))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(Error::invalid(format!("Token file {shown} is empty.")));
    }
    let warning = (meta.permissions().mode() & 0o077 != 0).then(|| {
        format!(
            "token file {shown} is readable by others (mode {:o}); run `chmod 600 {shown}`",
            meta.permissions().mode() & 0o777
        )
    });
    Ok(Read {
        token: token.to_string(),
        warning,
    })
}

/// One line from `input`, trimmed; an empty line is no token.
pub fn read_line(input: &mut dyn BufRead) -> Result<String> {
    let mut line = String::new();
    input.read_line(&mut line).map_err(|err| {
        Error::invalid(format!("Cannot read a token from standard input: {err}."))
    })?;
    let token = line.trim();
    if token.is_empty() {
        return Err(Error::invalid("No token given: standard input was empty."));
    }
    Ok(token.to_string())
}
