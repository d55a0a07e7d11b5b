//! The fact of treatment is itself confidential. A clinician with no relationship to a client
//! gets exactly the same answer about that client, or any of their entries, as about an id that
//! names nothing; a name look-up finds nothing; and every such request is in the audit log.

mod common;
#[path = "common/stories.rs"]
mod stories;

use std::fmt::Debug;

use common::*;
use confide::{
    AuditEntry, CaseId, CaseKind, Category, ClientId, ConsentId, ConsentRecipient, Date,
    DenyReason, Error, GuardianBasis, JointRecordId, NewGuardian, NoteId, Purpose, RecordId,
    RecordKind, SecretsPolicy, Session, Value,
};
use stories::*;

const T: Purpose = Purpose::Treatment;
const E: Purpose = Purpose::EmergencyTreatment;

/// Ids that name nothing in any vault (random, as a prober would guess them).
const NOBODY: &str = "5f0e4c2b9a7d31e8c6b4a2f0e8d6c4b2";

fn missing<T: std::str::FromStr>() -> T
where
    T::Err: Debug,
{
    NOBODY.parse().unwrap()
}

/// dr.a's client Taylor, in a couple case with Jordan, with one of each kind of entry.
struct Practiced {
    p: Practice,
    taylor: ClientId,
    jordan: ClientId,
    case: CaseId,
    progress: RecordId,
    sud: RecordId,
    note: NoteId,
    joint: JointRecordId,
    consent: ConsentId,
}

fn practice() -> Practiced {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let taylor = new_client(&dr, "Taylor Quinn");
    let jordan = new_client(&dr, "Jordan Quinn");
    let progress = dr
        .create_record(
            &taylor,
            RecordKind::ProgressNote,
            &[("summary", Value::text("Grief after stillbirth"))],
            T,
        )
        .unwrap();
    let sud = dr
        .create_record(
            &taylor,
            RecordKind::SubstanceUse,
            &[("assessment", Value::text("Benzodiazepine misuse"))],
            T,
        )
        .unwrap();
    let note = dr
        .write_psychotherapy_note(&taylor, &[("impressions", Value::text("x"))], T)
        .unwrap();
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::HeldInConfidence,
            &[taylor, jordan],
            T,
        )
        .unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text("joint"))], T)
        .unwrap();
    let dr_a = dr.user_id();
    let consent = dr
        .record_consent(
            &taylor,
            &consent(ConsentRecipient::User(dr_a), &[Category::ProgressNotes], T),
            T,
        )
        .unwrap();
    Practiced {
        p,
        taylor,
        jordan,
        case,
        progress,
        sud,
        note,
        joint,
        consent,
    }
}

/// Both answers are the same refusal: same variant, same fields, same message.
#[track_caller]
fn same_answer<A: Debug, B: Debug>(
    what: &str,
    existing: Result<A, Error>,
    missing: Result<B, Error>,
) {
    let (Err(existing), Err(missing)) = (existing, missing) else {
        panic!("{what}: expected two refusals");
    };
    assert_eq!(format!("{existing:?}"), format!("{missing:?}"), "{what}");
    assert_eq!(existing.to_string(), missing.to_string(), "{what}");
    assert!(
        matches!(
            existing,
            Error::Denied {
                reason: DenyReason::NoRelationship
            }
        ),
        "{what}: {existing:?}"
    );
}

/// dr.b's audit entries for `action`.
fn by(p: &Practice, s: &Session, action: &str) -> Vec<AuditEntry> {
    entries(p, action)
        .into_iter()
        .filter(|e| e.actor == Some(s.user_id()))
        .collect()
}

