//! The `postgres://` URL (DESIGN §10): libpq's form, read by rust-postgres, with the TLS
//! settings it does not know (`sslmode=verify-ca|verify-full`, `sslrootcert`) taken out
//! first, and shown everywhere without its password.

use std::path::PathBuf;
use std::str::FromStr;

use postgres::config::SslMode;

use super::tls::{self, Verify};
use crate::error::{Error, Result};

/// Where to connect, and how.
pub(super) struct Target {
    pub config: postgres::Config,
    /// None for `sslmode=disable`.
    pub tls: Option<rustls::ClientConfig>,
    pub shown: String,
}

/// How long connecting may take when the URL does not say (`connect_timeout=SECONDS`).
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub(super) fn parse(url: &str) -> Result<Target> {
    let shown = without_password(url);
    let invalid = |why: String| Error::invalid(format!("Invalid database URL {shown}: {why}"));
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut kept = Vec::new();
    let mut mode = "prefer".to_string();
    let mut root_cert = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = decode(value),
            "sslrootcert" => root_cert = Some(PathBuf::from(decode(value))),
            _ => kept.push(pair),
        }
    }
    let rest = if kept.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    let mut config =
        postgres::Config::from_str(&rest).map_err(|err| invalid(super::with_causes(&err)))?;
    // A server that does not answer is named after a while, not waited for as long as
    // the system's TCP timeout.
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(CONNECT_TIMEOUT);
    }
    // libpq's rule: a root certificate given makes `require` check the chain too.
    let verify = match (mode.as_str(), &root_cert) {
        ("disable", _) => None,
        ("allow" | "prefer", _) => Some((SslMode::Prefer, Verify::Nothing)),
        ("require", None) => Some((SslMode::Require, Verify::Nothing)),
        ("require" | "verify-ca", _) => Some((SslMode::Require, Verify::Chain)),
        ("verify-full", _) => Some((SslMode::Require, Verify::ChainAndName)),
        (other, _) => {
            return Err(invalid(format!(
                "sslmode={other}: use disable, prefer, require, verify-ca or verify-full"
            )));
        }
    };
    let tls = match verify {
        None => {
            config.ssl_mode(SslMode::Disable);
            None
        }
        Some((ssl_mode, verify)) => {
            config.ssl_mode(ssl_mode);
            Some(tls::client_config(verify, root_cert.as_deref()).map_err(invalid)?)
        }
    };
    Ok(Target { config, tls, shown })
}

/// `url` with any password left out: from `user:password@` and from `password=`.
pub fn without_password(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let base = match base.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(at) => rest.split_at(at),
                None => (rest, ""),
            };
            let authority = match authority.rsplit_once('@') {
                Some((user_info, host)) => {
                    let user = user_info
                        .split_once(':')
                        .map_or(user_info, |(user, _)| user);
                    format!("{user}@{host}")
                }
                None => authority.to_string(),
            };
            format!("{scheme}://{authority}{path}")
        }
        None => base.to_string(),
    };
    match query {
        Some(query) => {
            let kept: Vec<&str> = query
                .split('&')
                .filter(|pair| !pair.starts_with("password="))
                .collect();
            if kept.is_empty() {
                base
            } else {
                format!("{base}?{}", kept.join("&"))
            }
        }
        None => base,
    }
}

/// Percent-decoding of one query value.
fn decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                (Some(high), Some(low)) => {
                    out.push((high * 16 + low) as u8);
                    i += 3;
                    continue;
                }
                _ => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        for (url, shown) in [
            (
                "postgresql://osmo:s3cret@db.lab:5432/osmo?sslmode=require",
                "postgresql://osmo@db.lab:5432/osmo?sslmode=require",
            ),
            (
                "postgres://osmo:p%40ss@/osmo?host=/run/pg&password=other",
                "postgres://osmo@/osmo?host=/run/pg",
            ),
            ("postgres://osmo@host/db", "postgres://osmo@host/db"),
            ("postgres:///db?password=x", "postgres:///db"),
        ] {
            assert_eq!(without_password(url), shown);
        }
    }

    #[test]
    fn values_are_percent_decoded() {
        assert_eq!(decode("%2Ftmp%2Fca.pem"), "/tmp/ca.pem");
        assert_eq!(decode("a%2"), "a%2");
        assert_eq!(decode("plain"), "plain");
    }

    #[test]
    fn unknown_ssl_modes_are_refused_without_the_password() {
        let Err(err) = parse("postgres://u:pw@h/db?sslmode=sometimes") else {
            panic!("accepted");
        };
        let text = err.to_string();
        assert!(text.contains("sslmode=sometimes"), "{text}");
        assert!(!text.contains("pw"), "{text}");
    }
}
