//! Invariant 2, bound ciphertexts: an envelope moved to another field, record, client or
//! compartment, or changed by one byte, fails to open with an integrity error naming the place,
//! and the failure is audited.

mod common;

use common::*;
use confide::{ClientId, Error, Purpose, RecordId, RecordKind, Session, Value};

const T: Purpose = Purpose::Treatment;

struct Setup {
    p: Practice,
    dr: Session,
    c1: ClientId,
    c2: ClientId,
    dx1: RecordId,
    plan1: RecordId,
    dx2: RecordId,
}

fn setup() -> Setup {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c1 = new_client(&dr, "Client One");
    let c2 = new_client(&dr, "Client Two");
    let dx = |c: &ClientId, code: &str| {
        dr.create_record(
            c,
            RecordKind::Diagnosis,
            &[
                ("code", Value::code(code)),
                (
                    "description",
                    Value::text(format!("secret description {code}")),
                ),
            ],
            T,
        )
        .unwrap()
    };
    let dx1 = dx(&c1, "F41.1");
    let dx2 = dx(&c2, "F32.0");
    let plan1 = dr
        .create_record(
            &c1,
            RecordKind::TreatmentPlan,
            &[("code", Value::code("PLAN"))],
            T,
        )
        .unwrap();
    Setup {
        p,
        dr,
        c1,
        c2,
        dx1,
        plan1,
        dx2,
    }
}

fn envelope(s: &Setup, table: &str, parent_col: &str, parent: &[u8], field: &str) -> Vec<u8> {
    raw(s.p.path())
        .query_row(
            &format!("SELECT envelope FROM {table} WHERE {parent_col} = ?1 AND field = ?2"),
            rusqlite::params![parent, field],
            |r| r.get(0),
        )
        .unwrap()
}

