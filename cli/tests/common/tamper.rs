//! Tampering with a closed vault's audit log, as an attacker with write access to the file
//! would, and reading what `audit-verify` says about it: shared by the `tamper_*` tests.
//!
//! Since vault format 6 a row of `audit_log` is `(seq, entry, hash)`: the entry's parts are one
//! blob, and no row stores its predecessor's hash (the row before holds it). The edits are made
//! with `common::audit_sql`, which implements that documented layout apart from the library: its
//! SQL functions (`audit_part`, `audit_with`, `audit_hash`) are what a tamperer with a SQLite
//! shell and the format description would write, and its `entry_hash` makes the forgeries.

#![allow(
    dead_code,
    reason = "each tamper_* file uses a different part of the helpers"
)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use crate::common::audit_sql::{Parts, decode, encode, entry_hash};
use crate::common::{CLIN_PASS, Practice, audit_verify, new_client, raw};
use confide::{Date, Error, Passphrase, Purpose, RecordKind, Value};
use ring::digest::{SHA256, digest};
use rusqlite::{Connection, params};

/// Bytes of the predecessor's hash an entry carries (its `link`).
pub const LINK_LEN: usize = 8;

// ---------------------------------------------------------------------------------------------
// Building a vault with some history
// ---------------------------------------------------------------------------------------------

