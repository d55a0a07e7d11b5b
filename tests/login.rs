//! Invariant 6 at the front door: each bad login or bad file is a distinct typed error, with no
//! panic and no partial state; failed logins are audited.

mod common;

use common::*;
use confide::{Error, FORMAT_VERSION, KdfLimits, KdfParams, Passphrase, Vault, VaultConfig};

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

/// Set `name`'s stored Argon2id costs, as an attacker with write access to the file would.
fn set_costs(p: &Practice, name: &str, (m, t, pp): (u32, u32, u32)) {
    let n = raw(p.path())
        .execute(
            "UPDATE users SET kdf_m_kib = ?1, kdf_t = ?2, kdf_p = ?3 WHERE name = ?4",
            rusqlite::params![m, t, pp, name],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// The outcomes of `action` entries by `actor`, oldest first.
fn outcomes(p: &Practice, action: &str, actor: confide::UserId) -> Vec<String> {
    p.admin()
        .audit_tail(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action && e.actor == Some(actor))
        .map(|e| e.outcome)
        .collect()
}

#[test]
fn kdf_parameters_past_the_build_ceiling_are_refused_and_audited() {
    let p = Practice::new();
    let id = p.login("dr.a").user_id();
    set_costs(&p, "dr.a", (4 << 20, 1, 1));
    let err = p
        .vault
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ExcessiveWork {
                what: "argon2 memory"
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        outcomes(&p, "login", id),
        ["granted", "failed:excessive-work"]
    );
}

#[test]
fn a_hostile_files_kdf_costs_are_refused_before_any_work_and_audited() {
    // m = 1 GiB, t = 16, p = 8: within what this build can run at all, about 25 s a login on a
    // 2-core machine, and far above what an open accepts by default.
    let p = Practice::new();
    let id = p.login("dr.a").user_id();
    set_costs(&p, "dr.a", (1 << 20, 16, 8));
    let err = p
        .vault
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert!(matches!(err, Error::ExcessiveWork { .. }), "{err:?}");
    assert!(!err.to_string().contains(CLIN_PASS));
    // Each parameter alone, and two within their own bounds whose product is not.
    for (costs, what) in [
        ((512 * 1024, 1, 1), "argon2 memory"),
        ((64, 9, 1), "argon2 iterations"),
        ((64, 1, 5), "argon2 parallelism"),
        ((256 * 1024, 8, 1), "argon2 memory times iterations"),
    ] {
        set_costs(&p, "dr.a", costs);
        let err = p
            .vault
            .unlock("dr.a", &Passphrase::new(CLIN_PASS))
            .unwrap_err();
        assert!(
            matches!(err, Error::ExcessiveWork { what: w } if w == what),
            "{costs:?}: {err:?}"
        );
    }
    let mut expected = vec!["granted"];
    expected.extend(["failed:excessive-work"; 5]);
    assert_eq!(outcomes(&p, "login", id), expected);
    // Another user's login is untouched.
    p.login("dr.b");
}

#[test]
fn a_passphrase_change_rechecks_the_stored_costs() {
    let p = Practice::new();
    let s = p.login("dr.a");
    set_costs(&p, "dr.a", (1 << 20, 16, 8));
    let err = s
        .change_passphrase(
            &Passphrase::new(CLIN_PASS),
            &Passphrase::new("a brand new passphrase"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::ExcessiveWork { .. }), "{err:?}");
    assert_eq!(
        outcomes(&p, "user.passphrase_change", s.user_id()),
        ["failed:excessive-work"]
    );
}

#[test]
fn raised_limits_accept_higher_costs_and_the_default_refuses_them() {
    // Cheap in time (64 KiB), but above the default's passes and lanes.
    let high = KdfParams::new(64, 12, 8).unwrap();
    let p = Practice::with_config(test_config().with_kdf(high));
    p.login("dr.a");
    drop(p.vault);
    let err = Vault::open(&p.path, test_config())
        .unwrap()
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::ExcessiveWork {
                what: "argon2 iterations"
            }
        ),
        "{err:?}"
    );
    let limits = KdfLimits::new(1024, 16, 8).unwrap();
    let raised = test_config().with_kdf_limits(limits);
    let vault = Vault::open(&p.path, raised).unwrap();
    let s = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    assert_eq!(s.user_name(), "dr.a");
    // The default configuration's limits: strong costs accepted, a hostile file's not.
    let limits = VaultConfig::default().kdf_limits;
    assert_eq!(limits, KdfLimits::default());
    assert!(limits.check(KdfParams::default()).is_ok());
    assert!(
        limits
            .check(KdfParams::new(1 << 20, 16, 8).unwrap())
            .is_err()
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

#[test]
fn a_login_does_not_raise_stored_costs_past_the_work_bound() {
    let p = Practice::with_config(test_config().with_kdf(KdfParams::new(128, 1, 1).unwrap()));
    let id = p.login("dr.a").user_id();
    drop(p.vault);
    let stored = || -> (u32, u32, u32) {
        raw(&p.path)
            .query_row(
                "SELECT kdf_m_kib, kdf_t, kdf_p FROM users WHERE name = 'dr.a'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap()
    };
    // More passes, less memory: the two mixed (128 KiB × 8) would pass a bound of 512.
    let config = test_config().with_kdf(KdfParams::new(64, 8, 1).unwrap());
    let bounded = KdfLimits::new(1024, 16, 8).unwrap().with_max_work(512);
    let vault = Vault::open(&p.path, config.clone().with_kdf_limits(bounded)).unwrap();
    vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    assert_eq!(stored(), (128, 1, 1));
    // And the next login still opens.
    vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    drop(vault);
    // Without the bound the same login raises them.
    let open = KdfLimits::new(1024, 16, 8).unwrap();
    let vault = Vault::open(&p.path, config.with_kdf_limits(open)).unwrap();
    vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    assert_eq!(stored(), (128, 8, 1));
    let upgrades: Vec<_> = confide::read_audit_log(&p.path, &confide::AuditFilter::default())
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.action == "user.kdf_upgrade" && e.actor == Some(id))
        .collect();
    assert_eq!(upgrades.len(), 1);
}
