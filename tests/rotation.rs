//! Rotating one client's data keys: every field re-encrypted under a new key version in steps
//! that each commit, resumable after an interruption, the old versions deleted at the end. The
//! log keeps vouching for every stored envelope throughout, and an envelope put back from a copy
//! taken before the rotation opens nothing.

mod common;

use common::*;
use confide::{ClientId, Error};

/// (compartment, version) of every data key of `client`.
fn keys_of(path: &std::path::Path, client: &ClientId) -> Vec<(String, u32)> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare(
            "SELECT compartment, version FROM data_keys WHERE owner_id = ?1 \
             ORDER BY compartment, version",
        )
        .unwrap();
    stmt.query_map([&client.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn intact(path: &std::path::Path) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

#[test]
fn only_an_administrator_rotates_and_each_rotation_moves_to_a_newer_key() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Refused Rotation");
    assert!(matches!(
        dr.rotate_client_keys(&c, None),
        Err(Error::Denied { .. })
    ));
    assert!(last_entry(&p, "keys.rotate").outcome.starts_with("denied:"));
    assert_eq!(keys_of(&p.path, &c), vec![("general".into(), 1)]);

    // A second full rotation after a finished one starts over from the newest version.
    let admin = p.admin();
    assert!(admin.rotate_client_keys(&c, None).unwrap().finished);
    assert!(admin.rotate_client_keys(&c, None).unwrap().finished);
    assert_eq!(keys_of(&p.path, &c), vec![("general".into(), 3)]);
    intact(&p.path);
}
