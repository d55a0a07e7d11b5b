//! Record history as a practice lives it: a clinician signs and is turned to an addendum, a
//! supervisee's entry is co-signed by their training supervisor and by no one else, an
//! administrative entry stays open, a psychotherapy note is drafted, signed and amended by its
//! author alone, and every version survives a key rotation.

mod common;

use common::*;
use confide::{
    AuditAction, AuditFilter, DenyReason, EntryStatus, Error, FieldName, Passphrase, Purpose,
    RecordKind, Role, Session, UserId, Value, read_audit_log,
};

const T: Purpose = Purpose::Treatment;

/// The outcomes of every entry with `action`, oldest first.
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

fn user(p: &Practice, name: &str) -> UserId {
    confide::staff_user_id(p.path(), name).unwrap()
}

/// The value of `field` in each version, oldest first.
fn history_of(versions: &[confide::EntryVersion], field: &str) -> Vec<Option<Value>> {
    let name = FieldName::new(field).unwrap();
    versions
        .iter()
        .map(|v| v.fields.get(&name).cloned())
        .collect()
}

#[track_caller]
fn assert_denied<T: std::fmt::Debug>(result: confide::Result<T>, want: DenyReason) {
    match result {
        Err(Error::Denied { reason, .. }) => assert_eq!(reason, want),
        other => panic!("expected Denied({want:?}), got {other:?}"),
    }
}

#[test]
fn a_signed_progress_note_is_corrected_by_an_addendum_and_the_refusal_says_so() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("panic attacks, twice weekly"))],
            T,
        )
        .unwrap();
    dr.sign_record(&note, T).unwrap();
    let refused = dr
        .update_record(&note, &[("summary", Value::text("weekly"))], T)
        .unwrap_err();
    assert!(
        matches!(
            refused,
            Error::Signed {
                next: "Session::add_addendum"
            }
        ),
        "{refused:?}"
    );
    assert!(refused.to_string().contains("add_addendum"), "{refused}");
    assert_eq!(outcomes(&p, AuditAction::RecordUpdate), ["failed:signed"]);
    let fix = dr
        .add_addendum(
            &note,
            "frequency misheard",
            &[("summary", Value::text("weekly"))],
            T,
        )
        .unwrap();
    let read = dr.read_record(&note, T).unwrap();
    assert_eq!(
        read.get("summary"),
        Some(&Value::text("panic attacks, twice weekly"))
    );
    assert_eq!(read.addenda.len(), 1);
    assert_eq!(read.addenda[0].id, fix);
    assert_eq!(read.addenda[0].get("summary"), Some(&Value::text("weekly")));
    let EntryStatus::Signed { signed, .. } = read.addenda[0].status else {
        panic!("{:?}", read.addenda[0].status);
    };
    assert_eq!(signed.by, user(&p, "dr.a"));
    // An addendum is not itself corrected by an addendum, nor signed again.
    let nested = dr.add_addendum(&fix, "again", &[("summary", Value::text("x"))], T);
    assert!(
        matches!(nested, Err(Error::InvalidInput { .. })),
        "{nested:?}"
    );
    let resign = dr.sign_record(&fix, T);
    assert!(
        matches!(resign, Err(Error::InvalidInput { .. })),
        "{resign:?}"
    );
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

/// dr.a in training under dr.sup; dr.other supervises dr.a outside any training programme;
/// dr.b treats the client too.
struct Training {
    p: Practice,
    dx: confide::RecordId,
}

fn training() -> Training {
    let p = Practice::new();
    let admin = p.admin();
    for name in ["dr.sup", "dr.other"] {
        admin
            .add_user(name, Role::Supervisor, &Passphrase::new(CLIN_PASS))
            .unwrap();
    }
    let dr_a = user(&p, "dr.a");
    admin
        .set_supervision(&user(&p, "dr.sup"), &dr_a, true)
        .unwrap();
    admin
        .set_supervision(&user(&p, "dr.other"), &dr_a, false)
        .unwrap();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    dr.assign_care_team(&client, &user(&p, "dr.b"), T).unwrap();
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    Training { p, dx }
}

