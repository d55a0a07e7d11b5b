//! Record history: a signed entry is never overwritten, a correction is an addendum read back
//! with its entry, and a draft's earlier versions stay readable.

mod common;

use common::{Practice, new_client};
use confide::{
    AuditAction, AuditFilter, EntryStatus, Error, Purpose, RecordKind, Value, read_audit_log,
};

const T: Purpose = Purpose::Treatment;

fn outcomes(p: &Practice, action: AuditAction) -> Vec<String> {
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    read_audit_log(p.path(), &filter)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.outcome)
        .collect()
}

#[test]
fn a_signed_note_is_never_overwritten_and_the_refusal_is_audited() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let client = new_client(&a, "Sam Doe");
    let note = a
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first"))],
            T,
        )
        .unwrap();
    assert_eq!(a.read_record(&note, T).unwrap().status, EntryStatus::Draft);
    a.update_record(&note, &[("summary", Value::text("second"))], T)
        .unwrap();
    a.sign_record(&note, T).unwrap();
    let signed = a.read_record(&note, T).unwrap();
    let EntryStatus::Signed {
        signed: sig,
        cosigned,
    } = signed.status
    else {
        panic!("not signed: {:?}", signed.status);
    };
    assert_eq!(
        (sig.by, cosigned),
        (confide::staff_user_id(p.path(), "dr.a").unwrap(), None)
    );

    let refused = a.update_record(&note, &[("summary", Value::text("third"))], T);
    assert!(
        matches!(
            refused,
            Err(Error::Signed {
                next: "Session::add_addendum"
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        a.read_record(&note, T).unwrap().get("summary"),
        Some(&Value::text("second"))
    );
    assert_eq!(
        outcomes(&p, AuditAction::RecordUpdate),
        ["granted:care-team", "failed:signed"]
    );
    assert_eq!(outcomes(&p, AuditAction::RecordSign), ["granted:care-team"]);
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

#[test]
fn addenda_are_read_back_with_their_entry_in_order() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let client = new_client(&a, "Sam Doe");
    let dx = a
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    let early = a.add_addendum(&dx, "not signed yet", &[("code", Value::code("F43.10"))], T);
    assert!(
        matches!(early, Err(Error::InvalidInput { .. })),
        "{early:?}"
    );
    a.sign_record(&dx, T).unwrap();
    let first = a
        .add_addendum(
            &dx,
            "trauma history came out",
            &[("code", Value::code("F43.10"))],
            T,
        )
        .unwrap();
    let second = a
        .add_addendum(
            &dx,
            "typo",
            &[("note", Value::text("see intake of 3 May"))],
            T,
        )
        .unwrap();
    let read = a.read_record(&dx, T).unwrap();
    assert_eq!(read.get("code"), Some(&Value::code("F41.1")));
    let ids: Vec<_> = read.addenda.iter().map(|x| x.id).collect();
    assert_eq!(ids, [first, second]);
    assert_eq!(
        read.addenda[0].get("reason"),
        Some(&Value::text("trauma history came out"))
    );
    assert_eq!(read.addenda[0].addendum_of, Some(dx));
    assert!(matches!(read.addenda[1].status, EntryStatus::Signed { .. }));
    // Listing shows the entry once; its addenda come with it.
    let listed = a.list_records(&client, T).unwrap();
    assert_eq!(
        listed
            .iter()
            .filter(|r| r.kind == RecordKind::Diagnosis)
            .count(),
        1
    );
    // The biller sees the corrected code, never the reason.
    let biller = p.login("biller");
    let billed = biller.read_record(&dx, Purpose::Payment).unwrap();
    let fields: Vec<_> = billed
        .addenda
        .iter()
        .map(|x| x.fields.keys().map(|k| k.to_string()).collect::<Vec<_>>())
        .collect();
    assert_eq!(fields, [vec!["code".to_string()]]);
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

#[test]
fn a_drafts_earlier_versions_are_listed() {
    let p = Practice::new();
    let a = p.login("dr.a");
    let client = new_client(&a, "Sam Doe");
    let plan = a
        .create_record(
            &client,
            RecordKind::TreatmentPlan,
            &[
                ("goals", Value::text("sleep")),
                ("modality", Value::text("CBT")),
            ],
            T,
        )
        .unwrap();
    a.update_record(&plan, &[("goals", Value::text("sleep, work"))], T)
        .unwrap();
    a.update_record(&plan, &[("goals", Value::text("sleep, work, family"))], T)
        .unwrap();
    let versions = a.record_versions(&plan, T).unwrap();
    let goals: Vec<_> = versions
        .iter()
        .map(|v| {
            v.fields
                .get(&confide::FieldName::new("goals").unwrap())
                .cloned()
        })
        .collect();
    assert_eq!(
        goals,
        [
            Some(Value::text("sleep")),
            Some(Value::text("sleep, work")),
            Some(Value::text("sleep, work, family"))
        ]
    );
    let writes: Vec<u64> = versions.iter().map(|v| v.write).collect();
    assert_eq!(writes, [1, 2, 3]);
    assert!(versions.iter().all(|v| v.fields.len() == 2));
    assert_eq!(
        a.read_record(&plan, T).unwrap().get("goals"),
        Some(&Value::text("sleep, work, family"))
    );
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}
