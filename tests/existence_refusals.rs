//! One refusal for someone with no relationship to the client, whatever exists behind the id.
//!
//! The front desk, billing, a clinician who treats someone else and a supervisor who supervises
//! no one each ask for a real record, psychotherapy note, joint record, consent, case and client
//! of a client they have nothing to do with, and for a made-up id of each kind. Every pair gets
//! the same error (`denied:no-relationship`) and the same audit entry: same action, target,
//! fields, purpose and outcome. The one difference is the log's client column: the entry for a
//! real id names the client the request was about (the compliance officer must see who was
//! probed), the entry for a made-up id cannot. The callers here cannot read the log.
//!
//! Refusals that do rest on a relationship keep their own reason (`tests/existence.rs` has the
//! unrelated clinician's other calls).

mod common;
#[path = "common/stories.rs"]
mod stories;

use std::fmt::Debug;

use common::*;
use confide::{
    AuditEntry, AuditFilter, CaseId, CaseKind, Category, ClientId, ConsentId, ConsentRecipient,
    DenyReason, DisclosureRequest, Error, JointRecordId, LegalBasis, NoteId, OutsideParty,
    Passphrase, Purpose, RecordId, RecordKind, Role, SecretsPolicy, Session, Value,
};
use stories::*;

const T: Purpose = Purpose::Treatment;

/// An id that names nothing in any vault, as a prober would guess one.
const NOBODY: &str = "0d1e2f3a4b5c6d7e8f90a1b2c3d4e5f6";

fn missing<I: std::str::FromStr>() -> I
where
    I::Err: Debug,
{
    NOBODY.parse().unwrap()
}

/// dr.a's clients Taylor and Jordan, in a couple case, with one entry of each kind; dr.b treats
/// Sam; `sup` supervises no one; `dr.c` is on Taylor's care team but wrote no note.
struct Clinic {
    p: Practice,
    taylor: ClientId,
    jordan: ClientId,
    case: CaseId,
    progress: RecordId,
    bill: RecordId,
    case_note: RecordId,
    note: NoteId,
    joint: JointRecordId,
    consent: ConsentId,
}

fn clinic() -> Clinic {
    let p = Practice::new();
    let admin = p.admin();
    for (name, role) in [("sup", Role::Supervisor), ("dr.c", Role::Clinician)] {
        admin
            .add_user(name, role, &Passphrase::new(CLIN_PASS))
            .unwrap();
    }
    let dr = p.login("dr.a");
    let taylor = new_client(&dr, "Taylor Quinn");
    let jordan = new_client(&dr, "Jordan Quinn");
    new_client(&p.login("dr.b"), "Sam Doe");
    let dr_c = dr.user_id_of("dr.c").unwrap();
    dr.assign_care_team(&taylor, &dr_c, T).unwrap();
    let progress = dr
        .create_record(
            &taylor,
            RecordKind::ProgressNote,
            &[("summary", Value::text("Grief after a loss"))],
            T,
        )
        .unwrap();
    let bill = dr
        .create_record(
            &taylor,
            RecordKind::Billing,
            &[("service_code", Value::code("90834"))],
            T,
        )
        .unwrap();
    let note = dr
        .write_psychotherapy_note(&taylor, &[("impressions", Value::text("x"))], T)
        .unwrap();
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::NoSecrets,
            &[taylor, jordan],
            T,
        )
        .unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text("joint"))], T)
        .unwrap();
    let case_note = dr
        .write_case_note(&case, &taylor, &[("summary", Value::text("alone"))], T)
        .unwrap();
    let outside = ConsentRecipient::Outside {
        name: "Dr Lee".into(),
        organisation: "Riverside Psychiatry".into(),
        address: "1 River Road".into(),
    };
    let consent = dr
        .record_consent(&taylor, &consent(outside, &[Category::ProgressNotes], T), T)
        .unwrap();
    Clinic {
        p,
        taylor,
        jordan,
        case,
        progress,
        bill,
        case_note,
        note,
        joint,
        consent,
    }
}

/// The four with no relationship to Taylor or Jordan, each with the purpose of their work.
fn strangers(x: &Clinic) -> Vec<(&'static str, Session, Purpose)> {
    [
        ("front.desk", Purpose::Operations),
        ("biller", Purpose::Payment),
        ("dr.b", Purpose::Treatment),
        ("sup", Purpose::Operations),
    ]
    .into_iter()
    .map(|(who, purpose)| (who, x.p.login(who), purpose))
    .collect()
}

