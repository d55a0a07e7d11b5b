//! Releases outside the vault, one legal basis at a time (45 CFR 164.508, 164.512; 42 CFR
//! Part 2): each basis releases exactly the categories and fields it permits, as the real
//! plaintext, and substance-use releases carry the redisclosure notice and the consent.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;

use std::collections::BTreeSet;

use confide::Category::{
    Appointments, Billing, Demographics, DiagnosisCodes, ProgressNotes, PsychotherapyNotes,
    SubstanceUse, TreatmentPlan,
};
use confide::{DenyReason, DisclosureRequest, LegalBasis, Purpose};
use disclosing::*;

#[test]
fn authorization_releases_exactly_what_the_consent_names() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes, TreatmentPlan], T);
    let basis = LegalBasis::Authorization;
    let req = with_consent(
        ask(c.client, &to, basis, T, &[DiagnosisCodes, TreatmentPlan]),
        id,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (TreatmentPlan, All)]);
    let secrets = c.plaintext();
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert!(pkg.redisclosure_notice.is_none() && pkg.consent_copy.is_none());

    // A category the consent does not name: refused, whatever else is asked.
    for extra in [ProgressNotes, PsychotherapyNotes, SubstanceUse, Billing] {
        let req = with_consent(ask(c.client, &to, basis, T, &[DiagnosisCodes, extra]), id);
        refuse(&c.p, &dr, &req);
    }
    // The consent is for treatment, not for payment.
    let req = with_consent(
        ask(c.client, &to, basis, Purpose::Payment, &[DiagnosisCodes]),
        id,
    );
    refuse(&c.p, &dr, &req);
    // Psychotherapy notes need their own authorization, naming them alone (164.508(b)(3)(ii)).
    let notes = consent(&dr, &c.client, &to, &[PsychotherapyNotes], T);
    let req = with_consent(ask(c.client, &to, basis, T, &[PsychotherapyNotes]), notes);
    let want = c.expect(&[(PsychotherapyNotes, All)]);
    release(&c.p, &dr, &req, want, &secrets);
}

/// 164.508(c)(1)(iii): an authorization names who may receive; it releases to them and no one
/// else. (The recipient is sealed in the consent; the vault must still hold the release to it.)
#[test]
fn an_authorization_releases_only_to_the_recipient_it_names() {
    let c = Chart::new();
    let dr = c.dr();
    let id = consent(&dr, &c.client, &psychiatrist(), &[DiagnosisCodes], T);
    for basis in [LegalBasis::Authorization, LegalBasis::TreatmentWithConsent] {
        let req = with_consent(ask(c.client, &police(), basis, T, &[DiagnosisCodes]), id);
        refuse(&c.p, &dr, &req);
    }
    assert_eq!(ledger_rows(&c.p), 0);
}

#[test]
fn treatment_with_consent_is_for_treatment_only() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes, ProgressNotes], T);
    let basis = LegalBasis::TreatmentWithConsent;
    let req = with_consent(
        ask(c.client, &to, basis, T, &[DiagnosisCodes, ProgressNotes]),
        id,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (ProgressNotes, All)]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    for purpose in [Purpose::Payment, Purpose::Operations, Purpose::Legal] {
        let req = with_consent(ask(c.client, &to, basis, purpose, &[DiagnosisCodes]), id);
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    }
    // Still only what the consent names.
    let req = with_consent(ask(c.client, &to, basis, T, &[TreatmentPlan]), id);
    refuse(&c.p, &dr, &req);
}

