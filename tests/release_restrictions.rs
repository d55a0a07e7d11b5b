//! Restrictions at release (45 CFR 164.522(a)): a service the client paid for in full out of
//! pocket does not go to their health plan for payment or operations (164.522(a)(1)(vi)); an
//! agreed restriction binds the practice, a refused one binds nothing; neither stops a release
//! the law requires or permits without the client (164.522(a)(1)(v)). What a restriction keeps
//! back, the manifest says, entry by entry.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/manifests.rs"]
mod manifests;

use std::collections::BTreeSet;

use common::last_entry;
use confide::Category::{
    Appointments, Billing, Demographics, DiagnosisCodes, ProgressNotes, TreatmentPlan,
};
use confide::scope::Fields as Scoped;
use confide::{
    DisclosureRequest, LegalBasis, NewRestriction, Order, OutsideParty, Purpose, RecordId,
    RecordKind, ReleaseScope, RestrictionId, Value, fields::PROTECTIVE_MINIMUM,
};
use disclosing::*;
use manifests::*;

const PAID_REASON: &str = "Couples conflict about debt; client asked that the plan not know";
const PAID_MEMO: &str = "Paid in full by card at the desk; do not bill the plan";
const BILLING_FIELDS: &[&str] = &["date", "service_code", "fee"];

/// Jordan's chart, and two later sessions Jordan paid for out of pocket: each an appointment
/// and its bill.
struct SelfPaid {
    c: Chart,
    paid: Vec<(RecordId, confide::Category)>,
}

impl SelfPaid {
    fn new() -> SelfPaid {
        let mut c = Chart::new();
        let dr = c.dr();
        let mut paid = Vec::new();
        for (day, code, fee) in [(6, "90837", 18_500), (13, "90834", 14_000)] {
            let visit = add_entry(
                &mut c,
                &dr,
                RecordKind::Appointment,
                vec![
                    ("date", date(2024, 6, day)),
                    ("minutes", Value::Number(50)),
                    ("service_code", Value::code(code)),
                    ("status", Value::code("attended")),
                    ("reason", Value::text(PAID_REASON)),
                ],
            );
            let mut bill = vec![
                ("date", date(2024, 6, day)),
                ("service_code", Value::code(code)),
                ("fee", Value::Number(fee)),
            ];
            if day == 6 {
                bill.push(("memo", Value::text(PAID_MEMO)));
            }
            let bill = add_entry(&mut c, &dr, RecordKind::Billing, bill);
            paid.push((visit, Appointments));
            paid.push((bill, Billing));
        }
        SelfPaid { c, paid }
    }

    fn records(&self) -> Vec<RecordId> {
        self.paid.iter().map(|(r, _)| *r).collect()
    }

    /// The self-pay restriction against plan A, recorded by Jordan's clinician.
    fn restrict(&self) -> RestrictionId {
        let r = NewRestriction::SelfPay {
            plan_name: "Acme Health".into(),
            plan_organisation: "Acme Health Plan".into(),
            records: self.records(),
        };
        self.c
            .dr()
            .record_restriction(&self.c.client, &r, T)
            .unwrap()
    }

    /// What the manifest says a restriction kept back: each paid entry of the categories
    /// released.
    fn held(&self, by: &RestrictionId, categories: &[confide::Category]) -> Vec<Held> {
        sorted(
            self.paid
                .iter()
                .filter(|(_, c)| categories.contains(c))
                .map(|(r, c)| held_by(r, *c, by))
                .collect(),
        )
    }
}

/// `want` without the entries `ids`.
fn without(want: Vec<Item>, ids: &[RecordId]) -> Vec<Item> {
    let ids: BTreeSet<String> = ids.iter().map(RecordId::to_string).collect();
    want.into_iter()
        .filter(|(id, _, _, _)| !ids.contains(id))
        .collect()
}

/// Plan A, as its claims office writes its name: other case, other spacing.
fn plan_a() -> OutsideParty {
    party(
        "  acme   HEALTH ",
        "ACME health  plan",
        "PO Box 40, Capitol City",
    )
}

fn plan_b() -> OutsideParty {
    insurer()
}

