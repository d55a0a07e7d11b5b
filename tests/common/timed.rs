//! A morning's work on a clock the test moves: a clinician reads a chart every ten seconds for
//! a few minutes, each read sealed by the vault's own sealer before the next, then the vault
//! closes. Shared by the tests that delete checkpoints and those that hold a vault to its
//! witness. The sequence numbers of every read, of the opening and of the close are kept, so
//! the findings the tests expect are plain to read.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::common::{ADMIN_PASS, CLIN_PASS, new_client, test_config};
use confide::{Passphrase, Purpose, RecordKind, Role, Session, TestClock, Value, Vault};
use confide::{RecordId, VaultConfig};

/// 2025-03-03 11:06:40 UTC: in the past, as the entries of a real vault are.
pub const START: i64 = 1_741_000_000_000;
/// Between two reads.
pub const PACE: Duration = Duration::from_secs(10);

pub struct Timed {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
    pub clock: TestClock,
    /// The `vault.open` of the opening that did the work.
    pub opened: i64,
    /// Each read's sequence number, in order.
    pub reads: Vec<i64>,
    /// The close marker (sealed "closed"); 0 while the vault is open.
    pub close: i64,
}

impl Timed {
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The newest sequence number in the file.
pub fn head(path: &Path) -> i64 {
    confide::audit_log_len(path).unwrap() as i64
}

/// The newest checkpoint's sequence number (0 for none).
pub fn sealed_to(path: &Path) -> i64 {
    crate::common::raw(path)
        .query_row(
            "SELECT coalesce(max(seq), 0) FROM audit_checkpoints",
            [],
            |r| r.get(0),
        )
        .unwrap()
}

/// Wait (at most ten seconds of real time) until the head is sealed: the sealer looks at a
/// test clock every 20 ms.
pub fn until_sealed(path: &Path) {
    let until = Instant::now() + Duration::from_secs(10);
    while sealed_to(path) < head(path) {
        assert!(
            Instant::now() < until,
            "the sealer never sealed {}",
            head(path)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Move the clock by `by`, then wait until the sealer has sealed what fell due.
pub fn pass(clock: TestClock, path: &Path, by: Duration) {
    clock.advance(by);
    until_sealed(path);
}

/// A vault configured by `config` (given the vault's path; the test's clock is added) where
/// dr.a registers a client and reads their diagnosis `reads` times, ten seconds apart, each
/// read sealed before the next. Left open: `(built, the vault, dr.a's session, the record)`.
pub fn working(
    config: impl FnOnce(&Path) -> VaultConfig,
    reads: usize,
) -> (Timed, Vault, Session, RecordId) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timed.vault");
    let clock = TestClock::starting_at(START);
    let config = config(&path).with_test_clock(clock);
    let vault = Vault::create(&path, "admin", &Passphrase::new(ADMIN_PASS), config).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    admin
        .add_user("dr.a", Role::Clinician, &Passphrase::new(CLIN_PASS))
        .unwrap();
    drop(admin);
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    let client = new_client(&dr, "Morgan Lee");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            Purpose::Treatment,
        )
        .unwrap();
    let count = reads;
    let mut reads = Vec::new();
    for _ in 0..count {
        pass(clock, &path, PACE);
        dr.read_record(&dx, Purpose::Treatment).unwrap();
        reads.push(head(&path));
    }
    pass(clock, &path, PACE);
    // 1 vault.create, 2 user.add, 3 this opening's vault.open.
    let opened = 3;
    let built = Timed {
        dir,
        path,
        clock,
        opened,
        reads,
        close: 0,
    };
    (built, vault, dr, dx)
}

/// [`working`] on the test configuration, then closed.
pub fn morning(reads: usize) -> Timed {
    morning_with(|_| test_config(), reads)
}

/// [`working`] configured by `config`, then closed.
pub fn morning_with(config: impl FnOnce(&Path) -> VaultConfig, reads: usize) -> Timed {
    let (mut built, vault, dr, _) = working(config, reads);
    drop(dr);
    vault.close().unwrap();
    built.close = head(&built.path);
    assert_eq!(sealed_to(&built.path), built.close);
    built
}
