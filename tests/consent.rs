//! Consent (release of information, 45 CFR 164.508; 42 CFR Part 2): a clinician outside the care
//! team reads only what the client released to them, for the purpose released, while the release
//! is in force. Revocation and expiry stop the very next read; psychotherapy notes need their own
//! authorization; substance-use records need a consent that names them.

mod common;
#[path = "common/stories.rs"]
mod stories;

use common::*;
use confide::{
    Category, ClientId, ConsentRecipient, DenyReason, NoteId, Purpose, RecordId, RecordKind,
    UserId, Value,
};
use stories::*;

const T: Purpose = Purpose::Treatment;

/// Casey, treated by dr.a; dr.b is a consulting psychiatrist outside the care team.
struct Referral {
    p: Practice,
    casey: ClientId,
    dr_b: UserId,
    progress: RecordId,
    plan: RecordId,
    sud: RecordId,
    note: NoteId,
}

fn referral() -> Referral {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let casey = new_client(&dr, "Casey Lin");
    let dr_b = dr.user_id_of("dr.b").unwrap();
    let progress = dr
        .create_record(
            &casey,
            RecordKind::ProgressNote,
            &[(
                "summary",
                Value::text("Panic attacks twice weekly; SSRI trial discussed"),
            )],
            T,
        )
        .unwrap();
    let plan = dr
        .create_record(
            &casey,
            RecordKind::TreatmentPlan,
            &[("goals", Value::text("Interoceptive exposure"))],
            T,
        )
        .unwrap();
    let sud = dr
        .create_record(
            &casey,
            RecordKind::SubstanceUse,
            &[("assessment", Value::text("Alcohol use disorder, mild"))],
            T,
        )
        .unwrap();
    let note = dr
        .write_psychotherapy_note(
            &casey,
            &[("impressions", Value::text("Fear of dying like father"))],
            T,
        )
        .unwrap();
    Referral {
        p,
        casey,
        dr_b,
        progress,
        plan,
        sud,
        note,
    }
}

#[test]
fn a_consulting_clinician_reads_only_with_a_consent_naming_them() {
    let r = referral();
    let dr = r.p.login("dr.a");

    // Before any release: refused, and nothing unwrapped.
    let before = r.p.login("dr.b");
    assert_denied(
        before.read_record(&r.progress, T),
        DenyReason::NoRelationship,
    );
    assert_eq!(before.key_stats().unwrapped, 0);

    dr.record_consent(
        &r.casey,
        &consent(
            ConsentRecipient::User(r.dr_b),
            &[Category::ProgressNotes],
            T,
        ),
        T,
    )
    .unwrap();
    let b = r.p.login("dr.b");
    let read = b.read_record(&r.progress, T).unwrap();
    assert_eq!(read.basis, confide::Basis::Consent);
    assert!(read.get("summary").is_some());
    assert_eq!(
        entries(&r.p, "record.read").last().unwrap().outcome,
        "granted:consent"
    );
    // Only the category released: the plan, the Part 2 record and the notes stay closed.
    assert_denied(b.read_record(&r.plan, T), DenyReason::NoRelationship);
    assert_denied(b.read_record(&r.sud, T), DenyReason::NoRelationship);
    assert_denied(
        b.read_psychotherapy_note(&r.note, T),
        DenyReason::NoRelationship,
    );
    // Only the purpose released.
    assert_denied(
        b.read_record(&r.progress, Purpose::Legal),
        DenyReason::PurposeNotPermitted,
    );
    // The listing agrees with the reads.
    let listed = b.list_records(&r.casey, T).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, r.progress);
    // The consent names dr.b and nobody else: the biller, who has no relationship with Casey
    // for progress notes, gets the answer a missing record gets.
    let biller = r.p.login("biller");
    assert_denied(
        biller.read_record(&r.progress, Purpose::Payment),
        DenyReason::NoRelationship,
    );
    assert_log_intact(&r.p);
}

