//! Guardians and custody (45 CFR 164.502(g)): a parent or a court-appointed guardian acts for a
//! minor only within the custody order recorded for them. Sam, 11, has divorced parents: the
//! mother has custody (she sees the record and signs for Sam), the father may see the record but
//! not sign. The order ends on a date. A refusal is a refusal: `Denied` with the reason, and the
//! export or consent logged as denied; a partial export says what it withheld and why.

mod common;
#[path = "common/stories.rs"]
mod stories;
#[path = "common/tampered.rs"]
mod tampered;

use std::time::Duration;

use common::*;
use confide::{
    Category, ClientId, ConsentRecipient, DenyReason, GuardianBasis, GuardianId, GuardianSummary,
    MinorFacts, NewConsent, NewGuardian, Purpose, RecordId, RecordKind, Role, Session, TestClock,
    Value, Withheld,
};
use stories::{assert_denied, assert_invalid, assert_log_intact, entries};
use tampered::{
    assert_failure_audited, assert_findings, assert_scope_failed, facts_changed, vouched_for,
};

const T: Purpose = Purpose::Treatment;
/// 2026-03-02 09:00 UTC.
const NINE_AM: i64 = 1_772_442_000_000;
const DAY: Duration = Duration::from_secs(24 * 3600);
const DAY_MS: i64 = 24 * 3600 * 1000;
/// The custody order runs thirty days from the start of the story.
const ORDER_ENDS: i64 = NINE_AM + 30 * DAY_MS;
const PROGRESS: &str = "Sleeping better; worries about moving between two homes";
const SUD: &str = "Tried alcohol at a party twice";

/// Sam and the clinic: dr.a treats Sam; both parents are recorded under the order.
struct Family {
    p: Practice,
    clock: TestClock,
    dr: Session,
    sam: ClientId,
    progress: RecordId,
    mother: GuardianId,
    father: GuardianId,
}

fn order(may_access: bool, may_authorize: bool) -> NewGuardian {
    NewGuardian {
        basis: GuardianBasis::Parent,
        may_access,
        may_authorize,
        until_ms: Some(ORDER_ENDS),
    }
}

fn family() -> Family {
    let clock = TestClock::starting_at(NINE_AM);
    // Sessions stay open through the weeks the stories pass (the idle timeout has its own test).
    let config = test_config()
        .with_test_clock(clock)
        .with_idle_timeout(Duration::from_secs(60 * 24 * 3600));
    let p = Practice::with_config(config);
    let dr = p.login("dr.a");
    let sam = new_client(&dr, "Sam Okafor");
    let progress = dr
        .create_record(
            &sam,
            RecordKind::ProgressNote,
            &[("summary", Value::text(PROGRESS))],
            T,
        )
        .unwrap();
    dr.set_minor_status(&sam, Some(MinorFacts::default()), T)
        .unwrap();
    let mother = dr.record_guardian(&sam, &order(true, true), T).unwrap();
    let father = dr.record_guardian(&sam, &order(true, false), T).unwrap();
    Family {
        p,
        clock,
        dr,
        sam,
        progress,
        mother,
        father,
    }
}

impl Family {
    /// A consent to share progress notes with the school counsellor, signed today by `by`.
    fn consent_signed_by(&self, by: Option<GuardianId>) -> NewConsent {
        let today = self.clock.now_ms();
        NewConsent {
            recipient: ConsentRecipient::Outside {
                name: "Ms. Adeyemi".into(),
                organisation: "Hillside Primary".into(),
                address: "4 School Lane".into(),
            },
            categories: vec![Category::ProgressNotes],
            purpose: T,
            start_ms: today,
            expires_ms: Some(today + 90 * DAY_MS),
            signed_on_ms: today,
            description: "progress notes, to coordinate support at school".into(),
            scope: None,
            case: None,
            expiry_event: None,
            signed_by: by,
        }
    }

    /// The newest entry with `action`: its outcome and target.
    fn last(&self, action: &str) -> (String, Option<String>) {
        let e = entries(&self.p, action).pop().unwrap();
        (e.outcome, e.target)
    }
}

