//! Break-glass (DESIGN.md, Access): in an emergency any clinician may open a client's general
//! record, with a reason and for a limited time. The start, every read and the stop are audited
//! and flagged for review; psychotherapy notes and substance-use records stay closed throughout.

mod common;
#[path = "common/stories.rs"]
mod stories;

use common::*;
use confide::{
    Basis, ClientId, DenyReason, MAX_BREAK_GLASS_MINUTES, NoteId, Purpose, RecordId, RecordKind,
    Value,
};
use stories::*;

const T: Purpose = Purpose::Treatment;
const E: Purpose = Purpose::EmergencyTreatment;
const REASON: &str = "Client brought to ED after overdose; dr.a unreachable";

/// Morgan, treated by dr.a, arrives in crisis while dr.a is away; dr.b is on call.
struct Crisis {
    p: Practice,
    morgan: ClientId,
    dx: RecordId,
    progress: RecordId,
    sud: RecordId,
    note: NoteId,
}

fn crisis() -> Crisis {
    crisis_in(Practice::new())
}

fn crisis_in(p: Practice) -> Crisis {
    let dr = p.login("dr.a");
    let morgan = new_client(&dr, "Morgan Reyes");
    let dx = dr
        .create_record(
            &morgan,
            RecordKind::Diagnosis,
            &[("code", Value::code("F31.4"))],
            T,
        )
        .unwrap();
    let progress = dr
        .create_record(
            &morgan,
            RecordKind::ProgressNote,
            &[(
                "summary",
                Value::text("Lithium 900 mg; safety plan on file"),
            )],
            T,
        )
        .unwrap();
    let sud = dr
        .create_record(
            &morgan,
            RecordKind::SubstanceUse,
            &[("assessment", Value::text("Cocaine use, in early remission"))],
            T,
        )
        .unwrap();
    let note = dr
        .write_psychotherapy_note(
            &morgan,
            &[("impressions", Value::text("Rage at mother"))],
            T,
        )
        .unwrap();
    Crisis {
        p,
        morgan,
        dx,
        progress,
        sud,
        note,
    }
}

#[test]
fn an_on_call_clinician_reads_the_general_record_in_an_emergency() {
    let c = crisis();
    let b = c.p.login("dr.b");
    // Without break-glass, an emergency read is refused like any other.
    assert_denied(b.read_record(&c.progress, E), DenyReason::NoRelationship);
    assert_eq!(b.key_stats().unwrapped, 0);

    b.break_glass(&c.morgan, REASON, 60).unwrap();
    let start = entries(&c.p, "break_glass.start").pop().unwrap();
    assert!(start.is_flagged());
    assert_eq!(start.actor, Some(b.user_id()));
    assert_eq!(start.client, Some(c.morgan));
    assert_eq!(start.purpose, "ETREAT");
    assert_eq!(start.outcome, "granted:break-glass");
    assert_eq!(start.fields, ["reason"], "the reason is sealed, only named");

    let progress = b.read_record(&c.progress, E).unwrap();
    assert_eq!(progress.basis, Basis::BreakGlass);
    assert_eq!(
        progress.get("summary"),
        Some(&Value::text("Lithium 900 mg; safety plan on file"))
    );
    let read = entries(&c.p, "record.read").pop().unwrap();
    assert_eq!(read.outcome, "granted:break-glass");
    assert_eq!(read.purpose, "ETREAT");
    assert!(
        read.is_flagged(),
        "every emergency read is flagged for review"
    );
    assert_eq!(
        b.read_record(&c.dx, E).unwrap().get("code"),
        Some(&Value::code("F31.4"))
    );
    // Emergency access is for emergency use: not a way onto the care team.
    assert_denied(b.read_record(&c.progress, T), DenyReason::NoRelationship);
    // The listing under break-glass shows the general record, not the Part 2 entry.
    let listed: Vec<RecordId> = b
        .list_records(&c.morgan, E)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert!(listed.contains(&c.progress) && listed.contains(&c.dx));
    assert!(!listed.contains(&c.sud));

    // Closing it: audited, flagged, and the next emergency read is refused.
    b.end_break_glass(&c.morgan).unwrap();
    let end = entries(&c.p, "break_glass.end").pop().unwrap();
    assert!(end.is_flagged());
    assert_eq!(end.actor, Some(b.user_id()));
    assert_eq!(end.client, Some(c.morgan));
    assert_denied(b.read_record(&c.progress, E), DenyReason::NoRelationship);
    assert_eq!(
        entries(&c.p, "record.read").pop().unwrap().outcome,
        "denied:no-relationship"
    );
    assert_log_intact(&c.p);
}

