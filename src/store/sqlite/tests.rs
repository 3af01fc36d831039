//! Tests of the store as a whole: fault messages, and the plans of the listings.
use super::*;

/// What SQLite plans for `sql` on a fresh database: one line per step.
fn plan(sql: &str) -> String {
    let store = Lite::in_memory(&|_| Ok(false)).unwrap();
    let mut stmt = store
        .conn
        .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
        .unwrap();
    // Unbound parameters are NULL, which does not change the plan.
    let mut rows = stmt.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>(3).unwrap());
    }
    steps.join("\n")
}

/// Every listing reads along an index and sorts nothing that grows with the table
/// (DESIGN §8: cost grows with the answer, not with the database).
#[test]
fn listings_read_along_indexes_and_sort_nothing_large() {
    for (sql, uses) in [
        (
            tokens::TOKENS_OF_OWNER,
            &[
                "COVERING INDEX tokens_by_owner (user_id=?)",
                "token_roles USING PRIMARY KEY (token_id=?)",
            ][..],
        ),
        (
            tokens::EVERY_TOKEN,
            &[
                "SCAN t USING COVERING INDEX tokens_by_owner",
                "token_roles USING PRIMARY KEY (token_id=?)",
            ],
        ),
        (
            users::USERS_IN_RANGE,
            &[
                "users USING INDEX sqlite_autoindex_users_1 (id>? AND id<?)",
                "user_roles USING PRIMARY KEY (user_id=?)",
            ],
        ),
        (
            users::USERS_WITH_ROLES,
            &["user_roles_by_role (role=? AND user_id>? AND user_id<?)"],
        ),
        (
            users::COUNT_IN_RANGE,
            &["sqlite_autoindex_users_1 (id>? AND id<?)"],
        ),
        (
            users::COUNT_WITH_ROLES,
            &["user_roles_by_role (role=? AND user_id>? AND user_id<?)"],
        ),
        (
            audit::EVENTS_OF_USER,
            &[
                "audit USING INDEX audit_by_actor (actor=?)",
                "audit USING INDEX audit_by_subject (subject=?)",
            ],
        ),
        (audit::EVERY_EVENT, &["SCAN audit"]),
        (
            tokens::COUNT_LIVE,
            &["tokens_by_owner_expiry (user_id=? AND expires_at>?)"],
        ),
    ] {
        let plan = plan(sql);
        for step in uses {
            assert!(
                plan.contains(step),
                "{step} not in the plan:\n{plan}\nfor {sql}"
            );
        }
        for line in plan.lines().filter(|l| l.contains("TEMP B-TREE")) {
            // Only bounded sorts: merging two LIMITed index reads, or DISTINCT over
            // the matching users' ids.
            assert!(
                sql == audit::EVENTS_OF_USER || line.contains("count(DISTINCT)"),
                "a sort that grows with the table:\n{plan}\nfor {sql}"
            );
        }
    }
}

fn failure(code: std::ffi::c_int) -> Error {
    Error::from(rusqlite::Error::SqliteFailure(
        rusqlite::ffi::Error::new(code),
        None,
    ))
}

#[test]
fn faults_name_the_file_and_what_to_do() {
    let path = Path::new("/data/osmo.db");
    let shown = |code| located(path, failure(code)).to_string();
    assert_eq!(
        shown(rusqlite::ffi::SQLITE_READONLY),
        "database /data/osmo.db is read-only"
    );
    assert_eq!(
        shown(rusqlite::ffi::SQLITE_BUSY),
        "database /data/osmo.db is busy: another process has held its write lock for 30 s"
    );
    assert_eq!(
        shown(rusqlite::ffi::SQLITE_FULL),
        "cannot write database /data/osmo.db: the disk is full"
    );
    assert_eq!(
        shown(rusqlite::ffi::SQLITE_CORRUPT),
        "database /data/osmo.db is damaged: run osmo db check, and osmo db restore from a backup"
    );
    for code in [rusqlite::ffi::SQLITE_FULL, rusqlite::ffi::SQLITE_CORRUPT] {
        assert_eq!(located(path, failure(code)).exit_code(), 1);
    }
}
