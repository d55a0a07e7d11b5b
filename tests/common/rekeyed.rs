//! What the master-key rotation tests share (tests/master_key.rs, and cli/tests/master_key.rs
//! through `audit-verify`): a client two clinicians treat, and looks at the wrapped keys.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::path::Path;

use confide::{ClientId, Passphrase, Purpose, RecordId, RecordKind, Value};

use crate::common::*;

pub fn pass(s: &str) -> Passphrase {
    Passphrase::new(s)
}

/// A client treated by dr.a and dr.b, with one progress note.
pub fn shared_client(p: &Practice) -> (ClientId, RecordId) {
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Key Rotation Client");
    let dr_b = dr.user_id_of("dr.b").unwrap();
    dr.assign_care_team(&c, &dr_b, Purpose::Treatment).unwrap();
    let r = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("steady progress"))],
            Purpose::Treatment,
        )
        .unwrap();
    (c, r)
}

pub fn sealed_mk(path: &Path, user: &str) -> Option<Vec<u8>> {
    raw(path)
        .query_row("SELECT sealed_mk FROM users WHERE name = ?1", [user], |r| {
            r.get(0)
        })
        .unwrap()
}

pub fn data_keys(path: &Path) -> Vec<Vec<u8>> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT wrapped FROM data_keys ORDER BY owner_id, compartment, version")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

pub fn intact(path: &Path) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}
