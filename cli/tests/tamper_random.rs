//! Random single-row tampering of the audit log, end to end through the real `audit-verify`
//! binary: whatever part of whichever row a seeded sequence edits, the first break is located.
//!
//! Each test builds a practice with some activity, closes it, and then edits the vault file
//! with SQLite directly, as an attacker with write access to the file would (the edits are in
//! `common/tamper.rs`). `audit-verify` must exit 1 and name exactly the sequence number and the
//! kind of the first break.

mod common;
#[path = "common/tamper.rs"]
mod tamper;

use common::audit_sql::{self, Parts};
use common::raw;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params};
use tamper::*;

// ---------------------------------------------------------------------------------------------
// Random single-row tampering
// ---------------------------------------------------------------------------------------------

/// xorshift64*: a fixed, dependency-free sequence.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// 1..=n
    fn seq(&mut self, n: i64) -> i64 {
        1 + self.below(n as u64) as i64
    }

    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.below(from.len() as u64) as usize]
    }
}

/// The parts of an entry `audit_with` can replace.
const PARTS: [&str; 10] = [
    "link",
    "at",
    "actor",
    "client_id",
    "target_id",
    "digest",
    "action",
    "purpose",
    "outcome",
    "fields",
];

/// Texts an entry could plausibly hold instead of its own.
const TEXTS: [&str; 5] = [
    "granted",
    "record.read",
    "TREAT",
    "",
    "denied:no-relationship",
];

/// Actions that read, for a forged entry.
const READS: [&str; 5] = [
    "record.read",
    "record.list",
    "note.read",
    "client.find",
    "audit.read",
];

/// A different id of `len` bytes for `old` (a changed byte, or new bytes), or none (removed).
fn other_id(rng: &mut Rng, old: Option<&Vec<u8>>, len: usize) -> Sql {
    match (old, rng.below(3)) {
        (Some(b), 0) => {
            let mut b = b.clone();
            let i = rng.below(b.len() as u64) as usize;
            b[i] = b[i].wrapping_add(1 + rng.below(255) as u8);
            Sql::Blob(b)
        }
        (Some(_), 1) => Sql::Null,
        _ => loop {
            let b = rng.bytes(len);
            if old != Some(&b) {
                break Sql::Blob(b);
            }
        },
    }
}

/// A different text for one holding `old` (as TEXT, or as a BLOB when not UTF-8).
fn other_text(rng: &mut Rng, old: &[u8]) -> Sql {
    let s = String::from_utf8_lossy(old);
    match rng.below(5) {
        0 => Sql::Text(format!("{s}x")),
        // Not UTF-8 any more.
        1 => {
            let mut b = old.to_vec();
            b.insert(rng.below(b.len() as u64 + 1) as usize, 0xFF);
            Sql::Blob(b)
        }
        // Long enough for a length of two LEB128 bytes.
        2 => Sql::Text(format!("{s}{}", "y".repeat(130))),
        _ => {
            let alt = rng.pick(&TEXTS);
            if alt.as_bytes() == old {
                Sql::Text(format!("{s}-"))
            } else {
                Sql::Text(alt.into())
            }
        }
    }
}

/// A different value for part `name` of the entry `p`, for `audit_with`.
fn other_part(rng: &mut Rng, p: &Parts, name: &str) -> Sql {
    match name {
        "link" => {
            let mut b = p.link.clone();
            let i = rng.below(b.len() as u64) as usize;
            b[i] ^= 1 << rng.below(8);
            Sql::Blob(b)
        }
        "at" => Sql::Integer(match rng.below(4) {
            0 => p.at + 1,
            1 => p.at - 1 - rng.below(1_000_000) as i64,
            2 => p.at + 86_400_000 * (1 + rng.below(365) as i64),
            _ => !p.at,
        }),
        "actor" => other_id(rng, p.actor.as_ref(), 16),
        "client_id" => other_id(rng, p.client.as_ref(), 16),
        "target_id" => other_id(rng, p.target.as_ref(), 16),
        "digest" => other_id(rng, p.digest.as_ref(), 32),
        "action" => other_text(rng, &p.action),
        "purpose" => other_text(rng, &p.purpose),
        "outcome" => other_text(rng, &p.outcome),
        "fields" => other_text(rng, &p.fields),
        other => panic!("no part {other}"),
    }
}

/// `p` with part `name` set to `v`, as the layout defines it: what `audit_with` must have done.
fn with_part(mut p: Parts, name: &str, v: &Sql) -> Parts {
    let bytes = || match v {
        Sql::Text(s) => s.as_bytes().to_vec(),
        Sql::Blob(b) => b.clone(),
        other => panic!("{name} set to {other:?}"),
    };
    let id = || (*v != Sql::Null).then(bytes);
    match name {
        "link" => p.link = bytes(),
        "at" => {
            let Sql::Integer(at) = v else {
                panic!("at set to {v:?}")
            };
            p.at = *at;
        }
        "actor" => p.actor = id(),
        "client_id" => p.client = id(),
        "target_id" => p.target = id(),
        "digest" => p.digest = id(),
        "action" => p.action = bytes(),
        "purpose" => p.purpose = bytes(),
        "outcome" => p.outcome = bytes(),
        "fields" => p.fields = bytes(),
        other => panic!("no part {other}"),
    }
    p
}