fn payment(client: confide::ClientId, to: &OutsideParty) -> DisclosureRequest {
    ask(
        client,
        to,
        LegalBasis::Payment,
        Purpose::Payment,
        &[DiagnosisCodes, Appointments, Billing],
    )
}

/// What a payment release holds, before any restriction: codes, dates of service, fees.
fn payment_package(c: &Chart) -> Vec<Item> {
    c.expect(&[
        (DiagnosisCodes, Only(&["code", "codes"])),
        (Appointments, Only(DATES_OF_SERVICE)),
        (Billing, Only(BILLING_FIELDS)),
    ])
}

fn payment_parts() -> Vec<Part> {
    vec![
        part(Appointments, DATES_OF_SERVICE, "payment-minimum-necessary"),
        part(Billing, BILLING_FIELDS, "payment-minimum-necessary"),
        part(DiagnosisCodes, &["code"], "payment-minimum-necessary"),
    ]
}

#[test]
fn a_self_paid_service_does_not_go_to_the_plan_for_payment() {
    let s = SelfPaid::new();
    let c = &s.c;
    let id = s.restrict();
    let biller = c.p.login("biller");
    let secrets = c.plaintext();

    // To plan A, named in other case and spacing: the paid sessions are left out, each said.
    let req = payment(c.client, &plan_a());
    let want = without(payment_package(c), &s.records());
    let pkg = release(&c.p, &biller, &req, want, &secrets);
    assert_eq!(released(&pkg), payment_parts());
    assert_eq!(withheld(&pkg), s.held(&id, &[Appointments, Billing]));
    assert_eq!(pkg.manifest.withheld.len(), 4);
    let json = pkg.to_json();
    for never in ["2024-06-06", "2024-06-13", "14000", PAID_MEMO] {
        assert!(!json.contains(never), "{never:?} went to the plan");
    }
    // Payment is not in the accounting (164.528(a)(1)(i)).
    assert!(line_of(&accounting(&c.p, &c.client), &pkg).is_none());

    // To plan B: the restriction does not bind it. The memo is free text a payer never gets.
    let req = payment(c.client, &plan_b());
    let pkg = release(&c.p, &biller, &req, payment_package(c), &secrets);
    assert_eq!(released(&pkg), payment_parts());
    let memo_of = s.paid[1].0.to_string();
    assert_eq!(
        withheld(&pkg),
        [(
            Some(memo_of),
            "billing".to_owned(),
            Some("memo".to_owned()),
            "free-text-on-payment".to_owned()
        )]
    );
    assert!(pkg.to_json().contains("2024-06-13"));
    assert!(accounting(&c.p, &c.client).is_empty());
}

/// The payment basis is for payment only; an operations release to the plan goes under the
/// client's authorization for operations, and the restriction binds it too.
#[test]
fn a_self_paid_service_does_not_go_to_the_plan_for_operations() {
    let s = SelfPaid::new();
    let c = &s.c;
    let id = s.restrict();
    let dr = c.dr();
    let acme = party("Acme Health", "Acme Health Plan", "PO Box 40, Capitol City");
    let ops = Purpose::Operations;
    let consent = consent(&dr, &c.client, &acme, &[Appointments, Billing], ops);
    let req = with_consent(
        ask(
            c.client,
            &plan_a(),
            LegalBasis::Authorization,
            ops,
            &[Appointments, Billing],
        ),
        consent,
    );
    let want = without(
        c.expect(&[(Appointments, All), (Billing, All)]),
        &s.records(),
    );
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(
        released(&pkg),
        [
            part(
                Appointments,
                &["date", "minutes", "reason", "service_code", "status"],
                "authorization-scope"
            ),
            part(Billing, BILLING_FIELDS, "authorization-scope"),
        ]
    );
    assert_eq!(withheld(&pkg), s.held(&id, &[Appointments, Billing]));
    assert!(!pkg.to_json().contains(PAID_REASON));
    assert!(line_of(&accounting(&c.p, &c.client), &pkg).is_none());

    // On the payment basis, an operations purpose is not a request the policy grants.
    let biller = c.p.login("biller");
    let req = DisclosureRequest {
        purpose: ops,
        ..payment(c.client, &plan_a())
    };
    refused_for(
        &c.p,
        &biller,
        &req,
        confide::DenyReason::PurposeNotPermitted,
    );
}