/// A refusal and the audit entries the call appended, read back through the audit API.
struct Answer {
    err: Error,
    entries: Vec<AuditEntry>,
}

fn ask<T: Debug>(
    x: &Clinic,
    s: &Session,
    call: impl FnOnce(&Session) -> Result<T, Error>,
) -> Answer {
    let before = confide::audit_log_len(x.p.path()).unwrap();
    let err = match call(s) {
        Err(e) => e,
        Ok(v) => panic!("{}: expected a refusal, got {v:?}", s.user_name()),
    };
    let mine = AuditFilter {
        actor: Some(s.user_id()),
        ..AuditFilter::default()
    };
    let entries = confide::read_audit_log(x.p.path(), &mine)
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.seq > before)
        .collect();
    Answer { err, entries }
}

/// The answers for a real id and a made-up one are the same `no-relationship` refusal, audited
/// alike. Only the log's client column may differ: the real client's id for the real target,
/// none (or the made-up client id that was asked about) for the made-up one.
#[track_caller]
fn same(what: &str, real: Answer, made_up: Answer) {
    assert_eq!(
        format!("{:?}", real.err),
        format!("{:?}", made_up.err),
        "{what}"
    );
    assert_eq!(real.err.to_string(), made_up.err.to_string(), "{what}");
    assert!(
        matches!(
            real.err,
            Error::Denied {
                reason: DenyReason::NoRelationship
            }
        ),
        "{what}: {:?}",
        real.err
    );
    assert_eq!(real.entries.len(), 1, "{what}: one entry per call");
    assert_eq!(made_up.entries.len(), 1, "{what}: one entry per call");
    let (r, m) = (&real.entries[0], &made_up.entries[0]);
    assert_eq!(r.outcome, "denied:no-relationship", "{what}");
    assert_eq!(m.outcome, r.outcome, "{what}");
    assert_eq!(m.action, r.action, "{what}");
    assert_eq!(m.purpose, r.purpose, "{what}");
    assert_eq!(m.target.is_some(), r.target.is_some(), "{what}");
    assert!(r.fields.is_empty() && m.fields.is_empty(), "{what}");
    let nobody: ClientId = missing();
    assert!(m.client.is_none() || m.client == Some(nobody), "{what}");
}

#[test]
fn staff_with_no_relationship_cannot_tell_an_entry_from_nothing() {
    let x = clinic();
    for (who, s, purpose) in strangers(&x) {
        // Whatever purpose they state, not only their own.
        for p in Purpose::ALL.iter().copied() {
            let what = |call: &str| format!("{who}: {call} {p}");
            same(
                &what("read_record"),
                ask(&x, &s, |s| s.read_record(&x.progress, p)),
                ask(&x, &s, |s| s.read_record(&missing(), p)),
            );
            same(
                &what("read_psychotherapy_note"),
                ask(&x, &s, |s| s.read_psychotherapy_note(&x.note, p)),
                ask(&x, &s, |s| s.read_psychotherapy_note(&missing(), p)),
            );
            same(
                &what("read_joint_record"),
                ask(&x, &s, |s| s.read_joint_record(&x.joint, p)),
                ask(&x, &s, |s| s.read_joint_record(&missing(), p)),
            );
            same(
                &what("revoke_consent"),
                ask(&x, &s, |s| s.revoke_consent(&x.consent, p)),
                ask(&x, &s, |s| s.revoke_consent(&missing(), p)),
            );
            same(
                &what("share_into_joint"),
                ask(&x, &s, |s| s.share_into_joint(&x.case_note, p)),
                ask(&x, &s, |s| s.share_into_joint(&missing(), p)),
            );
        }
        let entry = [("summary", Value::text("probe"))];
        same(
            &format!("{who}: update_record"),
            ask(&x, &s, |s| s.update_record(&x.progress, &entry, purpose)),
            ask(&x, &s, |s| s.update_record(&missing(), &entry, purpose)),
        );
        same(
            &format!("{who}: list_joint_records"),
            ask(&x, &s, |s| s.list_joint_records(&x.case, purpose)),
            ask(&x, &s, |s| s.list_joint_records(&missing(), purpose)),
        );
        same(
            &format!("{who}: write_joint_record"),
            ask(&x, &s, |s| s.write_joint_record(&x.case, &entry, purpose)),
            ask(&x, &s, |s| {
                s.write_joint_record(&missing(), &entry, purpose)
            }),
        );
        same(
            &format!("{who}: leave_case"),
            ask(&x, &s, |s| s.leave_case(&x.case, &x.jordan, purpose)),
            ask(&x, &s, |s| s.leave_case(&missing(), &missing(), purpose)),
        );
        // The log is the compliance officer's, not theirs: the client named in the entries
        // for real ids is not something the prober can read back.
        assert!(s.audit_tail(10).is_err(), "{who} reads no audit log");
        assert_eq!(s.key_stats().unwrapped, 0, "{who}: refusals unwrap nothing");
    }
    assert_log_intact(&x.p);
}

