//! Court orders and subpoenas (45 CFR 164.512(e)): the package holds exactly what the order
//! names, down to fields, no more and no less; a subpoena alone never reaches psychotherapy
//! notes (164.508(a)(2)). Every release on an order is in the accounting (164.528).

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/manifests.rs"]
mod manifests;

use common::last_entry;
use confide::Category::{
    Appointments, DiagnosisCodes, ProgressNotes, PsychotherapyNotes, TreatmentPlan,
};
use confide::scope::Fields as Scoped;
use confide::{
    Category, ClientId, DenyReason, DisclosureRequest, LegalBasis, Order, OutsideParty, Purpose,
    ReleaseScope,
};
use disclosing::*;
use manifests::*;

const ISSUER: &str = "Hon. R. Castellano, Springfield County Superior Court";
/// 2024-06-03T00:00:00Z.
const ISSUED_MS: i64 = 1_717_372_800_000;
const ISSUED: &str = "2024-06-03T00:00:00Z";

/// A request on `basis` citing an order that names `names`, asking for `categories`.
fn on_order(
    client: ClientId,
    to: &OutsideParty,
    basis: LegalBasis,
    names: ReleaseScope,
    categories: &[Category],
) -> DisclosureRequest {
    DisclosureRequest {
        reference: Some("Order 2024-CV-0193".into()),
        order: Some(Order {
            issuer: ISSUER.into(),
            issued_on_ms: ISSUED_MS,
            names,
        }),
        ..ask(client, to, basis, Purpose::Legal, categories)
    }
}

/// The order of the first story: diagnosis codes and dates of service, nothing else.
fn codes_and_dates() -> ReleaseScope {
    ReleaseScope::new()
        .with(DiagnosisCodes, Scoped::only(&["code"]))
        .with(Appointments, Scoped::only(&["date"]))
}

fn subpoena_recipient() -> OutsideParty {
    party(
        "Dana Whitfield, Esq.",
        "Whitfield & Cole LLP",
        "9 Market Street, Springfield",
    )
}

#[test]
fn a_court_order_naming_fields_releases_exactly_those_fields() {
    let c = Chart::new();
    let dr = c.dr();
    let req = on_order(
        c.client,
        &court(),
        LegalBasis::CourtOrder,
        codes_and_dates(),
        &[DiagnosisCodes, Appointments],
    );
    // The diagnosis code and each appointment's date: not the diagnosis description, nor the
    // appointment's reason, minutes, code or status.
    let want = c.expect(&[
        (DiagnosisCodes, Only(&["code"])),
        (Appointments, Only(&["date"])),
    ]);
    assert_eq!(
        shape(&want),
        [
            ("appointments".to_owned(), vec!["date".to_owned()]),
            ("appointments".to_owned(), vec!["date".to_owned()]),
            ("diagnosis_codes".to_owned(), vec!["code".to_owned()]),
        ]
    );
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    let json = pkg.to_json();
    for never in [DX_TEXT, REASON_1, REASON_2, "90837", "no-show"] {
        assert!(!json.contains(never), "{never:?} left on the order");
    }

    let m = &pkg.manifest;
    assert_eq!(
        released(&pkg),
        [
            part(Appointments, &["date"], "court-order"),
            part(DiagnosisCodes, &["code"], "court-order"),
        ]
    );
    assert!(m.withheld.is_empty());
    assert_eq!(m.order, Some((ISSUER.to_owned(), ISSUED.to_owned())));
    assert_eq!(m.reference.as_deref(), Some("Order 2024-CV-0193"));
    assert_eq!(m.authorization_scope, None);
    assert_eq!((&m.at_risk, &m.threat), (&None, &None));
    assert!(m.named.is_empty());
    assert!(pkg.redisclosure_notice.is_none() && pkg.consent_copy.is_none());
    let v = json_matches(&pkg);
    assert_eq!(v["manifest"]["order"], serde_json::json!([ISSUER, ISSUED]));

    // 164.528: a release on a court order is accounted for, to the court, with what left.
    let lines = accounting(&c.p, &c.client);
    assert_eq!(lines.len(), 1);
    let line = line_of(&lines, &pkg).expect("the order is in the accounting");
    assert_eq!(line.recipient, court());
    assert_eq!(line.legal_basis, "court-order");
    assert_eq!(line.purpose, Purpose::Legal.code());
    assert_eq!(line.disclosed_at, m.released_at);
    for named in ["diagnosis_codes", "appointments", "court-order"] {
        assert!(
            line.description.contains(named),
            "{named} in the accounting"
        );
    }
    assert!(!line.description.contains(DX_TEXT));
}

