//! Releases under the client's authorization (45 CFR 164.508(c)): the signed form's
//! description of the information is a ceiling. An employee-assistance programme learns
//! attendance, an insurer dates of service and fees, a workers' compensation fund one condition;
//! a request can narrow that and never widen it, and the authorization stops at its expiry date,
//! its expiry event or its revocation. Releases under an authorization are not in the accounting
//! of disclosures (164.528(a)(1)(iv)), but every one stays in the ledger.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/scoped.rs"]
mod scoped;

use common::last_entry;
use confide::Category::{Appointments, Billing, DiagnosisCodes, ProgressNotes};
use confide::scope::{ATTENDANCE, Fields as ScopeFields, SERVICE_DATES, SERVICE_FEES};
use confide::{DenyReason, DisclosureRequest, Purpose, RecordKind, ReleaseScope, TestClock, Value};
use disclosing::*;
use scoped::*;

const DAY: std::time::Duration = std::time::Duration::from_secs(24 * 3600);
const AUTHORIZATION: &str = "authorization-scope";
const MEMO: &str = "reduced fee: lost job after panic attack";
const PTSD: &str = "F43.10";
const PTSD_TEXT: &str = "Post-traumatic stress after the warehouse shelving collapse";
const DEPRESSION: &str = "F32.1";
const DEPRESSION_TEXT: &str = "Major depressive disorder, single episode, moderate";

/// An EAP authorization is the employee's own request to tell the programme they attend
/// (HL7 PATRQT): the programme is not the practice's payer nor part of its operations.
const EAP_PURPOSE: Purpose = Purpose::PatientRequest;

#[test]
fn an_eap_learns_attendance_only_without_asking_for_less() {
    let c = Chart::new();
    let dr = c.dr();
    let to = eap();
    let start = now_ms() - DAY_MS;
    let consent = scoped(
        &to,
        ReleaseScope::attendance_only(),
        EAP_PURPOSE,
        start,
        None,
    );
    let id = dr.record_consent(&c.client, &consent, T).unwrap();

    // The request names the category whole; the authorization is what bounds it.
    let req = authorized(c.client, &to, EAP_PURPOSE, &[Appointments], id);
    assert!(req.narrow.is_none());
    let want = c.expect(&[(Appointments, Only(ATTENDANCE))]);
    assert_eq!(want.len(), 2);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_manifest(
        &pkg,
        &[part("appointments", &["date", "status"], AUTHORIZATION)],
        &[],
        Some("appointments (date, status)"),
    );
    let json = pkg.to_json();
    for absent in [REASON_1, REASON_2, "90837", "minutes", "location"] {
        assert!(!json.contains(absent), "{absent} reached the EAP");
    }
    assert!(accounting(&dr, &c.client).is_empty());

    // Progress notes are not in the authorization: refused and audited, alone or alongside.
    let notes = authorized(c.client, &to, EAP_PURPOSE, &[ProgressNotes], id);
    refused_for(&c.p, &dr, &notes, DenyReason::OutsideConsent);
    let both = authorized(
        c.client,
        &to,
        EAP_PURPOSE,
        &[Appointments, ProgressNotes],
        id,
    );
    refused_for(&c.p, &dr, &both, DenyReason::OutsideConsent);
    assert_eq!(ledger_rows(&c.p), 1);
}

