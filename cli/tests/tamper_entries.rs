//! Tamper evidence of the audit log's entries, end to end through the real `audit-verify`
//! binary: an untouched vault is intact, each kind of edit to an entry (rewritten, deleted,
//! inserted, reordered, made invalid) is found where it was made, and verifying never writes.
//!
//! Each test builds a practice with some activity, closes it, and then edits the vault file
//! with SQLite directly, as an attacker with write access to the file would (the edits are in
//! `common/tamper.rs`). `audit-verify` must exit 1 and name exactly the sequence number and the
//! kind of the first break.

mod common;
#[path = "common/tamper.rs"]
mod tamper;

use std::path::Path;
use std::time::Duration;

use common::audit_sql::{self, Parts, decode, encode, entry_hash};
use common::raw;
use rusqlite::params;
use tamper::*;

// ---------------------------------------------------------------------------------------------
// 1. Untouched
// ---------------------------------------------------------------------------------------------

#[test]
fn untouched_vault_is_intact() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let n = count(&conn);
    // The helper's reading of the layout and its hashing agree with the vault's, byte for byte,
    // from the genesis on: the forgeries below are made with them.
    let mut prev = genesis(&conn);
    let all = rows(&conn);
    for (i, (seq, r)) in all.iter().enumerate() {
        let seq = *seq;
        assert_eq!(seq, i as i64 + 1, "seq without gaps");
        assert_eq!(
            fingerprint(&conn, seq, "entry").0,
            "blob",
            "entry of seq {seq}"
        );
        assert_eq!(
            fingerprint(&conn, seq, "hash").0,
            "blob",
            "hash of seq {seq}"
        );
        let p = decode(&r.entry).unwrap_or_else(|| panic!("seq {seq} does not decode"));
        assert!(is_entry(&r.entry), "seq {seq}: presence flags");
        assert_eq!(encode(&p), r.entry, "seq {seq} re-encodes to its bytes");
        assert_eq!(p.link, prev[..LINK_LEN], "link of seq {seq}");
        assert_eq!(
            r.hash,
            entry_hash(&prev, seq, &r.entry),
            "hash of seq {seq}"
        );
        prev = r.hash.clone();
    }
    // The SQL functions agree too: every row links to and hashes after the row before.
    let chained: i64 = conn
        .query_row(
            "SELECT count(*) FROM audit_log a JOIN audit_log b ON b.seq = a.seq + 1
             WHERE audit_part(b.entry, 'link') = substr(a.hash, 1, 8)
               AND b.hash = audit_hash(a.hash, b.seq, b.entry)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(chained, n - 1);
    let first: bool = conn
        .query_row(
            "SELECT hash = audit_hash(?1, 1, entry) FROM audit_log WHERE seq = 1",
            [genesis(&conn)],
            |r| r.get(0),
        )
        .unwrap();
    assert!(first, "the first entry hashes after the genesis");
    drop(conn);

    let v = verify(&b.path);
    assert_eq!(v.code, 0, "{v:#?}");
    assert_eq!(
        v.stdout.lines().next(),
        Some(&*format!("intact: {n} entries"))
    );
    // The close of the vault signed a checkpoint of the head: nothing unsealed remains.
    assert_eq!(
        v.stdout.lines().nth(1),
        Some(&*format!(
            "signed checkpoints: 1 verified, newest at seq {n}"
        ))
    );
    assert_eq!(v.stdout.lines().count(), 2, "{}", v.stdout);
    assert_eq!(v.stderr, "");
}

// ---------------------------------------------------------------------------------------------
// 2-7. One kind of tampering each
// ---------------------------------------------------------------------------------------------

#[test]
fn refusal_rewritten_as_granted_is_a_changed_entry() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = first_seq_where(
        &conn,
        "audit_part(entry, 'outcome') = 'denied:no-relationship'",
    );
    assert!(1 < k && k < last, "the refusal is in the middle of the log");
    let (before, hash) = (parts(&conn, k), row(&conn, k).hash);
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'outcome', 'granted') WHERE seq = ?1",
        [k],
    )
    .unwrap();
    // Only the outcome changed; the hash is left as it was.
    let after = parts(&conn, k);
    assert_eq!(
        after,
        Parts {
            outcome: b"granted".to_vec(),
            ..before
        }
    );
    assert_eq!(row(&conn, k).hash, hash);
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "outcome edited");
}

#[test]
fn actor_swapped_is_a_changed_entry() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    // Blame a read on somebody else.
    let k = last / 2;
    let other: Vec<u8> = conn
        .query_row("SELECT user_id FROM users WHERE name = 'dr.b'", [], |r| {
            r.get(0)
        })
        .unwrap();
    let before = parts(&conn, k);
    assert_ne!(before.actor.as_ref(), Some(&other));
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'actor', ?1) WHERE seq = ?2",
        params![other, k],
    )
    .unwrap();
    assert_eq!(
        parts(&conn, k),
        Parts {
            actor: Some(other),
            ..before
        }
    );
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "actor edited");
}