#[test]
fn the_father_may_see_the_record_but_only_the_mother_signs_for_sam() {
    let f = family();
    // The father's export: the general record, released to him as guardian.
    let export = f.dr.export_for_guardian(&f.sam, &f.father).unwrap();
    assert_eq!(export.released_to, Role::Guardian);
    assert_eq!(
        export.records.len(),
        2,
        "demographics and the progress note"
    );
    let progress = export.records.iter().find(|r| r.id == f.progress).unwrap();
    assert_eq!(progress.get("summary").unwrap().reveal().as_str(), PROGRESS);
    assert!(export.withheld.is_empty());
    let granted = ("granted:care-team".to_owned(), Some(f.father.to_string()));
    assert_eq!(f.last("export.release"), granted);

    // He cannot sign a consent for Sam: refused, logged as refused, nothing recorded.
    let by_father = f.consent_signed_by(Some(f.father));
    assert_denied(
        f.dr.record_consent(&f.sam, &by_father, T),
        DenyReason::NotPersonalRepresentative,
    );
    let refused = f.last("consent.record");
    assert_eq!(refused.0, "denied:not-personal-representative");
    assert!(f.dr.list_consents(&f.sam, T).unwrap().is_empty());

    // The mother can, and the consent stands.
    let by_mother = f.consent_signed_by(Some(f.mother));
    let consent = f.dr.record_consent(&f.sam, &by_mother, T).unwrap();
    assert_eq!(
        f.last("consent.record"),
        ("granted:care-team".to_owned(), Some(consent.to_string()))
    );
    let listed = f.dr.list_consents(&f.sam, T).unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [consent]);
    // She sees the record too.
    let hers = f.dr.export_for_guardian(&f.sam, &f.mother).unwrap();
    assert_eq!(hers.records.len(), 2);
    assert_log_intact(&f.p);
}

#[test]
fn the_custody_orders_end_date_ends_both_parents() {
    let f = family();
    // The last minute of the order: both still act.
    let to_last_minute = u64::try_from(ORDER_ENDS - 60_000 - NINE_AM).unwrap();
    f.clock.advance(Duration::from_millis(to_last_minute));
    assert!(f.dr.export_for_guardian(&f.sam, &f.father).is_ok());
    assert!(f.dr.export_for_guardian(&f.sam, &f.mother).is_ok());
    // A form the mother signed in time but brought in after the end is not recorded either.
    let signed_in_time = f.consent_signed_by(Some(f.mother));

    f.clock.advance(Duration::from_secs(60));
    assert_eq!(f.clock.now_ms(), ORDER_ENDS);
    for parent in [f.father, f.mother] {
        assert_denied(
            f.dr.export_for_guardian(&f.sam, &parent),
            DenyReason::NotPersonalRepresentative,
        );
        assert_eq!(
            f.last("export.release"),
            (
                "denied:not-personal-representative".to_owned(),
                Some(parent.to_string())
            )
        );
    }
    assert_denied(
        f.dr.record_consent(&f.sam, &signed_in_time, T),
        DenyReason::NotPersonalRepresentative,
    );
    assert_denied(
        f.dr.record_consent(&f.sam, &f.consent_signed_by(Some(f.mother)), T),
        DenyReason::NotPersonalRepresentative,
    );
    assert_eq!(
        f.last("consent.record").0,
        "denied:not-personal-representative"
    );
    assert!(f.dr.list_consents(&f.sam, T).unwrap().is_empty());
    // Sam's own record is untouched by the order.
    assert_eq!(f.dr.export_for_client(&f.sam).unwrap().records.len(), 2);
    assert_log_intact(&f.p);
}

