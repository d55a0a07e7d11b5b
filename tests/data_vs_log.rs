//! Data against log: every write entry vouches for the complete stored state of what it wrote,
//! so audit-verify, without any key, reports a record deleted from the file, a field rolled back
//! to an older ciphertext, and a row added outside the vault.

mod common;

use std::path::Path;

use common::*;
use confide::{FindingKind, Purpose, RecordId, RecordKind, Value, verify_audit_log};

const T: Purpose = Purpose::Treatment;

struct Built {
    p: Practice,
    progress: RecordId,
    plan: RecordId,
    /// The audit entry of the progress note's latest write.
    update_seq: u64,
}

fn build() -> Built {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Dana Client");
    let progress = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first version"))],
            T,
        )
        .unwrap();
    let plan = dr
        .create_record(
            &c,
            RecordKind::TreatmentPlan,
            &[("goals", Value::text("sleep"))],
            T,
        )
        .unwrap();
    dr.update_record(&progress, &[("summary", Value::text("second version"))], T)
        .unwrap();
    let update_seq = last_entry(&p, "record.update").seq;
    Built {
        p,
        progress,
        plan,
        update_seq,
    }
}

fn findings(path: &Path) -> Vec<(u64, FindingKind)> {
    verify_audit_log(path)
        .unwrap()
        .findings
        .into_iter()
        .map(|f| (f.seq, f.kind))
        .collect()
}

/// The binary agrees: exit 1 and a line naming the record.
fn binary_reports(path: &Path, line: &str) {
    let (code, stdout, _) = audit_verify(&[path.as_os_str()]);
    assert_eq!(code, 1, "{stdout}");
    assert!(stdout.contains(line), "{line:?} not in\n{stdout}");
}

#[test]
fn an_untouched_vault_has_every_record_vouched_for() {
    let b = build();
    assert!(verify_audit_log(b.p.path()).unwrap().is_intact());
    let vouching: i64 = raw(b.p.path())
        .query_row(
            "SELECT count(*) FROM audit_log WHERE audit_part(entry, 'digest') IS NOT NULL \
             AND audit_part(entry, 'action') LIKE 'record.%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(vouching, 3, "two creates and an update");
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
         NULL FROM records WHERE record_id = ?1",
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

#[test]
fn an_added_field_is_a_changed_record() {
    let b = build();
    raw(b.p.path())
        .execute(
            "INSERT INTO record_fields SELECT record_id, 'extra', key_version, envelope \
             FROM record_fields WHERE record_id = ?1",
            [b.plan.as_bytes()],
        )
        .unwrap();
    let id = *b.plan.as_bytes();
    let found = findings(b.p.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, FindingKind::RecordChanged { id });
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn a_field_row_deleted_on_its_own_fails_the_read_instead_of_shortening_it() {
    let b = build();
    let dr = b.p.login("dr.a");
    let before = dr.read_record(&b.plan, T).unwrap();
    let field = before.fields.keys().next().unwrap().as_str().to_owned();
    raw(b.p.path())
        .execute(
            "DELETE FROM record_fields WHERE record_id = ?1 AND field = ?2",
            rusqlite::params![b.plan.as_bytes(), field],
        )
        .unwrap();
    // Not a record quietly missing a field (a risk assessment, say): an integrity error.
    let read = dr.read_record(&b.plan, T);
    assert!(
        matches!(&read, Err(confide::Error::Integrity { place })
            if place.record == b.plan.to_string() && place.field == "(the set of fields)"),
        "{read:?}"
    );
    assert_eq!(last_entry(&b.p, "record.read").outcome, "failed:integrity");
    // Batched reads say the same, for that record only.
    let both = dr.read_records(&[b.progress, b.plan], T).unwrap();
    assert!(both[0].is_ok());
    assert!(matches!(both[1], Err(confide::Error::Integrity { .. })));
}
