//! A master-key rotation seen from `audit-verify`: it reaches every remaining user, shuts a
//! removed one out, and the log verifies afterwards.
mod common;
#[path = "../../tests/common/rekeyed.rs"]
mod rekeyed;

use common::*;
use confide::{Error, Purpose, Vault};
use rekeyed::*;

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
    assert_eq!(
        read.get("summary").unwrap().reveal().as_str(),
        "steady progress"
    );
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