#[test]
fn staff_with_no_relationship_cannot_tell_a_client_from_nobody() {
    let x = clinic();
    let nobody: ClientId = missing();
    for (who, s, purpose) in strangers(&x) {
        let what = |call: &str| format!("{who}: {call}");
        let entry = [("summary", Value::text("probe"))];
        same(
            &what("create_record"),
            ask(&x, &s, |s| {
                s.create_record(&x.taylor, RecordKind::ProgressNote, &entry, purpose)
            }),
            ask(&x, &s, |s| {
                s.create_record(&nobody, RecordKind::ProgressNote, &entry, purpose)
            }),
        );
        same(
            &what("write_psychotherapy_note"),
            ask(&x, &s, |s| {
                s.write_psychotherapy_note(&x.taylor, &entry, purpose)
            }),
            ask(&x, &s, |s| {
                s.write_psychotherapy_note(&nobody, &entry, purpose)
            }),
        );
        same(
            &what("list_psychotherapy_notes"),
            ask(&x, &s, |s| s.list_psychotherapy_notes(&x.taylor, purpose)),
            ask(&x, &s, |s| s.list_psychotherapy_notes(&nobody, purpose)),
        );
        let c = consent(
            ConsentRecipient::User(s.user_id()),
            &[Category::ProgressNotes],
            T,
        );
        same(
            &what("record_consent"),
            ask(&x, &s, |s| s.record_consent(&x.taylor, &c, purpose)),
            ask(&x, &s, |s| s.record_consent(&nobody, &c, purpose)),
        );
        same(
            &what("list_consents"),
            ask(&x, &s, |s| s.list_consents(&x.taylor, purpose)),
            ask(&x, &s, |s| s.list_consents(&nobody, purpose)),
        );
        let me = s.user_id();
        same(
            &what("assign_care_team"),
            ask(&x, &s, |s| s.assign_care_team(&x.taylor, &me, purpose)),
            ask(&x, &s, |s| s.assign_care_team(&nobody, &me, purpose)),
        );
        same(
            &what("set_minor_status"),
            ask(&x, &s, |s| s.set_minor_status(&x.taylor, None, purpose)),
            ask(&x, &s, |s| s.set_minor_status(&nobody, None, purpose)),
        );
        same(
            &what("export_for_client"),
            ask(&x, &s, |s| s.export_for_client(&x.taylor)),
            ask(&x, &s, |s| s.export_for_client(&nobody)),
        );
        same(
            &what("consultation_extract"),
            ask(&x, &s, |s| s.consultation_extract(&x.taylor)),
            ask(&x, &s, |s| s.consultation_extract(&nobody)),
        );
        same(
            &what("request_erasure"),
            ask(&x, &s, |s| s.request_erasure(&x.taylor)),
            ask(&x, &s, |s| s.request_erasure(&nobody)),
        );
        same(
            &what("accounting"),
            ask(&x, &s, |s| s.accounting(&x.taylor, None)),
            ask(&x, &s, |s| s.accounting(&nobody, None)),
        );
        // A release citing a consent: who may release is decided before the consent is looked
        // up, so "not one of this client's" cannot confirm the client either.
        let release = |client| DisclosureRequest {
            client,
            case: None,
            recipient: OutsideParty {
                name: "Dr Lee".into(),
                organisation: "Riverside Psychiatry".into(),
                address: "1 River Road".into(),
            },
            purpose: T,
            basis: LegalBasis::Authorization,
            consent: Some(missing()),
            reference: None,
            order: None,
            categories: vec![Category::ProgressNotes],
            narrow: None,
            protective: None,
            description: "records requested in writing".into(),
        };
        same(
            &what("disclose"),
            ask(&x, &s, |s| s.disclose(&release(x.taylor))),
            ask(&x, &s, |s| s.disclose(&release(nobody))),
        );
        if matches!(s.role(), Role::Biller | Role::Scheduler) {
            // Break-glass is a clinician's or supervisor's, for any client (its point); anyone
            // else learns nothing from trying it.
            same(
                &what("break_glass"),
                ask(&x, &s, |s| s.break_glass(&x.taylor, "probe", 5)),
                ask(&x, &s, |s| s.break_glass(&nobody, "probe", 5)),
            );
        }
        assert_eq!(s.key_stats().unwrapped, 0, "{who}");
    }
    assert_log_intact(&x.p);
}