#[test]
fn payment_releases_the_minimum_necessary() {
    let c = Chart::new();
    let biller = c.p.login("biller");
    let to = insurer();
    let basis = LegalBasis::Payment;
    let pay = Purpose::Payment;
    let req = ask(
        c.client,
        &to,
        basis,
        pay,
        &[DiagnosisCodes, Appointments, Billing],
    );
    let want = c.expect(&[
        (DiagnosisCodes, Only(&["code", "codes"])),
        (Appointments, Only(DATES_OF_SERVICE)),
        (Billing, All),
    ]);
    let secrets = c.plaintext();
    release(&c.p, &biller, &req, want, &secrets);

    // The treating clinician may release for payment too; demographics an insurer needs, no phone.
    let dr = c.dr();
    let req = ask(c.client, &to, basis, pay, &[Demographics, Billing]);
    let want = c.expect(&[
        (
            Demographics,
            Only(&[
                "full_name",
                "date_of_birth",
                "address",
                "insurance_id",
                "insurance_group",
            ]),
        ),
        (Billing, All),
    ]);
    release(&c.p, &dr, &req, want, &secrets);

    // Notes and plans never go for payment, whatever else is asked.
    for notes in [ProgressNotes, TreatmentPlan, PsychotherapyNotes] {
        for who in [&biller, &dr] {
            let req = ask(c.client, &to, basis, pay, &[Billing, DiagnosisCodes, notes]);
            refused_for(&c.p, who, &req, DenyReason::PurposeNotPermitted);
            let req = ask(c.client, &to, basis, pay, &[notes]);
            refused_for(&c.p, who, &req, DenyReason::PurposeNotPermitted);
        }
    }
    // A clinician who does not treat the client may not release.
    let dr_b = c.p.login("dr.b");
    let req = ask(c.client, &to, basis, pay, &[Billing]);
    refused_for(&c.p, &dr_b, &req, DenyReason::NoRelationship);
    // Billing releases for payment only: outside that duty the biller, like the front desk,
    // has no relationship with the client, and gets the answer a missing client gets.
    let req = protect(
        ask(
            c.client,
            &police(),
            LegalBasis::DutyToWarn,
            Purpose::Legal,
            &[Demographics],
        ),
        &[],
    );
    refused_for(&c.p, &biller, &req, DenyReason::NoRelationship);
    let desk = c.p.login("front.desk");
    let req = ask(c.client, &to, basis, pay, &[Billing]);
    refused_for(&c.p, &desk, &req, DenyReason::NoRelationship);
}

/// 164.506: the payment basis covers payment, nothing else; a release to the police "for
/// payment" with a legal purpose would also escape the accounting of disclosures.
#[test]
fn the_payment_basis_is_for_the_payment_purpose_only() {
    let c = Chart::new();
    let biller = c.p.login("biller");
    let dr = c.dr();
    for purpose in [Purpose::Legal, Purpose::Treatment, Purpose::Operations] {
        for who in [&biller, &dr] {
            let req = ask(
                c.client,
                &police(),
                LegalBasis::Payment,
                purpose,
                &[Billing],
            );
            refused_for(&c.p, who, &req, DenyReason::PurposeNotPermitted);
        }
    }
    assert_eq!(ledger_rows(&c.p), 0);
}

