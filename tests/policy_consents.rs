//! Consents in `decide`: a consent grants exactly its categories for exactly its purpose, only
//! while in force; psychotherapy notes need an authorization naming them alone, and Part 2
//! records a consent that names them. Only the public API is used: `decide` is pure.

#[path = "common/matrix.rs"]
mod matrix;

use confide::Category::*;
use confide::Purpose::*;
use confide::Role::*;
use confide::{
    Access, Basis, Category, ConsentFact, Decision, DenyReason, Facts, Purpose, Recipient, Request,
    decide,
};
use matrix::*;

#[test]
fn a_consent_grants_exactly_its_categories_for_exactly_its_purpose() {
    let named = [ProgressNotes, TreatmentPlan];
    let facts = unrelated_with(vec![consent(me(), &named, Treatment)], NOW);
    let bare = unrelated_with(Vec::new(), NOW);
    for role in [Clinician, Supervisor, Biller, Scheduler] {
        for &c in Category::ALL {
            for &p in Purpose::ALL {
                let req = read(role, c, p);
                let got = decide(&req, &facts);
                if named.contains(&c) && p == Treatment {
                    assert_eq!(got, allow(Basis::Consent, REQUESTED), "{role} {c} {p}");
                } else {
                    // Outside its categories and purpose, the consent opens nothing. (The
                    // reason may differ: a user named in a consent has a relationship, so
                    // is told `purpose-not-permitted` rather than `no-relationship`.)
                    let before = decide(&req, &bare);
                    assert_eq!(got.is_allow(), before.is_allow(), "{role} {c} {p}");
                    if let Decision::Allow(grant) = &before {
                        assert_eq!(got, Decision::Allow(grant.clone()), "{role} {c} {p}");
                    }
                }
                // A consent releases information: it never permits a write.
                let write = request(role, Access::Write(c), p, REQUESTED);
                assert_eq!(
                    decide(&write, &facts).is_allow(),
                    decide(&write, &bare).is_allow(),
                    "{role} write {c} {p}"
                );
            }
        }
    }
    // A consent naming someone else, or an outside recipient, opens nothing for this user.
    let req = read(Clinician, ProgressNotes, Treatment);
    let elsewhere = unrelated_with(
        vec![
            consent(someone_else(), &named, Treatment),
            ConsentFact {
                recipient: Recipient::Outside,
                ..consent(me(), &named, Treatment)
            },
        ],
        NOW,
    );
    assert_eq!(decide(&req, &elsewhere), deny(DenyReason::NoRelationship));
    // Nor one for a request with no identified requester.
    let anonymous = Request {
        requester: None,
        ..req.clone()
    };
    assert!(!decide(&anonymous, &facts).is_allow());
}

#[test]
fn a_consent_is_in_force_from_its_start_until_expiry_or_revocation() {
    let req = read(Clinician, ProgressNotes, Treatment);
    let granted = allow(Basis::Consent, REQUESTED);
    let bounded = ConsentFact {
        start_ms: 1_000,
        expires_ms: Some(2_000),
        ..consent(me(), &[ProgressNotes], Treatment)
    };
    let at = |c: &ConsentFact, now| decide(&req, &unrelated_with(vec![c.clone()], now));
    assert_eq!(at(&bounded, 999), deny(DenyReason::ConsentNotInForce));
    assert_eq!(at(&bounded, 1_000), granted);
    assert_eq!(at(&bounded, 1_999), granted);
    assert_eq!(at(&bounded, 2_000), deny(DenyReason::ConsentNotInForce));
    // Revocation stops the very next request: at the instant of revocation it is refused.
    let revoked = ConsentFact {
        revoked_ms: Some(1_500),
        ..bounded.clone()
    };
    assert_eq!(at(&revoked, 1_499), granted);
    assert_eq!(at(&revoked, 1_500), deny(DenyReason::ConsentRevoked));
    assert_eq!(at(&revoked, 1_501), deny(DenyReason::ConsentRevoked));
    // An open-ended consent stays in force until revoked.
    let open = ConsentFact {
        start_ms: 0,
        expires_ms: None,
        revoked_ms: None,
        ..bounded
    };
    assert_eq!(at(&open, i64::MAX - 1), granted);
}

#[test]
fn psychotherapy_notes_need_an_authorization_naming_them_alone() {
    let req = read(Clinician, PsychotherapyNotes, Treatment);
    // 45 CFR 164.508(b)(3)(ii): not combined with any other authorization.
    let combined = unrelated_with(
        vec![consent(
            me(),
            &[PsychotherapyNotes, ProgressNotes],
            Treatment,
        )],
        NOW,
    );
    assert_eq!(decide(&req, &combined), deny(DenyReason::NoRelationship));
    let alone = unrelated_with(vec![consent(me(), &[PsychotherapyNotes], Treatment)], NOW);
    assert_eq!(decide(&req, &alone), allow(Basis::Consent, REQUESTED));
    // The combined one still releases the progress notes it names.
    let progress = read(Clinician, ProgressNotes, Treatment);
    assert_eq!(
        decide(&progress, &combined),
        allow(Basis::Consent, REQUESTED)
    );
    // The client and their guardian never reach them, whatever the consent says (164.524).
    for role in [Client, Guardian] {
        let req = read(role, PsychotherapyNotes, PatientRequest);
        let facts = Facts {
            consents: vec![consent(me(), &[PsychotherapyNotes], PatientRequest)],
            ..everything()
        };
        assert_eq!(decide(&req, &facts), deny(DenyReason::RoleNotPermitted));
    }
}

#[test]
fn part_2_records_open_only_to_a_consent_that_names_them() {
    let req = read(Clinician, SubstanceUse, Treatment);
    let general = unrelated_with(
        vec![consent(
            me(),
            &[Demographics, DiagnosisCodes, TreatmentPlan, ProgressNotes],
            Treatment,
        )],
        NOW,
    );
    assert_eq!(decide(&req, &general), deny(DenyReason::NoRelationship));
    let named = unrelated_with(vec![consent(me(), &[SubstanceUse], Treatment)], NOW);
    assert_eq!(decide(&req, &named), allow(Basis::Consent, REQUESTED));
}

// ---------------------------------------------------------------------------------------------
// Minimum necessary on writes, default deny, no existence oracle.
