//! Sealing the tail: while the audit key is loaded, no entry waits longer than
//! `VaultConfig::seal_within` (five seconds by default) for a signed checkpoint that covers it.
//! A quiet vault is sealed by its background sealer, entries another opening of the file left
//! waiting too, and a close seals what is left. The vaults run on a clock the test moves
//! (`test-clock`): time passes only when a test says, and each test then waits (bounded) for
//! the sealer thread to act on it. (`src/vault/sealer.rs` tests the seals made by appends.)

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Practice, new_client, test_config};
use confide::{DEFAULT_SEAL_WITHIN, Passphrase, Purpose, RecordKind, TestClock, Value, Vault};

/// 2025-03-03 11:06:40 UTC.
const START: i64 = 1_741_000_000_000;

/// The newest checkpoint: (seq, state code, time), or `None`.
fn newest_checkpoint(path: &Path) -> Option<(i64, i64, i64)> {
    common::raw(path)
        .query_row(
            "SELECT seq, state, at FROM audit_checkpoints ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .ok()
}

fn head(path: &Path) -> i64 {
    confide::audit_log_len(path).unwrap() as i64
}

/// Wait until `done` holds, for at most ten seconds of real time (the sealer looks every 20
/// ms at a test clock, and every second at the file).
fn eventually(what: &str, done: impl Fn() -> bool) {
    let until = Instant::now() + Duration::from_secs(10);
    while !done() {
        assert!(Instant::now() < until, "never: {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A practice on `clock`, with a client and a diagnosis dr.a reads.
fn practice(clock: TestClock) -> (Practice, confide::Session, confide::RecordId) {
    let p = Practice::on_clock(clock);
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Robin Ash");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            Purpose::Treatment,
        )
        .unwrap();
    (p, dr, dx)
}

#[test]
fn a_quiet_vault_is_sealed_once_its_oldest_entry_has_waited_the_interval() {
    let clock = TestClock::starting_at(START);
    let (p, dr, dx) = practice(clock);
    dr.read_record(&dx, Purpose::Treatment).unwrap();
    let waiting = head(p.path());
    // The clock has not moved: nothing is due, and nothing is sealed.
    assert_eq!(newest_checkpoint(p.path()), None);

    // Just short of the interval: still nothing (a read now would be sealed by itself).
    clock.advance(DEFAULT_SEAL_WITHIN - Duration::from_millis(1));
    let sealer_looked_twice = Instant::now() + Duration::from_millis(100);
    while Instant::now() < sealer_looked_twice {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert_eq!(newest_checkpoint(p.path()), None);

    // Due: the sealer signs a checkpoint of the head, "open", dated now, and writes no entry.
    clock.advance(Duration::from_millis(1));
    eventually("the head is sealed", || {
        newest_checkpoint(p.path()).is_some_and(|c| c.0 == waiting)
    });
    assert_eq!(
        newest_checkpoint(p.path()),
        Some((waiting, 1, clock.now_ms()))
    );
    assert_eq!(head(p.path()), waiting);
    let r = confide::verify_audit_log(p.path()).unwrap();
    assert!(r.is_intact(), "{:?}", r.findings);
    assert_eq!(r.last_checkpoint, Some(waiting as u64));
    // No unsealed tail; the vault is still open, which is all the report has to say.
    let codes: Vec<&str> = r.warnings.iter().map(|w| w.code()).collect();
    assert_eq!(codes, ["unclean-shutdown"]);

    // A later read waits afresh; closing seals it at once, "closed".
    dr.read_record(&dx, Purpose::Treatment).unwrap();
    drop(dr);
    let Practice {
        vault,
        path,
        dir: _dir,
    } = p;
    vault.close().unwrap();
    let closed = head(&path);
    assert_eq!(newest_checkpoint(&path), Some((closed, 2, clock.now_ms())));
    let r = confide::verify_audit_log(&path).unwrap();
    assert!(r.is_intact() && r.warnings.is_empty(), "{r:?}");
}

#[test]
fn entries_another_opening_left_waiting_are_sealed_too() {
    let clock = TestClock::starting_at(START);
    let (p, dr, _) = practice(clock);
    let before = newest_checkpoint(p.path());
    // Another opening of the same file (another process, say), where nobody logs in: it holds
    // no key, so it cannot seal what it writes.
    let other = Vault::open(p.path(), test_config().with_test_clock(clock)).unwrap();
    for _ in 0..3 {
        let refused = other.unlock("dr.a", &Passphrase::new("not dr.a's passphrase"));
        assert!(refused.is_err());
    }
    let theirs = head(p.path());
    assert_eq!(newest_checkpoint(p.path()), before);
    // Once they have waited the interval, the sealer of the opening that holds the key finds
    // them in the file and seals them.
    clock.advance(DEFAULT_SEAL_WITHIN);
    eventually("the other opening's entries are sealed", || {
        newest_checkpoint(p.path()).is_some_and(|c| c.0 >= theirs)
    });
    drop((dr, other));
}

#[test]
fn a_shorter_interval_is_kept() {
    let clock = TestClock::starting_at(START);
    let config = test_config()
        .with_test_clock(clock)
        .with_seal_within(Duration::from_millis(200));
    let p = Practice::with_config(config);
    let dr = p.login("dr.a");
    new_client(&dr, "Lee Park");
    let waiting = head(p.path());
    clock.advance(Duration::from_millis(200));
    eventually("sealed after 200 ms", || {
        newest_checkpoint(p.path()).is_some_and(|c| c.0 == waiting)
    });
}
