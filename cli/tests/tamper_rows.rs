//! Tamper evidence of the stored rows themselves, end to end through the real `audit-verify`
//! binary: the parts of a format-6 row beyond its entry (the link, the stored hash, the signed
//! head, the last row) and rows of the wrong shape; and files that are not vaults at all, which
//! cannot be verified.
//!
//! Each test builds a practice with some activity, closes it, and then edits the vault file
//! with SQLite directly, as an attacker with write access to the file would (the edits are in
//! `common/tamper.rs`). `audit-verify` must exit 1 and name exactly the sequence number and the
//! kind of the first break.

mod common;
#[path = "common/tamper.rs"]
mod tamper;

use common::audit_sql::{self, Parts, encode, entry_hash};
use rusqlite::{Connection, params};
use tamper::*;

// New with format 6: the parts of a row the old layout did not have. The old layout's
// `prev_hash` column is gone; an entry's `link` and the row before's stored `hash` play its part,
// and editing either without rehashing is an entry changed, like editing `prev_hash` was.

#[test]
fn edited_link_is_a_changed_entry() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = last / 2;
    // The link is hashed with the rest of the entry: changing one bit of it, and nothing else,
    // is an edit of the entry like any other.
    let before = parts(&conn, k);
    let stored = row(&conn, k).hash;
    let mut link = before.link.clone();
    link[3] ^= 0x10;
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'link', ?1) WHERE seq = ?2",
        params![link, k],
    )
    .unwrap();
    let after = parts(&conn, k);
    assert_eq!(after, Parts { link, ..before });
    // Nothing else was rewritten: the row before is intact, the entry with its link put back to
    // name that row hashes to its stored hash, and the row after still links to it. So the
    // verifier can tell this entry was changed, not that a neighbour was rewritten.
    let prev = hash_before(&conn, k);
    let restored = encode(&Parts {
        link: prev[..LINK_LEN].to_vec(),
        ..after
    });
    assert_eq!(entry_hash(&prev, k, &restored), stored);
    assert_eq!(parts(&conn, k + 1).link, stored[..LINK_LEN]);
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "link edited");
}

#[test]
fn edited_hash_is_a_changed_entry() {
    // One bit of the stored hash flipped: in the part the next entry's link names, and past it.
    for byte in [2, 20] {
        let b = build_vault();
        let conn = audit_sql::open(&b.path);
        let (n, last) = (count(&conn), max_seq(&conn));
        let k = last / 2;
        let mut r = row(&conn, k);
        let true_hash = r.hash.clone();
        r.hash[byte] ^= 0x01;
        put(&conn, k, &r);
        // Only that row's hash is wrong: its entry hashes (after the intact row before) to the
        // hash the next entry links to and is hashed after.
        assert_eq!(entry_hash(&hash_before(&conn, k), k, &r.entry), true_hash);
        let next = row(&conn, k + 1);
        assert_eq!(next.hash, entry_hash(&true_hash, k + 1, &next.entry));
        drop(conn);
        // The entry no longer matches its hash; the next one, intact, is not to blame.
        assert_tampered(
            &b.path,
            n,
            &[changed(k)],
            &format!("hash byte {byte} edited"),
        );
    }
}

#[test]
fn edited_hash_of_the_signed_head_is_changed_and_unsigned() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let n = count(&conn);
    let mut r = row(&conn, n);
    r.hash[20] ^= 0x01;
    put(&conn, n, &r);
    drop(conn);
    // The head's entry no longer matches its hash, and that hash is not the one signed.
    assert_tampered(
        &b.path,
        n,
        &[rewritten(n), changed(n)],
        "head's hash edited",
    );
}

#[test]
fn deleted_last_entry_is_a_truncation() {
    // Nothing follows it, but the close of the vault signed a checkpoint of it.
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let last = max_seq(&conn);
    delete(&conn, last);
    drop(conn);
    assert_tampered(
        &b.path,
        last - 1,
        &[truncated_before(last, last - 1)],
        "last entry deleted",
    );
}

#[test]
fn rows_of_the_wrong_shape_are_malformed() {
    let b = build_vault();
    let conn = audit_sql::open(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = last / 2;
    // An entry one byte short, and a hash one byte short: neither parses.
    let mut r = row(&conn, k);
    r.entry.pop();
    assert!(!is_entry(&r.entry));
    put(&conn, k, &r);
    let mut r = row(&conn, k + 3);
    r.hash.pop();
    put(&conn, k + 3, &r);
    drop(conn);
    assert_tampered(
        &b.path,
        n,
        &[malformed(k), malformed(k + 3)],
        "entry and hash cut short",
    );
}

// ---------------------------------------------------------------------------------------------
// Could not run
// ---------------------------------------------------------------------------------------------

#[test]
fn files_that_are_not_vaults_cannot_be_verified() {
    let dir = tempfile::tempdir().unwrap();

    let missing = dir.path().join("missing.vault");
    assert_could_not_run(&[missing.as_os_str()], "missing file");

    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "just some text, not a database at all.\n".repeat(40)).unwrap();
    assert_could_not_run(&[text.as_os_str()], "text file");

    let empty = dir.path().join("empty.vault");
    std::fs::write(&empty, b"").unwrap();
    assert_could_not_run(&[empty.as_os_str()], "empty file");

    let other = dir.path().join("other.db");
    Connection::open(&other)
        .unwrap()
        .execute_batch("CREATE TABLE audit_log (x); INSERT INTO audit_log VALUES (1);")
        .unwrap();
    assert_could_not_run(&[other.as_os_str()], "SQLite database, not a vault");

    // The vault's application id but no schema.
    let bare = dir.path().join("bare.vault");
    Connection::open(&bare)
        .unwrap()
        .execute_batch("PRAGMA application_id = 1129203268; CREATE TABLE t (x);")
        .unwrap();
    assert_could_not_run(&[bare.as_os_str()], "vault id, no schema");

    assert_could_not_run(&[dir.path().as_os_str()], "a directory");
    assert_could_not_run(&[], "no argument");
}
