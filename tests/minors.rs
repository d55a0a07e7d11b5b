//! Minors (45 CFR 164.502(g)(3)): a parent or guardian receives a minor's general record as their
//! personal representative, but never psychotherapy notes or substance-use records, and nothing
//! at all when the minor consented to their own care, a court directed it, or the guardian agreed
//! to confidentiality: that export is refused, not released empty. Once the client is not a
//! minor, no guardian is their representative. Custody orders have their own stories, in
//! tests/guardians.rs.

mod common;
#[path = "common/stories.rs"]
mod stories;

use common::*;
use confide::{
    ClientId, DenyReason, GuardianBasis, GuardianId, MinorFacts, NewGuardian, Purpose, RecordId,
    RecordKind, Role, Value, Withheld,
};
use stories::*;

const T: Purpose = Purpose::Treatment;
const NOTE: &str = "Says the bruises were from a fight at school; not sure";
const SUD: &str = "Vaping cannabis daily since spring";

/// Riley, 15, treated by dr.a, with a general record, a psychotherapy note and a Part 2 record,
/// and a parent recorded as guardian with full custody.
struct Teen {
    p: Practice,
    riley: ClientId,
    parent: GuardianId,
    general: Vec<RecordId>,
    sud: RecordId,
}

fn teen(status: Option<MinorFacts>) -> Teen {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let riley = new_client(&dr, "Riley Park");
    let mut general = dr
        .list_records(&riley, T)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect::<Vec<_>>();
    for (kind, field, value) in [
        (RecordKind::Diagnosis, "code", Value::code("F43.23")),
        (
            RecordKind::ProgressNote,
            "summary",
            Value::text("Adjustment after move; school refusal improving"),
        ),
        (
            RecordKind::TreatmentPlan,
            "goals",
            Value::text("Attend school four days a week"),
        ),
        (RecordKind::Appointment, "status", Value::text("attended")),
    ] {
        general.push(
            dr.create_record(&riley, kind, &[(field, value)], T)
                .unwrap(),
        );
    }
    let sud = dr
        .create_record(
            &riley,
            RecordKind::SubstanceUse,
            &[("assessment", Value::text(SUD))],
            T,
        )
        .unwrap();
    dr.write_psychotherapy_note(&riley, &[("impressions", Value::text(NOTE))], T)
        .unwrap();
    // The parent is recorded while Riley is a minor; then the status the story needs.
    dr.set_minor_status(&riley, Some(MinorFacts::default()), T)
        .unwrap();
    let custody = NewGuardian {
        basis: GuardianBasis::Parent,
        may_access: true,
        may_authorize: true,
        until_ms: None,
    };
    let parent = dr.record_guardian(&riley, &custody, T).unwrap();
    dr.set_minor_status(&riley, status, T).unwrap();
    Teen {
        p,
        riley,
        parent,
        general,
        sud,
    }
}

/// The record reads of the newest release for `client`: the audit entries after the last login.
fn release_reads(p: &Practice, client: &ClientId) -> Vec<confide::AuditEntry> {
    let log = p.admin().audit_tail(100_000).unwrap();
    let last_release = log
        .iter()
        .rposition(|e| e.action == "export.release")
        .unwrap();
    let first_read = log[..last_release]
        .iter()
        .rposition(|e| e.action != "record.read" && e.action != "joint.read")
        .unwrap()
        + 1;
    log[first_read..last_release]
        .iter()
        .filter(|e| e.client == Some(*client))
        .cloned()
        .collect()
}

#[test]
fn a_guardian_gets_the_general_record_but_never_notes_or_part_2_records() {
    let t = teen(Some(MinorFacts::default()));
    let dr = t.p.login("dr.a");
    let export = dr.export_for_guardian(&t.riley, &t.parent).unwrap();
    assert_eq!(export.released_to, Role::Guardian);
    let ids: Vec<RecordId> = export.records.iter().map(|r| r.id).collect();
    for g in &t.general {
        assert!(ids.contains(g), "general entry {g} missing");
    }
    assert!(
        !ids.contains(&t.sud),
        "a Part 2 record reached the guardian"
    );
    assert!(
        export
            .records
            .iter()
            .all(|r| r.kind != RecordKind::SubstanceUse)
    );
    assert_eq!(
        export.withheld,
        [Withheld {
            id: t.sud.to_string(),
            kind: "substance_use".into(),
            reason: DenyReason::RoleNotPermitted,
        }],
        "the substance-use record"
    );
    let text = export_text(&export);
    assert!(
        !text.contains(NOTE),
        "a psychotherapy note reached the guardian"
    );
    assert!(!text.contains(SUD));
    assert!(revealed(&export).iter().any(|v| v == "Riley Park"));

    let reads = release_reads(&t.p, &t.riley);
    let sud_read = reads
        .iter()
        .find(|e| e.target == Some(t.sud.to_string()))
        .unwrap();
    assert!(sud_read.outcome.starts_with("denied:"));
    assert!(sud_read.fields.is_empty());
    let release = entries(&t.p, "export.release").pop().unwrap();
    assert_eq!(release.fields, ["guardian"]);
    assert_eq!(release.outcome, "granted:care-team");
    assert_eq!(release.target, Some(t.parent.to_string()));
    assert_log_intact(&t.p);
}

