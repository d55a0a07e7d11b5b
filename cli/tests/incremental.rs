//! Incremental verification through `audit-verify --state FILE`: the state file carries the check
//! from one day's run to the next.
mod common;
#[path = "../../tests/common/verified.rs"]
mod verified;

use common::*;
use confide::VerifiedState;
use verified::*;

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
