//! A master-key rotation seen from `audit-verify`: it reaches every remaining user, shuts a
//! removed one out, and the log verifies afterwards.
mod common;

use std::path::Path;

use common::*;
use confide::{ClientId, Error, Passphrase, Purpose, RecordId, RecordKind, Value, Vault};

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s)
}

/// A client treated by dr.a and dr.b, with one progress note.
fn shared_client(p: &Practice) -> (ClientId, RecordId) {
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Key Rotation Client");
    let dr_b = dr.user_id_of("dr.b").unwrap();
    dr.assign_care_team(&c, &dr_b, Purpose::Treatment).unwrap();
    let r = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("steady progress"))],
            Purpose::Treatment,
        )
        .unwrap();
    (c, r)
}

fn sealed_mk(path: &Path, user: &str) -> Option<Vec<u8>> {
    raw(path)
        .query_row("SELECT sealed_mk FROM users WHERE name = ?1", [user], |r| {
            r.get(0)
        })
        .unwrap()
}

fn data_keys(path: &Path) -> Vec<Vec<u8>> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT wrapped FROM data_keys ORDER BY owner_id, compartment, version")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn intact(path: &Path) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

#[test]
fn rotation_reaches_every_remaining_user_and_shuts_a_removed_one_out() {
    let p = Practice::new();
    let (_, record) = shared_client(&p);
    // The copy dr.a walks away with, while still a member of the practice.
    let old_copy = p.dir.path().join("kept-by-dr-a.backup");
    p.admin().backup(&old_copy).unwrap();
    let before = data_keys(&p.path);

    let admin = p.admin();
    admin.remove_user("dr.a").unwrap();
    let done = admin.rotate_master_key().unwrap();
    // admin, dr.b, biller, front.desk and auditor: everyone but the removed dr.a.
    assert_eq!(done.users, 5);
    assert_eq!(done.data_keys, before.len());
    let after = data_keys(&p.path);
    assert!(before.iter().zip(&after).all(|(a, b)| a != b));
    assert_eq!(last_entry(&p, "keys.master_rotate").outcome, "granted:role");

    // Every session, the rotating one too, logs in again.
    assert!(matches!(admin.audit_tail(10), Err(Error::SessionLocked)));
    assert!(sealed_mk(&p.path, "dr.b").is_some());
    let dr_b = p.login("dr.b");
    assert!(sealed_mk(&p.path, "dr.b").is_none());
    let read = dr_b.read_record(&record, Purpose::Treatment).unwrap();
    assert_eq!(read.get("summary").unwrap().reveal(), "steady progress");
    // And on the login after that, from their own wrap.
    drop(dr_b);
    assert!(
        p.login("dr.b")
            .read_record(&record, Purpose::Treatment)
            .is_ok()
    );
    // Users who have not logged in since still can.
    assert!(sealed_mk(&p.path, "biller").is_some());
    p.login("biller");

    // dr.a combines the old copy (where their wrap still opens the old master key) with the
    // rotated data keys: nothing opens.
    let conn = raw(&old_copy);
    conn.execute("ATTACH DATABASE ?1 AS rotated", [p.path.to_str().unwrap()])
        .unwrap();
    conn.execute_batch(
        "DELETE FROM main.data_keys; INSERT INTO main.data_keys SELECT * FROM rotated.data_keys;",
    )
    .unwrap();
    conn.execute("DETACH DATABASE rotated", []).unwrap();
    drop(conn);
    let stolen = Vault::open(&old_copy, test_config()).unwrap();
    let dr_a = stolen.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    assert!(matches!(
        dr_a.read_record(&record, Purpose::Treatment),
        Err(Error::Integrity { .. })
    ));
    drop((dr_a, stolen));

    // In the vault itself dr.a cannot log in at all.
    assert!(matches!(
        p.vault.unlock("dr.a", &pass(CLIN_PASS)),
        Err(Error::UserRemoved)
    ));
    // Client lookup still works: the blind-index key was kept across the rotation.
    let dr_b = p.login("dr.b");
    let found = dr_b
        .find_client(
            "Key Rotation Client",
            &confide::Date::new(1988, 3, 14).unwrap(),
            Purpose::Treatment,
        )
        .unwrap();
    assert_eq!(found.len(), 1);
    intact(&p.path);
    let (code, out, err) = audit_verify(&[p.path.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
}
