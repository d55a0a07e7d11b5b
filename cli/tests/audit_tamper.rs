//! Tamper evidence of the audit log, end to end through the real `audit-verify` binary.
//!
//! Each test builds a practice with some activity, closes it, and then edits the vault file
//! with SQLite directly, as an attacker with write access to the file would. `audit-verify`
//! must exit 1 and name exactly the sequence number and the kind of the first break.
//!
//! Since vault format 6 a row of `audit_log` is `(seq, entry, hash)`: the entry's parts are one
//! blob, and no row stores its predecessor's hash (the row before holds it). The edits are made
//! with `common::audit_sql`, which implements that documented layout apart from the library: its
//! SQL functions (`audit_part`, `audit_with`, `audit_hash`) are what a tamperer with a SQLite
//! shell and the format description would write, and its `entry_hash` makes the forgeries.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::audit_sql::{self, Parts, decode, encode, entry_hash};
use common::{CLIN_PASS, Practice, audit_verify, new_client, raw};
use confide::{Date, Error, Passphrase, Purpose, RecordKind, Value};
use ring::digest::{SHA256, digest};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params};

/// Bytes of the predecessor's hash an entry carries (its `link`).
const LINK_LEN: usize = 8;

// ---------------------------------------------------------------------------------------------
// Building a vault with some history
// ---------------------------------------------------------------------------------------------

/// A closed vault file with a history of 20+ audit entries.
struct Built {
    dir: tempfile::TempDir,
    path: PathBuf,
}

fn build_vault() -> Built {
    let p = Practice::new();
    {
        let a = p.login("dr.a");
        let b = p.login("dr.b");
        let sam = new_client(&a, "Sam Doe");
        let alex = new_client(&a, "Alex Roe");
        let t = Purpose::Treatment;
        let dx = a
            .create_record(
                &sam,
                RecordKind::Diagnosis,
                &[("code", Value::code("F41.1"))],
                t,
            )
            .unwrap();
        let progress = a
            .create_record(
                &sam,
                RecordKind::ProgressNote,
                &[
                    ("summary", Value::text("Slept better this week.")),
                    ("plan", Value::text("Continue CBT.")),
                ],
                t,
            )
            .unwrap();
        a.read_record(&dx, t).unwrap();
        // dr.b is not on Sam's care team: refused, and the refusal is audited.
        assert!(matches!(b.read_record(&dx, t), Err(Error::Denied { .. })));
        a.update_record(&progress, &[("plan", Value::text("Fortnightly."))], t)
            .unwrap();
        a.read_record(&progress, t).unwrap();
        a.list_records(&alex, t).unwrap();
        let note = a
            .write_psychotherapy_note(&alex, &[("body", Value::text("Process note."))], t)
            .unwrap();
        a.read_psychotherapy_note(&note, t).unwrap();
        // Failed logins: an unknown name (an entry with no actor) and a wrong passphrase.
        assert!(matches!(
            p.vault.unlock("nobody", &Passphrase::new(CLIN_PASS)),
            Err(Error::UnknownUser)
        ));
        assert!(matches!(
            p.vault
                .unlock("dr.b", &Passphrase::new("not the passphrase")),
            Err(Error::BadPassphrase)
        ));
        let auditor = p.login("auditor");
        auditor.audit_tail(5).unwrap();
        let dob = Date::new(1988, 3, 14).unwrap();
        assert_eq!(a.find_client("Sam Doe", &dob, t).unwrap(), vec![sam]);
        a.read_record(&dx, t).unwrap();
        // Every session is dropped here.
    }
    let Practice { dir, path, vault } = p;
    // The last connection closes: the WAL is checkpointed into the main file.
    drop(vault);
    let n = count(&raw(&path));
    assert!(n >= 20, "only {n} audit entries");
    Built { dir, path }
}

/// Copy a closed vault file (and its WAL, should one have been left behind).
fn copy_vault(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let wal = sidecar(from, "-wal");
    if wal.exists() {
        std::fs::copy(&wal, sidecar(to, "-wal")).unwrap();
    }
}

fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

// ---------------------------------------------------------------------------------------------
// Raw rows, as the attacker sees them
// ---------------------------------------------------------------------------------------------

/// One stored row of `audit_log` of an untouched vault: its entry blob and its hash.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    entry: Vec<u8>,
    hash: Vec<u8>,
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Row)> {
    Ok((
        r.get(0)?,
        Row {
            entry: r.get(1)?,
            hash: r.get(2)?,
        },
    ))
}

