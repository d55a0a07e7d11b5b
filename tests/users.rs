//! Staff over the years: passphrases changed and reset, users disabled, enabled and removed,
//! KDF costs raised, sessions locked by hand or by the idle timeout. Each is audited, each
//! refusal fails closed with a typed error, and the log stays intact throughout.

mod common;

use std::time::Duration;

use common::*;
use confide::{Error, KdfParams, Passphrase, Purpose, RecordKind, Role, Value, Vault, VaultConfig};

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s)
}

const NEW_PASS: &str = "a brand new passphrase";

fn intact(p: &Practice) {
    let report = confide::verify_audit_log(p.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

/// A clinician with one record, to show data survives key changes.
fn with_record(p: &Practice) -> confide::RecordId {
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Lifecycle Client");
    dr.create_record(
        &c,
        RecordKind::ProgressNote,
        &[("summary", Value::text("doing better"))],
        Purpose::Treatment,
    )
    .unwrap()
}

#[test]
fn a_user_changes_their_passphrase_and_the_old_one_stops_working() {
    let p = Practice::new();
    let record = with_record(&p);
    let dr = p.login("dr.a");

    // The current passphrase is asked for again; a wrong one is refused and audited.
    assert!(matches!(
        dr.change_passphrase(&pass("not my passphrase"), &pass(NEW_PASS)),
        Err(Error::BadPassphrase)
    ));
    assert_eq!(
        last_entry(&p, "user.passphrase_change").outcome,
        "failed:bad-passphrase"
    );
    // Too short: refused before anything is touched.
    assert!(matches!(
        dr.change_passphrase(&pass(CLIN_PASS), &pass("short")),
        Err(Error::InvalidInput {
            what: "passphrase",
            ..
        })
    ));

    dr.change_passphrase(&pass(CLIN_PASS), &pass(NEW_PASS))
        .unwrap();
    assert_eq!(last_entry(&p, "user.passphrase_change").outcome, "granted");
    assert!(matches!(
        p.vault.unlock("dr.a", &pass(CLIN_PASS)),
        Err(Error::BadPassphrase)
    ));
    let again = p.vault.unlock("dr.a", &pass(NEW_PASS)).unwrap();
    let read = again.read_record(&record, Purpose::Treatment).unwrap();
    assert_eq!(
        read.get("summary").unwrap().reveal().as_str(),
        "doing better"
    );
    intact(&p);
}

#[test]
fn an_admin_resets_a_forgotten_passphrase_and_no_one_else_can() {
    let p = Practice::new();
    let record = with_record(&p);

    let dr_b = p.login("dr.b");
    assert!(matches!(
        dr_b.reset_passphrase("dr.a", &pass(NEW_PASS)),
        Err(Error::Denied { .. })
    ));
    assert!(
        last_entry(&p, "user.passphrase_reset")
            .outcome
            .starts_with("denied:")
    );

    let admin = p.admin();
    assert!(matches!(
        admin.reset_passphrase("nobody", &pass(NEW_PASS)),
        Err(Error::UnknownUser)
    ));
    admin.reset_passphrase("dr.a", &pass(NEW_PASS)).unwrap();
    let entry = last_entry(&p, "user.passphrase_reset");
    assert!(entry.outcome.starts_with("granted"), "{}", entry.outcome);
    assert_eq!(entry.actor, Some(admin.user_id()));

    assert!(matches!(
        p.vault.unlock("dr.a", &pass(CLIN_PASS)),
        Err(Error::BadPassphrase)
    ));
    let dr = p.vault.unlock("dr.a", &pass(NEW_PASS)).unwrap();
    assert!(dr.read_record(&record, Purpose::Treatment).is_ok());
    intact(&p);
}

#[test]
fn a_disabled_user_cannot_log_in_until_enabled() {
    let p = Practice::new();
    let admin = p.admin();
    admin.disable_user("biller").unwrap();
    assert!(matches!(
        p.vault.unlock("biller", &pass(CLIN_PASS)),
        Err(Error::UserDisabled)
    ));
    // (The admin's own login comes after it.)
    let tail = admin.audit_tail(10).unwrap();
    let login = tail
        .iter()
        .rev()
        .find(|e| e.action == "login" && e.outcome != "granted");
    assert_eq!(login.unwrap().outcome, "failed:user-disabled");

    admin.enable_user("biller").unwrap();
    p.login("biller");
    assert!(
        last_entry(&p, "user.disable")
            .outcome
            .starts_with("granted")
    );
    assert!(last_entry(&p, "user.enable").outcome.starts_with("granted"));
    intact(&p);
}

#[test]
fn a_removed_user_is_gone_for_good_but_still_named_in_the_log() {
    let p = Practice::new();
    let front = p.login("front.desk");
    let front_id = front.user_id();
    drop(front);
    let admin = p.admin();
    admin.remove_user("front.desk").unwrap();

    assert!(matches!(
        p.vault.unlock("front.desk", &pass(CLIN_PASS)),
        Err(Error::UserRemoved)
    ));
    // Their wrap of the master key is deleted from the file, not just flagged.
    let wrapped: Vec<u8> = raw(p.path())
        .query_row(
            "SELECT wrapped_mk FROM users WHERE name = 'front.desk'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(wrapped.is_empty());
    // Nothing brings them back.
    assert!(matches!(
        admin.enable_user("front.desk"),
        Err(Error::UserRemoved)
    ));
    assert!(matches!(
        admin.reset_passphrase("front.desk", &pass(NEW_PASS)),
        Err(Error::UserRemoved)
    ));
    // Their earlier entries still carry their id.
    let tail = admin.audit_tail(1000).unwrap();
    assert!(tail.iter().any(|e| e.actor == Some(front_id)));
    intact(&p);
}

#[test]
fn the_last_administrator_cannot_be_disabled_or_removed() {
    let p = Practice::new();
    let admin = p.admin();
    for result in [admin.disable_user("admin"), admin.remove_user("admin")] {
        assert!(matches!(
            result,
            Err(Error::InvalidInput { what: "user", .. })
        ));
    }
    // Still an administrator, still able to log in.
    p.admin();
    // With a second administrator, the first may go.
    admin
        .add_user("admin.2", Role::Admin, &pass("second admin passphrase"))
        .unwrap();
    admin.disable_user("admin").unwrap();
    assert!(matches!(
        p.vault.unlock("admin", &pass(ADMIN_PASS)),
        Err(Error::UserDisabled)
    ));
    intact(&p);
}

#[test]
fn new_users_need_a_passphrase_of_at_least_twelve_characters() {
    let p = Practice::new();
    let admin = p.admin();
    assert_eq!(confide::MIN_PASSPHRASE_CHARS, 12);
    assert!(matches!(
        admin.add_user("intern", Role::Clinician, &pass("elevenchars")),
        Err(Error::InvalidInput {
            what: "passphrase",
            ..
        })
    ));
    admin
        .add_user("intern", Role::Clinician, &pass("twelve chars"))
        .unwrap();
    // And so does a new vault's first administrator.
    let path = p.dir.path().join("other.vault");
    assert!(matches!(
        Vault::create(&path, "admin", &pass("too short"), test_config()),
        Err(Error::InvalidInput {
            what: "passphrase",
            ..
        })
    ));
}

#[test]
fn kdf_costs_rise_at_the_next_login_and_never_fall() {
    let p = Practice::new();
    let record = with_record(&p);
    let path = p.path.clone();
    let costs = |name: &str| -> (u32, u32) {
        raw(&path)
            .query_row(
                "SELECT kdf_m_kib, kdf_t FROM users WHERE name = ?1",
                [name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap()
    };
    assert_eq!(costs("dr.a"), (64, 1));
    drop(p.vault);

    // The practice raises its defaults (still cheap, for a test).
    let stronger = VaultConfig::default().with_kdf(KdfParams::new(128, 2, 1).unwrap());
    let vault = Vault::open(&p.path, stronger).unwrap();
    let dr = vault.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    assert_eq!(costs("dr.a"), (128, 2));
    // Only the user who logged in was upgraded.
    assert_eq!(costs("dr.b"), (64, 1));
    assert!(dr.read_record(&record, Purpose::Treatment).is_ok());
    drop(dr);
    drop(vault);

    // Opening with the old, cheaper defaults does not lower it.
    let vault = Vault::open(&p.path, test_config()).unwrap();
    vault.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    assert_eq!(costs("dr.a"), (128, 2));
    let admin = vault.unlock("admin", &pass(ADMIN_PASS)).unwrap();
    let upgrades: Vec<_> = admin
        .audit_tail(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "user.kdf_upgrade")
        .collect();
    assert_eq!(upgrades.len(), 1);
    drop(admin);
    drop(vault);
    let report = confide::verify_audit_log(&p.path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

#[test]
fn a_locked_session_has_no_keys_and_refuses_everything() {
    let p = Practice::new();
    let record = with_record(&p);
    let dr = p.login("dr.a");
    dr.read_record(&record, Purpose::Treatment).unwrap();
    assert!(dr.key_stats().cached > 0);

    dr.lock().unwrap();
    assert!(dr.is_locked());
    assert_eq!(dr.key_stats().cached, 0);
    assert_eq!(last_entry(&p, "session.lock").actor, Some(dr.user_id()));
    assert!(matches!(
        dr.read_record(&record, Purpose::Treatment),
        Err(Error::SessionLocked)
    ));
    assert!(matches!(
        dr.read_records(&[record], Purpose::Treatment),
        Err(Error::SessionLocked)
    ));
    assert!(matches!(
        dr.change_passphrase(&pass(CLIN_PASS), &pass(NEW_PASS)),
        Err(Error::SessionLocked)
    ));
    // The refusal is audited like any other.
    assert_eq!(
        last_entry(&p, "record.read").outcome,
        "failed:session-locked"
    );
    // Logging in again is the way back.
    assert!(
        p.login("dr.a")
            .read_record(&record, Purpose::Treatment)
            .is_ok()
    );
    intact(&p);
}

#[test]
fn an_idle_session_locks_itself() {
    let p = Practice::new();
    let record = with_record(&p);
    drop(p.vault);
    // Time moves only when the test moves it.
    let clock = confide::TestClock::starting_at(1_780_000_000_000);
    let quick = test_config()
        .with_idle_timeout(Duration::from_secs(60))
        .with_test_clock(clock);
    let vault = Vault::open(&p.path, quick).unwrap();
    let dr = vault.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    dr.read_record(&record, Purpose::Treatment).unwrap();
    // Used within the timeout: the timer starts again from each use.
    clock.advance(Duration::from_secs(59));
    dr.read_record(&record, Purpose::Treatment).unwrap();
    clock.advance(Duration::from_secs(59));
    dr.read_record(&record, Purpose::Treatment).unwrap();

    clock.advance(Duration::from_secs(61));
    assert!(matches!(
        dr.read_record(&record, Purpose::Treatment),
        Err(Error::SessionLocked)
    ));
    assert!(dr.is_locked());
    assert_eq!(dr.key_stats().cached, 0);
    // Still locked on the next call, and the default is a quarter of an hour.
    assert!(matches!(
        dr.read_record(&record, Purpose::Treatment),
        Err(Error::SessionLocked)
    ));
    assert_eq!(confide::DEFAULT_IDLE_TIMEOUT, Duration::from_secs(15 * 60));
    let admin = vault.unlock("admin", &pass(ADMIN_PASS)).unwrap();
    let timeouts: Vec<_> = admin
        .audit_tail(1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "session.timeout")
        .collect();
    assert_eq!(timeouts.len(), 1);
    assert_eq!(timeouts[0].actor, Some(dr.user_id()));
    drop((dr, admin, vault));
    let report = confide::verify_audit_log(&p.path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}
