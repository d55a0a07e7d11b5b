//! Invariant 5: psychotherapy notes live apart. They never come back from a general-record path,
//! they are sealed under their own data key, and only their author reads them.

mod common;

use common::*;
use confide::{DenyReason, Error, NoteId, Purpose, RecordId, RecordKind, Value};

const T: Purpose = Purpose::Treatment;

#[test]
fn notes_never_come_back_from_general_record_reads() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Client");
    dr.create_record(
        &c,
        RecordKind::ProgressNote,
        &[("summary", Value::text("progress"))],
        T,
    )
    .unwrap();
    let note = dr
        .write_psychotherapy_note(&c, &[("impressions", Value::text("private analysis"))], T)
        .unwrap();

    // The general record's listing has no note in it.
    let listed = dr.list_records(&c, T).unwrap();
    assert_eq!(listed.len(), 2, "demographics and the progress note");
    assert!(listed.iter().all(|r| r.id.as_bytes() != note.as_bytes()));
    // Every general-record entry reads back without the note's content.
    for r in &listed {
        let rec = dr.read_record(&r.id, T).unwrap();
        assert!(
            rec.fields
                .values()
                .all(|v| v.reveal().as_str() != "private analysis")
        );
    }
    // A note id used as a record id finds nothing: the general path never reads note tables.
    let as_record: RecordId = note.to_string().parse().unwrap();
    assert!(matches!(
        dr.read_record(&as_record, T),
        Err(Error::Denied {
            reason: DenyReason::NoRelationship
        })
    ));
    // The note's own path does return it.
    assert_eq!(
        dr.read_psychotherapy_note(&note, T)
            .unwrap()
            .get("impressions"),
        Some(&Value::text("private analysis"))
    );
}

#[test]
fn notes_are_sealed_under_their_own_data_key() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Client");
    dr.write_psychotherapy_note(&c, &[("impressions", Value::text("x"))], T)
        .unwrap();
    let conn = raw(p.path());
    let keys: Vec<(String, u32, Vec<u8>)> = conn
        .prepare("SELECT compartment, version, wrapped FROM data_keys WHERE owner_id = ?1 ORDER BY compartment")
        .unwrap()
        .query_map([c.as_bytes()], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let names: Vec<&str> = keys.iter().map(|k| k.0.as_str()).collect();
    assert_eq!(names, ["general", "psychotherapy_notes"]);
    assert_ne!(keys[0].2, keys[1].2);
    // Each table's envelopes name the version of their own compartment's key.
    let note_rows: i64 = conn
        .query_row("SELECT count(*) FROM psychotherapy_note_fields", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(note_rows, 1);
    let in_general: i64 = conn
        .query_row(
            "SELECT count(*) FROM record_fields WHERE field = 'impressions'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        in_general, 0,
        "note fields are not in the general record's table"
    );
    // Two data keys were made for this client: one per compartment.
    assert_eq!(dr.key_stats().unwrapped, 2);
}

#[test]
fn only_the_author_reads_a_note() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Client");
    let note = a
        .write_psychotherapy_note(&c, &[("impressions", Value::text("x"))], T)
        .unwrap();
    for who in ["dr.b", "biller", "front.desk", "auditor"] {
        let s = p.login(who);
        let err = s.read_psychotherapy_note(&note, T).unwrap_err();
        assert!(matches!(err, Error::Denied { .. }), "{who}: {err:?}");
        assert_eq!(s.key_stats().unwrapped, 0);
    }
    let admin = p.admin();
    assert!(matches!(
        admin.read_psychotherapy_note(&note, Purpose::Operations),
        Err(Error::Denied { .. })
    ));
    // The author reading for a purpose other than treatment is refused too.
    assert!(matches!(
        a.read_psychotherapy_note(&note, Purpose::Payment),
        Err(Error::Denied { .. })
    ));
    let missing: NoteId = "00000000000000000000000000000000".parse().unwrap();
    assert!(matches!(
        a.read_psychotherapy_note(&missing, T),
        Err(Error::Denied {
            reason: DenyReason::NoRelationship
        })
    ));
}
