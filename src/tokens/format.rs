//! The token itself: its shape, generation, parsing, and the hash that is stored (DESIGN §4).
//!
//! `osmo_` + public id (12 base62) + `_` + secret (32 base62) + CRC32 checksum (6 base62).
//! The public id finds the row; only an Argon2id hash of the secret is stored.

use std::fmt;

use argon2::password_hash::PasswordHasher;
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordVerifier, Version};
use rand::TryRng;
use rand::rngs::SysRng;

use crate::error::{Error, Result};

pub const PREFIX: &str = "osmo_";
pub const PUBLIC_ID_LEN: usize = 12;
pub const SECRET_LEN: usize = 32;
pub const CHECKSUM_LEN: usize = 6;
/// 5 + 12 + 1 + 32 + 6.
pub const TOKEN_LEN: usize = PREFIX.len() + PUBLIC_ID_LEN + 1 + SECRET_LEN + CHECKSUM_LEN;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Argon2id cost for 190-bit random secrets. Guessing such a secret is hopeless at any
/// cost, so the hash only has to make a stolen database useless, not slow down guessing
/// of weak passwords; these parameters keep `token verify` within its 5 ms budget (with
/// 1 MiB, faulting in the fresh memory alone cost a whole process about 0.7 ms more).
/// They are stored in each PHC string, so changing them later rehashes on use.
pub const ARGON2_M_KIB: u32 = 256;
pub const ARGON2_T: u32 = 1;
pub const ARGON2_P: u32 = 1;

/// A token's secret part. It never prints: `Debug` and `Display` are redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// A whole token, as handed to its owner once, or as presented to `verify`.
#[derive(Clone, PartialEq, Eq)]
pub struct Token {
    public_id: String,
    secret: Secret,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Token")
            .field("public_id", &self.public_id)
            .field("secret", &self.secret)
            .finish()
    }
}

/// Why a string is not a token; never says more than that it is not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("malformed token")]
pub struct Malformed;

/// `len` characters from the OS random source, each of the 62 equally likely.
pub fn random_base62(len: usize) -> Result<String> {
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        SysRng
            .try_fill_bytes(&mut buf)
            .map_err(|err| Error::Internal(format!("OS random source: {err}")))?;
        // 248 = 4 * 62: rejecting the rest keeps every character equally likely.
        for b in buf.iter().filter(|b| **b < 248) {
            if out.len() == len {
                break;
            }
            out.push(BASE62[(*b % 62) as usize] as char);
        }
    }
    Ok(out)
}

fn checksum(body: &str) -> String {
    let mut n = crc32(body.as_bytes());
    let mut digits = [b'0'; CHECKSUM_LEN];
    for d in digits.iter_mut().rev() {
        *d = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&digits).into_owned()
}

/// CRC-32 (IEEE 802.3), as zlib computes it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

impl Token {
    /// A new token from the OS random source.
    pub fn generate() -> Result<Token> {
        Ok(Token {
            public_id: random_base62(PUBLIC_ID_LEN)?,
            secret: Secret(random_base62(SECRET_LEN)?),
        })
    }

    /// Accepts exactly the shape above with a matching checksum; anything else is malformed.
    pub fn parse(text: &str) -> Result<Token, Malformed> {
        if text.len() != TOKEN_LEN || !text.is_ascii() || !text.starts_with(PREFIX) {
            return Err(Malformed);
        }
        let rest = &text[PREFIX.len()..];
        let (public_id, rest) = rest.split_at(PUBLIC_ID_LEN);
        let Some(rest) = rest.strip_prefix('_') else {
            return Err(Malformed);
        };
        let (secret, sum) = rest.split_at(SECRET_LEN);
        let base62 = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric());
        if !base62(public_id) || !base62(secret) || !base62(sum) {
            return Err(Malformed);
        }
        if checksum(&text[..TOKEN_LEN - CHECKSUM_LEN]) != sum {
            return Err(Malformed);
        }
        Ok(Token {
            public_id: public_id.to_string(),
            secret: Secret(secret.to_string()),
        })
    }

    pub fn public_id(&self) -> &str {
        &self.public_id
    }

    /// The full token text. Call only to show it to its owner, once.
    pub fn reveal(&self) -> String {
        let body = format!("{PREFIX}{}_{}", self.public_id, self.secret.0);
        let sum = checksum(&body);
        body + &sum
    }

    /// The Argon2id PHC string of the secret, with a fresh random salt.
    pub fn hash(&self) -> Result<String> {
        hash_secret(&self.secret)
    }

    /// Whether the secret matches `phc`; a hash that cannot be read never matches.
    pub fn matches(&self, phc: &str) -> bool {
        secret_matches(&self.secret, phc)
    }
}

