//! Sealing the tail: no entry waits longer than `VaultConfig::seal_within` for a signed
//! checkpoint that covers it, while the audit key is loaded (from the first login on).
//!
//! Two mechanisms, each enough on its own in its case:
//!
//! - **On the next append.** Every append checks, inside its transaction, how long the oldest
//!   entry not yet covered by a checkpoint has waited; once that is `seal_within` or more, the
//!   new entry's checkpoint is signed in the same transaction. So an entry appended after a seal
//!   was due always comes with one, which is what lets `audit-verify` call a later entry without
//!   a checkpoint before it evidence of a deleted checkpoint. The process keeps the oldest
//!   waiting entry's time in memory; when another process appended since its own last entry,
//!   it reads it from the file instead (two indexed lookups).
//! - **A background sealer.** A quiet vault appends nothing, so a thread (one per open vault,
//!   started with the audit key) wakes when the oldest waiting entry falls due and signs a
//!   checkpoint of the head. It also looks at the file every second, for entries other
//!   processes left waiting. With a test clock, which moves only when a test moves it, it looks
//!   every 20 ms of real time whether the test clock has made anything due.
//!
//! A crash can still leave up to `seal_within` of entries unsealed: those are what
//! `audit-verify` reports as the tail after the last checkpoint.
//!
//! The thread holds the vault's shared state; every [`Handle`] (each `Vault` clone and each
//! `Session`) counts itself, and the last one to go stops the thread and then closes the vault,
//! on the thread that dropped it, so a vault dropped by its owner is closed when the drop
//! returns.

use std::ops::Deref;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::audit::{EntryView, MAX_SEAL_WITHIN_MS, SealState};
use crate::db::{self, Conn};
use crate::error::Result;

use super::Shared;

/// The default longest wait of an entry for its checkpoint.
pub const DEFAULT_SEAL_WITHIN: Duration = Duration::from_secs(5);

/// The longest `VaultConfig::seal_within` may be. `audit-verify` holds every vault to it (it
/// cannot know the setting of each process that wrote to the file): an entry appended more
/// than this (plus the clock tolerance) after the oldest unsealed one, with no checkpoint at
/// or before it, means a checkpoint was deleted.
pub const MAX_SEAL_WITHIN: Duration = Duration::from_millis(MAX_SEAL_WITHIN_MS as u64);

/// How often the sealer looks at the file for entries other processes left waiting.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How often the sealer asks a test clock whether something fell due.
const TEST_CLOCK_POLL: Duration = Duration::from_millis(20);
/// How long the sealer waits before trying again after a failed seal (busy, disk full).
const RETRY_AFTER: Duration = Duration::from_millis(500);

/// What this process knows of the log's unsealed tail.
#[derive(Default)]
struct Tail {
    /// The head this knowledge is about: the sequence number of the last entry this process
    /// appended or sealed. Another head means another process appended since.
    head: i64,
    /// The time (unix ms) of the oldest entry up to `head` that no checkpoint covers.
    waiting_since: Option<i64>,
    /// The vault is going: the sealer must stop.
    stop: bool,
}

