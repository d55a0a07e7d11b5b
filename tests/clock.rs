//! Time as the rules speak of it: a consent revoked at 10:00 stops a read at 10:01, one that
//! expires at 10:30 allows a read at 10:29 and not at 10:31, an emergency grant ends when it
//! says. The vault runs on a clock the test moves (`test-clock`), so nothing here sleeps.

mod common;
#[path = "common/stories.rs"]
mod stories;

use std::time::Duration;

use common::{Practice, new_client};
use confide::{
    Category, ConsentRecipient, DenyReason, NewConsent, Purpose, RecordKind, TestClock, Value,
};
use stories::assert_denied;

const T: Purpose = Purpose::Treatment;
const MINUTE: Duration = Duration::from_secs(60);
/// 2026-03-02 09:00 UTC.
const NINE_AM: i64 = 1_772_442_000_000;
const MINUTE_MS: i64 = 60_000;

/// A practice on `clock` whose sessions stay unlocked through a working day, so that the hours
/// the tests pass do not lock them (the idle timeout has its own test, in tests/users.rs).
fn practice(clock: TestClock) -> Practice {
    let config = common::test_config()
        .with_test_clock(clock)
        .with_idle_timeout(Duration::from_secs(8 * 3600));
    Practice::with_config(config)
}

/// Casey, a client of dr.a, with one entry of `kind`; dr.a's session.
fn client_with(
    p: &Practice,
    kind: RecordKind,
    (field, text): (&str, &str),
) -> (confide::Session, confide::ClientId, confide::RecordId) {
    let dr_a = p.login("dr.a");
    let casey = new_client(&dr_a, "Casey Nguyen");
    let record = dr_a
        .create_record(&casey, kind, &[(field, Value::text(text))], T)
        .unwrap();
    (dr_a, casey, record)
}

fn consent_to(user: confide::UserId, start_ms: i64, expires_ms: Option<i64>) -> NewConsent {
    NewConsent {
        recipient: ConsentRecipient::User(user),
        categories: vec![Category::ProgressNotes],
        purpose: T,
        start_ms,
        expires_ms,
        signed_on_ms: start_ms,
        description: "progress notes to the consulting psychiatrist".into(),
        scope: None,
        case: None,
        expiry_event: None,
        signed_by: None,
    }
}

#[test]
fn a_consent_revoked_at_ten_stops_a_read_at_one_minute_past() {
    let clock = TestClock::starting_at(NINE_AM);
    let p = practice(clock);
    let (dr_a, casey, note) = client_with(
        &p,
        RecordKind::ProgressNote,
        ("summary", "panic attacks less frequent"),
    );
    let dr_b = p.login("dr.b");
    let consent = dr_a
        .record_consent(&casey, &consent_to(dr_b.user_id(), NINE_AM, None), T)
        .unwrap();

    clock.advance(59 * MINUTE); // 09:59
    let read = dr_b.read_record(&note, T).unwrap();
    assert_eq!(read.basis, confide::Basis::Consent);
    assert_eq!(
        read.get("summary")
            .map(|v| v.reveal())
            .as_deref()
            .map(String::as_str),
        Some("panic attacks less frequent")
    );

    clock.advance(MINUTE); // 10:00
    dr_a.revoke_consent(&consent, T).unwrap();
    let revoked = dr_a.list_consents(&casey, T).unwrap();
    assert_eq!(revoked[0].revoked_ms, Some(NINE_AM + 60 * MINUTE_MS));

    clock.advance(MINUTE); // 10:01
    assert_denied(dr_b.read_record(&note, T), DenyReason::ConsentRevoked);
    // The log dates each entry by the vault's clock.
    let tail = p.admin().audit_tail(3).unwrap();
    assert_eq!(tail[0].action, "record.read");
    assert_eq!(tail[0].outcome, "denied:consent-revoked");
    assert_eq!(tail[0].at_ms, NINE_AM + 61 * MINUTE_MS);
}

