//! Settings kept in the database, with their defaults and validation (DESIGN §5 config).

use serde::Serialize;

use crate::access::{Caller, DEFAULT_ADMIN, Login, Need};
use crate::audit::{self, Action};
use crate::error::{Error, Result};
use crate::store::{Store, Tx};
use crate::time::Span;

/// The settings a user may read and change, in display order, with their defaults.
pub const KEYS: &[(&str, &str)] = &[
    ("max-tokens-per-user", "5"),
    ("default-token-lifetime", "31d"),
    ("max-token-lifetime", "365d"),
    ("session-idle-timeout", "12h"),
    ("operator-access", "true"),
];

/// The settings in force, parsed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// 0 means no limit.
    pub max_tokens_per_user: u32,
    pub default_token_lifetime: Span,
    pub max_token_lifetime: Span,
    pub session_idle_timeout: Span,
    pub operator_access: bool,
    /// Who the local operator acts as.
    pub operator_user: String,
}

/// The setting that names the user the local operator acts as.
pub const OPERATOR_USER: &str = "operator-user";

fn default_of(key: &str) -> Result<&'static str> {
    KEYS.iter()
        .find(|(k, _)| *k == key)
        .map(|(_, default)| *default)
        .ok_or_else(|| {
            let known: Vec<&str> = KEYS.iter().map(|(k, _)| *k).collect();
            Error::invalid(format!(
                "Unknown setting {}: choose one of {}.",
                crate::validate::quoted(key),
                known.join(", ")
            ))
        })
}

/// The value in force for `key`: stored, else the default.
pub fn value(tx: &Tx<'_>, key: &str) -> Result<String> {
    let default = default_of(key)?;
    Ok(tx.setting(key)?.unwrap_or_else(|| default.to_string()))
}

impl Settings {
    pub fn load(store: &mut Store) -> Result<Settings> {
        let stored = store.read(|tx| tx.settings())?;
        let mut values: Vec<(String, String)> = KEYS
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let mut operator_user = DEFAULT_ADMIN.to_string();
        for (key, value) in stored {
            if key == OPERATOR_USER {
                operator_user = value;
            } else if let Some(slot) = values.iter_mut().find(|(k, _)| *k == key) {
                slot.1 = value;
            }
        }
        let get = |key: &str| -> &str {
            values
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
                .unwrap_or_default()
        };
        Ok(Settings {
            max_tokens_per_user: parse_count(get("max-tokens-per-user"))?,
            default_token_lifetime: Span::parse(get("default-token-lifetime"))?,
            max_token_lifetime: Span::parse(get("max-token-lifetime"))?,
            session_idle_timeout: Span::parse(get("session-idle-timeout"))?,
            operator_access: parse_bool(get("operator-access"))?,
            operator_user,
        })
    }
}

fn parse_count(value: &str) -> Result<u32> {
    value.parse().map_err(|_| {
        Error::invalid(format!(
            "Invalid value {} for max-tokens-per-user: use a whole number, 0 for no limit.",
            crate::validate::quoted(value)
        ))
    })
}

fn parse_bool(value: &str) -> Result<bool> {
    match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Error::invalid(format!(
            "Invalid value {} for operator-access: use true or false.",
            crate::validate::quoted(value)
        ))),
    }
}

/// One setting, as `config get` and `config set` show it.
#[derive(Debug, Serialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// `config set`: JSON as `config get`.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct SettingChanged(pub Setting);

/// Every setting, as `config list` shows it.
#[derive(Debug)]
pub struct SettingList(pub Vec<Setting>);

pub fn list(store: &mut Store, caller: &Caller) -> Result<SettingList> {
    caller.authorize(Need::Anyone)?;
    store.read(|tx| {
        KEYS.iter()
            .map(|(key, _)| {
                Ok(Setting {
                    key: key.to_string(),
                    value: value(tx, key)?,
                })
            })
            .collect::<Result<_>>()
            .map(SettingList)
    })
}

pub fn get(store: &mut Store, caller: &Caller, key: &str) -> Result<Setting> {
    caller.authorize(Need::Anyone)?;
    Ok(Setting {
        key: key.to_string(),
        value: store.read(|tx| value(tx, key))?,
    })
}

/// Validates `value` for `key` and stores it in its canonical form (`+5` as `5`).
pub fn set(
    store: &mut Store,
    caller: &Caller,
    key: &str,
    value: &str,
    now: i64,
) -> Result<SettingChanged> {
    caller.authorize(Need::Admin("Changing settings"))?;
    default_of(key)?;
    store.write(|tx| {
        let value = check(tx, key, value)?;
        // The operator exists only while operator-access is on: turning it off from the
        // operator would leave nobody able to turn it back on.
        if key == "operator-access" && value == "false" && caller.login == Login::Operator {
            return Err(Error::conflict(
                "Cannot turn operator-access off as the local operator: log in with a token that holds osmo-admin first, or nobody could turn it back on.",
            ));
        }
        tx.put_setting(key, &value)?;
        let target = format!("{key}={value}");
        audit::record_ok(tx, now, &caller.user, Action::ConfigSet, &target, None)?;
        Ok(SettingChanged(Setting {
            key: key.to_string(),
            value,
        }))
    })
}

/// Validates `value` for `key`, including the two lifetimes against each other, and
/// returns the form to store.
fn check(tx: &Tx<'_>, key: &str, value: &str) -> Result<String> {
    let lifetime = |text: &str| {
        Span::parse(text).map_err(|err| Error::invalid(format!("{err} (setting {key})")))
    };
    match key {
        "max-tokens-per-user" => return Ok(parse_count(value)?.to_string()),
        "operator-access" => return Ok(parse_bool(value)?.to_string()),
        "session-idle-timeout" => {
            lifetime(value)?;
        }
        "default-token-lifetime" | "max-token-lifetime" => {
            let span = lifetime(value)?;
            let (default, max) = if key == "max-token-lifetime" {
                (
                    Span::parse(&self::value(tx, "default-token-lifetime")?)?,
                    span,
                )
            } else {
                (span, Span::parse(&self::value(tx, "max-token-lifetime")?)?)
            };
            if max.seconds < default.seconds {
                return Err(Error::invalid(format!(
                    "max-token-lifetime ({max}) must not be shorter than default-token-lifetime ({default})."
                )));
            }
        }
        _ => unreachable!("default_of accepted an unknown key"),
    }
    Ok(value.to_string())
}
