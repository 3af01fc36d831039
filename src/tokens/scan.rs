//! `token scan`: finding osmo tokens leaked into files, offline, as GitHub's secret
//! scanning does for hosted repositories (DESIGN §5). The search is a SIMD substring
//! search for `osmo_` over fixed-size chunks, so it keeps up with grep and its memory
//! does not grow with the files.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use memchr::memmem;
use serde::Serialize;

use super::format::{PREFIX, TOKEN_LEN, Token};
use crate::access::Caller;
use crate::audit::Action;
use crate::error::{Error, Result};
use crate::store::{Store, StoredToken};

/// Files larger than this are skipped, as are binary files (a NUL in the first 8 KiB).
pub const MAX_FILE: u64 = 64 << 20;
const BINARY_PROBE: usize = 8 << 10;
const CHUNK: usize = 1 << 20;

/// A token-shaped string with a valid checksum, and where it was.
pub struct Hit {
    pub path: String,
    pub line: usize,
    token: Token,
}

/// What the search saw: the hits, and what it could not read.
#[derive(Default)]
pub struct Found {
    pub hits: Vec<Hit>,
    pub warnings: Vec<String>,
    /// One read buffer for every file: a fresh megabyte per file would cost more than
    /// the search itself.
    buf: Vec<u8>,
}

/// Where to look: a file or folder as given, or standard input (`-`, or nothing).
pub fn find(paths: &[PathBuf], stdin: &mut dyn Read) -> Result<Found> {
    let mut found = Found::default();
    if paths.is_empty() {
        search_stream(stdin, "-", false, &mut found)?;
        return Ok(found);
    }
    // Every path must exist before any is searched: a typo is exit 2, not a clean bill.
    for path in paths.iter().filter(|p| p.as_os_str() != "-") {
        if let Err(err) = fs::metadata(path) {
            return Err(Error::invalid(format!(
                "Cannot scan {}: {err}.",
                path.display()
            )));
        }
    }
    for path in paths {
        if path.as_os_str() == "-" {
            search_stream(stdin, "-", false, &mut found)?;
        } else {
            search_path(path, true, &mut found);
        }
    }
    Ok(found)
}

/// Searches a file, or a folder recursively. Links met on the way are not followed (a
/// path given on the command line is), and `.git` folders are skipped; hidden and
/// git-ignored files are searched, since `.env` files are where leaks hide.
fn search_path(path: &Path, given: bool, found: &mut Found) {
    let meta = if given {
        fs::metadata(path)
    } else {
        fs::symlink_metadata(path)
    };
    let meta = match meta {
        Ok(meta) => meta,
        Err(err) => {
            return found
                .warnings
                .push(format!("cannot read {}: {err}", path.display()));
        }
    };
    if meta.is_dir() {
        if !given && path.file_name().is_some_and(|name| name == ".git") {
            return;
        }
        let entries = match fs::read_dir(path) {
            Ok(entries) => entries,
            Err(err) => {
                return found
                    .warnings
                    .push(format!("cannot read {}: {err}", path.display()));
            }
        };
        let mut children: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        children.sort();
        for child in children {
            search_path(&child, false, found);
        }
    } else if meta.is_file() && meta.len() <= MAX_FILE {
        let shown = path.display().to_string();
        let searched = File::open(path)
            .map_err(Error::from)
            .and_then(|mut file| search_stream(&mut file, &shown, true, found));
        if let Err(err) = searched {
            found.warnings.push(format!("cannot read {shown}: {err}"));
        }
    }
}

/// Searches `input` chunk by chunk, keeping the last `TOKEN_LEN - 1` bytes of each chunk
/// for the next, so a token across a chunk boundary is still seen whole.
fn search_stream(
    input: &mut dyn Read,
    shown: &str,
    skip_binary: bool,
    found: &mut Found,
) -> Result<()> {
    let finder = memmem::Finder::new(PREFIX.as_bytes());
    let mut buf = std::mem::take(&mut found.buf);
    buf.resize(CHUNK + TOKEN_LEN, 0);
    let searched = search_chunks(
        input,
        shown,
        skip_binary,
        &finder,
        &mut buf,
        &mut found.hits,
    );
    found.buf = buf;
    searched
}

fn search_chunks(
    input: &mut dyn Read,
    shown: &str,
    skip_binary: bool,
    finder: &memmem::Finder<'_>,
    buf: &mut [u8],
    hits: &mut Vec<Hit>,
) -> Result<()> {
    let (mut filled, mut line, mut first) = (0, 1, true);
    loop {
        let read = fill(input, &mut buf[filled..])?;
        let eof = read == 0 || filled + read < buf.len();
        filled += read;
        if first && skip_binary && buf[..filled.min(BINARY_PROBE)].contains(&0) {
            return Ok(());
        }
        first = false;
        let data = &buf[..filled];
        // A match starting in the kept tail is decided with the next chunk.
        let decided = if eof {
            filled
        } else {
            filled - (TOKEN_LEN - 1)
        };
        let (mut counted, mut at_line) = (0, line);
        for at in finder.find_iter(data).take_while(|&at| at < decided) {
            let token = data
                .get(at..at + TOKEN_LEN)
                .and_then(|bytes| std::str::from_utf8(bytes).ok())
                .and_then(|text| Token::parse(text).ok());
            if let Some(token) = token {
                at_line += memchr::memchr_iter(b'\n', &data[counted..at]).count();
                counted = at;
                hits.push(Hit {
                    path: shown.to_string(),
                    line: at_line,
                    token,
                });
            }
        }
        line = at_line + memchr::memchr_iter(b'\n', &data[counted..decided]).count();
        if eof {
            return Ok(());
        }
        buf.copy_within(decided..filled, 0);
        filled -= decided;
    }
}

