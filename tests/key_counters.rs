//! Every data key counts the values it seals, in the transaction that seals them; before a key
//! could pass its limit (well under the 2^32 AES-GCM allows with random nonces), new values go
//! under a new version of it, and everything sealed earlier stays readable.

mod common;

use common::*;
use confide::{Passphrase, Purpose, RecordKind, Value, Vault};

fn fields(n: u32) -> Vec<(&'static str, Value)> {
    ["a", "b", "c", "d"]
        .into_iter()
        .map(|f| (f, Value::text(format!("{f} {n}"))))
        .collect()
}

/// (version, sealed) of every general-record key of `client`, oldest first.
fn keys_of(path: &std::path::Path, client: &confide::ClientId) -> Vec<(u32, u64)> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare(
            "SELECT version, sealed FROM data_keys WHERE owner_id = ?1 AND compartment = 'general' \
             ORDER BY version",
        )
        .unwrap();
    stmt.query_map([&client.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn a_spent_key_hands_over_to_a_new_version_and_old_values_still_read() {
    let p = Practice::new();
    drop(p.vault);
    // Ten values per key, for the test (the default is 2^30).
    let vault = Vault::open(&p.path, test_config().with_seals_per_key(10)).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    let c = new_client(&dr, "Counted Client");
    let base = keys_of(&p.path, &c);
    // The client's own name and date of birth: two values under version 1.
    assert_eq!(base, vec![(1, 2)]);

    let first = dr
        .create_record(&c, RecordKind::ProgressNote, &fields(0), Purpose::Treatment)
        .unwrap();
    assert_eq!(keys_of(&p.path, &c), vec![(1, 6)]);
    // Four more would make 10: still version 1.
    dr.update_record(&first, &fields(1), Purpose::Treatment)
        .unwrap();
    assert_eq!(keys_of(&p.path, &c), vec![(1, 10)]);
    // Version 1 is spent: the next four go under version 2.
    let second = dr
        .create_record(&c, RecordKind::ProgressNote, &fields(2), Purpose::Treatment)
        .unwrap();
    assert_eq!(keys_of(&p.path, &c), vec![(1, 10), (2, 4)]);

    // Both records read back, each field under the key it was sealed with.
    let r1 = dr.read_record(&first, Purpose::Treatment).unwrap();
    assert_eq!(r1.get("a").unwrap().reveal().as_str(), "a 1");
    let r2 = dr.read_record(&second, Purpose::Treatment).unwrap();
    assert_eq!(r2.get("d").unwrap().reveal().as_str(), "d 2");
    // The client's identity fields, still under version 1.
    let found = dr
        .find_client(
            "Counted Client",
            &confide::Date::new(1988, 3, 14).unwrap(),
            Purpose::Treatment,
        )
        .unwrap();
    assert_eq!(found, vec![c]);

    // A refused write seals, and counts, nothing.
    let stranger = vault.unlock("dr.b", &Passphrase::new(CLIN_PASS)).unwrap();
    let refused = stranger.update_record(&first, &fields(3), Purpose::Treatment);
    assert!(matches!(refused, Err(confide::Error::Denied { .. })));
    assert_eq!(keys_of(&p.path, &c), vec![(1, 10), (2, 4)]);
    drop(stranger);

    drop((dr, vault));
    assert!(confide::verify_audit_log(&p.path).unwrap().is_intact());
}

#[test]
fn the_default_limit_is_well_under_what_aes_gcm_allows() {
    assert_eq!(confide::MAX_SEALS_PER_KEY, 1 << 30);
    assert!(confide::VaultConfig::default().seals_per_key <= 1 << 31);
    // A configured limit can only lower it.
    let c = confide::VaultConfig::default().with_seals_per_key(u64::MAX);
    assert_eq!(c.seals_per_key, confide::MAX_SEALS_PER_KEY);
}
