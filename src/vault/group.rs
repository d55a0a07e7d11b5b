//! Group commit: writes from concurrent sessions share one transaction and one commit.
//!
//! Every change and every audit entry goes through [`Shared::write`]. Each write runs in the
//! *group* transaction open on the vault's connection: in a savepoint of it if others' writes are
//! already in it, directly if it began the transaction itself. When it is done, the writer looks
//! whether another write is already waiting for the connection:
//!
//! - if none is, it commits the group transaction (with `Durability::Full`, one fsync) and
//!   returns;
//! - if one is, and the vault commits with `Durability::Full`, it leaves the transaction open
//!   for that writer to join, and waits until the group it belongs to has committed before
//!   returning. (With `Normal` a commit is cheaper than waking a waiting thread, so every
//!   writer commits at once.)
//!
//! So a write never returns before its own changes are committed (invariant 4: a read's audit
//! entry is durable before its plaintext leaves), but writers that arrive together pay for one
//! commit between them. A write that fails rolls back to its savepoint and leaves the others'
//! work in the group untouched (alone in its group, it rolls back the transaction). If the
//! commit itself fails, every write of that group gets the error. A waiter whose group is still
//! open after a short while (its expected committer failed before it could commit) commits the
//! group itself, so nobody waits for ever.

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use super::Shared;
use crate::db::{self, Conn, Durability};
use crate::error::{Error, Result};

/// How long a waiter trusts the expected committer before committing the group itself.
const PATIENCE: Duration = Duration::from_millis(20);

/// The vault's connection and the group transaction open on it, if any.
pub(crate) struct Db {
    conn: Conn,
    /// The group (epoch) whose transaction is open on `conn`.
    open: Option<u64>,
}

impl Db {
    pub(crate) fn new(conn: Conn) -> Self {
        Self { conn, open: None }
    }
}

impl Deref for Db {
    type Target = Conn;
    fn deref(&self) -> &Conn {
        &self.conn
    }
}

impl DerefMut for Db {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.conn
    }
}

/// How a group's commit ended, kept for writers still waiting on it.
#[derive(Clone, Debug)]
enum Failed {
    DiskFull,
    Busy,
    Storage(String),
}

impl Failed {
    fn of(e: &Error) -> Self {
        match e {
            Error::DiskFull => Failed::DiskFull,
            Error::Busy => Failed::Busy,
            other => Failed::Storage(other.to_string()),
        }
    }

    fn error(&self) -> Error {
        match self {
            Failed::DiskFull => Error::DiskFull,
            Failed::Busy => Error::Busy,
            Failed::Storage(s) => Error::Storage(s.clone()),
        }
    }
}

#[derive(Default)]
struct Commits {
    /// Groups are numbered from 1; every group up to this one has ended.
    ended: u64,
    /// The last group number handed out.
    last: u64,
    /// Groups whose commit failed (rare; kept so a late waiter still learns of it).
    failed: BTreeMap<u64, Failed>,
}

/// The shared state of group commit.
#[derive(Default)]
pub(crate) struct GroupCommit {
    /// Writers waiting for the connection.
    queued: AtomicUsize,
    commits: Mutex<Commits>,
    ended: Condvar,
}

