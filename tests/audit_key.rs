//! The audit key at the front door: a login checks that the signing key the master key unseals
//! is the one whose public half the file names, so a replaced public key (with every checkpoint
//! re-signed under the attacker's key, which no passphrase-free check can tell) stops the login,
//! named and audited, instead of surfacing later as "checkpoint forged".

mod common;

use common::*;
use confide::{AuditAction, AuditFilter, Error, Passphrase, Vault, VaultConfig, read_audit_log};
use ring::signature::{Ed25519KeyPair, KeyPair};
use rusqlite::{Connection, params};

fn config() -> VaultConfig {
    test_config().with_checkpoint_every(5)
}

/// A practice whose log already has a few signed checkpoints (one every five entries).
fn practice_with_checkpoints() -> Practice {
    let p = Practice::with_config(config());
    let dr = p.login("dr.a");
    new_client(&dr, "Ada Byrne");
    drop(dr);
    p
}

/// What a checkpoint signs, from `docs/design.md`: "confide/checkpoint/v1" ‖ vault id ‖
/// seq (u64 BE) ‖ entry hash.
fn checkpoint_message(vault: &[u8], seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"confide/checkpoint/v1".to_vec();
    m.extend_from_slice(vault);
    m.extend_from_slice(&u64::try_from(seq).unwrap().to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// The attack: the attacker's own Ed25519 key as the vault's public key, and every checkpoint
/// re-signed with it. Returns how many checkpoints were re-signed.
fn replace_key_and_resign(conn: &Connection) -> usize {
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    let key = Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap();
    let n = conn
        .execute(
            "UPDATE audit_key SET public_key = ?1 WHERE id = 1",
            [key.public_key().as_ref()],
        )
        .unwrap();
    assert_eq!(n, 1);
    let vault: Vec<u8> = conn
        .query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap();
    let checkpoints: Vec<(i64, Vec<u8>, i64, Option<i64>)> = conn
        .prepare("SELECT seq, entry_hash, at, state FROM audit_checkpoints ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (seq, hash, at, state) in &checkpoints {
        let message = match state {
            // Version 2 (format 8): the time and the vault's state are signed too.
            Some(state) => {
                let mut m = checkpoint_message(&vault, *seq, hash);
                m[..21].copy_from_slice(b"confide/checkpoint/v2");
                m.extend_from_slice(&at.to_be_bytes());
                m.push(u8::try_from(*state).unwrap());
                m
            }
            None => checkpoint_message(&vault, *seq, hash),
        };
        let sig = key.sign(&message);
        conn.execute(
            "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = ?2",
            params![sig.as_ref(), seq],
        )
        .unwrap();
    }
    checkpoints.len()
}

fn stored_public_key(conn: &Connection) -> Vec<u8> {
    conn.query_row("SELECT public_key FROM audit_key WHERE id = 1", [], |r| {
        r.get(0)
    })
    .unwrap()
}

/// Every login entry's actor and outcome, oldest first.
fn logins(path: &std::path::Path) -> Vec<(Option<confide::UserId>, String)> {
    let filter = AuditFilter {
        action: Some(AuditAction::Login),
        ..AuditFilter::default()
    };
    read_audit_log(path, &filter)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.actor, e.outcome))
        .collect()
}

#[track_caller]
fn assert_refused_at(err: Error, field: &str) {
    match err {
        Error::Integrity { place } => {
            assert_eq!(place.table, "audit_key");
            assert_eq!(place.field, field);
        }
        other => panic!("expected Integrity at audit_key.{field}, got {other:?}"),
    }
}

#[test]
fn a_replaced_audit_key_with_resigned_checkpoints_stops_the_login_and_is_audited() {
    let p = practice_with_checkpoints();
    let dr_a = p.login("dr.a").user_id();
    let Practice { dir, path, vault } = p;
    drop(vault);

    let conn = raw(&path);
    let original = stored_public_key(&conn);
    let resigned = replace_key_and_resign(&conn);
    assert!(resigned >= 2, "{resigned} checkpoints");
    drop(conn);
    // Consistent in itself: without an anchor kept elsewhere, the log verifies.
    let report = confide::verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.checkpoints_checked, resigned as u64);

    let vault = Vault::open(&path, config()).unwrap();
    let err = vault
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert_refused_at(err, "public_key");
    let err = vault
        .unlock("admin", &Passphrase::new(ADMIN_PASS))
        .unwrap_err();
    assert_refused_at(err, "public_key");
    // The passphrase is still checked first: a wrong one is a wrong passphrase.
    let err = vault
        .unlock("dr.a", &Passphrase::new("not the passphrase at all"))
        .unwrap_err();
    assert!(matches!(err, Error::BadPassphrase), "{err:?}");
    drop(vault);

    let seen = logins(&path);
    let tail: Vec<&str> = seen.iter().rev().take(3).map(|(_, o)| o.as_str()).collect();
    assert_eq!(
        tail,
        [
            "failed:bad-passphrase",
            "failed:integrity",
            "failed:integrity"
        ]
    );
    assert_eq!(seen[seen.len() - 3].0, Some(dr_a));

    // Put back, the real key opens again.
    raw(&path)
        .execute(
            "UPDATE audit_key SET public_key = ?1 WHERE id = 1",
            [&original],
        )
        .unwrap();
    let vault = Vault::open(&path, config()).unwrap();
    vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    drop(dir);
}

#[test]
fn a_key_replaced_while_the_vault_is_open_stops_the_next_login() {
    // Another session already holds the real key: the check is at every login, not only the
    // first one to unseal it.
    let p = practice_with_checkpoints();
    let admin = p.admin();
    replace_key_and_resign(&raw(p.path()));
    let err = p
        .vault
        .unlock("dr.b", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert_refused_at(err, "public_key");
    let dr_b = confide::staff_user_id(p.path(), "dr.b").unwrap();
    assert_eq!(
        logins(p.path()).last(),
        Some(&(Some(dr_b), "failed:integrity".to_owned()))
    );
    drop(admin);
}

#[test]
fn a_damaged_audit_key_wrap_stops_the_login_and_is_audited() {
    let p = practice_with_checkpoints();
    let conn = raw(p.path());
    let mut wrapped: Vec<u8> = conn
        .query_row("SELECT wrapped_key FROM audit_key WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    wrapped[20] ^= 0x01;
    conn.execute(
        "UPDATE audit_key SET wrapped_key = ?1 WHERE id = 1",
        [&wrapped],
    )
    .unwrap();
    drop(conn);
    let err = p
        .vault
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert_refused_at(err, "wrapped_key");
    assert_eq!(
        logins(p.path()).last().map(|(_, o)| o.as_str()),
        Some("failed:integrity")
    );
}
