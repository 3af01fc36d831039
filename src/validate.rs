//! The shapes of user ids, role names, token names and descriptions (DESIGN §3).
//!
//! Every check runs before any database lookup, so a typo never reaches SQL.

use crate::error::{Error, Result};

/// Letters, digits and the punctuation allowed inside a name (not at either end).
fn check(value: &str, max: usize, first_ok: fn(char) -> bool, inner: &str) -> bool {
    let mut chars = value.chars();
    let (Some(first), Some(last)) = (chars.next(), value.chars().last()) else {
        return false;
    };
    value.chars().count() <= max
        && first_ok(first)
        && last.is_ascii_alphanumeric()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || inner.contains(c))
}

pub const USER_ID_MAX: usize = 128;
pub const ROLE_NAME_MAX: usize = 64;
pub const TOKEN_NAME_MAX: usize = 64;
pub const DESCRIPTION_MAX: usize = 256;

pub fn user_id(id: &str) -> Result<()> {
    if check(id, USER_ID_MAX, |c| c.is_ascii_alphanumeric(), "_.@+-") {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Invalid user id {}: use at most {USER_ID_MAX} letters, digits and _ . @ + -, starting and ending with a letter or digit.",
        quoted(id)
    )))
}

pub fn role_name(name: &str) -> Result<()> {
    if check(name, ROLE_NAME_MAX, |c| c.is_ascii_alphanumeric(), "_.:-") {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Invalid role name {}: use at most {ROLE_NAME_MAX} letters, digits and _ . : -, starting and ending with a letter or digit.",
        quoted(name)
    )))
}

pub fn token_name(name: &str) -> Result<()> {
    if check(name, TOKEN_NAME_MAX, |c| c.is_ascii_alphabetic(), "_-") {
        return Ok(());
    }
    Err(Error::invalid(format!(
        "Invalid token name {}: use at most {TOKEN_NAME_MAX} letters, digits, _ and -, starting with a letter and ending with a letter or digit.",
        quoted(name)
    )))
}

pub fn description(text: &str) -> Result<()> {
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(Error::invalid(format!(
            "Description is too long: at most {DESCRIPTION_MAX} characters."
        )));
    }
    if text.chars().any(is_hidden) {
        return Err(Error::invalid(
            "Description must not contain control or invisible formatting characters (newlines, tabs, escapes, bidi overrides, zero-width characters, line separators).",
        ));
    }
    Ok(())
}

/// The URL given to `login`: shown by `profile list`, so it must be a plain
/// `http://` or `https://` URL, with nothing that could move or hide text on a terminal.
pub fn login_url(url: &str) -> Result<()> {
    let rest = ["http://", "https://"].iter().find_map(|scheme| {
        url.get(..scheme.len())
            .filter(|head| head.eq_ignore_ascii_case(scheme))
            .map(|_| &url[scheme.len()..])
    });
    match rest {
        Some(rest)
            if !rest.is_empty() && !url.chars().any(|c| c.is_whitespace() || is_hidden(c)) =>
        {
            Ok(())
        }
        _ => Err(Error::invalid(format!(
            "Invalid URL {}: use an http:// or https:// URL without spaces or control characters.",
            quoted(url)
        ))),
    }
}

/// Characters that change how text around them looks instead of showing themselves:
/// Unicode categories Cc (controls), Cf (format: bidi overrides, zero-width characters),
/// Zl and Zp (line and paragraph separators). `role create viewer -d $'read only\u202e
/// nimda lluf'` would otherwise display as "full admin".
pub fn is_hidden(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') || is_format(c)
}

/// Unicode 16's category Cf.
fn is_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{0600}'..='\u{0605}'
            | '\u{061C}'
            | '\u{06DD}'
            | '\u{070F}'
            | '\u{0890}'..='\u{0891}'
            | '\u{08E2}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206F}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
            | '\u{110BD}'
            | '\u{110CD}'
            | '\u{13430}'..='\u{1343F}'
            | '\u{1BCA0}'..='\u{1BCA3}'
            | '\u{1D173}'..='\u{1D17A}'
            | '\u{E0001}'
            | '\u{E0020}'..='\u{E007F}'
    )
}

/// As `escape_hidden`, for an owned string: the same string back when nothing is hidden.
pub fn escape_hidden_owned(text: String, keep_newlines: bool) -> String {
    match escape_hidden(&text, keep_newlines) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// `text` with every hidden character (`is_hidden`) but newlines shown as an escape
/// (`\u{1b}`), for text that reaches a terminal.
pub fn escape_hidden(text: &str, keep_newlines: bool) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| is_hidden(c) && !(keep_newlines && c == '\n');
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if hidden(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Quotes a value for an error message, escaping control characters and
/// shortening it, so a hostile value cannot break the one-line error.
pub fn quoted(value: &str) -> String {
    const SHOWN: usize = 80;
    let shown: String = value.chars().take(SHOWN).collect();
    let mut out = format!("{shown:?}");
    if value.chars().count() > SHOWN {
        out.push_str("...");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids() {
        for ok in [
            "admin",
            "a",
            "backend-operator",
            "svc.mon@example.com",
            "a+b_c",
            "9",
        ] {
            assert!(user_id(ok).is_ok(), "{ok}");
        }
        for bad in ["", "-a", "a-", "a b", "a/b", "é", "a\n", &"x".repeat(129)] {
            assert!(user_id(bad).is_err(), "{bad}");
        }
        assert!(user_id(&"x".repeat(128)).is_ok());
    }

    #[test]
    fn role_names() {
        for ok in ["osmo-admin", "team:ml", "r1", "a.b_c"] {
            assert!(role_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", ":a", "a@b", "a:", &"r".repeat(65)] {
            assert!(role_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn token_names() {
        for ok in ["my-token", "a", "AWS_TOKEN", "admin_api_token", "t1"] {
            assert!(token_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1abc", "_a", "a-", "a.b", "a b", &"t".repeat(65)] {
            assert!(token_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn descriptions() {
        assert!(description("My automation token").is_ok());
        assert!(description(&"é".repeat(256)).is_ok());
        assert!(description(&"d".repeat(257)).is_err());
        assert!(description("two\nlines").is_err());
        assert!(description("esc\u{1b}[31m").is_err());
        for hidden in [
            "read only\u{202e} nimda",
            "zero\u{200b}width",
            "line\u{2028}sep",
            "tag\u{e0041}",
        ] {
            assert!(description(hidden).is_err(), "{hidden:?}");
        }
        assert!(description("café – naïve 日本").is_ok());
    }

    #[test]
    fn login_urls() {
        for ok in [
            "https://osmo.example.com",
            "http://localhost:8080/x?y=1",
            "HTTPS://A",
        ] {
            assert!(login_url(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "https://",
            "ftp://x",
            "osmo.example.com",
            "https://x y",
            "https://x\u{1b}[2J",
            "https://x\u{202e}",
        ] {
            assert!(login_url(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hidden_characters_are_escaped() {
        assert_eq!(escape_hidden("a\u{1b}[2J\nb", true), "a\\u{1b}[2J\nb");
        assert_eq!(escape_hidden("a\nb\u{202e}", false), "a\\u{a}b\\u{202e}");
        assert!(matches!(
            escape_hidden("plain", false),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn quoting_keeps_one_line() {
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert!(quoted(&"z".repeat(500)).ends_with("..."));
    }
}
