//! Invariant 4, no unaudited plaintext: every operation leaves one entry with the right actor,
//! action and outcome; no entry holds a field value; a read whose entry cannot be committed
//! returns no plaintext, and a write whose entry cannot be committed writes nothing.

mod common;

use common::*;
use confide::{Error, Purpose, RecordKind, Value};

const T: Purpose = Purpose::Treatment;

#[test]
fn every_operation_is_in_the_log_with_actor_and_outcome() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Alex Example");
    let rec = a
        .create_record(
            &c,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    a.update_record(
        &rec,
        &[("code", Value::code("F41.9")), ("note", Value::text("n"))],
        T,
    )
    .unwrap();
    a.read_record(&rec, T).unwrap();
    let note = a
        .write_psychotherapy_note(&c, &[("impressions", Value::text("i"))], T)
        .unwrap();
    a.read_psychotherapy_note(&note, T).unwrap();
    a.list_records(&c, T).unwrap();
    a.find_client("alex example", &confide::Date::new(1988, 3, 14).unwrap(), T)
        .unwrap();
    let b = p.login("dr.b");
    assert!(matches!(
        b.read_record(&rec, T),
        Err(confide::Error::Denied {
            reason: confide::DenyReason::NoRelationship
        })
    ));
    let missing: confide::RecordId = "0123456789abcdef0123456789abcdef".parse().unwrap();
    assert!(matches!(
        a.read_record(&missing, T),
        Err(confide::Error::Denied {
            reason: confide::DenyReason::NoRelationship
        })
    ));
    assert!(matches!(
        p.vault.unlock("dr.a", &confide::Passphrase::new("wrong")),
        Err(confide::Error::BadPassphrase)
    ));

    let log = p.admin().audit_tail(1000).unwrap();
    let (ida, idb) = (Some(a.user_id()), Some(b.user_id()));
    let want: &[(&str, Option<confide::UserId>, &str, &[&str])] = &[
        (
            "client.create",
            ida,
            "granted:care-team",
            &["full_name", "date_of_birth"],
        ),
        ("record.create", ida, "granted:care-team", &["code"]),
        ("record.update", ida, "granted:care-team", &["code", "note"]),
        ("record.read", ida, "granted:care-team", &["code", "note"]),
        ("note.create", ida, "granted:care-team", &["impressions"]),
        ("note.read", ida, "granted:author", &["impressions"]),
        ("record.list", ida, "granted:care-team", &[]),
        ("client.find", ida, "granted:care-team", &[]),
        ("login", idb, "granted", &[]),
        ("record.read", idb, "denied:no-relationship", &[]),
        // A record that does not exist gets the same answer as one the user may not know of.
        ("record.read", ida, "denied:no-relationship", &[]),
        ("login", ida, "failed:bad-passphrase", &[]),
    ];
    // The log holds exactly this sequence after dr.a's login.
    let start = log
        .iter()
        .position(|e| e.action == "client.create")
        .unwrap();
    let got: Vec<_> = log[start..start + want.len()]
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.actor,
                e.outcome.as_str(),
                e.fields.clone(),
            )
        })
        .collect();
    for (g, w) in got.iter().zip(want) {
        let fields: Vec<String> = w.3.iter().map(|s| s.to_string()).collect();
        assert_eq!((g.0, g.1, g.2, &g.3), (w.0, w.1, w.2, &fields));
    }
    // The vault's own creation is the first entry; sequence numbers have no gaps.
    assert_eq!(log[0].seq, 1);
    assert_eq!(log[0].action, "vault.create");
    assert!(
        log.windows(2)
            .all(|w| w[1].seq == w[0].seq + 1 && w[1].prev_hash == w[0].hash)
    );
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

#[test]
fn no_entry_holds_a_field_value() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "VALUECANARY Person");
    let r = a
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("VALUECANARY-2"))],
            T,
        )
        .unwrap();
    a.read_record(&r, T).unwrap();
    // Every byte the log stores, entries and hashes, and every text of every entry as the
    // documented layout decodes it (field names are packed, so not visible in the raw bytes).
    let conn = audit_sql::open(p.path());
    let dump: Vec<u8> = conn
        .prepare(
            "SELECT CAST(entry || hash || audit_part(entry, 'action') || \
                    audit_part(entry, 'purpose') || audit_part(entry, 'outcome') || \
                    audit_part(entry, 'fields') AS BLOB) FROM audit_log",
        )
        .unwrap()
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .flat_map(Result::unwrap)
        .collect();
    let contains = |needle: &[u8]| dump.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"summary"), "field names are logged");
    assert!(
        !dump
            .to_ascii_uppercase()
            .windows(11)
            .any(|w| w == b"VALUECANARY")
    );
}

/// Make every audit append fail, as a full disk or a broken log would.
fn break_the_log(p: &Practice) {
    raw(p.path())
        .execute_batch(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log \
             BEGIN SELECT RAISE(ABORT, 'audit unavailable'); END;",
        )
        .unwrap();
}

/// The operation failed because its audit entry could not be inserted: the trigger's abort comes
/// back as a storage error.
fn assert_log_refused<T>(r: confide::Result<T>) {
    let err = r.err();
    assert!(matches!(err, Some(Error::Storage(_))), "{err:?}");
}

#[test]
fn a_read_whose_audit_entry_cannot_commit_returns_no_plaintext() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Client");
    let r = a
        .create_record(
            &c,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    let note = a
        .write_psychotherapy_note(&c, &[("impressions", Value::text("x"))], T)
        .unwrap();
    break_the_log(&p);
    let err = a.read_record(&r, T).unwrap_err();
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
    assert_log_refused(a.read_psychotherapy_note(&note, T));
    assert_log_refused(a.list_records(&c, T));
}

#[test]
fn a_write_whose_audit_entry_cannot_commit_writes_nothing() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Client");
    let r = a
        .create_record(
            &c,
            RecordKind::Diagnosis,
            &[("code", Value::code("OLD"))],
            T,
        )
        .unwrap();
    let count = |sql: &str| -> i64 { raw(p.path()).query_row(sql, [], |r| r.get(0)).unwrap() };
    let before = (
        count("SELECT count(*) FROM records"),
        count("SELECT count(*) FROM record_fields"),
        count("SELECT count(*) FROM psychotherapy_notes"),
        count("SELECT count(*) FROM clients"),
    );
    break_the_log(&p);
    assert_log_refused(a.create_record(
        &c,
        RecordKind::Diagnosis,
        &[("code", Value::code("NEW"))],
        T,
    ));
    assert_log_refused(a.update_record(&r, &[("code", Value::code("NEW"))], T));
    assert_log_refused(a.write_psychotherapy_note(&c, &[("x", Value::text("y"))], T));
    assert_log_refused(a.create_client(
        &confide::NewClient {
            full_name: "Other".into(),
            date_of_birth: confide::Date::new(2000, 1, 1).unwrap(),
        },
        T,
    ));
    let after = (
        count("SELECT count(*) FROM records"),
        count("SELECT count(*) FROM record_fields"),
        count("SELECT count(*) FROM psychotherapy_notes"),
        count("SELECT count(*) FROM clients"),
    );
    assert_eq!(before, after);
    // The update did not land either: repair the log and read the old value back.
    raw(p.path())
        .execute_batch("DROP TRIGGER refuse_audit")
        .unwrap();
    assert_eq!(
        a.read_record(&r, T).unwrap().get("code"),
        Some(&Value::code("OLD"))
    );
}
