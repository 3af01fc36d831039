//! `osmo config ...`

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::util::{Env, fails_unchanged};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Setting {
    key: String,
    value: String,
}

#[test]
fn defaults_are_listed_in_order() {
    let env = Env::new();
    let all: BTreeMap<String, String> = env.json(&["config", "list"]);
    let expected: BTreeMap<String, String> = [
        ("max-tokens-per-user", "5"),
        ("default-token-lifetime", "31d"),
        ("max-token-lifetime", "365d"),
        ("session-idle-timeout", "12h"),
        ("operator-access", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    assert_eq!(all, expected);
    let text = env.ok(&["config", "list"]);
    let keys: Vec<&str> = text
        .lines()
        .skip(2)
        .map(|l| l.split(' ').next().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "max-tokens-per-user",
            "default-token-lifetime",
            "max-token-lifetime",
            "session-idle-timeout",
            "operator-access"
        ]
    );
}

#[test]
fn set_and_get_round_trip() {
    let env = Env::new();
    assert_eq!(
        env.ok(&["config", "set", "max-tokens-per-user", "10"]),
        "max-tokens-per-user set to 10\n"
    );
    assert_eq!(env.ok(&["config", "get", "max-tokens-per-user"]), "10\n");
    let set: Setting = env.json(&["config", "set", "default-token-lifetime", "2w"]);
    assert_eq!(
        (set.key.as_str(), set.value.as_str()),
        ("default-token-lifetime", "2w")
    );
    let got: Setting = env.json(&["config", "get", "default-token-lifetime"]);
    assert_eq!(got.value, "2w");
    env.ok(&["config", "set", "max-tokens-per-user", "0"]);
    env.ok(&["config", "set", "session-idle-timeout", "90m"]);
    env.ok(&["config", "set", "operator-access", "true"]);
}

#[test]
fn bad_keys_and_values_are_refused() {
    let env = Env::new();
    env.ok(&["config", "list"]);
    let err = fails_unchanged(&env, &["config", "set", "max-tokens", "3"], 2);
    assert!(err.contains("max-tokens-per-user"), "{err}");
    fails_unchanged(&env, &["config", "get", "nope"], 2);
    for (key, value) in [
        ("max-tokens-per-user", "-1"),
        ("max-tokens-per-user", "five"),
        ("max-tokens-per-user", "1.5"),
        ("default-token-lifetime", "0d"),
        ("default-token-lifetime", "31"),
        ("default-token-lifetime", "400d"),
        ("max-token-lifetime", "1 d"),
        ("max-token-lifetime", "30d"),
        ("session-idle-timeout", "-5m"),
        ("operator-access", "yes"),
    ] {
        fails_unchanged(&env, &["config", "set", key, value], 2);
    }
}