fn set_envelope(s: &Setup, record: &RecordId, field: &str, env: &[u8]) {
    let n = raw(s.p.path())
        .execute(
            "UPDATE record_fields SET envelope = ?3 WHERE record_id = ?1 AND field = ?2",
            rusqlite::params![record.as_bytes(), field, env],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// Read `record`, expect an integrity error naming it and `field`, and an audit entry for it.
fn assert_integrity(s: &Setup, record: &RecordId, field: &str) {
    let err = s.dr.read_record(record, T).unwrap_err();
    let Error::Integrity { place } = &err else {
        panic!("expected an integrity error, got {err:?}");
    };
    assert_eq!(place.table, "record_fields");
    assert_eq!(place.record, record.to_string());
    assert_eq!(place.field, field);
    let msg = err.to_string();
    assert!(
        !msg.contains("secret") && !msg.contains("F41") && !msg.contains("F32"),
        "{msg}"
    );
    let failure = last_entry(&s.p, "record.read");
    assert_eq!(failure.action, "record.read");
    assert_eq!(failure.outcome, "failed:integrity");
    assert_eq!(failure.actor, Some(s.dr.user_id()));
    assert_eq!(failure.target.as_deref(), Some(record.to_string().as_str()));
    assert_eq!(failure.fields, vec![field.to_owned()]);
    // The log itself is intact; audit-verify also sees, without a key, that the record is no
    // longer what its latest write entry vouches for.
    let report = confide::verify_audit_log(s.p.path()).unwrap();
    assert!(
        report.findings.iter().all(|f| f.kind.is_about_data()),
        "{:?}",
        report.findings
    );
    assert!(
        report.findings.iter().any(|f| f.kind
            == confide::FindingKind::RecordChanged {
                id: *record.as_bytes()
            }),
        "{:?}",
        report.findings
    );
}

#[test]
fn envelope_copied_to_another_field_fails() {
    let s = setup();
    let env = envelope(&s, "record_fields", "record_id", s.dx1.as_bytes(), "code");
    set_envelope(&s, &s.dx1, "description", &env);
    assert_integrity(&s, &s.dx1, "description");
}

#[test]
fn envelope_copied_to_another_record_of_the_same_client_fails() {
    let s = setup();
    let env = envelope(&s, "record_fields", "record_id", s.dx1.as_bytes(), "code");
    set_envelope(&s, &s.plan1, "code", &env);
    assert_integrity(&s, &s.plan1, "code");
}

#[test]
fn envelope_copied_to_another_client_fails() {
    let s = setup();
    let env = envelope(&s, "record_fields", "record_id", s.dx1.as_bytes(), "code");
    set_envelope(&s, &s.dx2, "code", &env);
    assert_integrity(&s, &s.dx2, "code");
}

#[test]
fn psychotherapy_note_envelope_moved_into_the_general_record_fails() {
    let s = setup();
    let note =
        s.dr.write_psychotherapy_note(&s.c1, &[("code", Value::text("note text"))], T)
            .unwrap();
    let env = envelope(
        &s,
        "psychotherapy_note_fields",
        "note_id",
        note.as_bytes(),
        "code",
    );
    set_envelope(&s, &s.dx1, "code", &env);
    assert_integrity(&s, &s.dx1, "code");
}

#[test]
fn whole_row_moved_with_its_record_id_rewritten_fails() {
    // Moving the row itself (not just the envelope) to another record of another client.
    let s = setup();
    let conn = raw(s.p.path());
    conn.execute(
        "DELETE FROM record_fields WHERE record_id = ?1 AND field = 'description'",
        [s.dx2.as_bytes()],
    )
    .unwrap();
    conn.execute(
        "UPDATE record_fields SET record_id = ?2 WHERE record_id = ?1 AND field = 'description'",
        rusqlite::params![s.dx1.as_bytes(), s.dx2.as_bytes()],
    )
    .unwrap();
    assert_integrity(&s, &s.dx2, "description");
}

#[test]
fn every_flipped_byte_fails() {
    let s = setup();
    let env = envelope(
        &s,
        "record_fields",
        "record_id",
        s.dx1.as_bytes(),
        "description",
    );
    for i in [0, 1, 12, 13, env.len() / 2, env.len() - 1] {
        let mut bad = env.clone();
        bad[i] ^= 0x01;
        set_envelope(&s, &s.dx1, "description", &bad);
        assert_integrity(&s, &s.dx1, "description");
    }
    // Truncated and emptied envelopes fail the same way.
    set_envelope(&s, &s.dx1, "description", &env[..env.len() - 1]);
    assert_integrity(&s, &s.dx1, "description");
    set_envelope(&s, &s.dx1, "description", &[]);
    assert_integrity(&s, &s.dx1, "description");
    // Restoring the original makes it readable again: the failures were the edits, not the read.
    set_envelope(&s, &s.dx1, "description", &env);
    let ok = s.dr.read_record(&s.dx1, T).unwrap();
    assert_eq!(ok.get("code"), Some(&Value::code("F41.1")));
}

#[test]
fn key_version_column_is_bound_too() {
    let s = setup();
    raw(s.p.path())
        .execute(
            "UPDATE record_fields SET key_version = 2 WHERE record_id = ?1 AND field = 'code'",
            [s.dx1.as_bytes()],
        )
        .unwrap();
    // Version 2 of the key does not exist: the read fails closed as an integrity error.
    let err = s.dr.read_record(&s.dx1, T).unwrap_err();
    assert!(matches!(err, Error::Integrity { .. }), "{err:?}");
}

#[test]
fn swapped_wrapped_data_keys_fail() {
    let s = setup();
    let conn = raw(s.p.path());
    let key = |c: &ClientId| -> Vec<u8> {
        conn.query_row(
            "SELECT wrapped FROM data_keys WHERE owner_id = ?1 AND compartment = 'general'",
            [c.as_bytes()],
            |r| r.get(0),
        )
        .unwrap()
    };
    let (k1, k2) = (key(&s.c1), key(&s.c2));
    for (c, k) in [(&s.c1, &k2), (&s.c2, &k1)] {
        conn.execute(
            "UPDATE data_keys SET wrapped = ?2 WHERE owner_id = ?1 AND compartment = 'general'",
            rusqlite::params![c.as_bytes(), k],
        )
        .unwrap();
    }
    // A fresh session: nothing cached.
    let dr = s.p.login("dr.a");
    let err = dr.read_record(&s.dx1, T).unwrap_err();
    let Error::Integrity { place } = err else {
        panic!("{err:?}")
    };
    assert_eq!(place.table, "data_keys");
    assert_eq!(place.owner, s.c1.to_string());
    let failure = last_entry(&s.p, "record.read");
    assert_eq!(failure.outcome, "failed:integrity");
    assert_eq!(failure.actor, Some(dr.user_id()));
}