#[test]
fn rewritten_entry_with_recomputed_hash_breaks_the_next_link() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = first_seq_where(&conn, "audit_part(entry, 'outcome') LIKE 'denied:%'");
    assert!(1 < k && k < last);
    // Rewritten and hashed again after the row before, as the layout says: the entry is
    // consistent with its place.
    let forged = forge(
        &hash_before(&conn, k),
        k,
        Parts {
            outcome: b"granted".to_vec(),
            ..parts(&conn, k)
        },
    );
    assert_eq!(decode(&forged.entry).unwrap().link, parts(&conn, k).link);
    put(&conn, k, &forged);
    drop(conn);
    // The entry itself is consistent; the break shows at the next one, whose link names the
    // hash the rewritten entry no longer has.
    assert_tampered(&b.path, n, &[unlinked(k + 1)], "edited and rehashed");
}

#[test]
fn deleted_entry_is_missing() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let last = max_seq(&conn);
    let k = last / 2;
    delete(&conn, k);
    let n = count(&conn);
    drop(conn);
    assert_tampered(&b.path, n, &[missing(k, k)], "deleted");
}

#[test]
fn deleted_and_renumbered_entry_is_missing() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let last = max_seq(&conn);
    let k = last / 2;
    delete(&conn, k);
    renumber(&conn, k + 1, -1);
    assert_eq!(max_seq(&conn), last - 1);
    assert_eq!(count(&conn), last - 1);
    drop(conn);
    assert_tampered(
        &b.path,
        last - 1,
        &[missing(k, k), truncated_before(last, last - 1)],
        "deleted and renumbered",
    );
}

#[test]
fn forged_entry_inserted_with_renumbering_is_found() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let last = max_seq(&conn);
    let k = last / 2;
    // A plausible entry: the previous one's actor reading a record a moment later, linked to
    // the real entry k - 1 and hashed correctly after it.
    let before = parts(&conn, k - 1);
    let forged = forge(
        &row(&conn, k - 1).hash,
        k,
        Parts {
            at: before.at + 1,
            action: b"record.read".to_vec(),
            fields: b"code".to_vec(),
            purpose: b"TREAT".to_vec(),
            outcome: b"granted".to_vec(),
            ..before
        },
    );
    renumber(&conn, k, 1);
    insert(&conn, k, &forged);
    assert_eq!(count(&conn), last + 1);
    drop(conn);
    assert_tampered(
        &b.path,
        last + 1,
        &[inserted(k), rewritten(last)],
        "forged and inserted",
    );
}

#[test]
fn swapped_neighbours_are_out_of_order() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = last / 2;
    let (rk, rk1) = (row(&conn, k), row(&conn, k + 1));
    put(&conn, k, &rk1);
    put(&conn, k + 1, &rk);
    drop(conn);
    assert_tampered(&b.path, n, &[moved(k, k + 1), moved(k + 1, k)], "swapped");
}

#[test]
fn invalid_utf8_text_is_a_changed_entry() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = last / 2;
    let before = parts(&conn, k);
    // Same text with one invalid UTF-8 byte appended, inside the entry blob.
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'outcome',
             CAST(audit_part(entry, 'outcome') AS BLOB) || X'FF') WHERE seq = ?1",
        [k],
    )
    .unwrap();
    let kind: String = conn
        .query_row(
            "SELECT typeof(audit_part(entry, 'outcome')) FROM audit_log WHERE seq = ?1",
            [k],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(kind, "blob", "the outcome is no longer UTF-8");
    let mut outcome = before.outcome.clone();
    outcome.push(0xFF);
    assert_eq!(parts(&conn, k), Parts { outcome, ..before });
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "invalid UTF-8");
}
// ---------------------------------------------------------------------------------------------
// 8. Verification never writes
// ---------------------------------------------------------------------------------------------

fn snapshot(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// Set the file's mtime to 2001, so that a later write shows without waiting for the clock.
fn backdate(path: &Path) {
    let long_ago = std::time::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(long_ago)
        .unwrap();
}

/// The vault file is byte for byte what it was, with the same mtime, and no write-ahead log
/// frame waits to be replayed into it. (SQLite's read-only connection may leave an empty
/// `-wal` and a `-shm` index beside it; neither changes the vault's content.)
fn assert_unchanged(path: &Path, before: &(Vec<u8>, std::time::SystemTime), what: &str) {
    let after = snapshot(path);
    assert!(before.0 == after.0, "{what}: the vault's bytes changed");
    assert_eq!(before.1, after.1, "{what}: the vault's mtime changed");
    if let Ok(wal) = std::fs::metadata(sidecar(path, "-wal")) {
        assert_eq!(wal.len(), 0, "{what}: the verifier left WAL frames behind");
    }
}

#[test]
fn verify_does_not_write() {
    let b = build_vault();
    // Dated long ago: any write by the verifier would give the file today's mtime.
    backdate(&b.path);
    let before = snapshot(&b.path);
    assert_eq!(verify(&b.path).code, 0);
    assert_eq!(verify(&b.path).code, 0);
    assert_unchanged(&b.path, &before, "intact vault");

    // Nor when it has something to report.
    let conn = raw(&b.path);
    let k = max_seq(&conn) / 2;
    delete(&conn, k);
    drop(conn);
    backdate(&b.path);
    let before = snapshot(&b.path);
    assert_eq!(verify(&b.path).code, 1);
    assert_unchanged(&b.path, &before, "tampered vault");
}
