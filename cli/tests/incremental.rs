//! Incremental verification through `audit-verify --state FILE`: the state file carries the check
//! from one day's run to the next.
mod common;

use common::*;
use confide::{Passphrase, Purpose, RecordKind, Value, Vault, VerifiedState, vault_id_of};

const T: Purpose = Purpose::Treatment;

fn activity(vault: &Vault, reads: usize) {
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
fn first_run() -> (Practice, VerifiedState, u64) {
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

#[test]
fn the_state_file_carries_the_check_from_day_to_day() {
    let (p, _, _) = first_run();
    let state = p.dir.path().join("verified.json");
    let Practice {
        dir: _dir,
        path,
        vault,
    } = p;
    let run = |path: &std::path::Path| {
        audit_verify(&[
            std::ffi::OsStr::new("--state"),
            state.as_os_str(),
            path.as_os_str(),
        ])
    };
    // First day: no state yet, a full run, which records where it got to.
    let (code, out, err) = run(&path);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("intact: "), "{out}");
    let saved = VerifiedState::from_json(&std::fs::read_to_string(&state).unwrap()).unwrap();
    // Next day: more work, and the run resumes after the saved point.
    activity(&vault, 6);
    vault.close().unwrap();
    let (code, out, _) = run(&path);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains(&format!("after verified seq {}", saved.seq)),
        "{out}"
    );
    let moved = VerifiedState::from_json(&std::fs::read_to_string(&state).unwrap()).unwrap();
    assert!(moved.seq > saved.seq);
    // A state file that is not one: exit 2, nothing written over it.
    std::fs::write(&state, "not json").unwrap();
    let (code, _, err) = run(&path);
    assert_eq!(code, 2);
    assert!(err.contains("state"), "{err}");
    assert_eq!(std::fs::read_to_string(&state).unwrap(), "not json");
}