#[test]
fn revocation_blocks_the_very_next_read() {
    let r = referral();
    let dr = r.p.login("dr.a");
    let id = dr
        .record_consent(
            &r.casey,
            &consent(
                ConsentRecipient::User(r.dr_b),
                &[Category::ProgressNotes],
                T,
            ),
            T,
        )
        .unwrap();
    let b = r.p.login("dr.b");
    b.read_record(&r.progress, T).unwrap();
    dr.revoke_consent(&id, T).unwrap();
    // Same session, data key still cached: the decision comes first and refuses.
    assert_denied(b.read_record(&r.progress, T), DenyReason::ConsentRevoked);
    assert_denied(b.list_records(&r.casey, T), DenyReason::NoRelationship);
    let e = entries(&r.p, "record.read").pop().unwrap();
    assert_eq!(e.outcome, "denied:consent-revoked");
    assert!(e.fields.is_empty());
    assert_eq!(
        entries(&r.p, "consent.revoke").pop().unwrap().outcome,
        "granted:care-team"
    );
    // A fresh session after the revocation unwraps nothing.
    let again = r.p.login("dr.b");
    assert_denied(
        again.read_record(&r.progress, T),
        DenyReason::ConsentRevoked,
    );
    assert_eq!(again.key_stats().unwrapped, 0);
    assert_log_intact(&r.p);
}

#[test]
fn an_expired_or_future_consent_does_not_open_the_record() {
    let r = referral();
    let dr = r.p.login("dr.a");
    let now = now_ms();
    let expired = confide::NewConsent {
        start_ms: now - 30 * DAY_MS,
        expires_ms: Some(now - DAY_MS),
        signed_on_ms: now - 30 * DAY_MS,
        ..consent(
            ConsentRecipient::User(r.dr_b),
            &[Category::ProgressNotes],
            T,
        )
    };
    dr.record_consent(&r.casey, &expired, T).unwrap();
    let b = r.p.login("dr.b");
    assert_denied(b.read_record(&r.progress, T), DenyReason::ConsentNotInForce);
    assert_eq!(
        entries(&r.p, "record.read").pop().unwrap().outcome,
        "denied:consent-not-in-force"
    );
    let future = confide::NewConsent {
        start_ms: now + DAY_MS,
        expires_ms: Some(now + 30 * DAY_MS),
        ..expired
    };
    dr.record_consent(&r.casey, &future, T).unwrap();
    assert_denied(b.read_record(&r.progress, T), DenyReason::ConsentNotInForce);
    assert_eq!(b.key_stats().unwrapped, 0);
    // A consent that expires before it starts is not a consent.
    let backwards = confide::NewConsent {
        start_ms: now,
        expires_ms: Some(now - 1),
        ..future
    };
    assert_invalid(dr.record_consent(&r.casey, &backwards, T));
    assert_log_intact(&r.p);
}

#[test]
fn a_consent_for_another_category_purpose_or_person_does_not_help() {
    let r = referral();
    let dr = r.p.login("dr.a");
    let dr_a = dr.user_id();
    for c in [
        consent(
            ConsentRecipient::User(r.dr_b),
            &[Category::TreatmentPlan],
            T,
        ),
        consent(
            ConsentRecipient::User(r.dr_b),
            &[Category::ProgressNotes],
            Purpose::Legal,
        ),
        consent(ConsentRecipient::User(dr_a), &[Category::ProgressNotes], T),
        consent(
            ConsentRecipient::Outside {
                name: "Dr. Okafor".into(),
                organisation: "County Hospital".into(),
                address: "1 Main St".into(),
            },
            &[Category::ProgressNotes],
            T,
        ),
    ] {
        dr.record_consent(&r.casey, &c, T).unwrap();
    }
    let b = r.p.login("dr.b");
    assert_denied(b.read_record(&r.progress, T), DenyReason::NoRelationship);
    // The treatment-plan release is the only one that is dr.b's: the listing shows just that.
    let listed = b.list_records(&r.casey, T).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, r.plan);
    assert_eq!(b.key_stats().unwrapped, 0);
    // Only a treating clinician records a consent.
    assert_denied(
        b.record_consent(
            &r.casey,
            &consent(
                ConsentRecipient::User(r.dr_b),
                &[Category::ProgressNotes],
                T,
            ),
            T,
        ),
        DenyReason::NoRelationship,
    );
    let biller = r.p.login("biller");
    assert_denied(
        biller.record_consent(
            &r.casey,
            &consent(ConsentRecipient::User(r.dr_b), &[Category::Billing], T),
            T,
        ),
        DenyReason::NoRelationship,
    );
    assert_eq!(b.key_stats().unwrapped, 0);
    assert_log_intact(&r.p);
}