/// The kinds of tampering, as counted by the test.
const KINDS: [&str; 8] = [
    "edit a part",
    "edit bytes of the blob",
    "edit the hash",
    "edit and rehash",
    "delete",
    "delete and renumber",
    "insert and renumber",
    "swap",
];

/// One random tampering made.
struct Tampering {
    /// An index into [`KINDS`].
    kind: usize,
    /// The part of the entry edited, for an edit of one part.
    part: Option<&'static str>,
    what: String,
    /// The findings it must cause.
    expected: Vec<Finding>,
}

/// Apply one random tampering to `conn`, a vault of `n` entries whose head `n` is signed.
fn tamper_randomly(rng: &mut Rng, conn: &Connection, n: i64) -> Tampering {
    // Half of the tamperings edit one row in place; the rest rewrite, remove, add or move rows.
    let kind = match rng.below(16) {
        0..=3 => 0,
        4..=5 => 1,
        6..=7 => 2,
        8 => 3,
        9..=10 => 4,
        11 => 5,
        12..=13 => 6,
        _ => 7,
    };
    // Where a signed checkpoint's entry no longer holds the hash it signed.
    let head_rewritten = |k: i64| (k == n).then(|| rewritten(n));
    let mut part = None;
    let (what, expected) = match kind {
        // Edit one part of one entry, leaving its hash (the last row too: its own hash still
        // covers it).
        0 => {
            let k = rng.seq(n);
            let name = rng.pick(&PARTS);
            part = Some(name);
            let old = parts(conn, k);
            let new = other_part(rng, &old, name);
            let before = fingerprint(conn, k, "entry");
            conn.execute(
                "UPDATE audit_log SET entry = audit_with(entry, ?1, ?2) WHERE seq = ?3",
                params![name, new, k],
            )
            .unwrap();
            let after = fingerprint(conn, k, "entry");
            let what = format!("edit seq {k} {name} to {new:?}");
            assert_ne!(before, after, "{what}: not really changed");
            // Exactly that part changed, as the layout says.
            assert_eq!(parts(conn, k), with_part(old, name, &new), "{what}");
            // The link too is hashed content: see `edited_link_is_a_changed_entry`.
            (what, vec![changed(k)])
        }
        // Change, add or remove bytes of one entry's blob, leaving its hash.
        1 => {
            let k = rng.seq(n);
            let mut entry = row(conn, k).entry;
            let old = entry.clone();
            let what = match rng.below(4) {
                0 | 1 => {
                    let i = rng.below(entry.len() as u64) as usize;
                    entry[i] = entry[i].wrapping_add(1 + rng.below(255) as u8);
                    format!("byte {i} of {}", entry.len())
                }
                2 => {
                    let keep = rng.below(entry.len() as u64) as usize;
                    entry.truncate(keep);
                    format!("cut to {keep} bytes of {}", old.len())
                }
                _ => {
                    let extra = 1 + rng.below(4) as usize;
                    entry.extend(rng.bytes(extra));
                    format!("{} bytes appended", entry.len() - old.len())
                }
            };
            conn.execute(
                "UPDATE audit_log SET entry = ?1 WHERE seq = ?2",
                params![entry, k],
            )
            .unwrap();
            let what = format!("edit seq {k} entry blob: {what}");
            // Bytes that still parse are an entry changed; others, a malformed row.
            let found = if is_entry(&entry) {
                changed(k)
            } else {
                malformed(k)
            };
            (what, vec![found])
        }
        // Change one row's stored hash.
        2 => {
            let k = rng.seq(n);
            let old = row(conn, k).hash;
            let (new, right_length) = match rng.below(6) {
                // A hash of the right length: the entry no longer matches.
                0 | 1 => {
                    let mut b = old.clone();
                    let i = rng.below(b.len() as u64) as usize;
                    b[i] ^= 1 << rng.below(8);
                    (Sql::Blob(b), true)
                }
                2 => (Sql::Blob(rng.bytes(32)), true),
                // The wrong length, or not a blob: a malformed row.
                3 => (Sql::Blob(old[..old.len() - 1].to_vec()), false),
                4 => (Sql::Text(hex::encode(&old)), false),
                _ => (Sql::Integer(1 + rng.below(1000) as i64), false),
            };
            let before = fingerprint(conn, k, "hash");
            conn.execute(
                "UPDATE audit_log SET hash = ?1 WHERE seq = ?2",
                params![new, k],
            )
            .unwrap();
            let after = fingerprint(conn, k, "hash");
            let what = format!("edit seq {k} hash: {new:?} (stored {after:?})");
            assert_ne!(before, after, "{what}: not really changed");
            let found = if right_length {
                changed(k)
            } else {
                malformed(k)
            };
            // The signed head's hash changed too: found reading that row, before its hash is
            // checked.
            (
                what,
                [head_rewritten(k), Some(found)]
                    .into_iter()
                    .flatten()
                    .collect(),
            )
        }
        // Edit one part of one entry and store the hash the layout gives it after the row
        // before: consistent in itself, so the break shows at the next entry, or at the signed
        // head when it was the head.
        3 => {
            let k = rng.seq(n);
            // Every part but the link, which the forger sets to the row before's hash.
            let name = rng.pick(&PARTS[1..]);
            let old = parts(conn, k);
            let new = other_part(rng, &old, name);
            let forged = forge(&hash_before(conn, k), k, with_part(old, name, &new));
            put(conn, k, &forged);
            let what = format!("edit seq {k} {name} to {new:?} and rehash");
            let found = if k == n {
                rewritten(n)
            } else {
                unlinked(k + 1)
            };
            (what, vec![found])
        }
        // Delete one row; the last one is a truncation the signed head shows.
        4 => {
            let k = rng.seq(n);
            delete(conn, k);
            let found = if k == n {
                truncated_before(n, n - 1)
            } else {
                missing(k, k)
            };
            (format!("delete seq {k}"), vec![found])
        }
        // Delete one row, not the last, and close the gap.
        5 => {
            let k = rng.seq(n - 1);
            delete(conn, k);
            renumber(conn, k + 1, -1);
            (
                format!("delete seq {k} and renumber"),
                vec![missing(k, k), truncated_before(n, n - 1)],
            )
        }
        // Forge an entry hashed after the row before and insert it, renumbering the rest.
        6 => {
            let k = rng.seq(n);
            let base = parts(conn, k);
            let forged_parts = Parts {
                action: rng.pick(&READS).as_bytes().to_vec(),
                outcome: b"granted".to_vec(),
                at: base.at + rng.below(10) as i64,
                ..base
            };
            let forged = forge(&hash_before(conn, k), k, forged_parts);
            renumber(conn, k, 1);
            insert(conn, k, &forged);
            // The signed head now holds another entry. (When the forgery is put at the head's
            // seq, the checkpoint's finding is made reading that row, before the row after it
            // shows the insertion.)
            let expected = if k == n {
                vec![rewritten(n), inserted(n)]
            } else {
                vec![inserted(k), rewritten(n)]
            };
            (format!("insert at seq {k} and renumber"), expected)
        }
        // Swap two neighbours' rows.
        _ => {
            let k = rng.seq(n - 1);
            let (rk, rk1) = (row(conn, k), row(conn, k + 1));
            put(conn, k, &rk1);
            put(conn, k + 1, &rk);
            // When the head is swapped, it no longer holds the signed hash: found reading that
            // row, before its partner is recognised.
            let mut expected = vec![moved(k, k + 1)];
            expected.extend(head_rewritten(k + 1));
            expected.push(moved(k + 1, k));
            (format!("swap seq {k} and {}", k + 1), expected)
        }
    };
    Tampering {
        kind,
        part,
        what,
        expected,
    }
}

