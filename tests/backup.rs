//! Encrypted backups taken while the vault is in use, and restores that check what they put
//! back: the chain must verify, and a vault is never replaced by another vault's backup unless
//! the caller says so. Both are audited.

mod common;

use common::*;
use confide::{Error, Passphrase, RestoreOptions, Vault};

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s)
}

#[test]
fn only_an_administrator_backs_up_and_never_over_an_existing_file() {
    let p = Practice::new();
    let out = p.dir.path().join("b.backup");
    assert!(matches!(
        p.login("dr.a").backup(&out),
        Err(Error::Denied { .. })
    ));
    assert!(!out.exists());
    assert!(
        last_entry(&p, "vault.backup")
            .outcome
            .starts_with("denied:")
    );
    std::fs::write(&out, b"something else").unwrap();
    assert!(matches!(
        p.admin().backup(&out),
        Err(Error::AlreadyExists { .. })
    ));
    assert_eq!(std::fs::read(&out).unwrap(), b"something else");
}

#[test]
fn another_vaults_backup_does_not_replace_a_vault_unless_told() {
    let ours = Practice::new();
    let theirs = Practice::new();
    let their_backup = theirs.dir.path().join("theirs.backup");
    theirs.admin().backup(&their_backup).unwrap();
    drop(theirs.vault);

    let target = ours.path.clone();
    let our_id = ours.vault.id();
    drop(ours.vault);
    let refused = Vault::restore(
        &their_backup,
        &target,
        "admin",
        &pass(ADMIN_PASS),
        test_config(),
        RestoreOptions::default(),
    );
    assert!(matches!(
        refused,
        Err(Error::InvalidInput { what: "backup", .. })
    ));
    // Our vault is untouched.
    assert_eq!(confide::vault_id_of(&target).unwrap(), our_id);

    let replaced = Vault::restore(
        &their_backup,
        &target,
        "admin",
        &pass(ADMIN_PASS),
        test_config(),
        RestoreOptions {
            allow_other_vault: true,
        },
    )
    .unwrap();
    assert_ne!(replaced.id(), our_id);
    drop(replaced);
    assert!(confide::verify_audit_log(&target).unwrap().is_intact());
}

#[test]
fn a_damaged_backup_is_refused() {
    let p = Practice::new();
    let out = p.dir.path().join("d.backup");
    p.admin().backup(&out).unwrap();
    raw(&out)
        .execute(
            "UPDATE audit_log SET entry = audit_with(entry, 'purpose', 'HPAYMT') WHERE seq = 3",
            [],
        )
        .unwrap();
    let to = p.dir.path().join("from-damaged.vault");
    let refused = Vault::restore(
        &out,
        &to,
        "admin",
        &pass(ADMIN_PASS),
        test_config(),
        RestoreOptions::default(),
    );
    assert!(matches!(
        refused,
        Err(Error::InvalidInput { what: "backup", .. })
    ));
    assert!(!to.exists());
}

/// Every stored (seq, hash) of the log, in order.
fn chain(path: &std::path::Path) -> Vec<(i64, Vec<u8>)> {
    raw(path)
        .prepare("SELECT seq, hash FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The state code of the checkpoint of `seq` (1 open, 2 closed, 3 a backup's), if any.
fn state_at(path: &std::path::Path, seq: i64) -> Option<i64> {
    raw(path)
        .query_row(
            "SELECT state FROM audit_checkpoints WHERE seq = ?1",
            [seq],
            |r| r.get(0),
        )
        .ok()
}

#[test]
fn a_backup_is_a_prefix_of_the_live_log_sealed_as_a_backup_and_verifies_clean() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    new_client(&dr, "Backed Up Client");
    let out = p.dir.path().join("clean.backup");
    let summary = p.admin().backup(&out).unwrap();

    // The copy ends with its own making, sealed by a checkpoint that says a backup ends
    // there; the vault was in use, and that is no unclean shutdown.
    let report = confide::verify_audit_log(&out).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.warnings, vec![], "a backup verifies clean");
    let end = summary.audit_seq;
    assert_eq!(report.seq_range.map(|r| r.1), Some(end));
    assert_eq!(report.last_checkpoint, Some(end));
    assert_eq!(state_at(&out, end as i64), Some(3));

    // The live log holds the same checkpoint, and goes on from the same entries.
    new_client(&dr, "Written After The Backup");
    assert_eq!(state_at(p.path(), end as i64), Some(3));
    let live = chain(p.path());
    let copy = chain(&out);
    assert_eq!(copy[..], live[..copy.len()]);
    assert!(live.len() > copy.len());
    drop(dr);

    // Restored, used and closed: the restored vault verifies clean too (the opening in use
    // when the backup was taken ends with the restore).
    let to = p.dir.path().join("restored.vault");
    let restored = Vault::restore(
        &out,
        &to,
        "admin",
        &pass(ADMIN_PASS),
        test_config(),
        RestoreOptions::default(),
    )
    .unwrap();
    drop(restored.unlock("dr.a", &pass(CLIN_PASS)).unwrap());
    restored.close().unwrap();
    let report = confide::verify_audit_log(&to).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.warnings, vec![]);
}
