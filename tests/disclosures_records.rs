//! What a release leaves behind: invalid requests are typed errors that write nothing, the
//! package as JSON holds the package and nothing else, and the ledger has one append-only row per
//! release beside its `disclosure.release` audit entry, which names the fields and never a value.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;

use std::collections::BTreeSet;

use common::*;
use confide::Category::{
    Appointments, Billing, Demographics, DiagnosisCodes, JointRecord, SubstanceUse, TreatmentPlan,
};
use confide::{DisclosureRequest, LegalBasis, Purpose};
use disclosing::*;

#[test]
fn invalid_requests_are_typed_errors_and_write_nothing() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let other = new_client(&dr, "Morgan Ellis");
    let others = consent(&dr, &other, &to, &[DiagnosisCodes], T);
    let auth = LegalBasis::Authorization;
    let good = with_consent(ask(c.client, &to, auth, T, &[DiagnosisCodes]), id);

    // No categories.
    invalid(
        &c.p,
        &dr,
        &DisclosureRequest {
            categories: Vec::new(),
            ..good.clone()
        },
    );
    // No recipient name.
    for name in ["", "   "] {
        let nameless = party(name, "Riverside Psychiatry", "400 River Road");
        invalid(
            &c.p,
            &dr,
            &DisclosureRequest {
                recipient: nameless,
                ..good.clone()
            },
        );
    }
    // A court order or subpoena without its reference.
    for basis in [LegalBasis::CourtOrder, LegalBasis::Subpoena] {
        for reference in [None, Some("  ".to_owned())] {
            let req = DisclosureRequest {
                reference,
                order: Some(confide::Order {
                    issuer: "Superior Court".into(),
                    issued_on_ms: 0,
                    names: confide::ReleaseScope::categories(&[DiagnosisCodes]),
                }),
                ..ask(c.client, &court(), basis, Purpose::Legal, &[DiagnosisCodes])
            };
            invalid(&c.p, &dr, &req);
        }
    }
    // An authorization without its consent; a consent cited where none is relied on.
    for basis in [auth, LegalBasis::TreatmentWithConsent] {
        invalid(&c.p, &dr, &ask(c.client, &to, basis, T, &[DiagnosisCodes]));
    }
    invalid(
        &c.p,
        &dr,
        &with_consent(
            ask(
                c.client,
                &police(),
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                &[DiagnosisCodes],
            ),
            id,
        ),
    );
    // Another client's consent.
    invalid(
        &c.p,
        &dr,
        &with_consent(ask(c.client, &to, auth, T, &[DiagnosisCodes]), others),
    );
    // Joint-record content without its case.
    invalid(
        &c.p,
        &dr,
        &ask(
            c.client,
            &police(),
            LegalBasis::DutyToWarn,
            Purpose::Legal,
            &[JointRecord],
        ),
    );
    assert_eq!(ledger_rows(&c.p), 0);

    // The well-formed request still goes through.
    release(
        &c.p,
        &dr,
        &good,
        c.expect(&[(DiagnosisCodes, All)]),
        &c.plaintext(),
    );
}

// ---------------------------------------------------------------------------------------------
// The package as JSON.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_package_as_json_holds_the_package_and_nothing_else() {
    let c = Chart::new();
    let dr = c.dr();
    let named = [DiagnosisCodes, Appointments];
    let req = with_order(
        ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &named,
        ),
        "Order 2024-CV-0193",
        &named,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (Appointments, All)]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    json_matches(&pkg);
    let text = pkg.to_json();
    for absent in [
        PHONE,
        ADDRESS,
        INSURANCE,
        PLAN,
        PROGRESS_1,
        PROGRESS_2,
        SUD,
        IMPRESSIONS,
    ] {
        assert!(
            !text.contains(absent),
            "the JSON holds a value not released"
        );
    }
    assert!(text.contains(DX_TEXT) && text.contains(REASON_1) && text.contains(REASON_2));

    // With the Part 2 notice and the consent copy.
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[SubstanceUse], T);
    let req = with_consent(
        ask(c.client, &to, LegalBasis::Authorization, T, &[SubstanceUse]),
        id,
    );
    let pkg = release(
        &c.p,
        &dr,
        &req,
        c.expect(&[(SubstanceUse, All)]),
        &c.plaintext(),
    );
    let v = json_matches(&pkg);
    assert_eq!(v["redisclosure_notice"], confide::REDISCLOSURE_NOTICE);
    let text = pkg.to_json();
    for absent in [DX_TEXT, PLAN, PROGRESS_1, IMPRESSIONS, REASON_1] {
        assert!(
            !text.contains(absent),
            "the JSON holds a value not released"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The ledger.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_ledger_has_one_row_per_release_and_is_append_only() {
    let c = Chart::new();
    let dr = c.dr();
    let secrets = c.plaintext();
    assert_eq!(ledger_rows(&c.p), 0);

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
        &secrets,
    );
    assert_eq!(ledger_rows(&c.p), 1);

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
    let order = release(&c.p, &dr, &req, c.expect(&[(TreatmentPlan, All)]), &secrets);
    assert_eq!(ledger_rows(&c.p), 2);

    let biller = c.p.login("biller");
    let req = ask(
        c.client,
        &insurer(),
        LegalBasis::Payment,
        Purpose::Payment,
        &[Billing],
    );
    release(&c.p, &biller, &req, c.expect(&[(Billing, All)]), &secrets);
    assert_eq!(ledger_rows(&c.p), 3);

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
    let minimum = c.expect(&[(Demographics, Only(confide::fields::PROTECTIVE_MINIMUM))]);
    let warn = release(&c.p, &dr, &req, minimum, &secrets);
    assert_eq!(ledger_rows(&c.p), 4);

    // A refusal adds nothing.
    let req = protect(
        ask(
            c.client,
            &police(),
            LegalBasis::DutyToWarn,
            Purpose::Legal,
            &[SubstanceUse],
        ),
        &[(SubstanceUse, "assessment")],
    );
    refuse(&c.p, &dr, &req);
    assert_eq!(ledger_rows(&c.p), 4);

    // Append-only, even through SQL.
    let conn = raw(c.p.path());
    for sql in [
        "UPDATE disclosures SET legal_basis = 'authorization'",
        "UPDATE disclosures SET accountable = 0",
        "DELETE FROM disclosures",
        "UPDATE disclosure_fields SET envelope = x'00'",
        "DELETE FROM disclosure_fields",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(ledger_rows(&c.p), 4);
    assert_eq!(
        count(
            &c.p,
            "SELECT COUNT(*) FROM disclosures WHERE accountable = 1"
        ),
        2
    );
    assert_intact(&c.p);

    // The accounting of disclosures lists the court order and the warning, not the releases
    // under authorization or for payment (164.528(a)(1)).
    let accounting = dr.accounting(&c.client, None).unwrap();
    let seqs: BTreeSet<u64> = accounting.iter().map(|a| a.audit_seq).collect();
    assert_eq!(
        seqs,
        BTreeSet::from([order.manifest.audit_seq, warn.manifest.audit_seq])
    );
    for a in &accounting {
        assert!(!a.description.is_empty());
        assert!(a.recipient == court() || a.recipient == police());
    }
    assert_intact(&c.p);
}