#[test]
fn an_insurer_gets_dates_of_service_and_fees() {
    let c = Chart::new();
    let dr = c.dr();
    let to = insurer();
    let pay = Purpose::Payment;
    let scope = ReleaseScope::dates_of_service_and_fees();
    let id = dr
        .record_consent(
            &c.client,
            &scoped(&to, scope, pay, now_ms() - DAY_MS, None),
            T,
        )
        .unwrap();
    let req = authorized(c.client, &to, pay, &[Appointments, Billing], id);
    let want = c.expect(&[
        (Appointments, Only(SERVICE_DATES)),
        (Billing, Only(SERVICE_FEES)),
    ]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_manifest(
        &pkg,
        &[
            part("appointments", &["date", "service_code"], AUTHORIZATION),
            part("billing", &["date", "fee", "service_code"], AUTHORIZATION),
        ],
        &[],
        Some("appointments (date, service_code), billing (date, fee, service_code)"),
    );
    assert!(accounting(&dr, &c.client).is_empty());

    // The diagnosis is not among the dates of service.
    let dx = authorized(c.client, &to, pay, &[Appointments, DiagnosisCodes], id);
    refused_for(&c.p, &dr, &dx, DenyReason::OutsideConsent);
}

#[test]
fn a_billing_memo_leaves_only_when_an_authorization_names_it() {
    let mut c = Chart::new();
    let dr = c.dr();
    c.add(
        &dr,
        RecordKind::Billing,
        vec![
            ("date", date(2024, 5, 9)),
            ("service_code", Value::code("90834")),
            ("fee", Value::Number(9_000)),
            ("memo", Value::text(MEMO)),
        ],
    );
    let memo_entry = c.entries.last().unwrap().id.clone();
    let to = insurer();
    let pay = Purpose::Payment;
    let withheld = [free_text_withheld(&memo_entry, "billing", "memo")];

    // The biller, on the payment basis: the minimum necessary holds no free text.
    let biller = c.p.login("biller");
    let req = ask(c.client, &to, confide::LegalBasis::Payment, pay, &[Billing]);
    let want = c.expect(&[(Billing, Only(SERVICE_FEES))]);
    assert_eq!(want.len(), 2);
    let pkg = release(&c.p, &biller, &req, want.clone(), &c.plaintext());
    let minimum = part(
        "billing",
        &["date", "fee", "service_code"],
        "payment-minimum-necessary",
    );
    assert_manifest(&pkg, &[minimum], &withheld, None);
    assert!(!pkg.to_json().contains("lost job"));

    // An authorization for payment naming billing whole does not name the memo either.
    let start = now_ms() - DAY_MS;
    let whole = dr
        .record_consent(&c.client, &signed(&to, &[Billing], pay, start, None), T)
        .unwrap();
    let req = authorized(c.client, &to, pay, &[Billing], whole);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    let authorized_fees = part("billing", &["date", "fee", "service_code"], AUTHORIZATION);
    assert_manifest(
        &pkg,
        &[authorized_fees],
        &withheld,
        Some("billing (all fields)"),
    );

    // One that names the memo releases it.
    let named = ReleaseScope::new().with_fields(Billing, &["memo", "date", "service_code", "fee"]);
    let memo = dr
        .record_consent(&c.client, &scoped(&to, named, pay, start, None), T)
        .unwrap();
    let req = authorized(c.client, &to, pay, &[Billing], memo);
    let pkg = release(&c.p, &dr, &req, c.expect(&[(Billing, All)]), &[]);
    assert_manifest(
        &pkg,
        &[part(
            "billing",
            &["date", "fee", "memo", "service_code"],
            AUTHORIZATION,
        )],
        &[],
        Some("billing (date, fee, memo, service_code)"),
    );
    assert!(pkg.to_json().contains(MEMO));
    assert!(accounting(&dr, &c.client).is_empty());
}

/// The chart with two more diagnoses: the claimed condition and another.
fn claimant() -> Chart {
    let mut c = Chart::new();
    let dr = c.dr();
    for (code, text) in [(PTSD, PTSD_TEXT), (DEPRESSION, DEPRESSION_TEXT)] {
        c.add(
            &dr,
            RecordKind::Diagnosis,
            vec![
                ("code", Value::code(code)),
                ("description", Value::text(text)),
            ],
        );
    }
    c
}

/// The entries of `want` that are diagnoses of `code`, or not diagnoses at all.
fn only_condition(want: Vec<Item>, code: &str) -> Vec<Item> {
    want.into_iter()
        .filter(|(_, cat, _, f)| {
            cat != "diagnosis_codes" || f.get("code").map(String::as_str) == Some(code)
        })
        .collect()
}

#[test]
fn workers_compensation_learns_one_condition_and_the_vault_never_stores_its_code() {
    let c = claimant();
    let dr = c.dr();
    let to = adjuster();
    let legal = Purpose::Legal;
    let consent = scoped(
        &to,
        ReleaseScope::condition(PTSD),
        legal,
        now_ms() - DAY_MS,
        None,
    );
    let id = dr.record_consent(&c.client, &consent, T).unwrap();
    let req = authorized(c.client, &to, legal, &[DiagnosisCodes], id);
    let want = only_condition(c.expect(&[(DiagnosisCodes, All)]), PTSD);
    assert_eq!(want.len(), 1);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_manifest(
        &pkg,
        &[part(
            "diagnosis_codes",
            &["code", "description"],
            AUTHORIZATION,
        )],
        &[],
        Some("diagnosis_codes (all fields; one condition)"),
    );
    let json = pkg.to_json();
    for absent in [DEPRESSION, DEPRESSION_TEXT, "F41.1", DX_TEXT] {
        assert!(!json.contains(absent), "{absent} reached the fund");
    }
    assert!(accounting(&dr, &c.client).is_empty());

    // The consent is stored with the condition's keyed index, never its code.
    for table in ["consents", "consent_scopes", "consent_fields"] {
        assert!(!table_holds(&c.p, table, PTSD), "{PTSD} in {table}");
    }
    let index: Option<Vec<u8>> = common::raw(c.p.path())
        .query_row("SELECT condition_index FROM consent_scopes", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(index.is_some_and(|i| i.len() >= 16), "the index is stored");
    // Nor anywhere else in the vault's files.
    assert!(!file_holds(c.p.path(), PTSD));
    let listed = dr.list_consents(&c.client, T).unwrap();
    assert!(!format!("{listed:?}").contains(PTSD));
}

#[test]
fn one_condition_and_its_dates_of_service() {
    // A claim names the condition and when it was treated: the condition limits the diagnoses,
    // not the appointments beside them.
    let c = claimant();
    let dr = c.dr();
    let to = adjuster();
    let legal = Purpose::Legal;
    let scope = ReleaseScope::condition(PTSD).with(Appointments, ScopeFields::only(SERVICE_DATES));
    let consent = scoped(&to, scope, legal, now_ms() - DAY_MS, None);
    let id = dr.record_consent(&c.client, &consent, T).unwrap();
    let req = authorized(c.client, &to, legal, &[Appointments, DiagnosisCodes], id);
    let want = only_condition(
        c.expect(&[(Appointments, Only(SERVICE_DATES)), (DiagnosisCodes, All)]),
        PTSD,
    );
    assert_eq!(want.len(), 3);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_manifest(
        &pkg,
        &[
            part("appointments", &["date", "service_code"], AUTHORIZATION),
            part("diagnosis_codes", &["code", "description"], AUTHORIZATION),
        ],
        &[],
        Some("appointments (date, service_code), diagnosis_codes (all fields; one condition)"),
    );
}

#[test]
fn a_request_narrows_an_authorization_and_never_widens_it() {
    let c = Chart::new();
    let dr = c.dr();
    let to = eap();
    let start = now_ms() - DAY_MS;
    let consent = scoped(
        &to,
        ReleaseScope::attendance_only(),
        EAP_PURPOSE,
        start,
        None,
    );
    let id = dr.record_consent(&c.client, &consent, T).unwrap();
    let base = authorized(c.client, &to, EAP_PURPOSE, &[Appointments], id);

    // Dates alone: narrower, so that is all that leaves.
    let dates = DisclosureRequest {
        narrow: Some(ReleaseScope::new().with(Appointments, ScopeFields::only(&["date"]))),
        ..base.clone()
    };
    let pkg = release(
        &c.p,
        &dr,
        &dates,
        c.expect(&[(Appointments, Only(&["date"]))]),
        &c.plaintext(),
    );
    assert_manifest(
        &pkg,
        &[part("appointments", &["date"], AUTHORIZATION)],
        &[],
        Some("appointments (date, status)"),
    );

    // Asking every field of appointments is still attendance only.
    let every = DisclosureRequest {
        narrow: Some(ReleaseScope::new().with(Appointments, ScopeFields::All)),
        ..base.clone()
    };
    let want = c.expect(&[(Appointments, Only(ATTENDANCE))]);
    release(&c.p, &dr, &every, want, &c.plaintext());

    // A category the authorization lacks: nothing leaves, not even the appointments.
    let ledger = ledger_rows(&c.p);
    let more = DisclosureRequest {
        categories: vec![Appointments, Billing],
        ..base
    };
    refused_for(&c.p, &dr, &more, DenyReason::OutsideConsent);
    assert_eq!(ledger_rows(&c.p), ledger);
}

/// A psychiatrist's authorization for diagnoses, on `clock`'s chart, signed at nine.
fn on_clock(expires_ms: Option<i64>, event: Option<&str>) -> (Chart, TestClock, DisclosureRequest) {
    let clock = TestClock::starting_at(NINE_AM);
    let c = chart_on(clock);
    let to = psychiatrist();
    let consent = confide::NewConsent {
        expiry_event: event.map(str::to_owned),
        ..signed(&to, &[DiagnosisCodes], T, NINE_AM, expires_ms)
    };
    let id = c.dr().record_consent(&c.client, &consent, T).unwrap();
    let req = authorized(c.client, &to, T, &[DiagnosisCodes], id);
    (c, clock, req)
}

#[test]
fn an_authorization_ends_at_its_expiry_date() {
    let ten = NINE_AM + 60 * MINUTE_MS;
    let (c, clock, req) = on_clock(Some(ten), None);
    let want = c.expect(&[(DiagnosisCodes, All)]);

    clock.advance(59 * MINUTE); // 09:59
    let dr = c.dr();
    let before = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(before.manifest.released_at, "2026-03-02T09:59:00Z");

    clock.advance(MINUTE); // 10:00: it expires at ten, exclusive
    refused_for(&c.p, &dr, &req, DenyReason::ConsentNotInForce);
    clock.advance(DAY);
    refused_for(&c.p, &c.dr(), &req, DenyReason::ConsentNotInForce);

    // What left before it expired stays on record.
    assert!(in_ledger(&c.p, &before));
    assert_eq!(ledger_rows(&c.p), 1);
    assert!(accounting(&c.dr(), &c.client).is_empty());
}

#[test]
fn an_authorization_ends_when_its_expiry_event_is_recorded() {
    let (c, clock, req) = on_clock(None, Some("the close of the workers' compensation claim"));
    let want = c.expect(&[(DiagnosisCodes, All)]);
    let dr = c.dr();
    clock.advance(30 * MINUTE);
    let before = release(&c.p, &dr, &req, want.clone(), &c.plaintext());
    clock.advance(60 * MINUTE);
    let again = release(&c.p, &dr, &req, want, &c.plaintext());

    // The claim closes at 10:30.
    let id = req.consent.unwrap();
    dr.record_expiry_event(&id, T).unwrap();
    let e = last_entry(&c.p, "consent.expiry_event");
    assert!(e.outcome.starts_with("granted"), "{}", e.outcome);
    assert_eq!(e.client, Some(c.client));
    assert_eq!(e.at_ms, NINE_AM + 90 * MINUTE_MS);
    let listed = dr.list_consents(&c.client, T).unwrap();
    assert_eq!(listed[0].expires_ms, Some(NINE_AM + 90 * MINUTE_MS));
    refused_for(&c.p, &dr, &req, DenyReason::ConsentNotInForce);
    clock.advance(MINUTE);
    refused_for(&c.p, &dr, &req, DenyReason::ConsentNotInForce);
    // An event happens once.
    assert!(matches!(
        dr.record_expiry_event(&id, T),
        Err(confide::Error::InvalidInput { .. })
    ));

    assert!(in_ledger(&c.p, &before) && in_ledger(&c.p, &again));
    assert_eq!(ledger_rows(&c.p), 2);
    assert!(accounting(&dr, &c.client).is_empty());
}

#[test]
fn a_revoked_authorization_stops_the_next_release_and_keeps_the_last() {
    let (c, clock, req) = on_clock(None, None);
    let want = c.expect(&[(DiagnosisCodes, All)]);
    let dr = c.dr();
    clock.advance(59 * MINUTE); // 09:59
    let before = release(&c.p, &dr, &req, want, &c.plaintext());

    clock.advance(MINUTE); // 10:00
    let id = req.consent.unwrap();
    dr.revoke_consent(&id, T).unwrap();
    let listed = dr.list_consents(&c.client, T).unwrap();
    assert_eq!(listed[0].revoked_ms, Some(NINE_AM + 60 * MINUTE_MS));
    let e = last_entry(&c.p, "consent.revoke");
    assert_eq!(e.client, Some(c.client));

    clock.advance(MINUTE); // 10:01
    refused_for(&c.p, &dr, &req, DenyReason::ConsentRevoked);
    let e = last_entry(&c.p, "disclosure.release");
    assert_eq!(e.at_ms, NINE_AM + 61 * MINUTE_MS);

    assert!(in_ledger(&c.p, &before));
    assert_eq!(ledger_rows(&c.p), 1);
    assert!(accounting(&dr, &c.client).is_empty());
}
