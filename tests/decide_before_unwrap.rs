//! Invariant 3, decide then unwrap: a refused request never touches a data key. Observed through
//! the session's key counters, which count every unwrap.

mod common;

use common::*;
use confide::{Error, Purpose, RecordKind, Value};

const T: Purpose = Purpose::Treatment;

#[test]
fn refused_reads_unwrap_no_data_key() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Client");
    // A progress note: no role but the treating clinician's may read it.
    let rec = a
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("session"))],
            T,
        )
        .unwrap();
    let note = a
        .write_psychotherapy_note(&c, &[("impressions", Value::text("x"))], T)
        .unwrap();

    let attempts: Vec<(confide::Session, Purpose)> = vec![
        (p.login("dr.b"), T),
        (p.login("biller"), Purpose::Payment),
        (p.login("front.desk"), Purpose::Operations),
        (p.login("auditor"), Purpose::Operations),
        (p.admin(), Purpose::Operations),
        (p.login("dr.a"), Purpose::Payment),
    ];
    for (s, purpose) in &attempts {
        let r = s.read_record(&rec, *purpose);
        assert!(
            matches!(r, Err(Error::Denied { .. })),
            "{}: {r:?}",
            s.user_name()
        );
        let n = s.read_psychotherapy_note(&note, *purpose);
        assert!(matches!(n, Err(Error::Denied { .. })), "{}", s.user_name());
        let w = s.create_record(
            &c,
            RecordKind::ProgressNote,
            &[("x", Value::Number(1))],
            *purpose,
        );
        assert!(matches!(w, Err(Error::Denied { .. })), "{}", s.user_name());
        let stats = s.key_stats();
        assert_eq!(stats.unwrapped, 0, "{} unwrapped a key", s.user_name());
        assert_eq!(stats.cached, 0);
    }
}

#[test]
fn granted_reads_unwrap_once_then_use_the_session_cache() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Client");
    let r1 = a
        .create_record(&c, RecordKind::Diagnosis, &[("code", Value::code("A"))], T)
        .unwrap();
    let r2 = a
        .create_record(&c, RecordKind::Diagnosis, &[("code", Value::code("B"))], T)
        .unwrap();
    drop(a);
    let a = p.login("dr.a");
    assert_eq!(a.key_stats().unwrapped, 0);
    a.read_record(&r1, T).unwrap();
    assert_eq!(a.key_stats().unwrapped, 1);
    a.read_record(&r2, T).unwrap();
    a.read_record(&r1, T).unwrap();
    assert_eq!(
        a.key_stats().unwrapped,
        1,
        "same client, same compartment: cached"
    );
    // Nothing is shared across sessions.
    let again = p.login("dr.a");
    assert_eq!(again.key_stats().cached, 0);
}

#[test]
fn every_refusal_is_audited_with_its_reason() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let c = new_client(&a, "Client");
    let rec = a
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("A"))],
            T,
        )
        .unwrap();
    let b = p.login("dr.b");
    assert!(matches!(
        b.read_record(&rec, T),
        Err(confide::Error::Denied {
            reason: confide::DenyReason::NoRelationship
        })
    ));
    let e = last_entry(&p, "record.read");
    assert_eq!(e.outcome, "denied:no-relationship");
    assert_eq!(e.actor, Some(b.user_id()));
    assert_eq!(e.client, Some(c));
    assert_eq!(e.purpose, "TREAT");
    assert!(e.fields.is_empty(), "a refusal names no field content");

    // Progress notes are outside billing's duty, so the biller has no relationship with the
    // client for them: the answer a record that does not exist gets.
    let biller = p.login("biller");
    assert!(matches!(
        biller.read_record(&rec, Purpose::Payment),
        Err(confide::Error::Denied {
            reason: confide::DenyReason::NoRelationship
        })
    ));
    assert_eq!(
        last_entry(&p, "record.read").outcome,
        "denied:no-relationship"
    );
    assert!(matches!(
        a.read_record(&rec, Purpose::Legal),
        Err(confide::Error::Denied {
            reason: confide::DenyReason::PurposeNotPermitted
        })
    ));
    assert_eq!(
        last_entry(&p, "record.read").outcome,
        "denied:purpose-not-permitted"
    );
}
