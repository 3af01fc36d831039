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
    if text.chars().any(char::is_control) {
        return Err(Error::invalid(
            "Description must not contain control characters (newlines, tabs, escapes).",
        ));
    }
    Ok(())
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
    }

    #[test]
    fn quoting_keeps_one_line() {
        assert_eq!(quoted("a\nb"), "\"a\\nb\"");
        assert!(quoted(&"z".repeat(500)).ends_with("..."));
    }
}
