//! Minors (45 CFR 164.502(g)(3)): a parent or guardian receives a minor's general record as their
//! personal representative, but never psychotherapy notes or substance-use records, and nothing
//! at all when the minor consented to their own care, a court directed it, or the guardian agreed
//! to confidentiality. Once the client is not a minor, a guardian release holds nothing.

mod common;
#[path = "common/stories.rs"]
mod stories;

use common::*;
use confide::{ClientId, DenyReason, MinorFacts, Purpose, RecordId, RecordKind, Role, Value};
use stories::*;

const T: Purpose = Purpose::Treatment;
const NOTE: &str = "Says the bruises were from a fight at school; not sure";
const SUD: &str = "Vaping cannabis daily since spring";

/// Riley, 15, treated by dr.a, with a general record, a psychotherapy note and a Part 2 record.
struct Teen {
    p: Practice,
    riley: ClientId,
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
    dr.set_minor_status(&riley, status, T).unwrap();
    Teen {
        p,
        riley,
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
    let export = dr.export_for_guardian(&t.riley).unwrap();
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
    assert_eq!(export.withheld, 1, "the substance-use record");
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
        let export = dr.export_for_guardian(&t.riley).unwrap();
        assert!(
            export.records.is_empty(),
            "{status:?}: released {:?}",
            export.records
        );
        assert!(export.joint_records.is_empty());
        assert!(revealed(&export).is_empty());
        assert_eq!(export.withheld, t.general.len() + 1, "{status:?}");
        // Every entry was refused as the minor's protected care, and audited so.
        let reads = release_reads(&t.p, &t.riley);
        assert_eq!(reads.len(), t.general.len() + 1);
        assert!(
            reads
                .iter()
                .all(|e| e.outcome == "denied:minor-protected" && e.fields.is_empty()),
            "{status:?}: {reads:?}"
        );
        // The minor's own release is unaffected.
        let own = dr.export_for_client(&t.riley).unwrap();
        assert_eq!(own.records.len(), t.general.len() + 1);
        assert_log_intact(&t.p);
    }
}

#[test]
fn a_guardian_release_for_an_adult_holds_nothing() {
    // Never recorded as a minor.
    let t = teen(None);
    let dr = t.p.login("dr.a");
    let export = dr.export_for_guardian(&t.riley).unwrap();
    assert!(export.records.is_empty() && export.joint_records.is_empty());
    assert!(revealed(&export).is_empty());
    assert_eq!(export.withheld, t.general.len() + 1);
    assert!(
        release_reads(&t.p, &t.riley)
            .iter()
            .all(|e| e.outcome.starts_with("denied:"))
    );

    // Riley turns 18: the minor status is cleared and the parent's access ends with it.
    let t = teen(Some(MinorFacts::default()));
    let dr = t.p.login("dr.a");
    assert!(!dr.export_for_guardian(&t.riley).unwrap().records.is_empty());
    dr.set_minor_status(&t.riley, None, T).unwrap();
    let export = dr.export_for_guardian(&t.riley).unwrap();
    assert!(export.records.is_empty());
    assert!(revealed(&export).is_empty());
    assert_log_intact(&t.p);
}

#[test]
fn only_the_treating_clinician_releases_to_a_guardian() {
    let t = teen(Some(MinorFacts::default()));
    for who in ["dr.b", "biller", "front.desk"] {
        let s = t.p.login(who);
        let r = s.export_for_guardian(&t.riley);
        assert!(
            matches!(r, Err(confide::Error::Denied { .. })),
            "{who}: {r:?}"
        );
        assert_eq!(s.key_stats().unwrapped, 0, "{who}");
    }
    let b = t.p.login("dr.b");
    assert_denied(b.export_for_guardian(&t.riley), DenyReason::NoRelationship);
    // Nor may anyone but the treating clinician change who is a minor.
    assert_denied(
        b.set_minor_status(&t.riley, None, T),
        DenyReason::NoRelationship,
    );
    assert_log_intact(&t.p);
}