#[test]
fn break_glass_never_opens_notes_or_substance_use_records() {
    let c = crisis();
    let b = c.p.login("dr.b");
    b.break_glass(&c.morgan, REASON, MAX_BREAK_GLASS_MINUTES)
        .unwrap();
    let keys = b.key_stats().unwrapped;
    assert_denied(b.read_record(&c.sud, E), DenyReason::BreakGlassExcluded);
    assert_denied(
        b.read_psychotherapy_note(&c.note, E),
        DenyReason::BreakGlassExcluded,
    );
    assert_denied(
        b.read_psychotherapy_note(&c.note, T),
        DenyReason::NoRelationship,
    );
    assert_eq!(
        b.key_stats().unwrapped,
        keys,
        "no notes or Part 2 key unwrapped"
    );
    assert_eq!(
        entries(&c.p, "note.read")
            .iter()
            .filter(|e| e.outcome == "denied:break-glass-excluded")
            .count(),
        1
    );
    // Not even the treating clinician gets notes by calling it an emergency.
    let a = c.p.login("dr.a");
    a.break_glass(&c.morgan, "testing the glass", 5).unwrap();
    assert_denied(
        a.read_psychotherapy_note(&c.note, E),
        DenyReason::BreakGlassExcluded,
    );
    assert_denied(a.read_record(&c.sud, E), DenyReason::BreakGlassExcluded);
    // Emergency access is read-only: no write is ever for ETREAT.
    assert_denied(
        b.create_record(
            &c.morgan,
            RecordKind::ProgressNote,
            &[("summary", Value::text("seen in ED"))],
            E,
        ),
        DenyReason::PurposeNotPermitted,
    );
    assert_log_intact(&c.p);
}

#[test]
fn break_glass_is_for_one_client_and_a_limited_time() {
    let clock = confide::TestClock::starting_at(1_772_442_000_000);
    let config = common::test_config()
        .with_test_clock(clock)
        .with_idle_timeout(std::time::Duration::from_secs(8 * 3600));
    let c = crisis_in(Practice::with_config(config));
    let dr = c.p.login("dr.a");
    let other = new_client(&dr, "Other Client");
    let other_dx = dr
        .create_record(
            &other,
            RecordKind::Diagnosis,
            &[("code", Value::code("F40.1"))],
            T,
        )
        .unwrap();
    let b = c.p.login("dr.b");
    b.break_glass(&c.morgan, REASON, 30).unwrap();
    assert_denied(b.read_record(&other_dx, E), DenyReason::NoRelationship);

    // Time passes: the grant's 30 minutes are over.
    b.read_record(&c.progress, E).unwrap();
    clock.advance(std::time::Duration::from_secs(31 * 60));
    assert_denied(b.read_record(&c.progress, E), DenyReason::NoRelationship);
    assert_log_intact(&c.p);
}

#[test]
fn break_glass_needs_a_reason_and_a_bounded_duration() {
    let c = crisis();
    let b = c.p.login("dr.b");
    assert_invalid(b.break_glass(&c.morgan, "", 60));
    assert_invalid(b.break_glass(&c.morgan, "   \n", 60));
    assert_invalid(b.break_glass(&c.morgan, REASON, MAX_BREAK_GLASS_MINUTES + 1));
    assert_invalid(b.break_glass(&c.morgan, REASON, 0));
    assert_eq!(MAX_BREAK_GLASS_MINUTES, 240);
    // None of those opened anything.
    assert_denied(b.read_record(&c.progress, E), DenyReason::NoRelationship);
    assert_eq!(b.key_stats().unwrapped, 0);
    assert!(
        entries(&c.p, "break_glass.start").is_empty(),
        "bad input opens no grant"
    );
    assert_log_intact(&c.p);
}

#[test]
fn only_clinicians_break_glass() {
    let c = crisis();
    // Anyone else has no relationship with the client: the answer a client that does not
    // exist gets, so a refusal confirms nothing (a more specific reason would).
    for who in ["biller", "front.desk", "auditor"] {
        let s = c.p.login(who);
        assert_denied(
            s.break_glass(&c.morgan, REASON, 60),
            DenyReason::NoRelationship,
        );
        assert_denied(s.read_record(&c.progress, E), DenyReason::NoRelationship);
        assert_eq!(s.key_stats().unwrapped, 0, "{who}");
    }
    let admin = c.p.admin();
    assert_denied(
        admin.break_glass(&c.morgan, REASON, 60),
        DenyReason::NoRelationship,
    );
    let refused = entries(&c.p, "break_glass.start");
    assert_eq!(refused.len(), 4);
    assert!(
        refused
            .iter()
            .all(|e| e.outcome == "denied:no-relationship" && e.is_flagged())
    );
    assert_log_intact(&c.p);
}

#[test]
fn break_glass_leaves_couple_content_closed() {
    let c = crisis();
    let dr = c.p.login("dr.a");
    let partner = new_client(&dr, "Sam Reyes");
    let case = dr
        .create_case(
            confide::CaseKind::Couple,
            confide::SecretsPolicy::HeldInConfidence,
            &[c.morgan, partner],
            T,
        )
        .unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text("joint session"))], T)
        .unwrap();
    let alone = dr
        .write_case_note(
            &case,
            &c.morgan,
            &[("disclosure", Value::text("secret"))],
            T,
        )
        .unwrap();
    let b = c.p.login("dr.b");
    b.break_glass(&c.morgan, REASON, 60).unwrap();
    assert_denied(b.read_record(&alone, E), DenyReason::BreakGlassExcluded);
    // Break-glass opens one client's record, not their case: the joint record answers as it
    // does to anyone without a relationship to the case.
    assert_denied(b.read_joint_record(&joint, E), DenyReason::NoRelationship);
    // The general record is open all the same.
    b.read_record(&c.progress, E).unwrap();
    assert_log_intact(&c.p);
}