#[test]
fn an_unrelated_clinician_cannot_tell_a_client_from_nobody() {
    let x = practice();
    let b = x.p.login("dr.b");
    let nobody: ClientId = missing();
    let no_record: RecordId = missing();
    let no_case: CaseId = missing();

    same_answer(
        "read",
        b.read_record(&x.progress, T),
        b.read_record(&no_record, T),
    );
    same_answer(
        "emergency read without break-glass",
        b.read_record(&x.progress, E),
        b.read_record(&no_record, E),
    );
    same_answer(
        "list",
        b.list_records(&x.taylor, T),
        b.list_records(&nobody, T),
    );
    same_answer(
        "emergency list",
        b.list_records(&x.taylor, E),
        b.list_records(&nobody, E),
    );
    let entry = [("summary", Value::text("probe"))];
    same_answer(
        "create",
        b.create_record(&x.taylor, RecordKind::ProgressNote, &entry, T),
        b.create_record(&nobody, RecordKind::ProgressNote, &entry, T),
    );
    same_answer(
        "psychotherapy note",
        b.write_psychotherapy_note(&x.taylor, &entry, T),
        b.write_psychotherapy_note(&nobody, &entry, T),
    );
    same_answer(
        "leave case",
        b.leave_case(&x.case, &x.taylor, T),
        b.leave_case(&no_case, &nobody, T),
    );
    same_answer(
        "leave case, real case, stranger",
        b.leave_case(&x.case, &x.taylor, T),
        b.leave_case(&x.case, &nobody, T),
    );
    same_answer(
        "leave case, real member, no such case",
        b.leave_case(&x.case, &x.jordan, T),
        b.leave_case(&no_case, &x.jordan, T),
    );
    assert_eq!(b.key_stats().unwrapped, 0, "refusals unwrap no data key");

    // Every probe is in the log, refused, with no field named: existing and missing alike.
    let reads = by(&x.p, &b, "record.read");
    assert_eq!(reads.len(), 4);
    for t in [x.progress.to_string(), no_record.to_string()] {
        assert_eq!(
            reads
                .iter()
                .filter(|e| e.target.as_deref() == Some(t.as_str()))
                .count(),
            2
        );
    }
    let lists = by(&x.p, &b, "record.list");
    assert_eq!(lists.len(), 4);
    assert_eq!(
        lists.iter().filter(|e| e.client == Some(x.taylor)).count(),
        2
    );
    assert_eq!(lists.iter().filter(|e| e.client == Some(nobody)).count(), 2);
    let creates = by(&x.p, &b, "record.create");
    assert_eq!(creates.len(), 2);
    assert_eq!(by(&x.p, &b, "note.create").len(), 2);
    let leaves = by(&x.p, &b, "case.leave");
    assert_eq!(leaves.len(), 6);
    let probes = [reads, lists, creates, leaves].concat();
    assert!(
        probes
            .iter()
            .all(|e| e.outcome == "denied:no-relationship" && e.fields.is_empty())
    );
    assert_log_intact(&x.p);
}

#[test]
fn an_unrelated_clinician_cannot_tell_a_note_case_or_consent_from_nothing() {
    let x = practice();
    let b = x.p.login("dr.b");
    let nobody: ClientId = missing();
    same_answer(
        "psychotherapy note",
        b.read_psychotherapy_note(&x.note, T),
        b.read_psychotherapy_note(&missing(), T),
    );
    same_answer(
        "joint record",
        b.read_joint_record(&x.joint, T),
        b.read_joint_record(&missing(), T),
    );
    same_answer(
        "joint listing",
        b.list_joint_records(&x.case, T),
        b.list_joint_records(&missing(), T),
    );
    same_answer(
        "export",
        b.export_for_client(&x.taylor),
        b.export_for_client(&nobody),
    );
    same_answer(
        "guardian export",
        b.export_for_guardian(&x.taylor, &missing()),
        b.export_for_guardian(&nobody, &missing()),
    );
    let c = consent(
        ConsentRecipient::User(b.user_id()),
        &[Category::ProgressNotes],
        T,
    );
    same_answer(
        "record consent",
        b.record_consent(&x.taylor, &c, T),
        b.record_consent(&nobody, &c, T),
    );
    same_answer(
        "revoke consent",
        b.revoke_consent(&x.consent, T),
        b.revoke_consent(&missing(), T),
    );
    let me = b.user_id();
    same_answer(
        "join the care team",
        b.assign_care_team(&x.taylor, &me, T),
        b.assign_care_team(&nobody, &me, T),
    );
    same_answer(
        "minor status",
        b.set_minor_status(&x.taylor, None, T),
        b.set_minor_status(&nobody, None, T),
    );
    let custody = NewGuardian {
        basis: GuardianBasis::Parent,
        may_access: true,
        may_authorize: true,
        until_ms: None,
    };
    same_answer(
        "record guardian",
        b.record_guardian(&x.taylor, &custody, T),
        b.record_guardian(&nobody, &custody, T),
    );
    same_answer(
        "end guardian",
        b.end_guardian(&x.taylor, &missing(), T),
        b.end_guardian(&nobody, &missing(), T),
    );
    same_answer(
        "list guardians",
        b.list_guardians(&x.taylor, T),
        b.list_guardians(&nobody, T),
    );
    same_answer(
        "share into joint",
        b.share_into_joint(&x.progress, T),
        b.share_into_joint(&missing(), T),
    );
    assert_eq!(b.key_stats().unwrapped, 0);
    assert!(
        by(&x.p, &b, "note.read")
            .iter()
            .all(|e| e.outcome == "denied:no-relationship")
    );
    assert_eq!(by(&x.p, &b, "export.release").len(), 4);
    assert_log_intact(&x.p);
}