#[test]
fn psychotherapy_notes_need_an_authorization_naming_them_alone() {
    let r = referral();
    let dr = r.p.login("dr.a");
    // 45 CFR 164.508(b)(3)(ii): not combined with any other authorization.
    let combined = consent(
        ConsentRecipient::User(r.dr_b),
        &[Category::PsychotherapyNotes, Category::ProgressNotes],
        T,
    );
    assert_invalid(dr.record_consent(&r.casey, &combined, T));
    let b = r.p.login("dr.b");
    assert_denied(
        b.read_psychotherapy_note(&r.note, T),
        DenyReason::NoRelationship,
    );
    assert_denied(b.read_record(&r.progress, T), DenyReason::NoRelationship);
    assert_eq!(b.key_stats().unwrapped, 0);

    dr.record_consent(
        &r.casey,
        &consent(
            ConsentRecipient::User(r.dr_b),
            &[Category::PsychotherapyNotes],
            T,
        ),
        T,
    )
    .unwrap();
    let note = b.read_psychotherapy_note(&r.note, T).unwrap();
    assert_eq!(note.basis, confide::Basis::Consent);
    assert_eq!(
        note.get("impressions"),
        Some(&Value::text("Fear of dying like father"))
    );
    assert_eq!(
        entries(&r.p, "note.read").pop().unwrap().outcome,
        "granted:consent"
    );
    // The notes authorization opens the notes and nothing of the general record.
    assert_denied(b.read_record(&r.progress, T), DenyReason::NoRelationship);
    // Never for payment, authorization or not.
    assert_denied(
        b.read_psychotherapy_note(&r.note, Purpose::Payment),
        DenyReason::PurposeNotPermitted,
    );
    assert_log_intact(&r.p);
}

#[test]
fn substance_use_records_need_a_consent_naming_them() {
    let r = referral();
    let dr = r.p.login("dr.a");
    dr.record_consent(
        &r.casey,
        &consent(
            ConsentRecipient::User(r.dr_b),
            &[
                Category::ProgressNotes,
                Category::TreatmentPlan,
                Category::DiagnosisCodes,
            ],
            T,
        ),
        T,
    )
    .unwrap();
    let b = r.p.login("dr.b");
    b.read_record(&r.progress, T).unwrap();
    // A general release does not reach Part 2 records, and their key stays wrapped.
    let before = b.key_stats().unwrapped;
    assert_denied(b.read_record(&r.sud, T), DenyReason::NoRelationship);
    assert_eq!(b.key_stats().unwrapped, before);
    let listed: Vec<RecordId> = b
        .list_records(&r.casey, T)
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert!(listed.contains(&r.progress) && !listed.contains(&r.sud));

    dr.record_consent(
        &r.casey,
        &consent(ConsentRecipient::User(r.dr_b), &[Category::SubstanceUse], T),
        T,
    )
    .unwrap();
    let sud = b.read_record(&r.sud, T).unwrap();
    assert_eq!(sud.basis, confide::Basis::Consent);
    assert_eq!(
        sud.get("assessment"),
        Some(&Value::text("Alcohol use disorder, mild"))
    );
    assert_log_intact(&r.p);
}