#[test]
fn a_supervisees_entry_is_cosigned_by_their_training_supervisor_only() {
    let t = training();
    let dr = t.p.login("dr.a");
    let sup = t.p.login("dr.sup");
    // Nothing to co-sign before the author signs.
    let early = sup.cosign_record(&t.dx, T);
    assert!(
        matches!(early, Err(Error::InvalidInput { .. })),
        "{early:?}"
    );
    dr.sign_record(&t.dx, T).unwrap();
    // Another clinician of the care team may neither sign nor co-sign dr.a's entry, and a
    // supervisor outside a training programme may not co-sign it.
    let dr_b = t.p.login("dr.b");
    assert_denied(dr_b.sign_record(&t.dx, T), DenyReason::NotAuthor);
    assert_denied(dr_b.cosign_record(&t.dx, T), DenyReason::NotAuthor);
    let other = t.p.login("dr.other");
    assert_denied(other.cosign_record(&t.dx, T), DenyReason::NotAuthor);
    assert_eq!(
        outcomes(&t.p, AuditAction::RecordCosign),
        ["denied:not-author", "denied:not-author"]
    );
    // A second signature by the author is refused.
    let again = dr.sign_record(&t.dx, T);
    assert!(
        matches!(again, Err(Error::InvalidInput { .. })),
        "{again:?}"
    );
    assert_eq!(
        outcomes(&t.p, AuditAction::RecordSign),
        ["granted:care-team", "denied:not-author"]
    );

    sup.cosign_record(&t.dx, T).unwrap();
    let read = dr.read_record(&t.dx, T).unwrap();
    let EntryStatus::Signed { signed, cosigned } = read.status else {
        panic!("{:?}", read.status);
    };
    assert_eq!(
        (signed.by, cosigned.map(|c| c.by)),
        (user(&t.p, "dr.a"), Some(user(&t.p, "dr.sup")))
    );
    let twice = sup.cosign_record(&t.dx, T);
    assert!(
        matches!(twice, Err(Error::InvalidInput { .. })),
        "{twice:?}"
    );
    let cosigns = outcomes(&t.p, AuditAction::RecordCosign);
    assert_eq!(cosigns.len(), 3);
    assert!(cosigns[2].starts_with("granted"), "{cosigns:?}");
    // The co-signed entry is as closed as the signed one.
    let refused = dr.update_record(&t.dx, &[("code", Value::code("F43.10"))], T);
    assert!(matches!(refused, Err(Error::Signed { .. })), "{refused:?}");
    assert!(confide::verify_audit_log(t.p.path()).unwrap().is_intact());
}

#[test]
fn administrative_entries_stay_open_and_are_never_signed() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let demographics = dr.list_records(&client, T).unwrap()[0].id;
    let appointment = dr
        .create_record(
            &client,
            RecordKind::Appointment,
            &[("when", Value::text("Tuesday 10:00"))],
            T,
        )
        .unwrap();
    for (id, field) in [(demographics, "full_name"), (appointment, "when")] {
        let signing = dr.sign_record(&id, T);
        assert!(
            matches!(signing, Err(Error::InvalidInput { .. })),
            "{signing:?}"
        );
        assert_eq!(dr.read_record(&id, T).unwrap().status, EntryStatus::Draft);
        dr.update_record(&id, &[(field, Value::text("changed"))], T)
            .unwrap();
        dr.update_record(&id, &[(field, Value::text("changed again"))], T)
            .unwrap();
        let versions = dr.record_versions(&id, T).unwrap();
        let values = history_of(&versions, field);
        assert_eq!(values.len(), 3, "{values:?}");
        assert_eq!(
            values[1..],
            [
                Some(Value::text("changed")),
                Some(Value::text("changed again"))
            ]
        );
    }
    assert!(outcomes(&p, AuditAction::RecordSign).is_empty());
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

