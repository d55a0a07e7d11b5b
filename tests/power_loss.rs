//! Power loss with `Durability::Full`: disk images of what a power cut can leave.
//!
//! With `synchronous = FULL` in WAL mode, SQLite writes and syncs a transaction's frames to the
//! write-ahead log before the commit returns; the database file changes only in checkpoints,
//! which sync the log before writing the file, and restart the log only after syncing the file.
//! So a power cut during an operation can leave on disk:
//! - while it writes the log: the log as it was, overwritten from some point by any prefix of
//!   the bytes the operation was writing (torn anywhere, even inside a frame), beside the
//!   database file as it was;
//! - while a checkpoint copies the log into the file: the whole log, beside any mix of the
//!   file's old and new pages (and, past its old end, new pages or zeros).
//!
//! The test runs a seeded sequence of operations (records created, updated and read through the
//! API, and checkpoints as SQLite runs them), keeps the files after each, and for every
//! operation builds such images of a cut during it. Each image, opened as the app would after
//! the power returns (no `-shm`: the shared-memory index does not survive), must: verify (an
//! unclean shutdown is a warning, not a finding); hold every operation that returned before the
//! cut, exactly; and hold the interrupted one wholly or not at all, records and audit entries
//! alike.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{Practice, new_client, test_config};
use confide::{
    DenyReason, Error, Passphrase, Purpose, RecordId, RecordKind, Session, Value, Vault,
};

const T: Purpose = Purpose::Treatment;
const OPERATIONS: usize = 70;
const IMAGES_PER_OPERATION: usize = 3;
const PAGE: usize = 4096;

/// A small deterministic generator (xorshift64*), so a failure can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// The vault file and its write-ahead log, as bytes on disk.
#[derive(Clone, PartialEq)]
struct Files {
    db: Vec<u8>,
    wal: Vec<u8>,
}

fn wal_path(path: &Path) -> std::path::PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push("-wal");
    p.into()
}

fn files(path: &Path) -> Files {
    Files {
        db: std::fs::read(path).unwrap(),
        wal: std::fs::read(wal_path(path)).unwrap_or_default(),
    }
}

/// What the vault holds after an operation: each record's summary, and the log's last seq.
#[derive(Clone, Debug, PartialEq)]
struct State {
    records: BTreeMap<RecordId, String>,
    head: u64,
}

fn head(path: &Path) -> u64 {
    confide::audit_log_len(path).unwrap()
}

/// A cut during the operation that turned `before` into `after`.
fn image(rng: &mut Rng, before: &Files, after: &Files) -> Files {
    if before.db != after.db {
        // A checkpoint: the log is whole (synced first), the file any mix of its pages.
        let pages = after.db.len().div_ceil(PAGE);
        let mut db = Vec::with_capacity(after.db.len());
        for p in 0..pages {
            let new = &after.db[p * PAGE..((p + 1) * PAGE).min(after.db.len())];
            let old = before.db.get(p * PAGE..(p + 1) * PAGE);
            match (rng.below(2), old) {
                (0, Some(old)) => db.extend_from_slice(old),
                (0, None) => db.extend(std::iter::repeat_n(0u8, new.len())),
                _ => db.extend_from_slice(new),
            }
        }
        Files {
            db,
            wal: after.wal.clone(),
        }
    } else {
        // Writing the log: any prefix of what the operation wrote, over what was there. The cut
        // falls where the bytes differ (the log is rewritten in place after a checkpoint, so
        // most of the file may be the same before and after).
        let len = before.wal.len().max(after.wal.len());
        let differs = |i: &usize| before.wal.get(*i) != after.wal.get(*i);
        let cut = match ((0..len).find(differs), (0..len).rev().find(differs)) {
            (Some(first), Some(last)) => first + rng.below(last - first + 2),
            _ => after.wal.len(),
        };
        let mut wal = after.wal[..cut].to_vec();
        if before.wal.len() > cut {
            wal.extend_from_slice(&before.wal[cut..]);
        }
        Files {
            db: before.db.clone(),
            wal,
        }
    }
}