#[test]
fn a_name_search_finds_only_the_clients_one_treats() {
    let x = practice();
    let dob = Date::new(1988, 3, 14).unwrap();
    let a = x.p.login("dr.a");
    assert_eq!(a.find_client("Taylor Quinn", &dob, T).unwrap(), [x.taylor]);
    let b = x.p.login("dr.b");
    assert!(b.find_client("Taylor Quinn", &dob, T).unwrap().is_empty());
    assert!(b.find_client("taylor  QUINN", &dob, T).unwrap().is_empty());
    assert!(b.find_client("Nobody Atall", &dob, T).unwrap().is_empty());
    let finds = by(&x.p, &b, "client.find");
    assert_eq!(finds.len(), 3);
    assert!(
        finds.iter().all(|e| e.client.is_none()),
        "the log ties dr.b to no client"
    );
    // The probe by name looks the same in the log as the probe for nobody.
    assert_eq!(finds[0].outcome, finds[2].outcome);
    assert_eq!(b.key_stats().unwrapped, 0);
    assert_log_intact(&x.p);
}

#[test]
fn a_substance_use_record_is_not_told_apart_by_an_emergency_probe() {
    // Without break-glass, an ETREAT read of a Part 2 record must look like a read of nothing:
    // answering "break-glass excluded" would confirm both the client and a substance-use record.
    let x = practice();
    let b = x.p.login("dr.b");
    same_answer(
        "emergency read of a Part 2 record",
        b.read_record(&x.sud, E),
        b.read_record(&missing::<RecordId>(), E),
    );
    same_answer(
        "emergency read of a psychotherapy note",
        b.read_psychotherapy_note(&x.note, E),
        b.read_psychotherapy_note(&missing(), E),
    );
    assert_log_intact(&x.p);
}

#[test]
fn no_purpose_tells_an_existing_entry_from_a_missing_one() {
    // "NoRelationship: the requester has no relationship with this client (or the target does
    // not exist: the two are not told apart)" -- whatever purpose the prober names.
    let x = practice();
    let b = x.p.login("dr.b");
    let no_record: RecordId = missing();
    let no_note: NoteId = missing();
    let no_case: CaseId = missing();
    let mut told_apart = Vec::new();
    let mut probe = |what: String, existing: Error, missing: Error| {
        if format!("{existing:?}") != format!("{missing:?}") {
            told_apart.push(format!("{what}: {existing} vs {missing}"));
        }
    };
    for purpose in Purpose::ALL.iter().copied() {
        probe(
            format!("read_record {purpose}"),
            b.read_record(&x.progress, purpose).unwrap_err(),
            b.read_record(&no_record, purpose).unwrap_err(),
        );
        probe(
            format!("read_psychotherapy_note {purpose}"),
            b.read_psychotherapy_note(&x.note, purpose).unwrap_err(),
            b.read_psychotherapy_note(&no_note, purpose).unwrap_err(),
        );
        probe(
            format!("leave_case {purpose}"),
            b.leave_case(&x.case, &x.taylor, purpose).unwrap_err(),
            b.leave_case(&no_case, &x.taylor, purpose).unwrap_err(),
        );
    }
    assert_eq!(b.key_stats().unwrapped, 0);
    assert_log_intact(&x.p);
    assert!(
        told_apart.is_empty(),
        "existing and missing targets answered differently:\n{}",
        told_apart.join("\n")
    );
}
