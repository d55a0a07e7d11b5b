//! What the authenticated-state attacks share (tests/authenticated_state*.rs): the refusal a
//! fact edited in the file must get on the read path, the audit entry that records it, and the
//! entry `audit-verify` must name, found in the log the way a reviewer would find it.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::fmt::Debug;
use std::path::Path;

use confide::{AuditEntry, AuditFilter, Error, FindingKind, UserId};

use crate::common::*;

/// The field an integrity failure of a scope of facts names.
pub const SCOPE_FIELD: &str = "(the facts of this scope)";
/// The field an integrity failure of a record's set of fields names.
pub const SET_FIELD: &str = "(the set of fields)";

/// Every entry of the log, oldest first, read without a passphrase.
pub fn log(path: &Path) -> Vec<AuditEntry> {
    confide::read_audit_log(path, &AuditFilter::default())
        .unwrap()
        .entries
}

/// The actions that change each scope of facts, as `docs/design.md` lists them: the entries
/// that vouch for the scope as they left it.
fn changes(scope: &str) -> &'static [&'static str] {
    match scope {
        "client" => &[
            "client.create",
            "care_team.add",
            "care_team.remove",
            "client.minor_status",
            "consent.record",
            "consent.revoke",
            "break_glass.start",
            "break_glass.end",
            "guardian.record",
            "guardian.end",
            "consent.expiry_event",
            "restriction.record",
            "restriction.lift",
            "record.addendum",
            "note.addendum",
            "record.sign",
            "note.sign",
            "record.create",
            "note.create",
            "amendment.request",
            "amendment.extend",
            "amendment.accept",
            "amendment.deny",
            "amendment.disagreement",
            "amendment.rebuttal",
        ],
        "case" => &["case.create", "case.leave"],
        "user" => &[
            "user.add",
            "user.disable",
            "user.enable",
            "user.remove",
            "supervision.set",
            "supervision.end",
        ],
        other => panic!("no scope {other}"),
    }
}

/// The newest granted entry that changed scope (`scope`, `id`): a client's is named as the
/// entry's client, a case's or a user's as its target. The baseline of a migrated vault vouches
/// for every scope, so it counts too.
pub fn vouched_for(path: &Path, scope: &str, id: &[u8; 16]) -> AuditEntry {
    let hex = hex(id);
    log(path)
        .into_iter()
        .rev()
        .find(|e| {
            let granted = e.outcome.starts_with("granted");
            let about = if scope == "client" {
                e.client.map(|c| c.to_string()) == Some(hex.clone())
            } else {
                e.target.as_deref() == Some(hex.as_str())
            };
            granted
                && ((about && changes(scope).contains(&e.action.as_str()))
                    || e.action == "facts.baseline")
        })
        .unwrap_or_else(|| panic!("no entry vouches for {scope} {hex}"))
}

/// The newest entry with `action` and a granted outcome.
pub fn granted(path: &Path, action: &str) -> AuditEntry {
    log(path)
        .into_iter()
        .rev()
        .find(|e| e.action == action && e.outcome.starts_with("granted"))
        .unwrap_or_else(|| panic!("no granted {action} entry"))
}

pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// `result` is the integrity failure of the scope of facts headed by `table` (clients, cases,
/// users) with id `id`.
#[track_caller]
pub fn assert_scope_failed<T: Debug>(result: Result<T, Error>, table: &str, id: &[u8; 16]) {
    match result {
        Err(Error::Integrity { place }) => {
            assert_eq!(
                (place.table, place.owner.as_str(), place.field.as_str()),
                (table, hex(id).as_str(), SCOPE_FIELD),
                "another place failed: {place:?}"
            );
        }
        other => panic!(
            "expected the {table} scope {} to fail, got {other:?}",
            hex(id)
        ),
    }
}

/// `result` is the integrity failure of the set of fields of `record` in `table`.
#[track_caller]
pub fn assert_set_failed<T: Debug>(result: Result<T, Error>, table: &str, record: &[u8; 16]) {
    match result {
        Err(Error::Integrity { place }) => {
            assert_eq!(
                (place.table, place.record.as_str(), place.field.as_str()),
                (table, hex(record).as_str(), SET_FIELD),
                "another place failed: {place:?}"
            );
        }
        other => panic!("expected {table} {} to fail, got {other:?}", hex(record)),
    }
}

/// The log's newest entry records `action` by `actor` as failed on integrity.
#[track_caller]
pub fn assert_failure_audited(path: &Path, action: &str, actor: &UserId) {
    let last = log(path).pop().unwrap();
    assert_eq!(
        (last.action.as_str(), last.outcome.as_str(), last.actor),
        (action, "failed:integrity", Some(*actor)),
        "the attempt is not the log's last entry: {last:?}"
    );
}

/// `audit-verify` reports exactly `want` and not intact.
#[track_caller]
pub fn assert_findings(path: &Path, want: &[(u64, FindingKind)]) {
    assert!(!want.is_empty());
    let report = confide::verify_audit_log(path).unwrap();
    assert!(!report.is_intact(), "intact after the attack: {report:?}");
    let found: Vec<(u64, FindingKind)> = report.findings.iter().map(|f| (f.seq, f.kind)).collect();
    assert_eq!(found, want, "{report:?}");
}

/// The facts of `scope` `id` changed outside the vault, reported at `seq`.
pub fn facts_changed(seq: u64, scope: &'static str, id: &[u8; 16]) -> (u64, FindingKind) {
    (seq, FindingKind::FactsChanged { scope, id: *id })
}

/// The practice closed and opened again (every session of it must have been dropped).
pub fn reopen(p: Practice) -> Practice {
    let Practice { dir, path, vault } = p;
    vault.close().unwrap();
    let vault = confide::Vault::open(&path, test_config()).unwrap();
    Practice { dir, path, vault }
}
