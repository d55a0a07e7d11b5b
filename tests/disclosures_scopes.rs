//! Releases narrower or harder than one basis: the scopes real authorizations use (attendance,
//! dates of service and fees, one condition), joint-case content that needs every member's
//! authorization, and consents out of force.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;

use confide::Category::{Appointments, Billing, DiagnosisCodes, JointRecord};
use confide::{
    DenyReason, DisclosureRequest, LegalBasis, Purpose, RecordKind, ReleaseScope, Value,
};
use disclosing::*;

#[test]
fn attendance_only_releases_dates_and_status() {
    let c = Chart::new();
    let dr = c.dr();
    let eap = party(
        "Case Manager",
        "Acme Employee Assistance Program",
        "77 Industrial Way, Springfield",
    );
    let id = consent(&dr, &c.client, &eap, &[Appointments], Purpose::Operations);
    let req = DisclosureRequest {
        narrow: Some(ReleaseScope::attendance_only()),
        protective: None,
        ..with_consent(
            ask(
                c.client,
                &eap,
                LegalBasis::Authorization,
                Purpose::Operations,
                &[Appointments],
            ),
            id,
        )
    };
    let want = c.expect(&[(Appointments, Only(&["date", "status"]))]);
    release(&c.p, &dr, &req, want, &c.plaintext());
}

#[test]
fn dates_of_service_and_fees_only() {
    let c = Chart::new();
    let dr = c.dr();
    let to = insurer();
    let pay = Purpose::Payment;
    let id = consent(&dr, &c.client, &to, &[Appointments, Billing], pay);
    let req = DisclosureRequest {
        narrow: Some(ReleaseScope::dates_of_service_and_fees()),
        protective: None,
        ..with_consent(
            ask(
                c.client,
                &to,
                LegalBasis::Authorization,
                pay,
                &[Appointments, Billing],
            ),
            id,
        )
    };
    let want = c.expect(&[
        (Appointments, Only(&["date", "service_code"])),
        (Billing, Only(&["date", "service_code", "fee"])),
    ]);
    release(&c.p, &dr, &req, want, &c.plaintext());
}

#[test]
fn one_condition_releases_only_its_diagnosis() {
    let mut c = Chart::new();
    let dr = c.dr();
    c.add(
        &dr,
        RecordKind::Diagnosis,
        vec![
            ("code", Value::code("F32.0")),
            ("description", Value::text("Major depressive episode, mild")),
        ],
    );
    let to = party(
        "Adjuster",
        "Statewide Workers' Compensation Fund",
        "3 Insurance Plaza, Capitol City",
    );
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], Purpose::Legal);
    let req = DisclosureRequest {
        narrow: Some(ReleaseScope::condition("F41.1")),
        protective: None,
        ..with_consent(
            ask(
                c.client,
                &to,
                LegalBasis::Authorization,
                Purpose::Legal,
                &[DiagnosisCodes],
            ),
            id,
        )
    };
    let want: Vec<Item> = c
        .expect(&[(DiagnosisCodes, All)])
        .into_iter()
        .filter(|(_, _, _, f)| f.get("code").map(String::as_str) == Some("F41.1"))
        .collect();
    assert_eq!(want.len(), 1);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(pkg.items.len(), 1);
    assert!(!pkg.to_json().contains("F32.0"));
}

// ---------------------------------------------------------------------------------------------
// Joint content.
// ---------------------------------------------------------------------------------------------

#[test]
fn joint_content_leaves_with_every_members_authorization() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let to = party(
        "Dr. Lee Hart",
        "Hart Family Therapy",
        "18 Birch Court, Springfield",
    );
    let secrets = vec![JOINT.to_owned(), AFFAIR.to_owned()];
    let alex = joint_consent(&dr, &c.alex, c.case, &to, T);
    let req = DisclosureRequest {
        case: Some(c.case),
        ..with_consent(
            ask(c.alex, &to, LegalBasis::Authorization, T, &[JointRecord]),
            alex,
        )
    };
    // One partner alone cannot release what belongs to both.
    refused_for(&c.p, &dr, &req, DenyReason::HeldInConfidence);
    // Blake's consent for another purpose does not count.
    joint_consent(&dr, &c.blake, c.case, &to, Purpose::Legal);
    refused_for(&c.p, &dr, &req, DenyReason::HeldInConfidence);
    joint_consent(&dr, &c.blake, c.case, &to, T);
    let pkg = release(&c.p, &dr, &req, c.want.clone(), &secrets);
    assert!(!pkg.to_json().contains(AFFAIR));
}

#[test]
fn joint_content_leaves_on_a_duty_to_warn_without_consents() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let req = DisclosureRequest {
        case: Some(c.case),
        ..protect(
            ask(
                c.blake,
                &police(),
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                &[JointRecord],
            ),
            &[(JointRecord, "summary")],
        )
    };
    let secrets = vec![JOINT.to_owned(), AFFAIR.to_owned()];
    let pkg = release(&c.p, &dr, &req, c.want.clone(), &secrets);
    assert!(!pkg.to_json().contains(AFFAIR));
}

// ---------------------------------------------------------------------------------------------
// Consents out of force.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_revoked_consent_blocks_the_next_release() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        id,
    );
    release(
        &c.p,
        &dr,
        &req,
        c.expect(&[(DiagnosisCodes, All)]),
        &c.plaintext(),
    );
    dr.revoke_consent(&id, T).unwrap();
    refused_for(&c.p, &dr, &req, DenyReason::ConsentRevoked);
    let twc = DisclosureRequest {
        basis: LegalBasis::TreatmentWithConsent,
        ..req.clone()
    };
    refused_for(&c.p, &dr, &twc, DenyReason::ConsentRevoked);
}

#[test]
fn an_expired_or_future_consent_blocks_the_release() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let now = now_ms();
    let expired = signed(
        &to,
        &[DiagnosisCodes],
        T,
        now - 30 * DAY_MS,
        Some(now - DAY_MS),
    );
    let future = signed(&to, &[DiagnosisCodes], T, now + DAY_MS, None);
    for consent in [expired, future] {
        let id = dr.record_consent(&c.client, &consent, T).unwrap();
        let req = with_consent(
            ask(
                c.client,
                &to,
                LegalBasis::Authorization,
                T,
                &[DiagnosisCodes],
            ),
            id,
        );
        refused_for(&c.p, &dr, &req, DenyReason::ConsentNotInForce);
    }
    assert_eq!(ledger_rows(&c.p), 0);
}

// ---------------------------------------------------------------------------------------------
// Invalid requests.
// ---------------------------------------------------------------------------------------------