#[test]
fn a_consent_that_expires_at_half_past_ten_allows_a_read_a_minute_before_and_not_after() {
    let clock = TestClock::starting_at(NINE_AM);
    let p = practice(clock);
    let (dr_a, casey, note) =
        client_with(&p, RecordKind::ProgressNote, ("summary", "sleep improving"));
    let dr_b = p.login("dr.b");
    let half_past_ten = NINE_AM + 90 * MINUTE_MS;
    dr_a.record_consent(
        &casey,
        &consent_to(dr_b.user_id(), NINE_AM, Some(half_past_ten)),
        T,
    )
    .unwrap();

    clock.advance(89 * MINUTE); // 10:29
    assert_eq!(
        dr_b.read_record(&note, T).unwrap().basis,
        confide::Basis::Consent
    );
    clock.advance(2 * MINUTE); // 10:31
    assert_denied(dr_b.read_record(&note, T), DenyReason::ConsentNotInForce);
}

#[test]
fn a_consent_that_starts_later_allows_nothing_before() {
    let clock = TestClock::starting_at(NINE_AM);
    let p = practice(clock);
    let (dr_a, casey, note) = client_with(&p, RecordKind::ProgressNote, ("summary", "intake"));
    let dr_b = p.login("dr.b");
    let ten = NINE_AM + 60 * MINUTE_MS;
    dr_a.record_consent(&casey, &consent_to(dr_b.user_id(), ten, None), T)
        .unwrap();
    clock.advance(59 * MINUTE); // 09:59
    assert_denied(dr_b.read_record(&note, T), DenyReason::ConsentNotInForce);
    clock.advance(MINUTE); // 10:00
    assert_eq!(
        dr_b.read_record(&note, T).unwrap().basis,
        confide::Basis::Consent
    );
}

#[test]
fn emergency_access_ends_when_its_minutes_are_up() {
    let clock = TestClock::starting_at(NINE_AM);
    let p = practice(clock);
    let (_dr_a, casey, plan) = client_with(
        &p,
        RecordKind::TreatmentPlan,
        ("goals", "safety plan on file"),
    );
    let dr_b = p.login("dr.b");
    dr_b.break_glass(&casey, "client in crisis at the front desk", 30)
        .unwrap();
    clock.advance(29 * MINUTE);
    let read = dr_b
        .read_record(&plan, Purpose::EmergencyTreatment)
        .unwrap();
    assert_eq!(read.basis, confide::Basis::BreakGlass);
    clock.advance(2 * MINUTE);
    assert_denied(
        dr_b.read_record(&plan, Purpose::EmergencyTreatment),
        DenyReason::NoRelationship,
    );
}

#[test]
fn audit_verify_reports_an_entry_dated_before_the_one_it_follows() {
    let clock = TestClock::starting_at(NINE_AM);
    let p = practice(clock);
    let dr_a = p.login("dr.a");
    let casey = new_client(&dr_a, "Casey Nguyen");
    // A step back within the tolerance (a clock nudged by NTP) is no warning.
    clock.set_wall_ms(NINE_AM - confide::CLOCK_TOLERANCE_MS);
    dr_a.list_records(&casey, T).unwrap();
    let report = confide::verify_audit_log(p.path()).unwrap();
    assert!(report.is_intact());
    assert!(
        !report
            .warnings
            .iter()
            .any(|w| matches!(w, confide::Warning::TimeWentBack { .. })),
        "{:?}",
        report.warnings
    );
    // The machine's clock set back an hour: the next entry is dated before its predecessor.
    clock.set_wall_ms(NINE_AM - 60 * MINUTE_MS);
    dr_a.list_records(&casey, T).unwrap();
    let seq = confide::audit_log_len(p.path()).unwrap();
    let report = confide::verify_audit_log(p.path()).unwrap();
    // The chain still holds; its dates cannot be trusted across that entry, and it is named.
    assert!(report.is_intact());
    let back: Vec<_> = report
        .warnings
        .iter()
        .filter(|w| matches!(w, confide::Warning::TimeWentBack { .. }))
        .collect();
    assert_eq!(
        back,
        [&confide::Warning::TimeWentBack {
            seq,
            by_ms: 60 * MINUTE_MS - confide::CLOCK_TOLERANCE_MS,
        }]
    );
    assert_eq!(back[0].code(), "time-went-back");
}