#[test]
fn duty_to_warn_may_include_psychotherapy_notes_but_never_substance_use() {
    let c = Chart::new();
    let dr = c.dr();
    let to = police();
    let basis = LegalBasis::DutyToWarn;
    let req = DisclosureRequest {
        reference: Some("Threat report 2024-0612".into()),
        ..protect(
            ask(
                c.client,
                &to,
                basis,
                Purpose::Legal,
                &[Demographics, ProgressNotes, PsychotherapyNotes],
            ),
            &[
                (ProgressNotes, "summary"),
                (PsychotherapyNotes, "impressions"),
            ],
        )
    };
    // Name and contact, and exactly the fields named with a reason: not the insurance id.
    let want = c.expect(&[
        (Demographics, Only(confide::fields::PROTECTIVE_MINIMUM)),
        (ProgressNotes, Only(&["summary"])),
        (PsychotherapyNotes, Only(&["impressions"])),
    ]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    let never = |cats: &[confide::Category]| {
        let named: Vec<(confide::Category, &str)> = cats
            .iter()
            .filter(|c| **c != Demographics)
            .map(|c| (*c, "assessment"))
            .collect();
        protect(ask(c.client, &to, basis, Purpose::Legal, cats), &named)
    };
    refused_for(
        &c.p,
        &dr,
        &never(&[Demographics, SubstanceUse]),
        DenyReason::PurposeNotPermitted,
    );
    refused_for(
        &c.p,
        &dr,
        &never(&[SubstanceUse]),
        DenyReason::PurposeNotPermitted,
    );
    let dr_b = c.p.login("dr.b");
    refused_for(
        &c.p,
        &dr_b,
        &never(&[Demographics]),
        DenyReason::NoRelationship,
    );
    // Without the person at risk and the threat, or with a category nothing names: invalid.
    invalid(
        &c.p,
        &dr,
        &ask(c.client, &to, basis, Purpose::Legal, &[Demographics]),
    );
    invalid(
        &c.p,
        &dr,
        &protect(
            ask(c.client, &to, basis, Purpose::Legal, &[ProgressNotes]),
            &[],
        ),
    );
}

#[test]
fn abuse_reports_release_the_general_record_only() {
    let c = Chart::new();
    let dr = c.dr();
    let agency = party(
        "Intake Worker",
        "County Adult and Child Protective Services",
        "55 Elm Street, Springfield",
    );
    let secrets = c.plaintext();
    for (basis, reference) in [
        (LegalBasis::ChildAbuseReport, "CPS intake 24-118"),
        (LegalBasis::ElderAbuseReport, "APS intake 24-907"),
    ] {
        let req = DisclosureRequest {
            reference: Some(reference.into()),
            ..protect(
                ask(
                    c.client,
                    &agency,
                    basis,
                    Purpose::Legal,
                    &[Demographics, DiagnosisCodes, ProgressNotes],
                ),
                &[(DiagnosisCodes, "code"), (ProgressNotes, "summary")],
            )
        };
        let want = c.expect(&[
            (Demographics, Only(confide::fields::PROTECTIVE_MINIMUM)),
            (DiagnosisCodes, Only(&["code"])),
            (ProgressNotes, Only(&["summary"])),
        ]);
        release(&c.p, &dr, &req, want, &secrets);
        for never in [PsychotherapyNotes, SubstanceUse] {
            let req = protect(
                ask(
                    c.client,
                    &agency,
                    basis,
                    Purpose::Legal,
                    &[ProgressNotes, never],
                ),
                &[(ProgressNotes, "summary"), (never, "impressions")],
            );
            refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
        }
    }
}

#[test]
fn a_court_order_releases_only_what_it_names() {
    let c = Chart::new();
    let dr = c.dr();
    let to = court();
    let basis = LegalBasis::CourtOrder;
    let secrets = c.plaintext();
    let named = [DiagnosisCodes, TreatmentPlan];
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &named),
        "Order 2024-CV-0193",
        &named,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (TreatmentPlan, All)]);
    release(&c.p, &dr, &req, want, &secrets);

    // A third category the order does not name: refused.
    let req = with_order(
        ask(
            c.client,
            &to,
            basis,
            Purpose::Legal,
            &[DiagnosisCodes, TreatmentPlan, ProgressNotes],
        ),
        "Order 2024-CV-0193",
        &named,
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);

    // An order naming psychotherapy notes releases them (164.508(a)(2), 164.512(e)).
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &[PsychotherapyNotes]),
        "Order 2024-CV-0201",
        &[PsychotherapyNotes],
    );
    let want = c.expect(&[(PsychotherapyNotes, All)]);
    release(&c.p, &dr, &req, want, &secrets);
}