#[test]
fn a_narrowing_that_drops_what_the_order_names_is_not_a_request() {
    let c = Chart::new();
    let dr = c.dr();
    let order = |categories: &[Category]| {
        on_order(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            codes_and_dates(),
            categories,
        )
    };
    let both = [DiagnosisCodes, Appointments];
    // Dates of service and fees would drop the diagnosis code the order names.
    let narrowed = DisclosureRequest {
        narrow: Some(ReleaseScope::dates_of_service_and_fees()),
        ..order(&both)
    };
    invalid(&c.p, &dr, &narrowed);
    // So would asking for fewer categories than it names.
    invalid(&c.p, &dr, &order(&[DiagnosisCodes]));
    invalid(&c.p, &dr, &order(&[Appointments]));
    // Or narrowing one named field away.
    let dates_only = DisclosureRequest {
        narrow: Some(ReleaseScope::new().with(Appointments, Scoped::only(&["date"]))),
        ..order(&both)
    };
    invalid(&c.p, &dr, &dates_only);
    assert_eq!(ledger_rows(&c.p), 0);
    assert!(accounting(&c.p, &c.client).is_empty());

    // A narrowing that keeps all the order names changes nothing.
    let wide = DisclosureRequest {
        narrow: Some(ReleaseScope::categories(&[DiagnosisCodes, Appointments])),
        ..order(&both)
    };
    let want = c.expect(&[
        (DiagnosisCodes, Only(&["code"])),
        (Appointments, Only(&["date"])),
    ]);
    let pkg = release(&c.p, &dr, &wide, want, &c.plaintext());
    assert_eq!(
        released(&pkg),
        [
            part(Appointments, &["date"], "court-order"),
            part(DiagnosisCodes, &["code"], "court-order"),
        ]
    );
}

#[test]
fn asking_beyond_the_order_is_refused_and_audited() {
    let c = Chart::new();
    let dr = c.dr();
    for extra in [ProgressNotes, TreatmentPlan, PsychotherapyNotes] {
        let req = on_order(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            codes_and_dates(),
            &[DiagnosisCodes, Appointments, extra],
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
        let e = last_entry(&c.p, "disclosure.release");
        assert_eq!(e.outcome, "denied:purpose-not-permitted");
        assert_eq!(e.actor, Some(dr.user_id()));
    }
    // A category alone that the order does not name.
    let req = on_order(
        c.client,
        &court(),
        LegalBasis::CourtOrder,
        codes_and_dates(),
        &[ProgressNotes],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    assert_eq!(ledger_rows(&c.p), 0);
    assert!(accounting(&c.p, &c.client).is_empty());
}

#[test]
fn a_subpoena_never_reaches_psychotherapy_notes_a_court_order_does() {
    let c = Chart::new();
    let dr = c.dr();
    let notes = ReleaseScope::categories(&[PsychotherapyNotes]);
    let to = subpoena_recipient();
    let req = on_order(
        c.client,
        &to,
        LegalBasis::Subpoena,
        notes.clone(),
        &[PsychotherapyNotes],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    // Named beside what a subpoena may reach, still refused, whole.
    let with_progress = ReleaseScope::categories(&[PsychotherapyNotes])
        .with(ProgressNotes, Scoped::only(&["summary"]));
    let req = on_order(
        c.client,
        &to,
        LegalBasis::Subpoena,
        with_progress,
        &[ProgressNotes, PsychotherapyNotes],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    assert_eq!(ledger_rows(&c.p), 0);
    // The rest of what that subpoena names may still go: leaving out what the law never lets
    // a subpoena reach drops nothing it may have.
    let with_progress = ReleaseScope::categories(&[PsychotherapyNotes])
        .with(ProgressNotes, Scoped::only(&["summary"]));
    let req = on_order(
        c.client,
        &to,
        LegalBasis::Subpoena,
        with_progress,
        &[ProgressNotes],
    );
    let want = c.expect(&[(ProgressNotes, Only(&["summary"]))]);
    let rest = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(
        released(&rest),
        [part(ProgressNotes, &["summary"], "subpoena")]
    );
    assert!(!rest.to_json().contains(IMPRESSIONS));

    // What a subpoena may reach leaves under its own limit, and is accounted for.
    let progress = ReleaseScope::new().with(ProgressNotes, Scoped::only(&["summary"]));
    let req = on_order(
        c.client,
        &to,
        LegalBasis::Subpoena,
        progress,
        &[ProgressNotes],
    );
    let want = c.expect(&[(ProgressNotes, Only(&["summary"]))]);
    let by_subpoena = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(
        released(&by_subpoena),
        [part(ProgressNotes, &["summary"], "subpoena")]
    );
    assert_eq!(
        by_subpoena.manifest.order,
        Some((ISSUER.to_owned(), ISSUED.to_owned()))
    );

    // The same notes under an order of a court: released.
    let req = on_order(
        c.client,
        &court(),
        LegalBasis::CourtOrder,
        notes,
        &[PsychotherapyNotes],
    );
    let want = c.expect(&[(PsychotherapyNotes, All)]);
    let by_order = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(
        released(&by_order),
        [part(PsychotherapyNotes, &["impressions"], "court-order")]
    );
    assert!(by_order.manifest.withheld.is_empty());
    assert_eq!(
        by_order.manifest.order,
        Some((ISSUER.to_owned(), ISSUED.to_owned()))
    );
    assert!(by_order.to_json().contains(IMPRESSIONS));

    let lines = accounting(&c.p, &c.client);
    assert_eq!(lines.len(), 3, "the three releases, not the refusals");
    let line = line_of(&lines, &by_subpoena).unwrap();
    assert_eq!(
        (line.legal_basis.as_str(), &line.recipient),
        ("subpoena", &to)
    );
    let line = line_of(&lines, &by_order).unwrap();
    assert_eq!(
        (line.legal_basis.as_str(), &line.recipient),
        ("court-order", &court())
    );
    assert!(line.description.contains("psychotherapy_notes"));
}
