//! Facts edited in the file, through `audit-verify --json`: a consent forged for the biller and
//! the biller's role changed are each reported as `facts-changed` at the sequence number of the
//! entry that last vouched for the scope, with exit code 1 (tests/authenticated_state*.rs hold
//! the read path's side of the same attacks).
mod common;
#[path = "../../tests/common/tampered.rs"]
mod tampered;

use std::path::Path;

use common::*;
use confide::{FindingKind, Purpose, RecordKind, Value};
use rusqlite::params;
use serde_json::{Value as Json, json};
use tampered::*;

/// `audit-verify --json` on `path`: exit 1, tampered, exactly `want`.
fn reports(path: &Path, want: &[(u64, FindingKind)]) {
    let (code, stdout, stderr) = audit_verify(&["--json".as_ref(), path.as_os_str()]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let out: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["status"], "tampered");
    assert_eq!(out["findings_total"], want.len());
    let want: Vec<Json> = want
        .iter()
        .map(|(seq, kind)| json!({ "seq": seq, "kind": kind.code(), "message": kind.to_string() }))
        .collect();
    assert_eq!(out["findings"], json!(want));
}

#[test]
fn a_forged_consent_and_a_changed_role_are_reported_with_their_sequence_numbers() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    dr.create_record(
        &client,
        RecordKind::ProgressNote,
        &[("summary", Value::text("worry log"))],
        Purpose::Treatment,
    )
    .unwrap();
    drop(dr);
    let (code, _, _) = audit_verify(&["--json".as_ref(), p.path().as_os_str()]);
    assert_eq!(code, 0);
    let biller = confide::staff_user_id(p.path(), "biller").unwrap();
    let dra = confide::staff_user_id(p.path(), "dr.a").unwrap();

    raw(p.path())
        .execute(
            "INSERT INTO consents (consent_id, client_id, recipient_kind, recipient_user, \
             categories, purpose, start_at, signed_on, created_at, created_by) \
             VALUES (?1, ?2, 'user', ?3, 'diagnosis_codes,progress_notes', 'TREAT', 0, 0, 0, ?4)",
            params![
                [0x5au8; 16],
                client.as_bytes(),
                biller.as_bytes(),
                dra.as_bytes()
            ],
        )
        .unwrap();
    let created = vouched_for(p.path(), "client", client.as_bytes());
    // The client's newest record last vouched for its facts (its drafts).
    assert_eq!(created.action, "record.create");
    let consent = facts_changed(created.seq, "client", client.as_bytes());
    reports(p.path(), &[consent]);

    raw(p.path())
        .execute(
            "UPDATE users SET role = 'clinician' WHERE user_id = ?1",
            [biller.as_bytes()],
        )
        .unwrap();
    let added = vouched_for(p.path(), "user", biller.as_bytes());
    assert_eq!(added.action, "user.add");
    let role = facts_changed(added.seq, "user", biller.as_bytes());
    let mut both = vec![consent, role];
    both.sort_by_key(|(seq, _)| *seq);
    reports(p.path(), &both);
}