/// 164.522(a)(1)(v): a court order and a warning go out whole, even with a restriction that
/// matches their purpose and recipient (every recipient, for legal purposes), which does bind
/// a release under the client's authorization.
#[test]
fn a_restriction_stops_neither_a_court_order_nor_a_warning() {
    let s = SelfPaid::new();
    let c = &s.c;
    let dr = c.dr();
    let self_pay = s.restrict();
    let legal = dr
        .record_restriction(
            &c.client,
            &NewRestriction::Other {
                recipient: None,
                purposes: vec![Purpose::Legal],
                categories: vec![],
                records: s.records(),
                agreed: true,
            },
            T,
        )
        .unwrap();
    let secrets = c.plaintext();

    let names = ReleaseScope::new()
        .with(Appointments, Scoped::only(&["date", "service_code"]))
        .with(Billing, Scoped::All);
    let req = DisclosureRequest {
        reference: Some("Order 2024-CV-0193".into()),
        order: Some(Order {
            issuer: "Springfield County Superior Court".into(),
            issued_on_ms: now_ms() - DAY_MS,
            names,
        }),
        ..ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &[Appointments, Billing],
        )
    };
    let want = c.expect(&[
        (Appointments, Only(&["date", "service_code"])),
        (Billing, All),
    ]);
    let order = release(&c.p, &dr, &req, want, &secrets);
    assert!(order.manifest.withheld.is_empty());
    assert_eq!(
        released(&order),
        [
            part(Appointments, &["date", "service_code"], "court-order"),
            part(
                Billing,
                &["date", "fee", "memo", "service_code"],
                "court-order"
            ),
        ]
    );
    assert!(order.to_json().contains(PAID_MEMO));

    let req = DisclosureRequest {
        reference: Some("Threat report 2024-0612".into()),
        ..protect(
            ask(
                c.client,
                &police(),
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                &[Demographics, Appointments],
            ),
            &[(Appointments, "date")],
        )
    };
    let want = c.expect(&[
        (Demographics, Only(PROTECTIVE_MINIMUM)),
        (Appointments, Only(&["date"])),
    ]);
    let warning = release(&c.p, &dr, &req, want, &secrets);
    assert!(warning.manifest.withheld.is_empty());
    assert_eq!(
        released(&warning),
        [
            part(Appointments, &["date"], "named-with-reason"),
            part(Demographics, PROTECTIVE_MINIMUM, "protective-minimum"),
        ]
    );
    let lines = accounting(&c.p, &c.client);
    assert_eq!(lines.len(), 2);
    assert_eq!(line_of(&lines, &order).unwrap().legal_basis, "court-order");
    assert_eq!(
        line_of(&lines, &warning).unwrap().legal_basis,
        "duty-to-warn"
    );

    // The legal-purpose restriction does bind a release the client authorized to a lawyer.
    let lawyer = party(
        "Pat Smith",
        "Smith & Partners LLP",
        "3 Court Row, Springfield",
    );
    let id = consent(&dr, &c.client, &lawyer, &[Appointments], Purpose::Legal);
    let req = with_consent(
        ask(
            c.client,
            &lawyer,
            LegalBasis::Authorization,
            Purpose::Legal,
            &[Appointments],
        ),
        id,
    );
    let want = without(c.expect(&[(Appointments, All)]), &s.records());
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert_eq!(withheld(&pkg), s.held(&legal, &[Appointments]));
    assert_ne!(legal, self_pay);
}