#[test]
fn a_subpoena_releases_neither_psychotherapy_notes_nor_substance_use() {
    let c = Chart::new();
    let dr = c.dr();
    let to = party(
        "Dana Whitfield, Esq.",
        "Whitfield & Cole LLP",
        "9 Market Street, Springfield",
    );
    let basis = LegalBasis::Subpoena;
    let named = [Appointments, ProgressNotes];
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &named),
        "Subpoena duces tecum 24-S-331",
        &named,
    );
    let want = c.expect(&[(Appointments, All), (ProgressNotes, All)]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    for never in [PsychotherapyNotes, SubstanceUse] {
        let named = [ProgressNotes, never];
        let req = with_order(
            ask(c.client, &to, basis, Purpose::Legal, &named),
            "Subpoena duces tecum 24-S-332",
            &named,
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
        let req = with_order(
            ask(c.client, &to, basis, Purpose::Legal, &[never]),
            "Subpoena duces tecum 24-S-333",
            &[never],
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    }
    // Nor anything it does not name.
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &[DiagnosisCodes]),
        "Subpoena duces tecum 24-S-334",
        &[Appointments],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
}

#[test]
fn a_medical_emergency_releases_the_general_record_never_psychotherapy_notes() {
    let c = Chart::new();
    let dr = c.dr();
    let to = party(
        "Attending physician",
        "Springfield General Emergency Department",
        "1 Hospital Drive, Springfield",
    );
    let basis = LegalBasis::MedicalEmergency;
    let cats = [
        Demographics,
        DiagnosisCodes,
        TreatmentPlan,
        ProgressNotes,
        Appointments,
    ];
    let req = ask(c.client, &to, basis, Purpose::EmergencyTreatment, &cats);
    let want = c.expect(&[
        (Demographics, All),
        (DiagnosisCodes, All),
        (TreatmentPlan, All),
        (ProgressNotes, All),
        (Appointments, All),
    ]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    let req = ask(
        c.client,
        &to,
        basis,
        Purpose::EmergencyTreatment,
        &[DiagnosisCodes, PsychotherapyNotes],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
}

// ---------------------------------------------------------------------------------------------
// 42 CFR Part 2.
// ---------------------------------------------------------------------------------------------

#[test]
fn substance_use_releases_carry_the_notice_and_a_copy_of_the_consent() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[SubstanceUse, DiagnosisCodes], T);
    let basis = LegalBasis::Authorization;
    let secrets = c.plaintext();

    let req = with_consent(
        ask(c.client, &to, basis, T, &[SubstanceUse, DiagnosisCodes]),
        id,
    );
    let want = c.expect(&[(SubstanceUse, All), (DiagnosisCodes, All)]);
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert_eq!(
        pkg.redisclosure_notice.as_deref(),
        Some(confide::REDISCLOSURE_NOTICE)
    );
    let copy = pkg.consent_copy.as_ref().expect("a copy of the consent");
    assert_eq!(copy.id, id.to_string());
    let categories: BTreeSet<&str> = copy.categories.iter().map(String::as_str).collect();
    assert_eq!(
        categories,
        BTreeSet::from(["substance_use", "diagnosis_codes"])
    );
    assert_eq!(copy.description, CONSENT_TEXT);
    assert_eq!(copy.purpose, T.code());
    assert_eq!(copy.expires, None);
    assert!(copy.signed_on.ends_with('Z'));

    // Without substance-use records: neither.
    let req = with_consent(ask(c.client, &to, basis, T, &[DiagnosisCodes]), id);
    let want = c.expect(&[(DiagnosisCodes, All)]);
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert!(pkg.redisclosure_notice.is_none());
    assert!(pkg.consent_copy.is_none());
    let req = with_order(
        ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &[TreatmentPlan],
        ),
        "Order 2024-CV-0193",
        &[TreatmentPlan],
    );
    let pkg = release(&c.p, &dr, &req, c.expect(&[(TreatmentPlan, All)]), &secrets);
    assert!(pkg.redisclosure_notice.is_none());
    assert!(pkg.consent_copy.is_none());
}

// ---------------------------------------------------------------------------------------------
// Narrower scopes.
// ---------------------------------------------------------------------------------------------