/// Reads until `buf` is full or the input ends; returns how much was read.
fn fill(input: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut total = 0;
    while total < buf.len() {
        match input.read(&mut buf[total..]) {
            Ok(0) => break,
            Ok(n) => total += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(total)
}

/// One hit as reported: never the secret.
#[derive(Debug, Serialize)]
pub struct Reported {
    pub path: String,
    pub line: usize,
    pub id: String,
    /// `active`, `expired` or `unknown` (never existed here, deleted or rotated away).
    pub status: &'static str,
    /// Shown to an admin, or to the token's owner; null otherwise.
    pub token_name: Option<String>,
    pub user_name: Option<String>,
    pub revoked: bool,
}

/// `token scan`: JSON is the bare array; text adds a count line.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct Report {
    pub hits: Vec<Reported>,
}

impl Report {
    /// Whether any token found was active when found (a leak happened: exit 7).
    pub fn any_active(&self) -> bool {
        self.hits.iter().any(|hit| hit.status == "active")
    }
}

/// Looks every hit up by its public id (and its secret, so a made-up string with a real
/// id is no leak) and, with `revoke`, deletes each active one the caller may delete.
pub fn report(
    store: &mut Store,
    caller: &Caller,
    hits: Vec<Hit>,
    revoke: bool,
    now: i64,
) -> Result<Report> {
    let run = |tx: &crate::store::Tx<'_>| -> Result<Vec<Reported>> {
        // Each token once, as it was before any revocation, however often it was found.
        let mut seen: HashMap<&str, (&'static str, Option<StoredToken>, bool)> = HashMap::new();
        for hit in &hits {
            let id = hit.token.public_id();
            if seen.contains_key(id) {
                continue;
            }
            let stored = tx
                .find_token_by_public_id(id)?
                .filter(|row| hit.token.matches(&row.secret_hash));
            let status = match &stored {
                None => "unknown",
                Some(row) if row.expires_at > now => "active",
                Some(_) => "expired",
            };
            let visible = stored
                .as_ref()
                .is_some_and(|row| caller.is_admin() || row.user_id == caller.user);
            let revoked = match &stored {
                Some(row) if revoke && status == "active" && visible => {
                    let (id, owner, name) = (row.row_id, &row.user_id, &row.name);
                    super::manage::revoke(tx, now, caller, Action::TokenScan, id, owner, name)?;
                    true
                }
                _ => false,
            };
            seen.insert(id, (status, stored.filter(|_| visible), revoked));
        }
        Ok(hits
            .iter()
            .map(|hit| {
                let (status, named, revoked) = &seen[hit.token.public_id()];
                Reported {
                    path: hit.path.clone(),
                    line: hit.line,
                    id: hit.token.public_id().to_string(),
                    status,
                    token_name: named.as_ref().map(|row| row.name.clone()),
                    user_name: named.as_ref().map(|row| row.user_id.clone()),
                    revoked: *revoked,
                }
            })
            .collect())
    };
    let hits = if revoke {
        store.write(run)?
    } else {
        store.read(run)?
    };
    Ok(Report { hits })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_of(text: &[u8]) -> Vec<(usize, String)> {
        let mut found = Found::default();
        search_stream(&mut &text[..], "-", true, &mut found).unwrap();
        found
            .hits
            .into_iter()
            .map(|hit| (hit.line, hit.token.public_id().to_string()))
            .collect()
    }

    #[test]
    fn tokens_are_found_across_chunk_boundaries_with_their_lines() {
        let a = Token::generate().unwrap().reveal();
        let b = Token::generate().unwrap().reveal();
        let id = |t: &str| t[5..17].to_string();
        // Put `a` across the first chunk boundary, and `b` twice on one later line.
        let mut text = vec![b'x'; CHUNK - 20];
        text.extend(b"\n\n");
        text.extend(a.as_bytes());
        text.extend(format!("\nfoo {b} bar {b}\nosmo_not_a_token\n").as_bytes());
        assert_eq!(lines_of(&text), [(3, id(&a)), (4, id(&b)), (4, id(&b))]);
        // A wrong checksum, or a token split by a newline, is not one.
        let mut bad = a.clone();
        bad.replace_range(55.., if a.ends_with('A') { "B" } else { "A" });
        let split = format!("{}\n{}", &a[..30], &a[30..]);
        assert!(lines_of(format!("{bad}\n{split}\n").as_bytes()).is_empty());
        assert!(lines_of(format!("\0binary {a}").as_bytes()).is_empty());
    }
}
