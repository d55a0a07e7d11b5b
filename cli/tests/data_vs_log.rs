//! The data against the log through `audit-verify`: a record deleted, a field rolled back or a
//! row added outside the vault is reported with its sequence number and exit code 1.
mod common;
#[path = "../../tests/common/vouched.rs"]
mod vouched;

use std::path::Path;

use common::*;
use confide::{FindingKind, Value};
use vouched::*;

/// The binary agrees: exit 1 and a line naming the record.
fn binary_reports(path: &Path, line: &str) {
    let (code, stdout, _) = audit_verify(&[path.as_os_str()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains(line), "{line:?} not in\n{stdout}");
}

#[test]
fn a_progress_note_deleted_from_the_file_is_reported() {
    let b = build();
    let conn = raw(b.p.path());
    conn.execute(
        "DELETE FROM record_fields WHERE record_id = ?1",
        [b.progress.as_bytes()],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM records WHERE record_id = ?1",
        [b.progress.as_bytes()],
    )
    .unwrap();
    drop(conn);
    let id = *b.progress.as_bytes();
    assert_eq!(
        findings(b.p.path()),
        vec![(b.update_seq, FindingKind::RecordMissing { id })]
    );
    binary_reports(
        b.p.path(),
        &format!("seq {}: record {} missing", b.update_seq, b.progress),
    );
}

#[test]
fn a_field_rolled_back_to_an_older_envelope_is_reported() {
    let b = build();
    // The second version's envelope, as an earlier copy of the file holds it.
    let dr = b.p.login("dr.a");
    let older: Vec<u8> = raw(b.p.path())
        .query_row(
            "SELECT envelope FROM record_fields WHERE record_id = ?1 AND field = 'summary'",
            [b.progress.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    dr.update_record(&b.progress, &[("summary", Value::text("third version"))], T)
        .unwrap();
    let latest = last_entry(&b.p, "record.update").seq;
    // Restore the second version's envelope: it still opens (same record, field, key), but the
    // record's set of fields no longer matches the digest it recorded, so the read fails, and
    // the log tells it is stale.
    raw(b.p.path())
        .execute(
            "UPDATE record_fields SET envelope = ?2 WHERE record_id = ?1 AND field = 'summary'",
            rusqlite::params![b.progress.as_bytes(), older],
        )
        .unwrap();
    let refused = dr.read_record(&b.progress, T);
    assert!(
        matches!(&refused, Err(confide::Error::Integrity { place }) if place.field == "(the set of fields)"),
        "{refused:?}"
    );
    assert_eq!(last_entry(&b.p, "record.read").outcome, "failed:integrity");
    // Nor may an update paper over it: the vault will not vouch for a damaged set.
    assert!(matches!(
        dr.update_record(&b.progress, &[("plan", Value::text("x"))], T),
        Err(confide::Error::Integrity { .. })
    ));
    let id = *b.progress.as_bytes();
    assert_eq!(
        findings(b.p.path()),
        vec![(latest, FindingKind::RecordChanged { id })]
    );
    binary_reports(
        b.p.path(),
        &format!("record {} changed or rolled back", b.progress),
    );
}

#[test]
fn a_row_added_outside_the_vault_is_reported() {
    let b = build();
    // Copy the plan's fields under a new record id, as a row slipped in with SQL would be.
    let forged = [0x42u8; 16];
    let conn = raw(b.p.path());
    conn.execute(
        "INSERT INTO records SELECT ?2, client_id, kind, created_at, created_by, updated_at, case_id, \
         fields_digest, write_version, mac, status, signed_by, signed_at, cosigned_by, \
         cosigned_at, addendum_of, amends FROM records WHERE record_id = ?1",
        rusqlite::params![b.plan.as_bytes(), forged],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO record_fields SELECT ?2, field, key_version, envelope FROM record_fields \
         WHERE record_id = ?1",
        rusqlite::params![b.plan.as_bytes(), forged],
    )
    .unwrap();
    drop(conn);
    let found = findings(b.p.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, FindingKind::RecordUnlogged { id: forged });
    binary_reports(
        b.p.path(),
        &format!("record {} stored with no write entry", hex(&forged)),
    );
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
