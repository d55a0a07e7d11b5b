//! Invariant 6 at the front door: each bad login or bad file is a distinct typed error, with no
//! panic and no partial state; failed logins are audited.

mod common;

use common::*;
use confide::{Error, FORMAT_VERSION, KdfParams, Passphrase, Vault, VaultConfig};

#[test]
fn wrong_passphrase_is_refused_and_audited() {
    let p = Practice::new();
    let err = p
        .vault
        .unlock("dr.a", &Passphrase::new("not the passphrase"))
        .unwrap_err();
    assert!(matches!(err, Error::BadPassphrase), "{err:?}");
    let all = p.admin().audit_tail(100).unwrap();
    let failed: Vec<_> = all
        .iter()
        .filter(|e| e.outcome == "failed:bad-passphrase")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].actor, Some(p.login("dr.a").user_id()));
    // The right passphrase still works afterwards.
    p.login("dr.a");
}

#[test]
fn unknown_user_is_refused_and_audited_without_the_name() {
    let p = Practice::new();
    let err = p
        .vault
        .unlock("nobody", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert!(matches!(err, Error::UnknownUser), "{err:?}");
    let all = p.admin().audit_tail(100).unwrap();
    let failed: Vec<_> = all
        .iter()
        .filter(|e| e.outcome == "failed:unknown-user")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].actor, None);
    // A mistyped passphrase in the user-name box must not land in the log.
    assert!(!format!("{failed:?}").contains("nobody"));
}

#[test]
fn missing_file_and_foreign_files_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.vault");
    assert!(matches!(
        Vault::open(&missing, test_config()),
        Err(Error::VaultNotFound { .. })
    ));
    assert!(!missing.exists(), "opening must not create a file");

    let text = dir.path().join("letter.txt");
    std::fs::write(
        &text,
        "Dear colleague, this is not a database, it is a letter.",
    )
    .unwrap();
    assert!(matches!(
        Vault::open(&text, test_config()),
        Err(Error::NotAVault)
    ));

    let other = dir.path().join("other.sqlite");
    rusqlite::Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE x (y)")
        .unwrap();
    let before = std::fs::read(&other).unwrap();
    assert!(matches!(
        Vault::open(&other, test_config()),
        Err(Error::NotAVault)
    ));
    assert_eq!(
        std::fs::read(&other).unwrap(),
        before,
        "a foreign file is left untouched"
    );
}

#[test]
fn newer_format_is_refused_untouched() {
    let p = Practice::new();
    let Practice {
        dir: _dir,
        path,
        vault,
    } = p;
    drop(vault);
    raw(&path)
        .pragma_update(None, "user_version", FORMAT_VERSION + 1)
        .unwrap();
    let before = std::fs::read(&path).unwrap();
    let err = Vault::open(&path, test_config()).unwrap_err();
    assert!(
        matches!(err, Error::NewerFormat { found, supported } if found == FORMAT_VERSION + 1 && supported == FORMAT_VERSION),
        "{err:?}"
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn create_refuses_an_existing_file() {
    let p = Practice::new();
    let err = Vault::create(
        p.path(),
        "admin",
        &Passphrase::new(ADMIN_PASS),
        test_config(),
    );
    assert!(matches!(err, Err(Error::AlreadyExists { .. })));
    // The existing vault is intact.
    p.login("dr.a");
}

#[test]
fn failed_create_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v.vault");
    let err = Vault::create(&path, "", &Passphrase::new(ADMIN_PASS), test_config());
    assert!(matches!(err, Err(Error::InvalidInput { .. })));
    assert!(!path.exists());
}

#[test]
fn excessive_kdf_parameters_in_the_file_are_refused() {
    let p = Practice::new();
    raw(p.path())
        .execute(
            "UPDATE users SET kdf_m_kib = 4194304 WHERE name = 'dr.a'",
            [],
        )
        .unwrap();
    let err = p
        .vault
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert!(
        matches!(err, Error::ExcessiveWork { what: "memory" }),
        "{err:?}"
    );
}

#[test]
fn kdf_parameters_are_stored_per_user() {
    let p = Practice::new();
    let (m, t, pp): (u32, u32, u32) = raw(p.path())
        .query_row(
            "SELECT kdf_m_kib, kdf_t, kdf_p FROM users WHERE name = 'dr.a'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    assert_eq!((m, t, pp), (64, 1, 1));
    // The default for a vault opened without test configuration is the strong one.
    assert_eq!(VaultConfig::default().kdf, KdfParams::default());
    assert_eq!(KdfParams::default().memory_kib(), 64 * 1024);
}

#[test]
fn secrets_do_not_leak_through_debug() {
    let pass = Passphrase::new("hunter2-super-secret");
    assert!(!format!("{pass:?}").contains("hunter2"));
    let p = Practice::new();
    let s = p.login("dr.a");
    let dbg = format!("{s:?} {:?}", p.vault);
    assert!(!dbg.contains(CLIN_PASS));
    assert!(dbg.contains("Session"));
}
