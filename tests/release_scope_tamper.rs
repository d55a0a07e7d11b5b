//! A release's bounds attacked in the file, as someone with SQLite write access and an ordinary
//! login would: an attendance-only authorization widened to whole appointments, its condition
//! index swapped, its case changed, a restriction lifted by hand. Each must fail the release
//! closed with `Error::Integrity` on the client's scope, the failure must be audited, nothing
//! may reach the ledger, and `audit-verify` must report the client's facts at the entry that
//! last vouched for them.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/tampered.rs"]
mod tampered;

use common::raw;
use confide::Category::Appointments;
use confide::{DisclosureRequest, LegalBasis, OutsideParty, Purpose, ReleaseScope};
use disclosing::*;
use tampered::{assert_failure_audited, assert_findings, assert_scope_failed, facts_changed};

/// An attendance-only authorization to the employee-assistance programme, released once.
fn eap(c: &Chart) -> (OutsideParty, DisclosureRequest) {
    let dr = c.dr();
    let to = party(
        "Case Manager",
        "Acme Employee Assistance",
        "PO Box 7, Springfield",
    );
    let mut consent = signed(&to, &[Appointments], T, now_ms() - DAY_MS, None);
    consent.scope = Some(ReleaseScope::attendance_only());
    let id = dr.record_consent(&c.client, &consent, T).unwrap();
    let req = with_consent(
        ask(c.client, &to, LegalBasis::Authorization, T, &[Appointments]),
        id,
    );
    let want = c.expect(&[(Appointments, Only(&["date", "status"]))]);
    release(&c.p, &dr, &req, want, &c.plaintext());
    (to, req)
}

#[track_caller]
fn refused_closed(c: &Chart, req: &DisclosureRequest, vouched_at: u64) {
    let dr = c.dr();
    let before = ledger_rows(&c.p);
    assert_scope_failed(dr.disclose(req), "clients", c.client.as_bytes());
    assert_failure_audited(c.p.path(), "disclosure.release", &dr.user_id());
    assert_eq!(ledger_rows(&c.p), before, "nothing reaches the ledger");
    assert_findings(
        c.p.path(),
        &[facts_changed(vouched_at, "client", c.client.as_bytes())],
    );
}

/// The sequence number of the last entry that vouched for the client's facts.
fn vouched(c: &Chart) -> u64 {
    tampered::vouched_for(c.p.path(), "client", c.client.as_bytes()).seq
}

#[test]
fn an_authorization_widened_in_the_file_fails_closed() {
    let c = Chart::new();
    let (_, req) = eap(&c);
    let at = vouched(&c);
    raw(c.p.path())
        .execute("UPDATE consent_scopes SET elements = 'appointments:*'", [])
        .unwrap();
    refused_closed(&c, &req, at);
}

#[test]
fn a_scope_row_deleted_to_fall_back_to_whole_categories_fails_closed() {
    let c = Chart::new();
    let (_, req) = eap(&c);
    let at = vouched(&c);
    raw(c.p.path())
        .execute("DELETE FROM consent_scopes", [])
        .unwrap();
    refused_closed(&c, &req, at);
}

#[test]
fn a_restriction_lifted_in_the_file_fails_closed() {
    let c = Chart::new();
    let dr = c.dr();
    let biller = c.p.login("biller");
    let records = dr.list_records(&c.client, T).unwrap();
    let billing = records
        .iter()
        .find(|r| r.kind == confide::RecordKind::Billing)
        .unwrap()
        .id;
    let plan = insurer();
    dr.record_restriction(
        &c.client,
        &confide::NewRestriction::SelfPay {
            plan_name: plan.name.clone(),
            plan_organisation: plan.organisation.clone(),
            records: vec![billing],
        },
        T,
    )
    .unwrap();
    let pay = ask(
        c.client,
        &plan,
        LegalBasis::Payment,
        Purpose::Payment,
        &[confide::Category::Billing],
    );
    let package = biller.disclose(&pay).unwrap();
    assert!(package.items.is_empty(), "the paid service stays out");
    assert_eq!(package.manifest.withheld.len(), 1);
    assert!(
        package.manifest.withheld[0]
            .reason
            .starts_with("restriction:")
    );
    let at = vouched(&c);
    raw(c.p.path())
        .execute("UPDATE restrictions SET lifted_at = 1", [])
        .unwrap();
    let before = ledger_rows(&c.p);
    assert_scope_failed(biller.disclose(&pay), "clients", c.client.as_bytes());
    assert_failure_audited(c.p.path(), "disclosure.release", &biller.user_id());
    assert_eq!(ledger_rows(&c.p), before);
    assert_findings(
        c.p.path(),
        &[facts_changed(at, "client", c.client.as_bytes())],
    );
}