#[test]
fn a_practice_duty_for_a_client_that_does_not_exist_is_refused_alike() {
    // The front desk books for any client and the admin opens cases: duties that need no fact
    // about the client. For a client that does not exist, the answer is the same refusal, not
    // a storage error from writing for nobody.
    let x = clinic();
    let nobody: ClientId = missing();
    let desk = x.p.login("front.desk");
    let booking = [("date", Value::text("2031-05-02"))];
    let refused = ask(&x, &desk, |s| {
        s.create_record(
            &nobody,
            RecordKind::Appointment,
            &booking,
            Purpose::Operations,
        )
    });
    assert_denied::<()>(Err(refused.err), DenyReason::NoRelationship);
    assert_eq!(refused.entries[0].outcome, "denied:no-relationship");
    desk.create_record(
        &x.taylor,
        RecordKind::Appointment,
        &booking,
        Purpose::Operations,
    )
    .unwrap();
    let admin = x.p.admin();
    let refused = ask(&x, &admin, |s| {
        s.create_case(
            CaseKind::Couple,
            SecretsPolicy::NoSecrets,
            &[x.taylor, nobody],
            Purpose::Operations,
        )
    });
    assert_denied::<()>(Err(refused.err), DenyReason::NoRelationship);
    assert_log_intact(&x.p);
}

#[test]
fn a_refusal_that_rests_on_a_relationship_keeps_its_reason() {
    let x = clinic();
    // On the care team, but not the note's author (45 CFR 164.508(a)(2)).
    let c = x.p.login("dr.c");
    assert_denied(
        c.read_psychotherapy_note(&x.note, T),
        DenyReason::NotNoteAuthor,
    );
    // Treating, for a purpose no rule names.
    assert_denied(
        c.read_record(&x.progress, Purpose::Legal),
        DenyReason::PurposeNotPermitted,
    );
    // Supervising the care team, asking for billing no supervisor reads.
    let admin = x.p.admin();
    let sup = admin.user_id_of("sup").unwrap();
    let dr_a = admin.user_id_of("dr.a").unwrap();
    admin.set_supervision(&sup, &dr_a, false).unwrap();
    let s = x.p.login("sup");
    assert_denied(s.read_record(&x.bill, T), DenyReason::RoleNotPermitted);
    // Billing's own duty, for the wrong purpose, or a booking with a field outside its scope.
    let biller = x.p.login("biller");
    assert_denied(
        biller.read_record(&x.bill, T),
        DenyReason::PurposeNotPermitted,
    );
    let desk = x.p.login("front.desk");
    assert_denied(
        desk.create_record(
            &x.taylor,
            RecordKind::Appointment,
            &[("reason", Value::text("panic attacks"))],
            Purpose::Operations,
        ),
        DenyReason::FieldNotPermitted,
    );
    let reasons: Vec<String> = entries(&x.p, "note.read")
        .into_iter()
        .chain(entries(&x.p, "record.read"))
        .filter(|e| e.outcome.starts_with("denied:"))
        .map(|e| e.outcome)
        .collect();
    assert_eq!(
        reasons,
        [
            "denied:not-note-author",
            "denied:purpose-not-permitted",
            "denied:role-not-permitted",
            "denied:purpose-not-permitted",
        ]
    );
    assert_log_intact(&x.p);
}