/// The sealing state every session of one open vault shares.
#[derive(Default)]
pub(crate) struct Sealing {
    tail: Mutex<Tail>,
    /// Wakes the sealer: an entry began to wait, or the vault is going.
    wake: Condvar,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Sealing {
    fn tail(&self) -> MutexGuard<'_, Tail> {
        // Each update of the tail is one step: a panic cannot leave it half-changed.
        self.tail.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The configured wait, capped at [`MAX_SEAL_WITHIN`], in milliseconds.
fn within_ms(shared: &Shared) -> i64 {
    let d = shared.config.seal_within.min(MAX_SEAL_WITHIN);
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Shared {
    /// Whether the entry being appended as `seq` at `at_ms`, inside `tx`, must be sealed now:
    /// the oldest entry waiting (this one, if none is) has waited `seal_within` or more.
    /// Records the entry as waiting otherwise, and wakes the sealer when it is the first.
    pub(super) fn seal_due(&self, tx: &Conn, seq: i64, at_ms: i64) -> Result<bool> {
        let mut tail = self.sealing.tail();
        let since = if tail.head == seq - 1 {
            tail.waiting_since
        } else {
            // Another process appended since: what waits is in the file.
            oldest_unsealed(tx, seq - 1)?
        };
        let first = since.unwrap_or(at_ms);
        tail.head = seq;
        tail.waiting_since = Some(first);
        let due = at_ms.saturating_sub(first) >= within_ms(self);
        drop(tail);
        if since.is_none() && !due {
            self.sealing.wake.notify_all();
        }
        Ok(due)
    }

    /// A checkpoint of `seq` was signed in this process: nothing up to it waits any more.
    pub(super) fn sealed_through(&self, seq: i64) {
        let mut tail = self.sealing.tail();
        if seq >= tail.head {
            tail.head = seq;
            tail.waiting_since = None;
        }
    }

    /// Sign a checkpoint of the head if its oldest unsealed entry has waited long enough.
    /// Looks first without writing (most looks find nothing due), then seals in a write that
    /// decides again on what it reads.
    fn seal_head_if_due(&self) -> Result<()> {
        let waiting = {
            let conn = self.conn();
            match db::audit_rows::head(&conn)? {
                Some((head, _)) => oldest_unsealed(&conn, head)?.map(|since| (head, since)),
                None => None,
            }
        };
        let Some((head, since)) = waiting else {
            return Ok(());
        };
        if within_ms(self) > self.now_ms().saturating_sub(since) {
            // Not yet: remember it, so the sealer wakes when it falls due.
            let mut tail = self.sealing.tail();
            if tail.head <= head && tail.waiting_since.is_none_or(|t| t > since) {
                tail.head = head;
                tail.waiting_since = Some(since);
            }
            return Ok(());
        }
        self.write(|tx| {
            let Some((head, hash)) = db::audit_rows::head(tx)? else {
                return Ok(());
            };
            let due = oldest_unsealed(tx, head)?
                .is_some_and(|since| self.now_ms().saturating_sub(since) >= within_ms(self));
            if due {
                self.checkpoint_in(tx, head, &hash, SealState::Open)?;
            }
            Ok(())
        })
    }

    /// Start the background sealer, once the audit key is loaded (no-op if it runs already).
    /// If the thread cannot be started, appends still seal what has waited too long.
    pub(super) fn start_sealer(self: &Arc<Self>) {
        let mut thread = self
            .sealing
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if thread.is_some() || self.sealing.tail().stop {
            return;
        }
        let shared = Arc::clone(self);
        *thread = std::thread::Builder::new()
            .name("confide-sealer".into())
            .spawn(move || shared.run_sealer())
            .ok();
    }

    fn run_sealer(&self) {
        let test_clock = !self.config.clock.moves_by_itself();
        let mut look_in = Duration::ZERO;
        loop {
            // Wait until something is due, the file is to be looked at, or the vault goes.
            let mut tail = self.sealing.tail();
            loop {
                if tail.stop {
                    return;
                }
                let left = tail
                    .waiting_since
                    .map(|since| within_ms(self) - self.now_ms().saturating_sub(since));
                if left.is_some_and(|l| l <= 0) || look_in.is_zero() {
                    break;
                }
                let mut nap = look_in;
                if let Some(left) = left {
                    let left = Duration::from_millis(u64::try_from(left).unwrap_or(0));
                    nap = nap.min(if test_clock { TEST_CLOCK_POLL } else { left });
                }
                let (next, _) = self
                    .sealing
                    .wake
                    .wait_timeout(tail, nap)
                    .unwrap_or_else(|e| e.into_inner());
                tail = next;
                look_in = look_in.saturating_sub(nap);
            }
            drop(tail);
            if self.witness_waiting() {
                // A checkpoint the witness could not take yet: try again. (Failures are logged
                // once per outage; a required witness fails the next operation instead.)
                let _ = self.sync_witness();
            }
            look_in = match self.seal_head_if_due() {
                Ok(_) => LOOK_EVERY.min(self.config.seal_within.max(TEST_CLOCK_POLL)),
                Err(_) => RETRY_AFTER,
            };
        }
    }

    /// Stop the sealer and wait for it (the last handle is going). Never called on the
    /// sealer's own thread: it holds no handle.
    fn stop_sealer(&self) {
        self.sealing.tail().stop = true;
        self.sealing.wake.notify_all();
        let thread = self
            .sealing
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(t) = thread {
            // A sealer that panicked has nothing left to do; the close below still runs.
            let _ = t.join();
        }
    }
}

/// The time of the oldest entry after the newest checkpoint, up to `head`, if one waits.
fn oldest_unsealed(tx: &Conn, head: i64) -> Result<Option<i64>> {
    let sealed = db::audit_rows::newest_checkpoint(tx)?.map_or(0, |c| c.seq);
    if sealed >= head {
        return Ok(None);
    }
    Ok(db::audit_rows::entry_at(tx, sealed + 1)?
        .as_ref()
        .and_then(|e| EntryView::parse(&e.entry).map(|v| v.at_ms))
        // An entry that is missing or does not parse (a damaged file, or one of a layout that
        // names no time) counts as waiting since long ago: the head is sealed at once.
        .or(Some(0)))
}

/// A handle that keeps an open vault open: each `Vault` clone and each `Session` holds one.
/// When the last goes, the sealer stops and the vault closes, before the drop returns.
pub(crate) struct Handle(Arc<Shared>);

impl Handle {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        shared.handles.fetch_add(1, Ordering::SeqCst);
        Handle(shared)
    }

    /// The shared state itself, for what needs its `Arc` (starting the sealer).
    pub(super) fn arc(&self) -> &Arc<Shared> {
        &self.0
    }

    /// Close now: the close marker and its checkpoint. If this is the last handle, the sealer
    /// stops first, so the close's checkpoint is the last thing written.
    pub(super) fn close(&self) -> Result<()> {
        if self.0.handles.load(Ordering::SeqCst) == 1 {
            self.0.stop_sealer();
        }
        self.0.mark_close()
    }
}

impl Clone for Handle {
    fn clone(&self) -> Self {
        Handle::new(Arc::clone(&self.0))
    }
}

impl Deref for Handle {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl Drop for Handle {
    /// The last handle: stop the sealer, then close cleanly. Errors cannot be reported from a
    /// drop; a close that fails shows in the log as an unclean shutdown, as a crash would.
    fn drop(&mut self) {
        if self.0.handles.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.stop_sealer();
            let _ = self.0.mark_close();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditAction, NewEntry, Outcome};
    use crate::clock::TestClock;
    use crate::crypto::kdf::KdfParams;
    use crate::vault::{Passphrase, Vault, VaultConfig};

    const PASS: &str = "sealer test passphrase";

    fn config(clock: TestClock) -> VaultConfig {
        VaultConfig::default()
            .with_kdf(KdfParams::new(64, 1, 1).unwrap())
            .with_test_clock(clock)
    }

    /// A vault on `clock` whose background sealer is stopped, so only appends seal.
    fn quiet_vault(dir: &tempfile::TempDir, clock: TestClock) -> (Vault, std::path::PathBuf) {
        let path = dir.path().join("sealer.vault");
        let v = Vault::create(&path, "admin", &Passphrase::new(PASS), config(clock)).unwrap();
        v.shared.stop_sealer();
        (v, path)
    }

    fn entry() -> NewEntry<'static> {
        NewEntry {
            actor: None,
            action: AuditAction::AuditRead,
            client: None,
            target: None,
            fields: &[],
            purpose: None,
            outcome: Outcome::Granted,
        }
    }

    fn sealed_through(shared: &Shared) -> i64 {
        db::audit_rows::newest_checkpoint(&shared.conn())
            .unwrap()
            .map_or(0, |c| c.seq)
    }

    #[test]
    fn an_append_after_the_oldest_waiting_entry_fell_due_is_sealed_with_it() {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::starting_at(1_741_000_000_000);
        let (v, _) = quiet_vault(&dir, clock);
        let shared = &v.shared;
        let first = shared.audit(&entry()).unwrap() as i64;
        clock.advance(Duration::from_millis(4_999));
        let before_due = shared.audit(&entry()).unwrap() as i64;
        assert_eq!(sealed_through(shared), 0, "nothing waited five seconds yet");
        clock.advance(Duration::from_millis(1));
        let due = shared.audit(&entry()).unwrap() as i64;
        assert_eq!(
            sealed_through(shared),
            due,
            "sealed in the append's own transaction"
        );
        assert!(first < before_due && before_due < due);
        // What follows waits afresh, from its own time.
        clock.advance(Duration::from_secs(3));
        let next = shared.audit(&entry()).unwrap() as i64;
        clock.advance(Duration::from_secs(2));
        shared.audit(&entry()).unwrap();
        assert_eq!(
            sealed_through(shared),
            due,
            "the next entry has waited two seconds"
        );
        clock.advance(Duration::from_secs(3));
        assert_eq!(
            sealed_through(shared),
            due,
            "no append, no seal: the sealer is stopped"
        );
        let last = shared.audit(&entry()).unwrap() as i64;
        assert_eq!((next + 2, sealed_through(shared)), (last, last));
    }

    #[test]
    fn an_append_after_another_process_reads_what_waits_from_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::starting_at(1_741_000_000_000);
        let (a, path) = quiet_vault(&dir, clock);
        // Another opening of the file (as another process would have), with the key loaded.
        let b = Vault::open(&path, config(clock)).unwrap();
        drop(b.unlock("admin", &Passphrase::new(PASS)).unwrap());
        b.shared.stop_sealer();
        // B appends (A's idea of the head is now stale), then, five seconds on, so does A:
        // what waits is B's entries, older than A's own, and A seals them.
        let theirs = b.shared.audit(&entry()).unwrap() as i64;
        clock.advance(Duration::from_secs(5));
        let ours = a.shared.audit(&entry()).unwrap() as i64;
        assert!(theirs < ours);
        assert_eq!(sealed_through(&a.shared), ours);
    }

    #[test]
    fn without_the_key_nothing_is_sealed_and_the_wait_is_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let clock = TestClock::starting_at(1_741_000_000_000);
        let (a, path) = quiet_vault(&dir, clock);
        drop(a);
        // Opened, nobody logged in: no key, so entries wait however long it takes.
        let v = Vault::open(&path, config(clock)).unwrap();
        v.shared.stop_sealer();
        let sealed = sealed_through(&v.shared);
        clock.advance(Duration::from_secs(60));
        v.shared.audit(&entry()).unwrap();
        assert_eq!(sealed_through(&v.shared), sealed);
        // The first append once the key is loaded (at the login) seals them all.
        drop(v.unlock("admin", &Passphrase::new(PASS)).unwrap());
        assert_eq!(
            sealed_through(&v.shared),
            sealed,
            "the login's entry came before the key"
        );
        let head = v.shared.audit(&entry()).unwrap() as i64;
        assert_eq!(sealed_through(&v.shared), head);
    }

    #[test]
    fn the_wait_is_capped() {
        let long = VaultConfig::default().with_seal_within(Duration::from_secs(3600));
        assert_eq!(long.seal_within, MAX_SEAL_WITHIN);
        assert_eq!(VaultConfig::default().seal_within, DEFAULT_SEAL_WITHIN);
    }
}
