//! Shared fixtures for the integration tests: a small practice in a temporary vault, built with
//! cheap Argon2 parameters (the vault's defaults stay strong).

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

pub mod audit_sql;

use std::path::{Path, PathBuf};

use confide::{
    ClientId, Date, KdfParams, NewClient, Passphrase, Purpose, Role, Session, Vault, VaultConfig,
};

pub const ADMIN_PASS: &str = "admin passphrase for tests";
pub const CLIN_PASS: &str = "clinician passphrase for tests";

/// Cheap KDF costs, for tests only.
pub fn test_config() -> VaultConfig {
    VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1).unwrap())
}

/// A practice: an admin, two clinicians, a biller, a scheduler and an auditor.
pub struct Practice {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub vault: Vault,
}

impl Practice {
    pub fn new() -> Self {
        Self::with_config(test_config())
    }

    /// The practice on a clock the test moves by hand.
    pub fn on_clock(clock: confide::TestClock) -> Self {
        Self::with_config(test_config().with_test_clock(clock))
    }

    pub fn with_config(config: VaultConfig) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("practice.vault");
        let vault = Vault::create(&path, "admin", &Passphrase::new(ADMIN_PASS), config).unwrap();
        let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
        for (name, role) in [
            ("dr.a", Role::Clinician),
            ("dr.b", Role::Clinician),
            ("biller", Role::Biller),
            ("front.desk", Role::Scheduler),
            ("auditor", Role::Auditor),
        ] {
            admin
                .add_user(name, role, &Passphrase::new(CLIN_PASS))
                .unwrap();
        }
        Practice { dir, path, vault }
    }

    pub fn admin(&self) -> Session {
        self.vault
            .unlock("admin", &Passphrase::new(ADMIN_PASS))
            .unwrap()
    }

    /// Log in as one of the non-admin users.
    pub fn login(&self, name: &str) -> Session {
        self.vault
            .unlock(name, &Passphrase::new(CLIN_PASS))
            .unwrap()
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Register a client as `clinician`.
pub fn new_client(clinician: &Session, name: &str) -> ClientId {
    clinician
        .create_client(
            &NewClient {
                full_name: name.into(),
                date_of_birth: Date::new(1988, 3, 14).unwrap(),
            },
            Purpose::Treatment,
        )
        .unwrap()
}

/// Open the vault file directly with SQLite, as an attacker with write access would.
pub fn raw(path: &Path) -> rusqlite::Connection {
    audit_sql::open(path)
}

/// The newest audit entry with `action`, read through an admin session.
pub fn last_entry(p: &Practice, action: &str) -> confide::AuditEntry {
    p.admin()
        .audit_tail(1000)
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.action == action)
        .unwrap_or_else(|| panic!("no {action} entry"))
}