#[test]
fn a_guardian_is_shut_out_when_the_law_makes_the_care_confidential() {
    let cases = [
        MinorFacts {
            consented_to_own_treatment: true,
            ..MinorFacts::default()
        },
        MinorFacts {
            court_directed: true,
            ..MinorFacts::default()
        },
        MinorFacts {
            guardian_agreed_confidential: true,
            ..MinorFacts::default()
        },
    ];
    for status in cases {
        let t = teen(Some(status));
        let dr = t.p.login("dr.a");
        // Refused as a whole, not released empty: no entry was read for the guardian.
        assert_denied(
            dr.export_for_guardian(&t.riley, &t.parent),
            DenyReason::MinorProtected,
        );
        assert!(release_reads(&t.p, &t.riley).is_empty(), "{status:?}");
        let release = entries(&t.p, "export.release").pop().unwrap();
        assert_eq!(
            (release.outcome.as_str(), release.target),
            ("denied:minor-protected", Some(t.parent.to_string())),
            "{status:?}"
        );
        assert!(release.fields.is_empty());
        // The minor's own release is unaffected.
        let own = dr.export_for_client(&t.riley).unwrap();
        assert_eq!(own.records.len(), t.general.len() + 1);
        assert!(own.withheld.is_empty());
        assert_log_intact(&t.p);
    }
}

#[test]
fn no_guardian_represents_an_adult() {
    // Never recorded as a minor: the parent recorded while Riley was one no longer acts.
    let t = teen(None);
    let dr = t.p.login("dr.a");
    assert_denied(
        dr.export_for_guardian(&t.riley, &t.parent),
        DenyReason::NotPersonalRepresentative,
    );
    assert!(release_reads(&t.p, &t.riley).is_empty());
    let release = entries(&t.p, "export.release").pop().unwrap();
    assert_eq!(release.outcome, "denied:not-personal-representative");
    // Nor can a guardian be recorded for a client who is not a minor.
    let custody = NewGuardian {
        basis: GuardianBasis::Parent,
        may_access: true,
        may_authorize: false,
        until_ms: None,
    };
    assert_invalid(dr.record_guardian(&t.riley, &custody, T));

    // Riley turns 18: the minor status is cleared and the parent's access ends with it.
    let t = teen(Some(MinorFacts::default()));
    let dr = t.p.login("dr.a");
    let before = dr.export_for_guardian(&t.riley, &t.parent).unwrap();
    assert!(!before.records.is_empty());
    dr.set_minor_status(&t.riley, None, T).unwrap();
    assert_denied(
        dr.export_for_guardian(&t.riley, &t.parent),
        DenyReason::NotPersonalRepresentative,
    );
    assert_log_intact(&t.p);
}

#[test]
fn only_the_treating_clinician_releases_to_a_guardian() {
    let t = teen(Some(MinorFacts::default()));
    for who in ["dr.b", "biller", "front.desk"] {
        let s = t.p.login(who);
        let r = s.export_for_guardian(&t.riley, &t.parent);
        assert!(
            matches!(r, Err(confide::Error::Denied { .. })),
            "{who}: {r:?}"
        );
        assert_eq!(s.key_stats().unwrapped, 0, "{who}");
    }
    let b = t.p.login("dr.b");
    assert_denied(
        b.export_for_guardian(&t.riley, &t.parent),
        DenyReason::NoRelationship,
    );
    // Nor may anyone but the treating clinician change who is a minor, or who acts for them.
    assert_denied(
        b.set_minor_status(&t.riley, None, T),
        DenyReason::NoRelationship,
    );
    assert_denied(
        b.end_guardian(&t.riley, &t.parent, T),
        DenyReason::NoRelationship,
    );
    assert_denied(b.list_guardians(&t.riley, T), DenyReason::NoRelationship);
    assert_log_intact(&t.p);
}
