//! Tamper evidence of the audit log, end to end through the real `audit-verify` binary.
//!
//! Each test builds a practice with some activity, closes it, and then edits the vault file
//! with SQLite directly, as an attacker with write access to the file would. `audit-verify`
//! must exit 1 and name exactly the sequence number and the kind of the first break.
//!
//! Not tested here because it cannot be detected yet: deleting the *last* entries of the log
//! (there are no signed checkpoints of the head yet).

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{CLIN_PASS, Practice, audit_verify, new_client, raw};
use confide::{Date, Error, Passphrase, Purpose, RecordKind, Value};
use ring::digest::{Context, SHA256, digest};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params, params_from_iter};

/// The columns of `audit_log`. The first nine are hashed, and the digest too when it is set.
const COLUMNS: [&str; 12] = [
    "seq",
    "at",
    "actor",
    "action",
    "client_id",
    "target_id",
    "fields",
    "purpose",
    "outcome",
    "prev_hash",
    "hash",
    "digest",
];
const PREV_HASH: usize = 9;
const HASH: usize = 10;
const DIGEST: usize = 11;

/// One stored row of `audit_log`, every column as SQLite holds it.
type Row = Vec<Sql>;

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
        assert!(
            p.vault
                .unlock("nobody", &Passphrase::new(CLIN_PASS))
                .is_err()
        );
        assert!(
            p.vault
                .unlock("dr.b", &Passphrase::new("not the passphrase"))
                .is_err()
        );
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

fn select_all() -> String {
    format!("SELECT {} FROM audit_log", COLUMNS.join(", "))
}

fn read_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    (0..COLUMNS.len()).map(|i| r.get::<_, Sql>(i)).collect()
}

