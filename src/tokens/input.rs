//! Reading a token from a file or a stream: at most 64 KiB, whitespace trimmed,
//! group/other-readable files warned about as ssh does (DESIGN §4).

use std::fs::{self, File};
use std::io::{self, BufRead, Read as _};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::error::{Error, Result};

/// The most a token file or stdin may hold. A token is 56 characters; a limit keeps
/// `OSMO_TOKEN_FILE=/dev/zero` or a huge file from reading until memory runs out.
pub const MAX_INPUT: u64 = 64 * 1024;

/// A token read from somewhere, and a warning to print if the file was too open.
pub struct Read {
    pub token: String,
    pub warning: Option<String>,
}

fn too_large() -> Error {
    Error::invalid("token input is larger than 64 KiB: a token is 56 characters.")
}

/// Reads a token file. A pipe or FIFO (`--token-file <(pass show ci)`) works like a file.
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
    let file = File::open(path)
        .map_err(|err| Error::invalid(format!("Cannot read token file {shown}: {err}.")))?;
    let token = read_capped(
        &mut std::io::BufReader::new(file),
        &format!("token file {shown}"),
    )?;
    if token.is_empty() {
        return Err(Error::invalid(format!("Token file {shown} is empty.")));
    }
    // Only a regular file has modes worth warning about; a pipe's are its own.
    let mode = meta.permissions().mode();
    let warning = (meta.is_file() && mode & 0o077 != 0).then(|| {
        format!(
            "token file {shown} is readable by others (mode {:o}); run `chmod 600 {shown}`",
            mode & 0o777
        )
    });
    Ok(Read { token, warning })
}

/// The whole of `input` (at most 64 KiB), trimmed; `what` names it in errors.
pub fn read_stream(input: &mut dyn io::Read, what: &str) -> Result<String> {
    let token = read_capped(input, what)?;
    if token.is_empty() {
        return Err(Error::invalid(format!("No token given: {what} is empty.")));
    }
    Ok(token)
}

fn read_capped(input: &mut dyn io::Read, what: &str) -> Result<String> {
    let mut bytes = Vec::new();
    input
        .take(MAX_INPUT + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| Error::invalid(format!("Cannot read {what}: {err}.")))?;
    if bytes.len() as u64 > MAX_INPUT {
        return Err(too_large());
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::invalid(format!("Cannot read {what}: it is not UTF-8 text.")))?;
    Ok(text.trim().to_string())
}

/// One line from `input` (at most 64 KiB), trimmed; an empty line is no token.
pub fn read_line(input: &mut dyn BufRead) -> Result<String> {
    let mut line = Vec::new();
    input
        .take(MAX_INPUT + 1)
        .read_until(b'\n', &mut line)
        .map_err(|err| {
            Error::invalid(format!("Cannot read a token from standard input: {err}."))
        })?;
    if line.len() as u64 > MAX_INPUT {
        return Err(too_large());
    }
    let line = String::from_utf8(line).map_err(|_| {
        Error::invalid("Cannot read a token from standard input: it is not UTF-8 text.")
    })?;
    let token = line.trim();
    if token.is_empty() {
        return Err(Error::invalid("No token given: standard input was empty."));
    }
    Ok(token.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_is_capped_at_64_kib() {
        let token = "osmo_x";
        let padded = format!("{token}{}", " ".repeat(MAX_INPUT as usize - token.len()));
        assert_eq!(read_stream(&mut padded.as_bytes(), "x").unwrap(), token);
        let over = format!("{padded} ");
        assert!(read_stream(&mut over.as_bytes(), "x").is_err());
        assert!(read_line(&mut io::BufReader::new(io::repeat(b'a').take(1 << 20))).is_err());
        assert_eq!(read_line(&mut &b"  t \nrest"[..]).unwrap(), "t");
    }
}