fn rows(conn: &Connection) -> Vec<(i64, Row)> {
    let mut stmt = conn
        .prepare("SELECT seq, entry, hash FROM audit_log ORDER BY seq")
        .unwrap();
    stmt.query_map([], read_row)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn row(conn: &Connection, seq: i64) -> Row {
    conn.query_row(
        "SELECT seq, entry, hash FROM audit_log WHERE seq = ?1",
        [seq],
        read_row,
    )
    .unwrap()
    .1
}

/// The decoded entry at `seq`.
fn parts(conn: &Connection, seq: i64) -> Parts {
    let entry = row(conn, seq).entry;
    decode(&entry).unwrap_or_else(|| panic!("seq {seq}: not an entry of layout 4"))
}

/// The first seq (in order) whose row matches the SQL `condition`.
fn first_seq_where(conn: &Connection, condition: &str) -> i64 {
    conn.query_row(
        &format!("SELECT seq FROM audit_log WHERE {condition} ORDER BY seq LIMIT 1"),
        [],
        |r| r.get(0),
    )
    .unwrap_or_else(|e| panic!("no row where {condition}: {e}"))
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

fn max_seq(conn: &Connection) -> i64 {
    conn.query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

/// `SHA-256(vault id)`: the hash the first entry is written after.
fn genesis(conn: &Connection) -> Vec<u8> {
    let vault_id: Vec<u8> = conn
        .query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap();
    digest(&SHA256, &vault_id).as_ref().to_vec()
}

/// The stored hash the entry at `seq` was written after: the row before's, or the genesis.
fn hash_before(conn: &Connection, seq: i64) -> Vec<u8> {
    if seq == 1 {
        genesis(conn)
    } else {
        row(conn, seq - 1).hash
    }
}

/// Overwrite the entry and hash of the row at `seq`.
fn put(conn: &Connection, seq: i64, r: &Row) {
    assert_eq!(
        conn.execute(
            "UPDATE audit_log SET entry = ?1, hash = ?2 WHERE seq = ?3",
            params![r.entry, r.hash, seq],
        )
        .unwrap(),
        1
    );
}

fn insert(conn: &Connection, seq: i64, r: &Row) {
    conn.execute(
        "INSERT INTO audit_log (seq, entry, hash) VALUES (?1, ?2, ?3)",
        params![seq, r.entry, r.hash],
    )
    .unwrap();
}

fn delete(conn: &Connection, seq: i64) {
    assert_eq!(
        conn.execute("DELETE FROM audit_log WHERE seq = ?1", [seq])
            .unwrap(),
        1
    );
}

/// Add `delta` to the sequence number of every row from `from` on, one row at a time in the
/// order that never collides with another row's primary key.
fn renumber(conn: &Connection, from: i64, delta: i64) {
    let order = if delta > 0 { "DESC" } else { "ASC" };
    let seqs: Vec<i64> = conn
        .prepare(&format!(
            "SELECT seq FROM audit_log WHERE seq >= ?1 ORDER BY seq {order}"
        ))
        .unwrap()
        .query_map([from], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for s in seqs {
        conn.execute(
            "UPDATE audit_log SET seq = ?1 WHERE seq = ?2",
            params![s + delta, s],
        )
        .unwrap();
    }
}

/// The storage class and bytes of one stored cell (`entry` or `hash`), to tell whether an edit
/// really changed it.
fn fingerprint(conn: &Connection, seq: i64, column: &str) -> (String, String) {
    conn.query_row(
        &format!("SELECT typeof({column}), hex({column}) FROM audit_log WHERE seq = ?1"),
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// The entry written after `prev` at `seq`, and its hash: what a forger stores.
fn forge(prev: &[u8], seq: i64, mut p: Parts) -> Row {
    p.link = prev[..LINK_LEN].to_vec();
    let entry = encode(&p);
    let hash = entry_hash(prev, seq, &entry);
    Row { entry, hash }
}

/// Bytes that parse as an entry of the documented layout: the helper's decoding (which
/// refuses presence flags beyond the four the layout defines) and, for version 4, the one
/// encoding of what they decode to.
fn is_entry(b: &[u8]) -> bool {
    decode(b).is_some_and(|p| p.version == 3 || encode(&p) == b)
}

// ---------------------------------------------------------------------------------------------
// Running audit-verify and reading what it says
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Verdict {
    code: i32,
    stdout: String,
    stderr: String,
}

fn verify(path: &Path) -> Verdict {
    let (code, stdout, stderr) = audit_verify(&[path.as_os_str()]);
    Verdict {
        code,
        stdout,
        stderr,
    }
}

type Finding = (u64, String);

fn changed(seq: i64) -> Finding {
    (
        seq as u64,
        "entry changed (its hash no longer matches)".into(),
    )
}

fn malformed(seq: i64) -> Finding {
    (seq as u64, "malformed row".into())
}

fn unlinked(seq: i64) -> Finding {
    (
        seq as u64,
        "does not link to the previous entry (an entry was rewritten)".into(),
    )
}

fn missing(seq: i64, last: i64) -> Finding {
    (seq as u64, format!("entries missing through seq {last}"))
}

/// The vault signs a checkpoint of its head when it closes; renumbering the log moves or
/// removes the entry that checkpoint signed.
fn truncated_before(checkpoint: i64, last: i64) -> Finding {
    (
        checkpoint as u64,
        format!("log truncated or rolled back: it ends at seq {last}, before this signed head"),
    )
}

fn rewritten(checkpoint: i64) -> Finding {
    (
        checkpoint as u64,
        "chain rewritten after a signed checkpoint (the signed hash differs)".into(),
    )
}

fn inserted(seq: i64) -> Finding {
    (
        seq as u64,
        "entry inserted (later entries renumbered)".into(),
    )
}

fn moved(seq: i64, holds: i64) -> Finding {
    (
        seq as u64,
        format!("out of order: holds the entry written as seq {holds}"),
    )
}

/// `seq N: what` → (N, what).
fn parse_finding(s: &str) -> Finding {
    let rest = s
        .strip_prefix("seq ")
        .unwrap_or_else(|| panic!("not a finding: {s:?}"));
    let (n, what) = rest
        .split_once(": ")
        .unwrap_or_else(|| panic!("not a finding: {s:?}"));
    (n.parse().unwrap(), what.to_owned())
}

/// Every finding about the log itself. Removing or moving a write entry also leaves a record
/// its latest entry no longer vouches for; those data-against-log findings are listed after the
/// log's own and are tested in tests/data_vs_log.rs, so this file compares the log's.
fn findings(stdout: &str) -> Vec<Finding> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  seq "))
        .map(|l| parse_finding(&format!("seq {l}")))
        .filter(|(_, what)| !what.starts_with("record "))
        .collect()
}

/// `audit-verify` exits 1, reports `expected[0]` as the first break and lists exactly
/// `expected`, having read `entries` entries.
fn assert_tampered(path: &Path, entries: i64, expected: &[Finding], what: &str) {
    if let Err(e) = check_tampered(path, entries, expected, what) {
        panic!("{e}");
    }
}

/// What [`assert_tampered`] asserts, as an error naming the first difference.
fn check_tampered(
    path: &Path,
    entries: i64,
    expected: &[Finding],
    what: &str,
) -> Result<(), String> {
    let v = verify(path);
    if v.code != 1 {
        return Err(format!("{what}: exit code {}, expected 1\n{v:#?}", v.code));
    }
    let first = v
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("tampered: first break at "))
        .map(parse_finding);
    if first.as_ref() != Some(&expected[0]) {
        return Err(format!(
            "{what}: first break\n  got      {first:?}\n  expected {:?}\n{}",
            expected[0], v.stdout
        ));
    }
    let got = findings(&v.stdout);
    if got != expected {
        return Err(format!(
            "{what}: findings\n  got      {got:?}\n  expected {expected:?}\n{}",
            v.stdout
        ));
    }
    let listed = v.stdout.lines().filter(|l| l.starts_with("  seq ")).count();
    let summary = format!("{entries} entries read, {listed} finding(s):");
    if !v.stdout.lines().any(|l| l == summary) {
        return Err(format!("{what}: expected {summary:?} in\n{}", v.stdout));
    }
    if !v.stderr.is_empty() {
        return Err(format!("{what}: stderr {:?}", v.stderr));
    }
    Ok(())
}

/// `audit-verify` exits 2 with an error message and no panic.
fn assert_could_not_run(args: &[&OsStr], what: &str) {
    let (code, stdout, stderr) = audit_verify(args);
    assert_eq!(
        code, 2,
        "{what}: exit code; stdout {stdout:?}, stderr {stderr:?}"
    );
    assert!(!stderr.trim().is_empty(), "{what}: no error message");
    assert!(!stderr.contains("panicked"), "{what}: panicked: {stderr}");
    assert!(!stdout.contains("intact"), "{what}: {stdout}");
    assert!(!stdout.contains("tampered"), "{what}: {stdout}");
}

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
// 8. Random single-row tampering
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

// ---------------------------------------------------------------------------------------------
// 9. Could not run
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

// ---------------------------------------------------------------------------------------------
// 10. Verification never writes
// ---------------------------------------------------------------------------------------------

fn snapshot(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
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
    // Any write by the verifier must give the file a visibly later mtime than the last writer's.
    std::thread::sleep(Duration::from_millis(50));
    let before = snapshot(&b.path);
    assert_eq!(verify(&b.path).code, 0);
    assert_eq!(verify(&b.path).code, 0);
    assert_unchanged(&b.path, &before, "intact vault");

    // Nor when it has something to report.
    let conn = raw(&b.path);
    let k = max_seq(&conn) / 2;
    delete(&conn, k);
    drop(conn);
    std::thread::sleep(Duration::from_millis(50));
    let before = snapshot(&b.path);
    assert_eq!(verify(&b.path).code, 1);
    assert_unchanged(&b.path, &before, "tampered vault");
}