/// How many random tamperings the test makes, each on a fresh copy of the vault.
const ITERATIONS: usize = 120;

#[test]
fn random_single_row_tampering_is_located() {
    let b = build_vault();
    let n = count(&raw(&b.path));
    assert_eq!(max_seq(&raw(&b.path)), n);

    // A plain copy verifies like the original.
    let copy = b.dir.path().join("copy.vault");
    copy_vault(&b.path, &copy);
    let v = verify(&copy);
    assert_eq!(
        (v.code, v.stdout.lines().next()),
        (0, Some(&*format!("intact: {n} entries")))
    );

    let mut rng = Rng(0x5EED_C0FF_EE15_600D);
    let mut kinds = [0u32; KINDS.len()];
    let mut edited = [0u32; PARTS.len()];
    let mut failed = Vec::new();
    for i in 0..ITERATIONS {
        let copy = b.dir.path().join(format!("tampered-{i}.vault"));
        copy_vault(&b.path, &copy);
        let conn = audit_sql::open(&copy);
        let state = rng.0;
        let t = tamper_randomly(&mut rng, &conn, n);
        let left = count(&conn);
        drop(conn);
        kinds[t.kind] += 1;
        if let Some(name) = t.part {
            edited[PARTS.iter().position(|p| *p == name).unwrap()] += 1;
        }
        let what = format!("iteration {i} (rng state {state:#x}): {}", t.what);
        // Every iteration runs, and every one that fails is reported.
        if let Err(e) = check_tampered(&copy, left, &t.expected, &what) {
            failed.push(e);
        }
        std::fs::remove_file(&copy).unwrap();
    }
    assert!(
        kinds.iter().all(|&k| k > 0),
        "not every kind of tampering ran: {:?}",
        KINDS.iter().zip(kinds).collect::<Vec<_>>()
    );
    assert!(
        edited.iter().all(|&k| k > 0),
        "not every part of an entry was edited: {:?}",
        PARTS.iter().zip(edited).collect::<Vec<_>>()
    );
    assert!(
        failed.is_empty(),
        "{} of {ITERATIONS} tamperings not reported as expected:\n\n{}",
        failed.len(),
        failed.join("\n")
    );
}