impl GroupCommit {
    fn commits(&self) -> std::sync::MutexGuard<'_, Commits> {
        // A panic while this was held cannot leave it inconsistent: every update is one step.
        self.commits.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Shared {
    /// Run `f` in a savepoint of the group transaction; return once what it wrote is committed
    /// (with the writes of any session that joined the group), and, if it signed a checkpoint,
    /// once the witness holds it. Nothing is kept if `f` fails.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        if self.witness.is_none() {
            return self.write_unwitnessed(f);
        }
        // Checkpoints are signed only inside writes, which hold the connection: one signed
        // while `f` ran is `f`'s (or, at worst, another writer's, whose witness append this
        // one then does as well).
        let before = self.signed.load(Ordering::SeqCst);
        let out = self.write_unwitnessed(f)?;
        self.after_write(self.signed.load(Ordering::SeqCst) != before)?;
        Ok(out)
    }

    /// Run `f` on the connection inside the vault file's write lock, with no group transaction
    /// open (so it reads only what is committed), and keep nothing it may have written to the
    /// file: for work that must not interleave with other processes' writes, such as
    /// appending to the witness.
    pub(crate) fn exclusive<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        loop {
            let db = self.conn();
            if let Some(group) = db.open {
                // A group is waiting for its committer: let it end first.
                drop(db);
                let _ = self.await_group(group);
                continue;
            }
            db::begin_immediate(&db.conn)?;
            let out = f(&db.conn);
            db::rollback(&db.conn);
            return out;
        }
    }

    /// [`Shared::write`] without bringing the witness up to date: for what the witness's own
    /// upkeep writes (its failures in the log), and what a witness append follows anyway.
    pub(crate) fn write_unwitnessed<T>(&self, f: impl FnOnce(&Conn) -> Result<T>) -> Result<T> {
        let g = &self.group;
        g.queued.fetch_add(1, Ordering::SeqCst);
        let mut db = self.conn();
        g.queued.fetch_sub(1, Ordering::SeqCst);
        if let Some(lost) = db.open.filter(|_| !db::in_transaction(&db.conn)) {
            // The group's transaction ended without a commit from here (nothing should end it,
            // but if anything did): its writers must not be told their work committed.
            let cause = Failed::Storage("the transaction was rolled back".into());
            self.end_group(&mut db, lost, Some(cause));
        }
        let (group, fresh) = match db.open {
            Some(group) => (group, false),
            None => {
                db::begin_immediate(&db.conn)?;
                let mut c = g.commits();
                c.last += 1;
                db.open = Some(c.last);
                (c.last, true)
            }
        };
        // Whether the group transaction is still exactly the other writers' work plus ours (or
        // plus nothing, if ours failed and was undone).
        let (out, clean) = if fresh {
            // Nobody else's work is in a transaction this writer just began: a failure rolls
            // back the whole of it, and no savepoint is needed to undo this write alone.
            let out = f(&db.conn);
            let clean = out.is_ok();
            (out, clean)
        } else {
            // Undo this write alone if it fails; if even that fails, the group cannot be trusted.
            db::in_savepoint(&mut db.conn, f)
        };
        if !clean || !db::in_transaction(&db.conn) {
            // SQLite rolled the group transaction back itself (it does on a full disk or an
            // I/O error), this write could not be undone alone, or it failed alone in a group of
            // its own: the whole group is lost, and every writer in it must hear so, whoever
            // would have committed.
            db::rollback(&db.conn);
            let cause = match &out {
                Err(e) => Failed::of(e),
                Ok(_) => Failed::Storage("the transaction was rolled back".into()),
            };
            self.end_group(&mut db, group, Some(cause.clone()));
            drop(db);
            return match out {
                Err(e) => Err(e),
                Ok(_) => Err(cause.error()),
            };
        }
        // Only a commit that syncs to disk is worth waiting to share: with `Normal` a commit
        // costs less than waking a waiting thread.
        let worth_sharing = self.config.durability == Durability::Full;
        if worth_sharing && g.queued.load(Ordering::SeqCst) > 0 {
            // Someone is about to join: they, or the last to join, commit for us.
            drop(db);
            if out.is_ok() {
                self.await_group(group)?;
            }
            return out;
        }
        let committed = self.commit_group(&mut db, group);
        drop(db);
        // A failed write's own error says more than the commit's of what is left of the group.
        let value = out?;
        committed?;
        Ok(value)
    }

    /// Commit the open group transaction (or roll it back if the commit fails) and wake its
    /// waiters. Called with the connection held.
    fn commit_group(&self, db: &mut Db, group: u64) -> Result<()> {
        let result = db::commit(&db.conn);
        if result.is_err() && db::in_transaction(&db.conn) {
            // Nothing of a failed group may stay half-applied.
            db::rollback(&db.conn);
        }
        self.end_group(db, group, result.as_ref().err().map(Failed::of));
        result
    }

    /// Mark `group` ended (failed, if `failed`) and wake its waiters. Called with the
    /// connection held.
    fn end_group(&self, db: &mut Db, group: u64, failed: Option<Failed>) {
        db.open = None;
        let mut c = self.group.commits();
        c.ended = group;
        if let Some(f) = failed {
            c.failed.insert(group, f);
        }
        drop(c);
        self.group.ended.notify_all();
    }

    /// Wait until `group` has ended; its commit's error if it failed.
    fn await_group(&self, group: u64) -> Result<()> {
        let g = &self.group;
        let mut c = g.commits();
        loop {
            if c.ended >= group {
                return match c.failed.get(&group) {
                    Some(f) => Err(f.error()),
                    None => Ok(()),
                };
            }
            let (next, waited) = g
                .ended
                .wait_timeout(c, PATIENCE)
                .unwrap_or_else(|e| e.into_inner());
            c = next;
            if waited.timed_out() && c.ended < group {
                // The writer expected to commit has not: do it ourselves.
                drop(c);
                let mut db = self.conn();
                if db.open == Some(group) && g.queued.load(Ordering::SeqCst) == 0 {
                    // Its error, if any, is recorded for every waiter and read below.
                    let _ = self.commit_group(&mut db, group);
                }
                drop(db);
                c = g.commits();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::Ordering;

    use super::*;
    use crate::audit::{AuditAction, NewEntry, Outcome};
    use crate::crypto::kdf::KdfParams;
    use crate::vault::{Passphrase, Vault, VaultConfig};

    fn vault(dir: &tempfile::TempDir) -> (Vault, std::path::PathBuf) {
        let path = dir.path().join("group.vault");
        // The longest seal interval: the background sealer's writes would be groups of their
        // own, which these tests count.
        let config = VaultConfig::default()
            .with_kdf(KdfParams::new(64, 1, 1).unwrap())
            .with_seal_within(crate::vault::MAX_SEAL_WITHIN);
        let v = Vault::create(&path, "admin", &Passphrase::new("group test pass"), config).unwrap();
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
            outcome: Outcome::Allowed(crate::policy::Basis::Role),
        }
    }

    /// Entries visible to another connection: committed.
    fn committed(path: &std::path::Path) -> u64 {
        crate::vault::audit_log_len(path).unwrap()
    }

    /// Wait (bounded) until a writer is queued for the connection.
    fn until_queued(shared: &Shared) {
        for _ in 0..10_000 {
            if shared.group.queued.load(Ordering::SeqCst) > 0 {
                return;
            }
            std::thread::sleep(Duration::from_micros(100));
        }
        panic!("the second writer never queued");
    }

    /// One write of an entry, during which `second` starts on another thread and queues for
    /// the connection (so the first leaves its group open for it). Returns once both are done;
    /// the first write's result must be `Ok`.
    fn write_while_another_queues(shared: &Shared, second: impl FnOnce() + Send) {
        std::thread::scope(|s| {
            let first = s.spawn(|| {
                shared.write(|tx| {
                    shared.audit_in(tx, &entry())?;
                    s.spawn(second);
                    until_queued(shared);
                    Ok(())
                })
            });
            first.join().unwrap().unwrap();
        });
    }

    #[test]
    fn a_writer_that_finds_another_waiting_shares_its_commit() {
        let dir = tempfile::tempdir().unwrap();
        let (v, path) = vault(&dir);
        let shared = Arc::clone(v.shared.arc());
        let before = committed(&path);
        let groups_before = shared.group.commits().last;
        write_while_another_queues(&shared, || {
            shared.write(|tx| shared.audit_in(tx, &entry())).unwrap();
        });
        // Both entries are committed, by one group.
        assert_eq!(committed(&path), before + 2);
        assert_eq!(shared.group.commits().last, groups_before + 1);
        assert!(crate::verify_audit_log(&path).unwrap().is_intact());
    }

    #[test]
    fn a_failed_write_keeps_nothing_and_leaves_the_group_intact() {
        let dir = tempfile::tempdir().unwrap();
        let (v, path) = vault(&dir);
        let shared = Arc::clone(v.shared.arc());
        let before = committed(&path);
        let failed: Result<()> = shared.write(|tx| {
            shared.audit_in(tx, &entry())?;
            Err(Error::Busy)
        });
        assert!(matches!(failed, Err(Error::Busy)));
        assert_eq!(committed(&path), before);
        shared.write(|tx| shared.audit_in(tx, &entry())).unwrap();
        assert_eq!(committed(&path), before + 1);
        assert!(crate::verify_audit_log(&path).unwrap().is_intact());
    }

    #[test]
    fn a_write_failing_in_a_group_it_joined_undoes_only_itself() {
        let dir = tempfile::tempdir().unwrap();
        let (v, path) = vault(&dir);
        let shared = Arc::clone(v.shared.arc());
        let before = committed(&path);
        let groups_before = shared.group.commits().last;
        write_while_another_queues(&shared, || {
            let failed: Result<()> = shared.write(|tx| {
                shared.audit_in(tx, &entry())?;
                Err(Error::Busy)
            });
            assert!(matches!(failed, Err(Error::Busy)));
        });
        // The first write is committed, by the one group both were in; the second left nothing.
        assert_eq!(committed(&path), before + 1);
        assert_eq!(shared.group.commits().last, groups_before + 1);
        assert!(crate::verify_audit_log(&path).unwrap().is_intact());
    }

    #[test]
    fn a_waiter_commits_its_group_itself_when_the_expected_committer_dies() {
        let dir = tempfile::tempdir().unwrap();
        let (v, path) = vault(&dir);
        let shared = Arc::clone(v.shared.arc());
        let before = committed(&path);
        // The second writer panics inside the group the first leaves open; the first write
        // returns, committed, although its committer never came back.
        write_while_another_queues(&shared, || {
            let died = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shared.write(|tx| -> Result<()> {
                    shared.audit_in(tx, &entry())?;
                    panic!("writer dies mid-group");
                })
            }));
            assert!(died.is_err());
        });
        assert_eq!(committed(&path), before + 1);
        assert!(crate::verify_audit_log(&path).unwrap().is_intact());
    }
}