#[test]
fn a_minor_who_consented_to_their_own_care_has_no_representative_for_it() {
    let f = family();
    f.clock.advance(DAY);
    let own_care = MinorFacts {
        consented_to_own_treatment: true,
        ..MinorFacts::default()
    };
    f.dr.set_minor_status(&f.sam, Some(own_care), T).unwrap();
    let reads_before = entries(&f.p, "record.read").len();
    for parent in [f.mother, f.father] {
        assert_denied(
            f.dr.export_for_guardian(&f.sam, &parent),
            DenyReason::MinorProtected,
        );
        assert_eq!(
            f.last("export.release"),
            (
                "denied:minor-protected".to_owned(),
                Some(parent.to_string())
            )
        );
    }
    // Refused as a whole: no entry was even decided for the guardian.
    assert_eq!(entries(&f.p, "record.read").len(), reads_before);
    // Nor does the custodial parent sign for this care: only Sam does.
    assert_denied(
        f.dr.record_consent(&f.sam, &f.consent_signed_by(Some(f.mother)), T),
        DenyReason::MinorProtected,
    );
    assert_eq!(f.last("consent.record").0, "denied:minor-protected");
    let own =
        f.dr.record_consent(&f.sam, &f.consent_signed_by(None), T)
            .unwrap();
    let listed = f.dr.list_consents(&f.sam, T).unwrap();
    assert_eq!(listed.iter().map(|c| c.id).collect::<Vec<_>>(), [own]);
    assert_log_intact(&f.p);
}

#[test]
fn a_guardian_of_another_child_is_not_sams() {
    let f = family();
    let alex = new_client(&f.dr, "Alex Brandt");
    f.dr.set_minor_status(&alex, Some(MinorFacts::default()), T)
        .unwrap();
    let alexs_parent = f.dr.record_guardian(&alex, &order(true, true), T).unwrap();
    assert!(f.dr.export_for_guardian(&alex, &alexs_parent).is_ok());
    let nobody: GuardianId = "5f0e4c2b9a7d31e8c6b4a2f0e8d6c4b2".parse().unwrap();
    for stranger in [alexs_parent, nobody] {
        assert_denied(
            f.dr.export_for_guardian(&f.sam, &stranger),
            DenyReason::NotPersonalRepresentative,
        );
        assert_eq!(
            f.last("export.release").0,
            "denied:not-personal-representative"
        );
        assert_denied(
            f.dr.record_consent(&f.sam, &f.consent_signed_by(Some(stranger)), T),
            DenyReason::NotPersonalRepresentative,
        );
        // Nor can Sam's clinician end them as Sam's.
        assert_invalid(f.dr.end_guardian(&f.sam, &stranger, T));
    }
    assert!(f.dr.export_for_guardian(&alex, &alexs_parent).is_ok());
    assert_log_intact(&f.p);
}

#[test]
fn an_ended_guardian_is_refused_from_then_on() {
    let f = family();
    f.clock.advance(DAY);
    f.dr.end_guardian(&f.sam, &f.father, T).unwrap();
    assert_eq!(
        f.last("guardian.end"),
        ("granted:care-team".to_owned(), Some(f.father.to_string()))
    );
    assert_denied(
        f.dr.export_for_guardian(&f.sam, &f.father),
        DenyReason::NotPersonalRepresentative,
    );
    assert_eq!(
        f.last("export.release"),
        (
            "denied:not-personal-representative".to_owned(),
            Some(f.father.to_string())
        )
    );
    // Ended once: a second end is refused as input, and the mother still acts.
    assert_invalid(f.dr.end_guardian(&f.sam, &f.father, T));
    assert!(f.dr.export_for_guardian(&f.sam, &f.mother).is_ok());
    let listed = f.dr.list_guardians(&f.sam, T).unwrap();
    let father = listed.iter().find(|g| g.id == f.father).unwrap();
    assert_eq!(father.ended_ms, Some(NINE_AM + DAY_MS));
    assert_log_intact(&f.p);
}

#[test]
fn a_partial_export_lists_each_withheld_entry_and_why() {
    let f = family();
    let sud =
        f.dr.create_record(
            &f.sam,
            RecordKind::SubstanceUse,
            &[("assessment", Value::text(SUD))],
            T,
        )
        .unwrap();
    f.dr.write_psychotherapy_note(&f.sam, &[("impressions", Value::text("guarded"))], T)
        .unwrap();
    let export = f.dr.export_for_guardian(&f.sam, &f.father).unwrap();
    // A Part 2 record never goes to a guardian (42 CFR Part 2; the matrix has no such row).
    assert_eq!(
        export.withheld,
        [Withheld {
            id: sud.to_string(),
            kind: "substance_use".into(),
            reason: DenyReason::RoleNotPermitted,
        }]
    );
    assert_eq!(export.records.len(), 2);
    assert!(export.records.iter().all(|r| r.id != sud));
    // The refusal of that entry is in the log, no field named; the export itself was granted.
    let read = entries(&f.p, "record.read")
        .into_iter()
        .rfind(|e| e.target == Some(sud.to_string()))
        .unwrap();
    assert_eq!(read.outcome, "denied:role-not-permitted");
    assert!(read.fields.is_empty());
    assert_eq!(f.last("export.release").0, "granted:care-team");
    assert_log_intact(&f.p);
}

