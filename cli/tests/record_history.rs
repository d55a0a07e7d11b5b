//! Record history edited in the file, through `audit-verify --json`: an addendum deleted and a
//! signed note's draft version put back as its current value are each reported at the entry
//! that last vouched for them, with exit code 1 (tests/record_history_attacks.rs holds the read
//! path's side of the same attacks).
mod common;
#[path = "../../tests/common/history.rs"]
mod history;

use std::path::Path;

use common::*;
use history::*;
use serde_json::{Value as Json, json};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `audit-verify --json` on `path`: exit 1, tampered, exactly one finding, `kind` at `seq`,
/// with a message naming `id`.
fn reports(path: &Path, seq: u64, kind: &str, id: &[u8; 16]) {
    let (code, stdout, stderr) = audit_verify(&["--json".as_ref(), path.as_os_str()]);
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    let out: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["status"], "tampered");
    assert_eq!(out["findings_total"], 1, "{stdout}");
    let finding = &out["findings"][0];
    assert_eq!(
        (&finding["seq"], &finding["kind"]),
        (&json!(seq), &json!(kind)),
        "{stdout}"
    );
    let message = finding["message"].as_str().unwrap();
    assert!(message.contains(&hex(id)), "{message}");
}

#[test]
fn an_untouched_chart_verifies_intact() {
    let c = chart();
    let (code, stdout, _) = audit_verify(&["--json".as_ref(), c.p.path().as_os_str()]);
    assert_eq!(code, 0, "{stdout}");
    let out: Json = serde_json::from_str(&stdout).unwrap();
    assert_eq!(out["status"], "intact");
}

#[test]
fn a_deleted_addendum_is_reported_missing_at_the_entry_that_wrote_it() {
    let c = chart();
    let wrote = granted_on(c.p.path(), "record.addendum", c.addendum.as_bytes());
    delete_entry(c.p.path(), "records", c.addendum.as_bytes());
    reports(
        c.p.path(),
        wrote.seq,
        "record-missing",
        c.addendum.as_bytes(),
    );
}

#[test]
fn a_draft_version_put_back_is_reported_changed_at_the_signature() {
    let c = chart();
    let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes());
    let db = raw(c.p.path());
    db.execute(
        "DELETE FROM record_fields WHERE record_id = ?1 AND field = 'summary'",
        [c.note.as_bytes()],
    )
    .unwrap();
    let moved = db
        .execute(
            "UPDATE record_fields SET field = 'summary' WHERE record_id = ?1 \
             AND field = 'summary@1'",
            [c.note.as_bytes()],
        )
        .unwrap();
    assert_eq!(moved, 1);
    drop(db);
    reports(c.p.path(), signed.seq, "record-changed", c.note.as_bytes());
}