#[test]
fn once_lifted_the_next_payment_release_holds_the_records() {
    let s = SelfPaid::new();
    let c = &s.c;
    let id = s.restrict();
    let biller = c.p.login("biller");
    let secrets = c.plaintext();
    let req = payment(c.client, &plan_a());
    let before = release(
        &c.p,
        &biller,
        &req,
        without(payment_package(c), &s.records()),
        &secrets,
    );
    assert_eq!(withheld(&before), s.held(&id, &[Appointments, Billing]));

    let dr = c.dr();
    dr.lift_restriction(&c.client, &id, T).unwrap();
    let lift = last_entry(&c.p, "restriction.lift");
    assert_eq!(lift.target, Some(id.to_string()));
    assert_eq!(lift.client, Some(c.client));
    assert_eq!(lift.actor, Some(dr.user_id()));
    assert_eq!(lift.outcome, "granted:care-team");
    assert!(lift.seq > before.manifest.audit_seq);
    let listed = dr.list_restrictions(&c.client, T).unwrap();
    assert!(listed[0].lifted_ms.is_some());

    // The next release to plan A holds the paid sessions; only the memo stays back.
    let after = release(&c.p, &biller, &req, payment_package(c), &secrets);
    assert!(after.manifest.audit_seq > lift.seq);
    assert_eq!(released(&after), payment_parts());
    assert_eq!(
        withheld(&after),
        [(
            Some(s.paid[1].0.to_string()),
            "billing".to_owned(),
            Some("memo".to_owned()),
            "free-text-on-payment".to_owned()
        )]
    );
    assert!(accounting(&c.p, &c.client).is_empty());
}

/// Jordan asked that their progress notes go to no one, for any treatment purpose.
fn notes_to_no_one(agreed: bool) -> NewRestriction {
    NewRestriction::Other {
        recipient: None,
        purposes: vec![Purpose::Treatment],
        categories: vec![ProgressNotes],
        records: vec![],
        agreed,
    }
}

#[test]
fn an_agreed_restriction_of_a_category_binds_an_authorized_release_to_anyone() {
    let c = Chart::new();
    let dr = c.dr();
    let id = dr
        .record_restriction(&c.client, &notes_to_no_one(true), T)
        .unwrap();
    let notes: Vec<RecordId> = c
        .entries
        .iter()
        .filter(|e| e.category == ProgressNotes)
        .map(|e| e.id.parse().unwrap())
        .collect();
    assert_eq!(notes.len(), 2);
    let held: Vec<Held> = sorted(
        notes
            .iter()
            .map(|r| held_by(r, ProgressNotes, &id))
            .collect(),
    );
    let other = party(
        "Dr. Lee Amari",
        "Harbor Counselling Group",
        "8 Quay Street, Springfield",
    );
    for to in [psychiatrist(), other] {
        let cats = [DiagnosisCodes, TreatmentPlan, ProgressNotes];
        let consent = consent(&dr, &c.client, &to, &cats, T);
        let req = with_consent(
            ask(c.client, &to, LegalBasis::Authorization, T, &cats),
            consent,
        );
        // The diagnosis and the plan; the notes left out and said so.
        let want = c.expect(&[(DiagnosisCodes, All), (TreatmentPlan, All)]);
        let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
        assert_eq!(
            released(&pkg),
            [
                part(
                    DiagnosisCodes,
                    &["code", "description"],
                    "authorization-scope"
                ),
                part(TreatmentPlan, &["goals"], "authorization-scope"),
            ]
        );
        assert_eq!(withheld(&pkg), held);
        assert_eq!(
            pkg.manifest.categories,
            ["diagnosis_codes", "treatment_plan"]
        );
        let json = pkg.to_json();
        assert!(!json.contains(PROGRESS_1) && !json.contains(PROGRESS_2));
        // The ledger row says what left, not what the restriction kept back.
        assert_eq!(
            ledger_categories(&c.p, &pkg),
            "diagnosis_codes,treatment_plan"
        );
    }
}

#[test]
fn a_refused_restriction_binds_nothing() {
    let c = Chart::new();
    let dr = c.dr();
    dr.record_restriction(&c.client, &notes_to_no_one(false), T)
        .unwrap();
    let to = psychiatrist();
    let cats = [DiagnosisCodes, ProgressNotes];
    let consent = consent(&dr, &c.client, &to, &cats, T);
    let req = with_consent(
        ask(c.client, &to, LegalBasis::Authorization, T, &cats),
        consent,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (ProgressNotes, All)]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert!(pkg.manifest.withheld.is_empty());
    assert_eq!(
        released(&pkg),
        [
            part(
                DiagnosisCodes,
                &["code", "description"],
                "authorization-scope"
            ),
            part(ProgressNotes, &["summary"], "authorization-scope"),
        ]
    );
    assert!(pkg.to_json().contains(PROGRESS_2));
    assert_eq!(
        ledger_categories(&c.p, &pkg),
        "diagnosis_codes,progress_notes"
    );
}