#[test]
fn a_guardian_is_recorded_for_a_minor_with_at_least_one_right() {
    let f = family();
    let adult = new_client(&f.dr, "Jo Okafor");
    assert_invalid(f.dr.record_guardian(&adult, &order(true, true), T));
    assert_invalid(f.dr.record_guardian(&f.sam, &order(false, false), T));
    let ended = NewGuardian {
        until_ms: Some(NINE_AM),
        ..order(true, false)
    };
    assert_invalid(f.dr.record_guardian(&f.sam, &ended, T));
    let court = NewGuardian {
        basis: GuardianBasis::CourtAppointed,
        may_access: true,
        may_authorize: true,
        until_ms: None,
    };
    let appointed = f.dr.record_guardian(&f.sam, &court, T).unwrap();
    assert_eq!(
        f.last("guardian.record"),
        ("granted:care-team".to_owned(), Some(appointed.to_string()))
    );
    let mut listed = f.dr.list_guardians(&f.sam, T).unwrap();
    listed.sort_by_key(|g| g.id);
    let summary = |id, basis, may_authorize, until_ms| GuardianSummary {
        id,
        basis,
        may_access: true,
        may_authorize,
        until_ms,
        recorded_ms: NINE_AM,
        ended_ms: None,
    };
    let mut want = vec![
        summary(f.mother, GuardianBasis::Parent, true, Some(ORDER_ENDS)),
        summary(f.father, GuardianBasis::Parent, false, Some(ORDER_ENDS)),
        summary(appointed, GuardianBasis::CourtAppointed, true, None),
    ];
    want.sort_by_key(|g| g.id);
    assert_eq!(listed, want);
    assert_eq!(
        entries(&f.p, "record.list").pop().unwrap().fields,
        ["guardians"]
    );
    // Only the treating clinician manages them.
    let other = f.p.login("dr.b");
    assert_denied(
        other.record_guardian(&f.sam, &court, T),
        DenyReason::NoRelationship,
    );
    assert_denied(other.list_guardians(&f.sam, T), DenyReason::NoRelationship);
    assert_log_intact(&f.p);
}

/// The father's row edited in the file to give him the authority to sign: the next decision
/// that reads Sam's facts fails closed on integrity, and `audit-verify` reports Sam's scope at
/// the entry that last vouched for it.
#[test]
fn a_custody_limit_lifted_in_the_file_fails_closed() {
    let f = family();
    let vouch = vouched_for(f.p.path(), "client", f.sam.as_bytes());
    assert_eq!(
        (vouch.action.as_str(), vouch.target.clone()),
        ("guardian.record", Some(f.father.to_string()))
    );
    let changed = raw(f.p.path())
        .execute(
            "UPDATE guardians SET may_authorize = 1 WHERE guardian_id = ?1",
            [f.father.as_bytes()],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let by_father = f.consent_signed_by(Some(f.father));
    assert_scope_failed(
        f.dr.record_consent(&f.sam, &by_father, T),
        "clients",
        f.sam.as_bytes(),
    );
    assert_failure_audited(f.p.path(), "consent.record", &f.dr.user_id());
    // Every other use of Sam's facts fails the same way, the mother's export included.
    assert_scope_failed(
        f.dr.export_for_guardian(&f.sam, &f.mother),
        "clients",
        f.sam.as_bytes(),
    );
    assert_failure_audited(f.p.path(), "export.release", &f.dr.user_id());
    assert!(f.dr.list_consents(&f.sam, T).is_err());
    assert_findings(
        f.p.path(),
        &[facts_changed(vouch.seq, "client", f.sam.as_bytes())],
    );
}
