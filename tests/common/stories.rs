//! Helpers for the scenario tests (couples, consent, minimum necessary, break-glass, minors,
//! existence): consents as a clinic records them, exports scanned as text, audit look-ups.

#![allow(
    dead_code,
    reason = "each scenario file uses a different part of the helpers"
)]

use std::fmt::Debug;

use confide::{
    AuditEntry, Category, ConsentRecipient, DenyReason, Error, Export, NewConsent, Purpose,
};

use crate::common::Practice;

/// One day in milliseconds.
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The wall clock in unix milliseconds, as the vault reads it.
pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// A consent signed yesterday, in force from yesterday until revoked.
pub fn consent(
    recipient: ConsentRecipient,
    categories: &[Category],
    purpose: Purpose,
) -> NewConsent {
    let yesterday = now_ms() - DAY_MS;
    NewConsent {
        recipient,
        categories: categories.to_vec(),
        purpose,
        start_ms: yesterday,
        expires_ms: None,
        signed_on_ms: yesterday,
        description: "release of information as described on the signed form".into(),
        scope: None,
        case: None,
        expiry_event: None,
        signed_by: None,
    }
}

/// Assert that `result` is the policy's refusal for `reason`.
#[track_caller]
pub fn assert_denied<T: Debug>(result: Result<T, Error>, reason: DenyReason) {
    match result {
        Err(Error::Denied { reason: got }) => assert_eq!(got, reason, "refused for another reason"),
        other => panic!("expected denied:{reason}, got {other:?}"),
    }
}

/// Assert that `result` is an `InvalidInput` error.
#[track_caller]
pub fn assert_invalid<T: Debug>(result: Result<T, Error>) {
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "expected invalid input, got {result:?}"
    );
}

/// Every value an export reveals to its recipient, as text.
pub fn revealed(export: &Export) -> Vec<String> {
    let records = export.records.iter().flat_map(|r| r.fields.values());
    let joint = export.joint_records.iter().flat_map(|j| j.fields.values());
    records
        .chain(joint)
        .map(|v| v.reveal().as_str().to_owned())
        .collect()
}

/// Everything an export shows, as one string: its `Debug` output and every revealed value.
pub fn export_text(export: &Export) -> String {
    format!("{export:?}\n{}", revealed(export).join("\n"))
}

/// Every audit entry with `action`, oldest first (read through an admin session).
pub fn entries(p: &Practice, action: &str) -> Vec<AuditEntry> {
    p.admin()
        .audit_tail(100_000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

/// The audit chain of the practice's vault verifies.
#[track_caller]
pub fn assert_log_intact(p: &Practice) {
    let report = confide::verify_audit_log(p.path()).unwrap();
    assert!(report.is_intact(), "audit log broken: {report:?}");
}