/// Open `image` as the app would after the power returns, and check it holds `before` or
/// `after`, wholly. Returns which.
fn check(dir: &Path, n: usize, image: &Files, before: &State, after: &State) -> &'static str {
    let path = dir.join(format!("image-{n}.vault"));
    std::fs::write(&path, &image.db).unwrap();
    std::fs::write(wal_path(&path), &image.wal).unwrap();

    let report = confide::verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "image {n}: {:?}", report.findings);
    let last = report.seq_range.map_or(0, |(_, l)| l);
    let (which, want) = if last == after.head {
        ("after", after)
    } else {
        assert_eq!(
            last, before.head,
            "image {n}: the log holds part of an operation"
        );
        ("before", before)
    };

    let vault = Vault::open(&path, test_config()).unwrap();
    let dr = vault
        .unlock("dr.a", &Passphrase::new(common::CLIN_PASS))
        .unwrap();
    for (id, summary) in &want.records {
        let read = dr
            .read_record(id, T)
            .unwrap_or_else(|e| panic!("image {n} ({which}): record lost: {e}"));
        assert_eq!(
            read.get("summary"),
            Some(&Value::text(summary.as_str())),
            "image {n} ({which})"
        );
    }
    // A record the operation created is absent when the log does not hold the operation.
    for id in after
        .records
        .keys()
        .filter(|id| !want.records.contains_key(*id))
    {
        // Refused as any unknown record is: the vault does not tell it apart from one it
        // never held.
        let read = dr.read_record(id, T).err();
        assert!(
            matches!(
                read,
                Some(Error::Denied {
                    reason: DenyReason::NoRelationship
                })
            ),
            "image {n}: half an operation: {read:?}"
        );
    }
    drop(dr);
    drop(vault);
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
    which
}

fn operate(rng: &mut Rng, p: &Practice, dr: &Session, client: &confide::ClientId, s: &mut State) {
    let ids: Vec<RecordId> = s.records.keys().copied().collect();
    match rng.below(10) {
        0..=3 => {
            let summary = format!("note {}", rng.next());
            let id = dr
                .create_record(
                    client,
                    RecordKind::ProgressNote,
                    &[("summary", Value::text(summary.as_str()))],
                    T,
                )
                .unwrap();
            s.records.insert(id, summary);
        }
        4..=5 if !ids.is_empty() => {
            let id = ids[rng.below(ids.len())];
            let summary = format!("revised {}", rng.next());
            dr.update_record(&id, &[("summary", Value::text(summary.as_str()))], T)
                .unwrap();
            s.records.insert(id, summary);
        }
        6..=7 if !ids.is_empty() => {
            dr.read_record(&ids[rng.below(ids.len())], T).unwrap();
        }
        _ => {
            // A checkpoint, as SQLite's automatic one would run it.
            rusqlite::Connection::open(p.path())
                .unwrap()
                .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                .unwrap();
        }
    }
    s.head = head(p.path());
}

#[test]
fn a_power_cut_during_any_operation_keeps_what_returned_and_nothing_half_done() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Power Cut");
    let images = tempfile::tempdir().unwrap();
    let mut rng = Rng(0x05ee_d0f9_07e4);
    let mut state = State {
        records: BTreeMap::new(),
        head: head(p.path()),
    };
    let mut on_disk = files(p.path());
    let mut seen = BTreeMap::<&str, usize>::new();
    let mut checkpoints = 0;
    for op in 0..OPERATIONS {
        let before = state.clone();
        operate(&mut rng, &p, &dr, &client, &mut state);
        let now = files(p.path());
        if now.db != on_disk.db {
            checkpoints += 1;
        }
        for k in 0..IMAGES_PER_OPERATION {
            let cut = image(&mut rng, &on_disk, &now);
            let which = check(
                images.path(),
                op * IMAGES_PER_OPERATION + k,
                &cut,
                &before,
                &state,
            );
            *seen.entry(which).or_default() += 1;
        }
        on_disk = now;
    }
    eprintln!(
        "power loss: {OPERATIONS} operations ({checkpoints} checkpoints), {} images: {seen:?}",
        OPERATIONS * IMAGES_PER_OPERATION
    );
    // Both outcomes of a cut occur, and the checkpoint branch ran: the images were not all
    // trivially the state before (or after) an operation.
    assert!(seen.get("before").copied().unwrap_or(0) > 0);
    assert!(seen.get("after").copied().unwrap_or(0) > 0);
    assert!(checkpoints > 0);
}