/// A closed vault file with a history of 20+ audit entries.
pub struct Built {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

pub fn build_vault() -> Built {
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
pub fn copy_vault(from: &Path, to: &Path) {
    std::fs::copy(from, to).unwrap();
    let wal = sidecar(from, "-wal");
    if wal.exists() {
        std::fs::copy(&wal, sidecar(to, "-wal")).unwrap();
    }
}

pub fn sidecar(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

// ---------------------------------------------------------------------------------------------
// Raw rows, as the attacker sees them
// ---------------------------------------------------------------------------------------------

/// One stored row of `audit_log` of an untouched vault: its entry blob and its hash.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    pub entry: Vec<u8>,
    pub hash: Vec<u8>,
}

pub fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, Row)> {
    Ok((
        r.get(0)?,
        Row {
            entry: r.get(1)?,
            hash: r.get(2)?,
        },
    ))
}

pub fn rows(conn: &Connection) -> Vec<(i64, Row)> {
    let mut stmt = conn
        .prepare("SELECT seq, entry, hash FROM audit_log ORDER BY seq")
        .unwrap();
    stmt.query_map([], read_row)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

pub fn row(conn: &Connection, seq: i64) -> Row {
    conn.query_row(
        "SELECT seq, entry, hash FROM audit_log WHERE seq = ?1",
        [seq],
        read_row,
    )
    .unwrap()
    .1
}

/// The decoded entry at `seq`.
pub fn parts(conn: &Connection, seq: i64) -> Parts {
    let entry = row(conn, seq).entry;
    decode(&entry).unwrap_or_else(|| panic!("seq {seq}: not an entry of layout 4"))
}

/// The first seq (in order) whose row matches the SQL `condition`.
pub fn first_seq_where(conn: &Connection, condition: &str) -> i64 {
    conn.query_row(
        &format!("SELECT seq FROM audit_log WHERE {condition} ORDER BY seq LIMIT 1"),
        [],
        |r| r.get(0),
    )
    .unwrap_or_else(|e| panic!("no row where {condition}: {e}"))
}

pub fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

pub fn max_seq(conn: &Connection) -> i64 {
    conn.query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

/// `SHA-256(vault id)`: the hash the first entry is written after.
pub fn genesis(conn: &Connection) -> Vec<u8> {
    let vault_id: Vec<u8> = conn
        .query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap();
    digest(&SHA256, &vault_id).as_ref().to_vec()
}

/// The stored hash the entry at `seq` was written after: the row before's, or the genesis.
pub fn hash_before(conn: &Connection, seq: i64) -> Vec<u8> {
    if seq == 1 {
        genesis(conn)
    } else {
        row(conn, seq - 1).hash
    }
}

/// Overwrite the entry and hash of the row at `seq`.
pub fn put(conn: &Connection, seq: i64, r: &Row) {
    assert_eq!(
        conn.execute(
            "UPDATE audit_log SET entry = ?1, hash = ?2 WHERE seq = ?3",
            params![r.entry, r.hash, seq],
        )
        .unwrap(),
        1
    );
}

pub fn insert(conn: &Connection, seq: i64, r: &Row) {
    conn.execute(
        "INSERT INTO audit_log (seq, entry, hash) VALUES (?1, ?2, ?3)",
        params![seq, r.entry, r.hash],
    )
    .unwrap();
}

pub fn delete(conn: &Connection, seq: i64) {
    assert_eq!(
        conn.execute("DELETE FROM audit_log WHERE seq = ?1", [seq])
            .unwrap(),
        1
    );
}

/// Add `delta` to the sequence number of every row from `from` on, one row at a time in the
/// order that never collides with another row's primary key.
pub fn renumber(conn: &Connection, from: i64, delta: i64) {
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
pub fn fingerprint(conn: &Connection, seq: i64, column: &str) -> (String, String) {
    conn.query_row(
        &format!("SELECT typeof({column}), hex({column}) FROM audit_log WHERE seq = ?1"),
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// The entry written after `prev` at `seq`, and its hash: what a forger stores.
pub fn forge(prev: &[u8], seq: i64, mut p: Parts) -> Row {
    p.link = prev[..LINK_LEN].to_vec();
    let entry = encode(&p);
    let hash = entry_hash(prev, seq, &entry);
    Row { entry, hash }
}

/// Bytes that parse as an entry of the documented layout: the helper's decoding (which
/// refuses presence flags beyond the four the layout defines) and, for version 4, the one
/// encoding of what they decode to.
pub fn is_entry(b: &[u8]) -> bool {
    decode(b).is_some_and(|p| p.version == 3 || encode(&p) == b)
}

// ---------------------------------------------------------------------------------------------
// Running audit-verify and reading what it says
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
pub struct Verdict {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn verify(path: &Path) -> Verdict {
    let (code, stdout, stderr) = audit_verify(&[path.as_os_str()]);
    Verdict {
        code,
        stdout,
        stderr,
    }
}

pub type Finding = (u64, String);

pub fn changed(seq: i64) -> Finding {
    (
        seq as u64,
        "entry changed (its hash no longer matches)".into(),
    )
}

pub fn malformed(seq: i64) -> Finding {
    (seq as u64, "malformed row".into())
}

pub fn unlinked(seq: i64) -> Finding {
    (
        seq as u64,
        "does not link to the previous entry (an entry was rewritten)".into(),
    )
}

pub fn missing(seq: i64, last: i64) -> Finding {
    (seq as u64, format!("entries missing through seq {last}"))
}

/// The vault signs a checkpoint of its head when it closes; renumbering the log moves or
/// removes the entry that checkpoint signed.
pub fn truncated_before(checkpoint: i64, last: i64) -> Finding {
    (
        checkpoint as u64,
        format!("log truncated or rolled back: it ends at seq {last}, before this signed head"),
    )
}

pub fn rewritten(checkpoint: i64) -> Finding {
    (
        checkpoint as u64,
        "chain rewritten after a signed checkpoint (the signed hash differs)".into(),
    )
}

pub fn inserted(seq: i64) -> Finding {
    (
        seq as u64,
        "entry inserted (later entries renumbered)".into(),
    )
}

pub fn moved(seq: i64, holds: i64) -> Finding {
    (
        seq as u64,
        format!("out of order: holds the entry written as seq {holds}"),
    )
}

/// `seq N: what` → (N, what).
pub fn parse_finding(s: &str) -> Finding {
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
pub fn findings(stdout: &str) -> Vec<Finding> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  seq "))
        .map(|l| parse_finding(&format!("seq {l}")))
        .filter(|(_, what)| !what.starts_with("record "))
        .collect()
}

/// `audit-verify` exits 1, reports `expected[0]` as the first break and lists exactly
/// `expected`, having read `entries` entries.
pub fn assert_tampered(path: &Path, entries: i64, expected: &[Finding], what: &str) {
    if let Err(e) = check_tampered(path, entries, expected, what) {
        panic!("{e}");
    }
}

/// What [`assert_tampered`] asserts, as an error naming the first difference.
pub fn check_tampered(
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
pub fn assert_could_not_run(args: &[&OsStr], what: &str) {
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
