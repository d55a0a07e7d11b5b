//! What the incremental-verification tests share (tests/incremental.rs, and
//! cli/tests/incremental.rs through `audit-verify --state`): a practice with history, verified
//! once in full.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use confide::{Passphrase, Purpose, RecordKind, Value, Vault, VerifiedState, vault_id_of};

use crate::common::*;

const T: Purpose = Purpose::Treatment;

pub fn activity(vault: &Vault, reads: usize) {
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    let c = new_client(&dr, "Incremental Client");
    let r = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("s"))],
            T,
        )
        .unwrap();
    for _ in 0..reads {
        dr.read_record(&r, T).unwrap();
    }
}

/// A practice with checkpoints every 5 entries, some history, closed; and the state a full
/// verification leaves.
pub fn first_run() -> (Practice, VerifiedState, u64) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.vault");
    let config = test_config().with_checkpoint_every(5);
    let vault = Vault::create(&path, "admin", &Passphrase::new(ADMIN_PASS), config).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    admin
        .add_user(
            "dr.a",
            confide::Role::Clinician,
            &Passphrase::new(CLIN_PASS),
        )
        .unwrap();
    drop(admin);
    activity(&vault, 12);
    vault.close().unwrap();
    let full = confide::verify_audit_log(&path).unwrap();
    assert!(full.is_intact());
    let state = VerifiedState::after(&vault_id_of(&path).unwrap(), &full).unwrap();
    assert_eq!(Some(state.seq), full.last_checkpoint);
    // Round trip through the file the officer keeps.
    let state = VerifiedState::from_json(&state.to_json()).unwrap();
    let vault = Vault::open(&path, test_config().with_checkpoint_every(5)).unwrap();
    let p = Practice { dir, path, vault };
    (p, state, full.entries)
}
