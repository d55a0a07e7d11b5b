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