impl Secret {
    /// A new random secret, for credentials other than tokens (login sessions).
    pub fn generate() -> Result<Secret> {
        random_base62(SECRET_LEN).map(Secret)
    }

    pub fn from_text(text: &str) -> Secret {
        Secret(text.to_string())
    }

    /// The secret's text. Call only to hand it to its holder.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// The Argon2id PHC string of a secret, with a fresh random salt.
pub fn hash_secret(secret: &Secret) -> Result<String> {
    let hash = hasher()
        .hash_password(secret.0.as_bytes())
        .map_err(|err| Error::Internal(format!("hashing failed: {err}")))?;
    Ok(hash.to_string())
}

/// Whether `secret` matches `phc`; a hash that cannot be read never matches.
pub fn secret_matches(secret: &Secret, phc: &str) -> bool {
    PasswordHash::new(phc)
        .is_ok_and(|hash| hasher().verify_password(secret.0.as_bytes(), &hash).is_ok())
}

fn params() -> Params {
    Params::new(ARGON2_M_KIB, ARGON2_T, ARGON2_P, None).unwrap_or_default()
}

fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
}

/// Whether a stored hash was made with other parameters and should be replaced.
pub fn needs_rehash(phc: &str) -> bool {
    let Ok(hash) = PasswordHash::new(phc) else {
        return true;
    };
    hash.algorithm.as_str() != "argon2id"
        || Params::try_from(&hash).map_or(true, |p| {
            (p.m_cost(), p.t_cost(), p.p_cost()) != (ARGON2_M_KIB, ARGON2_T, ARGON2_P)
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let token = Token::generate().unwrap();
        let text = token.reveal();
        assert_eq!(text.len(), 56);
        assert!(text.starts_with("osmo_"));
        assert_eq!(&text[17..18], "_");
        assert!(text[5..17].bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(Token::parse(&text), Ok(token.clone()));
        assert_ne!(Token::generate().unwrap().reveal(), text);
    }

    #[test]
    fn secrets_never_print() {
        let token = Token::generate().unwrap();
        let text = token.reveal();
        let secret = &text[18..50];
        for shown in [
            format!("{token:?}"),
            format!("{:?}", token.secret),
            token.secret.to_string(),
        ] {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    #[test]
    fn typos_are_malformed() {
        let text = Token::generate().unwrap().reveal();
        for i in 0..text.len() {
            let mut bytes = text.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            let typo = String::from_utf8(bytes).unwrap();
            assert_eq!(Token::parse(&typo), Err(Malformed), "position {i}");
        }
        for bad in [
            "",
            "osmo_",
            &text[..55],
            &format!("{text}x"),
            &format!(" {}", &text[1..]),
        ] {
            assert_eq!(Token::parse(bad), Err(Malformed));
        }
    }

    #[test]
    fn hashes_verify_only_their_secret() {
        let (a, b) = (Token::generate().unwrap(), Token::generate().unwrap());
        let hash = a.hash().unwrap();
        let params = format!("$argon2id$v=19$m={ARGON2_M_KIB},t={ARGON2_T},p={ARGON2_P}$");
        assert!(hash.starts_with(&params), "{hash}");
        assert!(a.matches(&hash));
        assert!(!b.matches(&hash));
        assert!(!a.matches("not a hash"));
        assert!(!needs_rehash(&hash));
        let old = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(ARGON2_M_KIB * 2, 2, 1, None).unwrap(),
        )
        .hash_password(b"whatever")
        .unwrap()
        .to_string();
        assert!(needs_rehash(&old));
    }

    proptest! {
        #[test]
        fn parser_never_panics(text in "\\PC{0,70}") {
            let _ = Token::parse(&text);
        }

        #[test]
        fn parser_accepts_only_checksummed_shapes(
            public in "[0-9A-Za-z]{12}", secret in "[0-9A-Za-z]{32}", sum in "[0-9A-Za-z]{6}"
        ) {
            let body = format!("osmo_{public}_{secret}");
            let good = format!("{body}{}", checksum(&body));
            prop_assert!(Token::parse(&good).is_ok());
            let forged = format!("{body}{sum}");
            prop_assert_eq!(Token::parse(&forged).is_ok(), sum == checksum(&body));
        }
    }
}