fn rows(conn: &Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare(&format!("{} ORDER BY seq", select_all()))
        .unwrap();
    stmt.query_map([], read_row)
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn row(conn: &Connection, seq: i64) -> Row {
    conn.query_row(&format!("{} WHERE seq = ?1", select_all()), [seq], read_row)
        .unwrap()
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

fn max_seq(conn: &Connection) -> i64 {
    conn.query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

/// Overwrite every column but `seq` of the row at `seq` with `cells[1..]`.
fn overwrite(conn: &Connection, seq: i64, cells: &[Sql]) {
    let sets: Vec<String> = COLUMNS[1..]
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 1))
        .collect();
    let sql = format!(
        "UPDATE audit_log SET {} WHERE seq = ?{}",
        sets.join(", "),
        COLUMNS.len()
    );
    let mut values: Vec<Sql> = cells[1..].to_vec();
    values.push(Sql::Integer(seq));
    assert_eq!(conn.execute(&sql, params_from_iter(values)).unwrap(), 1);
}

fn insert(conn: &Connection, cells: &[Sql]) {
    let marks: Vec<String> = (1..=COLUMNS.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO audit_log ({}) VALUES ({})",
        COLUMNS.join(", "),
        marks.join(", ")
    );
    conn.execute(&sql, params_from_iter(cells.iter())).unwrap();
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

/// The storage class and bytes of one stored cell, to tell whether an edit really changed it.
fn fingerprint(conn: &Connection, seq: i64, column: &str) -> (String, String) {
    conn.query_row(
        &format!("SELECT typeof({column}), hex({column}) FROM audit_log WHERE seq = ?1"),
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

fn blob(v: &Sql) -> &[u8] {
    match v {
        Sql::Blob(b) => b,
        other => panic!("expected a blob, found {other:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// The chain hash, recomputed independently from the documented layout
// ---------------------------------------------------------------------------------------------

fn push_bytes(out: &mut Vec<u8>, tag: u8, b: &[u8]) {
    out.push(tag);
    out.extend_from_slice(&u32::try_from(b.len()).unwrap().to_be_bytes());
    out.extend_from_slice(b);
}

/// `SHA-256("confide/audit/v1" ‖ prev_hash ‖ canonical(first nine cells))`.
fn chain_hash(prev: &[u8], cells: &[Sql]) -> Vec<u8> {
    // Version 1 hashes the first nine cells; an entry that vouches for a digest is version 2
    // and hashes the digest as a tenth cell.
    let mut hashed: Vec<&Sql> = cells[..9].iter().collect();
    let mut canon = vec![1u8];
    if cells[DIGEST] != Sql::Null {
        canon[0] = 2;
        hashed.push(&cells[DIGEST]);
    }
    for cell in hashed {
        match cell {
            Sql::Null => canon.push(0),
            Sql::Integer(i) => {
                canon.push(1);
                canon.extend_from_slice(&i.to_be_bytes());
            }
            Sql::Real(r) => {
                canon.push(2);
                canon.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            Sql::Text(s) => push_bytes(&mut canon, 3, s.as_bytes()),
            Sql::Blob(b) => push_bytes(&mut canon, 4, b),
        }
    }
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"confide/audit/v1");
    ctx.update(prev);
    ctx.update(&canon);
    ctx.finish().as_ref().to_vec()
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

/// The first break, from the `tampered: first break at ...` line.
fn first_break(stdout: &str) -> Finding {
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("tampered: first break at "))
        .unwrap_or_else(|| panic!("no first break in:\n{stdout}"));
    parse_finding(line)
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
    let v = verify(path);
    assert_eq!(v.code, 1, "{what}: exit code\n{v:#?}");
    assert_eq!(
        first_break(&v.stdout),
        expected[0],
        "{what}: first break\n{}",
        v.stdout
    );
    assert_eq!(
        findings(&v.stdout),
        expected,
        "{what}: findings\n{}",
        v.stdout
    );
    let listed = v.stdout.lines().filter(|l| l.starts_with("  seq ")).count();
    let summary = format!("{entries} entries read, {listed} finding(s):");
    assert!(
        v.stdout.lines().any(|l| l == summary),
        "{what}: expected {summary:?} in\n{}",
        v.stdout
    );
    assert_eq!(v.stderr, "", "{what}: stderr");
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
    let conn = raw(&b.path);
    let n = count(&conn);
    // The test's own hashing agrees with the vault's, from the genesis on: the forgeries
    // below are made with it.
    let vault_id: Vec<u8> = conn
        .query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap();
    let mut prev = digest(&SHA256, &vault_id).as_ref().to_vec();
    let all = rows(&conn);
    for (i, r) in all.iter().enumerate() {
        assert_eq!(r[0], Sql::Integer(i as i64 + 1), "seq without gaps");
        assert_eq!(blob(&r[PREV_HASH]), &prev[..], "prev_hash of seq {}", i + 1);
        assert_eq!(
            blob(&r[HASH]),
            &chain_hash(&prev, r)[..],
            "hash of seq {}",
            i + 1
        );
        prev = blob(&r[HASH]).to_vec();
    }
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
    let conn = raw(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k: i64 = conn
        .query_row(
            "SELECT seq FROM audit_log WHERE outcome = 'denied:no-relationship'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(1 < k && k < last, "the refusal is in the middle of the log");
    conn.execute(
        "UPDATE audit_log SET outcome = 'granted' WHERE seq = ?1",
        [k],
    )
    .unwrap();
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "outcome edited");
}

#[test]
fn actor_swapped_is_a_changed_entry() {
    let b = build_vault();
    let conn = raw(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    // Blame a read on somebody else.
    let k = last / 2;
    let other: Vec<u8> = conn
        .query_row("SELECT user_id FROM users WHERE name = 'dr.b'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_ne!(row(&conn, k)[2], Sql::Blob(other.clone()));
    conn.execute(
        "UPDATE audit_log SET actor = ?1 WHERE seq = ?2",
        params![other, k],
    )
    .unwrap();
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "actor edited");
}

#[test]
fn rewritten_entry_with_recomputed_hash_breaks_the_next_link() {
    let b = build_vault();
    let conn = raw(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k: i64 = conn
        .query_row(
            "SELECT seq FROM audit_log WHERE outcome LIKE 'denied:%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(1 < k && k < last);
    let mut r = row(&conn, k);
    r[8] = Sql::Text("granted".into());
    r[HASH] = Sql::Blob(chain_hash(blob(&r[PREV_HASH]), &r));
    overwrite(&conn, k, &r);
    drop(conn);
    // The entry itself is consistent; the break shows at the next one.
    assert_tampered(&b.path, n, &[unlinked(k + 1)], "edited and rehashed");
}

#[test]
fn deleted_entry_is_missing() {
    let b = build_vault();
    let conn = raw(&b.path);
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
    let conn = raw(&b.path);
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
    let conn = raw(&b.path);
    let last = max_seq(&conn);
    let k = last / 2;
    // A plausible entry: the previous one's actor reading a record a moment later, linked to
    // the real entry k - 1 and hashed correctly.
    let before = row(&conn, k - 1);
    let mut forged = before.clone();
    forged[0] = Sql::Integer(k);
    forged[1] = match before[1] {
        Sql::Integer(at) => Sql::Integer(at + 1),
        ref other => panic!("at is {other:?}"),
    };
    forged[3] = Sql::Text("record.read".into());
    forged[6] = Sql::Text("code".into());
    forged[7] = Sql::Text("TREAT".into());
    forged[8] = Sql::Text("granted".into());
    forged[PREV_HASH] = before[HASH].clone();
    forged[HASH] = Sql::Blob(chain_hash(blob(&before[HASH]), &forged));
    renumber(&conn, k, 1);
    insert(&conn, &forged);
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
    let conn = raw(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = last / 2;
    let (rk, rk1) = (row(&conn, k), row(&conn, k + 1));
    overwrite(&conn, k, &rk1);
    overwrite(&conn, k + 1, &rk);
    drop(conn);
    assert_tampered(&b.path, n, &[moved(k, k + 1), moved(k + 1, k)], "swapped");
}

#[test]
fn invalid_utf8_text_is_a_changed_entry() {
    let b = build_vault();
    let conn = raw(&b.path);
    let (n, last) = (count(&conn), max_seq(&conn));
    let k = last / 2;
    // Same text with one invalid UTF-8 byte appended, stored as TEXT.
    conn.execute(
        "UPDATE audit_log SET outcome = CAST(CAST(outcome AS BLOB) || X'FF' AS TEXT) WHERE seq = ?1",
        [k],
    )
    .unwrap();
    assert_eq!(fingerprint(&conn, k, "outcome").0, "text");
    drop(conn);
    assert_tampered(&b.path, n, &[changed(k)], "invalid UTF-8");
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
}

/// A different value for column `col` (1..=10) holding `old`. May change the storage class.
fn other_value(rng: &mut Rng, col: usize, old: &Sql) -> Sql {
    let nullable = matches!(col, 2 | 4 | 5);
    match old {
        Sql::Integer(i) => match rng.below(2) {
            0 => Sql::Integer(i + 1 + rng.below(1000) as i64),
            _ => Sql::Real(*i as f64 + 0.5),
        },
        Sql::Null => match rng.below(3) {
            0 => Sql::Blob(rng.bytes(16)),
            1 => Sql::Blob(Vec::new()),
            _ => Sql::Text(String::new()),
        },
        Sql::Blob(b) if col == PREV_HASH || col == HASH => match rng.below(3) {
            // A hash of the right length: the entry no longer matches.
            0 | 1 => {
                let mut b = b.clone();
                let i = rng.below(b.len() as u64) as usize;
                b[i] ^= 1 << rng.below(8);
                Sql::Blob(b)
            }
            // The wrong length: a malformed row.
            _ => Sql::Blob(b[..b.len() - 1].to_vec()),
        },
        Sql::Blob(b) => match rng.below(3) {
            0 if !b.is_empty() => {
                let mut b = b.clone();
                let i = rng.below(b.len() as u64) as usize;
                b[i] = b[i].wrapping_add(1 + rng.below(255) as u8);
                Sql::Blob(b)
            }
            1 if nullable => Sql::Null,
            _ => Sql::Text(hex::encode(b)),
        },
        Sql::Text(s) => match rng.below(3) {
            0 => Sql::Text(format!("{s}x")),
            1 => Sql::Blob(s.as_bytes().to_vec()),
            _ => {
                let alt = [
                    "granted",
                    "record.read",
                    "TREAT",
                    "",
                    "denied:no-relationship",
                ][rng.below(5) as usize];
                if alt == s {
                    Sql::Text(format!("{s}-"))
                } else {
                    Sql::Text(alt.into())
                }
            }
        },
        Sql::Real(r) => Sql::Real(r + 1.0),
    }
}

/// Apply one random tampering to `conn`: returns which kind (0 edit, 1 delete, 2 delete and
/// renumber, 3 swap), a description, and the findings it must cause.
fn tamper_randomly(rng: &mut Rng, conn: &Connection, n: i64) -> (usize, String, Vec<Finding>) {
    // Half of the tamperings are edits, the rest deletions (plain or renumbered) and swaps.
    let kind = match rng.below(8) {
        0..=3 => 0,
        4 => 1,
        5 => 2,
        _ => 3,
    };
    let (what, expected) = match kind {
        // Edit one column of one row (the last row too: its own hash still covers it).
        0 => {
            let k = rng.seq(n);
            let col = 1 + rng.below(10) as usize;
            let name = COLUMNS[col];
            let old = row(conn, k)[col].clone();
            let new = other_value(rng, col, &old);
            assert_ne!(new, old);
            let before = fingerprint(conn, k, name);
            conn.execute(
                &format!("UPDATE audit_log SET {name} = ?1 WHERE seq = ?2"),
                params![new, k],
            )
            .unwrap();
            let after = fingerprint(conn, k, name);
            let what = format!("edit seq {k} {name}: {old:?} -> {new:?} (stored {after:?})");
            assert_ne!(before, after, "{what}: not really changed");
            let short_hash = (col == PREV_HASH || col == HASH) && blob(&new).len() != 32;
            (
                what,
                vec![if short_hash { malformed(k) } else { changed(k) }],
            )
        }
        // Delete one row, not the last.
        1 => {
            let k = rng.seq(n - 1);
            delete(conn, k);
            (format!("delete seq {k}"), vec![missing(k, k)])
        }
        // Delete one row, not the last, and close the gap.
        2 => {
            let k = rng.seq(n - 1);
            delete(conn, k);
            renumber(conn, k + 1, -1);
            (
                format!("delete seq {k} and renumber"),
                vec![missing(k, k), truncated_before(n, n - 1)],
            )
        }
        // Swap two neighbours' contents.
        _ => {
            let k = rng.seq(n - 1);
            let (rk, rk1) = (row(conn, k), row(conn, k + 1));
            overwrite(conn, k, &rk1);
            overwrite(conn, k + 1, &rk);
            (
                format!("swap seq {k} and {}", k + 1),
                vec![moved(k, k + 1), moved(k + 1, k)],
            )
        }
    };
    (kind, what, expected)
}

#[test]
fn random_single_row_tampering_is_located() {
    let b = build_vault();
    let n = count(&raw(&b.path));

    // A plain copy verifies like the original.
    let copy = b.dir.path().join("copy.vault");
    copy_vault(&b.path, &copy);
    let v = verify(&copy);
    assert_eq!(
        (v.code, v.stdout.lines().next()),
        (0, Some(&*format!("intact: {n} entries")))
    );

    let mut rng = Rng(0x5EED_C0FF_EE15_600D);
    let mut kinds = [0u32; 4];
    for i in 0..40 {
        let copy = b.dir.path().join(format!("tampered-{i}.vault"));
        copy_vault(&b.path, &copy);
        let conn = raw(&copy);
        let state = rng.0;
        let (kind, what, expected) = tamper_randomly(&mut rng, &conn, n);
        let left = count(&conn);
        drop(conn);
        kinds[kind] += 1;
        let what = format!("iteration {i} (rng state {state:#x}): {what}");
        assert_tampered(&copy, left, &expected, &what);
        std::fs::remove_file(&copy).unwrap();
    }
    assert!(
        kinds.iter().all(|&k| k > 0),
        "not every kind of tampering ran: {kinds:?}"
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
