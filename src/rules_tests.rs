//! The rules that span rows, tested against an in-memory store at instants passed in,
//! without the binary and without rewriting rows by hand.

use crate::access::{ADMIN, Caller, CallerToken, Login, USER};
use crate::error::Error;
use crate::identity::{self, Presented};
use crate::settings::{self, Settings};
use crate::store::Store;
use crate::time::{DAY, Expiry};
use crate::tokens::{self, Announce, NewToken, Rejection};
use crate::{roles, setup, users};

const NOW: i64 = 1_800_000_000;

/// A new database, its settings, and the local operator.
fn world() -> (Store, Settings, Caller) {
    let mut store = setup::in_memory(NOW).unwrap();
    let settings = Settings::load(&mut store).unwrap();
    let operator = identity::resolve(&mut store, &settings, &Presented::Nothing, NOW).unwrap();
    (store, settings, operator)
}

/// The error of a call that must be refused (a token result has no `Debug` to print).
fn refused<T>(result: Result<T, Error>) -> Error {
    match result {
        Ok(_) => panic!("expected a refusal"),
        Err(err) => err,
    }
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn issue(
    store: &mut Store,
    caller: &Caller,
    settings: &Settings,
    name: &str,
    owner: &str,
    roles: &[&str],
    now: i64,
) -> Result<tokens::TokenIssued, Error> {
    let roles = strings(roles);
    let req = NewToken {
        name: Some(name),
        owner: Some(owner),
        description: "",
        roles: &roles,
        expiry: Expiry::In("2d"),
    };
    tokens::issue(store, caller, settings, &req, Announce::Vast, now)
}

/// A caller that is `owner`'s token carrying `roles`.
fn token_caller(owner: &str, roles: &[&str]) -> Caller {
    Caller {
        user: owner.to_string(),
        roles: strings(roles),
        login: Login::Token,
        token: Some(CallerToken {
            row_id: 0,
            name: "caller".into(),
            expires_at: crate::time::Timestamp(NOW + DAY),
            roles: strings(roles),
        }),
        url: None,
    }
}

#[test]
fn new_tokens_are_narrowed_to_the_owner_and_to_the_callers_token() {
    let (mut store, settings, operator) = world();
    users::create(&mut store, &operator, "lab", &strings(&[USER, ADMIN]), NOW).unwrap();
    users::create(&mut store, &operator, "plain", &strings(&[USER]), NOW).unwrap();

    let all = issue(&mut store, &operator, &settings, "all", "lab", &[], NOW).unwrap();
    assert_eq!(all.roles, [ADMIN, USER]);
    let narrow = token_caller("lab", &[USER]);
    let inherited = issue(&mut store, &narrow, &settings, "n1", "lab", &[], NOW).unwrap();
    assert_eq!(inherited.roles, [USER]);
    let wider = refused(issue(
        &mut store,
        &narrow,
        &settings,
        "n2",
        "lab",
        &[ADMIN],
        NOW,
    ));
    assert_eq!(wider.exit_code(), 3, "{wider}");
    let lacking = refused(issue(
        &mut store,
        &operator,
        &settings,
        "p",
        "plain",
        &[ADMIN],
        NOW,
    ));
    assert_eq!(
        (lacking.exit_code(), lacking.to_string()),
        (2, "User plain does not have role osmo-admin.".into())
    );
    users::update(&mut store, &operator, "plain", &[], &strings(&[USER]), NOW).unwrap();
    let none = refused(issue(
        &mut store,
        &operator,
        &settings,
        "p",
        "plain",
        &[],
        NOW,
    ));
    assert_eq!(none.exit_code(), 2, "{none}");

    // Rotation hands out a secret too: the narrow token cannot rotate the wide one.
    let rotated = refused(tokens::rotate(
        &mut store,
        &narrow,
        &settings,
        "all",
        None,
        Expiry::Default,
        NOW,
    ));
    assert_eq!(rotated.exit_code(), 3, "{rotated}");
}

#[test]
fn the_token_limit_counts_only_tokens_live_at_the_instant_given() {
    let (mut store, _, operator) = world();
    settings::set(&mut store, &operator, "max-tokens-per-user", "2", NOW).unwrap();
    let settings = Settings::load(&mut store).unwrap();
    for name in ["a", "b"] {
        issue(&mut store, &operator, &settings, name, "admin", &[], NOW).unwrap();
    }
    let full = refused(issue(
        &mut store,
        &operator,
        &settings,
        "c",
        "admin",
        &[],
        NOW,
    ));
    assert_eq!(full.exit_code(), 5, "{full}");
    // Three days later both have expired (they lived two): room again, at that instant.
    let later = NOW + 3 * DAY;
    issue(&mut store, &operator, &settings, "c", "admin", &[], later).unwrap();
    // Rotating a token does not count it twice.
    tokens::rotate(
        &mut store,
        &operator,
        &settings,
        "c",
        None,
        Expiry::Default,
        later,
    )
    .unwrap();
}

#[test]
fn someone_always_holds_osmo_admin() {
    let (mut store, _, operator) = world();
    let demote = |store: &mut Store, user: &str| {
        users::update(store, &operator, user, &[], &strings(&[ADMIN]), NOW)
    };
    let last = demote(&mut store, "admin").unwrap_err();
    assert_eq!(last.exit_code(), 5, "{last}");
    users::create(&mut store, &operator, "second", &strings(&[ADMIN]), NOW).unwrap();
    demote(&mut store, "admin").unwrap();
    let last = demote(&mut store, "second").unwrap_err();
    assert_eq!(last.exit_code(), 5, "{last}");
    let deleted = users::delete(&mut store, &operator, "second", NOW).unwrap_err();
    assert_eq!(deleted.exit_code(), 5, "{deleted}");
    // Deleting a role takes it from everyone, but never a built-in one.
    let builtin = roles::delete(&mut store, &operator, ADMIN, NOW).unwrap_err();
    assert_eq!(builtin.exit_code(), 5, "{builtin}");
}

#[test]
fn tokens_and_sessions_expire_at_the_instant_given() {
    let (mut store, settings, operator) = world();
    let issued = issue(&mut store, &operator, &settings, "t", "admin", &[], NOW).unwrap();
    let token = issued.token.reveal();
    assert!(tokens::check(&mut store, &token, NOW).unwrap().is_ok());
    let expired = tokens::check(&mut store, &token, NOW + 2 * DAY).unwrap();
    assert_eq!(expired.unwrap_err(), Rejection::Expired);

    let session = crate::sessions::login(&mut store, &token, None, NOW).unwrap();
    let held = crate::sessions::Held {
        entry: crate::sessions::Entry {
            session_id: session.session_id,
            secret: session.secret.reveal().to_string(),
            user_name: "admin".into(),
            url: None,
            ended: None,
        },
        file: None,
        key: String::new(),
    };
    let resume = |store: &mut Store, at| crate::sessions::resume(store, &settings, &held, at);
    assert!(resume(&mut store, NOW + 3600).is_ok());
    // Idle for longer than session-idle-timeout (12h), though the token lives on.
    let idle = refused(resume(&mut store, NOW + 3600 + 13 * 3600));
    assert_eq!(idle.exit_code(), 6, "{idle}");
    assert!(idle.to_string().contains("session-idle-timeout"), "{idle}");
}