#[test]
fn a_psychotherapy_note_is_drafted_signed_and_amended_by_its_author_alone() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    dr.assign_care_team(&client, &user(&p, "dr.b"), T).unwrap();
    let note = dr
        .write_psychotherapy_note(&client, &[("process", Value::text("resistance"))], T)
        .unwrap();
    dr.update_psychotherapy_note(&note, &[("process", Value::text("resistance, grief"))], T)
        .unwrap();
    let drafts = dr.psychotherapy_note_versions(&note, T).unwrap();
    assert_eq!(
        history_of(&drafts, "process"),
        [
            Some(Value::text("resistance")),
            Some(Value::text("resistance, grief"))
        ]
    );
    dr.sign_psychotherapy_note(&note, T).unwrap();
    let refused = dr.update_psychotherapy_note(&note, &[("process", Value::text("x"))], T);
    assert!(
        matches!(
            refused,
            Err(Error::Signed {
                next: "Session::add_note_addendum"
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        outcomes(&p, AuditAction::NoteUpdate),
        ["granted:care-team", "failed:signed"]
    );
    let first = dr
        .add_note_addendum(&note, "recalled", &[("process", Value::text("anger"))], T)
        .unwrap();
    let second = dr
        .add_note_addendum(&note, "supervision", &[("plan", Value::text("EMDR"))], T)
        .unwrap();
    let read = dr.read_psychotherapy_note(&note, T).unwrap();
    assert_eq!(read.get("process"), Some(&Value::text("resistance, grief")));
    assert_eq!(
        read.addenda.iter().map(|a| a.id).collect::<Vec<_>>(),
        [first, second]
    );
    assert_eq!(
        read.addenda
            .iter()
            .map(|a| a.get("reason").cloned())
            .collect::<Vec<_>>(),
        [
            Some(Value::text("recalled")),
            Some(Value::text("supervision"))
        ]
    );
    assert_eq!(read.addenda[1].addendum_of, Some(note));
    // Another clinician of the care team: not the note's author.
    let dr_b = p.login("dr.b");
    assert_denied(
        dr_b.add_note_addendum(&note, "mine", &[("process", Value::text("y"))], T),
        DenyReason::NotNoteAuthor,
    );
    assert_denied(
        dr_b.update_psychotherapy_note(&note, &[("process", Value::text("y"))], T),
        DenyReason::NotNoteAuthor,
    );
    assert_eq!(
        outcomes(&p, AuditAction::NoteAddendum),
        [
            "granted:care-team",
            "granted:care-team",
            "denied:not-note-author"
        ]
    );
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

/// A signed plan's draft history, its addendum and a note's versions, all re-encrypted under
/// the client's new keys: each still reads as it did, and the log still holds.
#[test]
fn versions_survive_a_key_rotation() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let plan = dr
        .create_record(
            &client,
            RecordKind::TreatmentPlan,
            &[("goals", Value::text("sleep"))],
            T,
        )
        .unwrap();
    dr.update_record(&plan, &[("goals", Value::text("sleep, work"))], T)
        .unwrap();
    dr.sign_record(&plan, T).unwrap();
    let fix = dr
        .add_addendum(&plan, "family", &[("goals", Value::text("family"))], T)
        .unwrap();
    let note = dr
        .write_psychotherapy_note(&client, &[("process", Value::text("one"))], T)
        .unwrap();
    dr.update_psychotherapy_note(&note, &[("process", Value::text("two"))], T)
        .unwrap();
    let before = |dr: &Session| {
        (
            history_of(&dr.record_versions(&plan, T).unwrap(), "goals"),
            history_of(
                &dr.psychotherapy_note_versions(&note, T).unwrap(),
                "process",
            ),
        )
    };
    let was = before(&dr);
    assert_eq!(
        was,
        (
            vec![Some(Value::text("sleep")), Some(Value::text("sleep, work"))],
            vec![Some(Value::text("one")), Some(Value::text("two"))]
        )
    );
    let rotation = p.admin().rotate_client_keys(&client, None).unwrap();
    assert!(rotation.finished, "{rotation:?}");
    assert_eq!(rotation.remaining, 0);
    assert_eq!(before(&dr), was);
    let read = dr.read_record(&plan, T).unwrap();
    assert!(matches!(read.status, EntryStatus::Signed { .. }));
    assert_eq!(read.addenda[0].id, fix);
    assert_eq!(read.addenda[0].get("goals"), Some(&Value::text("family")));
    let refused = dr.update_record(&plan, &[("goals", Value::text("x"))], T);
    assert!(matches!(refused, Err(Error::Signed { .. })), "{refused:?}");
    dr.update_psychotherapy_note(&note, &[("process", Value::text("three"))], T)
        .unwrap();
    assert_eq!(
        history_of(
            &dr.psychotherapy_note_versions(&note, T).unwrap(),
            "process"
        ),
        [
            Some(Value::text("one")),
            Some(Value::text("two")),
            Some(Value::text("three"))
        ]
    );
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

#[test]
fn a_signed_entrys_versions_are_its_draft_history() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[
                ("code", Value::code("F41.1")),
                ("note", Value::text("provisional")),
            ],
            T,
        )
        .unwrap();
    dr.update_record(&dx, &[("code", Value::code("F41.0"))], T)
        .unwrap();
    dr.update_record(&dx, &[("note", Value::text("confirmed"))], T)
        .unwrap();
    dr.sign_record(&dx, T).unwrap();
    let versions = dr.record_versions(&dx, T).unwrap();
    assert_eq!(
        versions.iter().map(|v| v.write).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        history_of(&versions, "code"),
        [
            Some(Value::code("F41.1")),
            Some(Value::code("F41.0")),
            Some(Value::code("F41.0"))
        ]
    );
    assert_eq!(
        history_of(&versions, "note"),
        [
            Some(Value::text("provisional")),
            Some(Value::text("provisional")),
            Some(Value::text("confirmed"))
        ]
    );
    // One audited read, naming every envelope it opened.
    let filter = AuditFilter {
        action: Some(AuditAction::RecordRead),
        ..AuditFilter::default()
    };
    let reads = read_audit_log(p.path(), &filter).unwrap().entries;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].fields, ["code@1", "note@1", "code@2", "note@3"]);
}
