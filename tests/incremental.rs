//! Incremental verification: a daily check resumes after the signed checkpoint the last run
//! verified, checks the log still holds it unchanged, and hashes only what came after.

mod common;
#[path = "common/verified.rs"]
mod verified;

use common::*;
use confide::{FindingKind, VerifiedState, VerifyOptions, vault_id_of, verify_audit_log_with};
use verified::*;

fn options(state: &VerifiedState) -> VerifyOptions {
    VerifyOptions {
        resume: Some(state.clone()),
        ..VerifyOptions::default()
    }
}

#[test]
fn the_next_run_checks_only_what_came_after() {
    let (p, state, before) = first_run();
    activity(&p.vault, 7);
    let Practice {
        dir: _dir,
        path,
        vault,
    } = p;
    vault.close().unwrap();
    let total = confide::verify_audit_log(&path).unwrap().entries;
    let report = verify_audit_log_with(&path, &options(&state)).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.resumed_from, Some(state.seq));
    assert_eq!(
        report.entries,
        total - state.seq,
        "only the new entries are hashed"
    );
    assert!(report.entries < total && total > before);
    // The next state moves forward.
    let next = VerifiedState::after(&vault_id_of(&path).unwrap(), &report).unwrap();
    assert!(next.seq > state.seq);
}

#[test]
fn a_changed_verified_point_is_caught() {
    let (p, state, _) = first_run();
    let Practice {
        dir: _dir,
        path,
        vault,
    } = p;
    vault.close().unwrap();
    raw(&path)
        .execute(
            "UPDATE audit_log SET hash = zeroblob(32) WHERE seq = ?1",
            [state.seq as i64],
        )
        .unwrap();
    let report = verify_audit_log_with(&path, &options(&state)).unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.seq == state.seq && f.kind == FindingKind::Forked),
        "{:?}",
        report.findings
    );
}

#[test]
fn a_log_cut_back_before_the_verified_point_is_caught() {
    let (p, state, _) = first_run();
    let Practice {
        dir: _dir,
        path,
        vault,
    } = p;
    vault.close().unwrap();
    let conn = raw(&path);
    conn.execute(
        "DELETE FROM audit_log WHERE seq >= ?1",
        [state.seq as i64 - 2],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM audit_checkpoints WHERE seq >= ?1",
        [state.seq as i64 - 2],
    )
    .unwrap();
    drop(conn);
    let report = verify_audit_log_with(&path, &options(&state)).unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.seq == state.seq && matches!(f.kind, FindingKind::Truncated { .. })),
        "{:?}",
        report.findings
    );
}

#[test]
fn a_state_from_another_vault_cannot_be_used() {
    let (p1, state, _) = first_run();
    let (p2, _, _) = first_run();
    drop(p1);
    let err = verify_audit_log_with(p2.path(), &options(&state)).unwrap_err();
    assert!(
        matches!(err, confide::Error::InvalidInput { .. }),
        "{err:?}"
    );
}

#[test]
fn tampering_inside_the_verified_prefix_needs_a_full_run() {
    // What incremental verification trusts, said plainly: the prefix a run verified. A full
    // run still catches an edit there.
    let (p, state, _) = first_run();
    let Practice {
        dir: _dir,
        path,
        vault,
    } = p;
    vault.close().unwrap();
    let conn = audit_sql::open(&path);
    let purpose = "SELECT audit_part(entry, 'purpose') FROM audit_log WHERE seq = 3";
    let was: String = conn.query_row(purpose, [], |r| r.get(0)).unwrap();
    assert_ne!(was, "HPAYMT");
    let n = conn
        .execute(
            "UPDATE audit_log SET entry = audit_with(entry, 'purpose', 'HPAYMT') WHERE seq = 3",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    let now: String = conn.query_row(purpose, [], |r| r.get(0)).unwrap();
    assert_eq!(now, "HPAYMT");
    drop(conn);
    assert!(state.seq > 3, "the edit is inside the verified prefix");
    assert!(
        verify_audit_log_with(&path, &options(&state))
            .unwrap()
            .is_intact()
    );
    let full = confide::verify_audit_log(&path).unwrap();
    // Edited in place, its hash left alone: the entry's link still names entry 2, so it is
    // found changed where it is, and nothing else is.
    assert_eq!(
        full.findings,
        vec![confide::Finding {
            seq: 3,
            kind: FindingKind::Changed
        }]
    );
}
