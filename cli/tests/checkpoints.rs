//! Signed checkpoints, anchors and the open/close markers of the audit log, end to end: through
//! the real `audit-verify` and `confide` binaries (exit codes, `seq N: ...` lines, `--json`) and
//! through the library's typed report.
//!
//! Each test builds a vault with `checkpoint_every = 5`, closes it, and then edits the file with
//! SQLite directly, as an attacker with write access to the file (and knowledge of the public
//! hash format, but not of the audit signing key) would.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{ADMIN_PASS, CLIN_PASS, audit_sql, audit_verify, new_client, test_config};
use confide::{
    Anchor, Error, Finding, FindingKind, Passphrase, Purpose, RecordId, RecordKind, Role, Value,
    Vault, VaultConfig, VerifyOptions, VerifyReport, Warning,
};
use ring::digest::{Context, SHA256, digest};
use ring::signature::{Ed25519KeyPair, KeyPair};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params};
use serde_json::{Value as Json, json};

/// The checkpoint interval of every vault built here.
const EVERY: i64 = 5;
/// The head of a freshly built vault: its close marker. Not a multiple of `EVERY`, so the close
/// checkpoint is a row of its own after the last interval checkpoint (25).
const LAST: i64 = 28;

fn config() -> VaultConfig {
    test_config().with_checkpoint_every(EVERY as u32)
}

// ---------------------------------------------------------------------------------------------
// Building vaults with some history
// ---------------------------------------------------------------------------------------------

/// A closed vault file in its own temporary directory.
struct Built {
    dir: tempfile::TempDir,
    path: PathBuf,
}

impl Built {
    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A copy of the vault to tamper with.
    fn copy(&self, name: &str) -> PathBuf {
        let to = self.file(name);
        copy_vault(&self.path, &to);
        to
    }
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

/// The newest sequence number in the file (read beside any open vault: WAL allows it).
fn head(path: &Path) -> i64 {
    raw(path)
        .query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap()
}

/// Run `op` (one audit entry each time) until the log's head is `target`.
fn grow_until(path: &Path, target: i64, mut op: impl FnMut()) {
    assert!(head(path) <= target, "already past {target}");
    while head(path) < target {
        op();
    }
    assert_eq!(head(path), target, "overshot {target}");
}

/// Log in as dr.a, register a client with a diagnosis, and read it until the head is `target`.
fn clinical_activity(vault: &Vault, path: &Path, client_name: &str, target: i64) {
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    let client = new_client(&dr, client_name);
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            Purpose::Treatment,
        )
        .unwrap();
    grow_until(path, target, || {
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    });
}

/// A new vault with an administrator and a clinician, dr.a. Entries: 1 vault.create,
/// 2 user.add, 3 vault.open, 4 login, 5 user.add.
fn create_vault(path: &Path) -> Vault {
    let vault = Vault::create(path, "admin", &Passphrase::new(ADMIN_PASS), config()).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    admin
        .add_user("dr.a", Role::Clinician, &Passphrase::new(CLIN_PASS))
        .unwrap();
    vault
}

/// A closed vault of `LAST` entries, with checkpoints at 5, 10, 15, 20, 25 and 28 (the close).
fn build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("practice.vault");
    let vault = create_vault(&path);
    clinical_activity(&vault, &path, "Sam Doe", LAST - 1);
    vault.close().unwrap();
    assert_eq!(head(&path), LAST);
    assert_eq!(checkpoints(&raw(&path)), vec![5, 10, 15, 20, 25, LAST]);
    Built { dir, path }
}

/// Open the vault again, have dr.a work until the head is `last - 1`, and close it (the close
/// marker is `last`).
fn reopen_and_grow(path: &Path, client_name: &str, last: i64) {
    let vault = Vault::open(path, config()).unwrap();
    clinical_activity(&vault, path, client_name, last - 1);
    vault.close().unwrap();
    assert_eq!(head(path), last);
}

// ---------------------------------------------------------------------------------------------
// Raw rows, as the attacker sees them
// ---------------------------------------------------------------------------------------------

/// Open the vault file with SQLite directly, as an attacker with write access would, with the
/// audit log's documented layout at hand as SQL functions (`common::audit_sql`).
fn raw(path: &Path) -> Connection {
    audit_sql::open(path)
}

/// One stored row of `audit_log`: `(seq, entry, hash)`.
struct Row {
    seq: i64,
    entry: Vec<u8>,
    hash: Vec<u8>,
}

fn rows(conn: &Connection) -> Vec<Row> {
    let mut stmt = conn
        .prepare("SELECT seq, entry, hash FROM audit_log ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| {
        Ok(Row {
            seq: r.get(0)?,
            entry: r.get(1)?,
            hash: r.get(2)?,
        })
    })
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

/// The cells of an entry written before format 6, which it keeps as its stored bytes: version
/// byte 1 (nine cells) or 2 (ten, a digest last), each cell a type tag (0 null, 1 integer,
/// 2 real, 3 text, 4 blob) and its payload (8 bytes big-endian, or a u32 big-endian length and
/// the bytes). `None` for anything else (e.g. an entry of layout 4).
fn legacy_cells(entry: &[u8]) -> Option<Vec<Sql>> {
    let n = match entry.first()? {
        1 => 9,
        2 => 10,
        _ => return None,
    };
    let mut b = &entry[1..];
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, rest) = (b.get(..n)?, b.get(n..)?);
        b = rest;
        Some(head)
    };
    let mut cells = Vec::with_capacity(n);
    for _ in 0..n {
        let cell = match take(1)?[0] {
            0 => Sql::Null,
            1 => Sql::Integer(i64::from_be_bytes(take(8)?.try_into().ok()?)),
            2 => Sql::Real(f64::from_bits(u64::from_be_bytes(
                take(8)?.try_into().ok()?,
            ))),
            tag @ (3 | 4) => {
                let len = u32::from_be_bytes(take(4)?.try_into().ok()?);
                let payload = take(usize::try_from(len).ok()?)?.to_vec();
                if tag == 3 {
                    Sql::Text(String::from_utf8(payload).ok()?)
                } else {
                    Sql::Blob(payload)
                }
            }
            _ => return None,
        };
        cells.push(cell);
    }
    b.is_empty().then_some(cells)
}

/// The action an entry records, under either layout (the fourth cell of an entry from before
/// format 6).
fn action_of(entry: &[u8]) -> String {
    if let Some(parts) = audit_sql::decode(entry) {
        return String::from_utf8(parts.action).unwrap();
    }
    match legacy_cells(entry).map(|c| c[3].clone()) {
        Some(Sql::Text(action)) => action,
        other => panic!("not an entry of layout 1, 2 or 3 (action {other:?})"),
    }
}

/// The stored hash of entry `seq` (named for the checkpoint column it is compared with).
fn entry_hash(conn: &Connection, seq: i64) -> Vec<u8> {
    conn.query_row("SELECT hash FROM audit_log WHERE seq = ?1", [seq], |r| {
        r.get(0)
    })
    .unwrap()
}

fn action_at(conn: &Connection, seq: i64) -> String {
    let entry: Vec<u8> = conn
        .query_row("SELECT entry FROM audit_log WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    action_of(&entry)
}

/// Every entry with `action`, read under either layout (a migrated vault holds both).
fn seqs_of_action(conn: &Connection, action: &str) -> Vec<i64> {
    rows(conn)
        .into_iter()
        .filter(|r| action_of(&r.entry) == action)
        .map(|r| r.seq)
        .collect()
}

fn vault_id(conn: &Connection) -> Vec<u8> {
    conn.query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap()
}

/// The sequence numbers of the stored checkpoints.
fn checkpoints(conn: &Connection) -> Vec<i64> {
    conn.prepare("SELECT seq FROM audit_checkpoints ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn checkpoint_row(conn: &Connection, seq: i64) -> (Vec<u8>, Vec<u8>) {
    conn.query_row(
        "SELECT entry_hash, signature FROM audit_checkpoints WHERE seq = ?1",
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Delete every entry after `end`.
fn delete_entries_after(conn: &Connection, end: i64) {
    conn.execute("DELETE FROM audit_log WHERE seq > ?1", [end])
        .unwrap();
}

/// Delete every checkpoint after `end`.
fn delete_checkpoints_after(conn: &Connection, end: i64) {
    conn.execute("DELETE FROM audit_checkpoints WHERE seq > ?1", [end])
        .unwrap();
}

fn flip_first_byte(b: &[u8]) -> Vec<u8> {
    let mut b = b.to_vec();
    b[0] ^= 0x01;
    b
}

/// `SHA-256("confide/audit/v1" ‖ prev ‖ canonical bytes)`: the hash of an entry written before
/// format 6, unchanged by the move (its sequence number is inside its bytes).
fn legacy_hash(prev: &[u8], entry: &[u8]) -> Vec<u8> {
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"confide/audit/v1");
    ctx.update(prev);
    ctx.update(entry);
    ctx.finish().as_ref().to_vec()
}

fn genesis(conn: &Connection) -> Vec<u8> {
    digest(&SHA256, &vault_id(conn)).as_ref().to_vec()
}

/// Shift `at` of entry `seq` by one millisecond (nothing else changes; the hash is left alone).
fn nudge_time(conn: &Connection, seq: i64) {
    let n = conn
        .execute(
            "UPDATE audit_log SET entry = audit_with(entry, 'at', audit_part(entry, 'at') + 1) \
             WHERE seq = ?1",
            [seq],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// Every entry links to its predecessor and hashes to its stored hash, under the test's own
/// reading of the format: the chain alone is consistent. Entries from before format 6 (a
/// migrated vault's) carry their own sequence number and no link, and come first. Returns how
/// many such entries there are.
fn assert_chain_consistent(conn: &Connection) -> usize {
    let mut prev = genesis(conn);
    let mut legacy = 0;
    for (i, r) in rows(conn).iter().enumerate() {
        let seq = i as i64 + 1;
        assert_eq!(r.seq, seq, "seq without gaps");
        assert_eq!(r.hash.len(), 32, "hash of seq {seq}");
        match audit_sql::decode(&r.entry) {
            Some(parts) => {
                assert_eq!(parts.link, prev[..8], "link of seq {seq}");
                assert_eq!(
                    r.hash,
                    audit_sql::entry_hash(&prev, seq, &r.entry),
                    "hash of seq {seq}"
                );
            }
            None => {
                assert_eq!(
                    legacy, i,
                    "an entry from before format 6 after a newer one: {seq}"
                );
                legacy += 1;
                let cells = legacy_cells(&r.entry)
                    .unwrap_or_else(|| panic!("entry {seq} is of no known layout"));
                assert_eq!(cells[0], Sql::Integer(seq), "seq inside entry {seq}");
                assert_eq!(r.hash, legacy_hash(&prev, &r.entry), "hash of seq {seq}");
            }
        }
        prev = r.hash.clone();
    }
    legacy
}

/// The message a checkpoint signs: "confide/checkpoint/v1" ‖ vault id ‖ seq (u64 BE) ‖ hash.
fn checkpoint_message(vault: &[u8], seq: i64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"confide/checkpoint/v1".to_vec();
    m.extend_from_slice(vault);
    m.extend_from_slice(&u64::try_from(seq).unwrap().to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// A fresh Ed25519 key pair that is not the vault's.
fn other_key() -> Ed25519KeyPair {
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap()
}

fn replace_public_key(conn: &Connection, key: &Ed25519KeyPair) {
    let n = conn
        .execute(
            "UPDATE audit_key SET public_key = ?1 WHERE id = 1",
            [key.public_key().as_ref()],
        )
        .unwrap();
    assert_eq!(n, 1);
}

// ---------------------------------------------------------------------------------------------
// Running the binaries and reading what they say
// ---------------------------------------------------------------------------------------------

#[derive(Debug)]
struct Verdict {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run_verify(path: &Path, anchor: Option<&Path>, json: bool) -> Verdict {
    let mut args: Vec<&OsStr> = Vec::new();
    if json {
        args.push(OsStr::new("--json"));
    }
    if let Some(a) = anchor {
        args.push(OsStr::new("--anchor"));
        args.push(a.as_os_str());
    }
    args.push(path.as_os_str());
    let (code, stdout, stderr) = audit_verify(&args);
    Verdict {
        code,
        stdout,
        stderr,
    }
}

fn read_anchor(file: &Path) -> Anchor {
    Anchor::from_json(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn verify_lib(path: &Path, anchor: Option<&Path>) -> VerifyReport {
    let opts = VerifyOptions {
        anchor: anchor.map(read_anchor),
        ..Default::default()
    };
    confide::verify_audit_log_with(path, &opts).unwrap()
}

/// The `seq N: ...` lines of the text report.
fn finding_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  seq "))
        .map(|l| format!("seq {l}"))
        .collect()
}

/// The binary (exit code, first break, finding lines) and the library (typed findings) both
/// find exactly `expected`, in sequence order; the binary's warning lines are the report's
/// warnings. Returns the library's report.
fn check(path: &Path, anchor: Option<&Path>, expected: &[Finding], what: &str) -> VerifyReport {
    let v = run_verify(path, anchor, false);
    let want_code = if expected.is_empty() { 0 } else { 1 };
    assert_eq!(v.code, want_code, "{what}: exit code\n{v:#?}");
    assert_eq!(v.stderr, "", "{what}: stderr");
    let want: Vec<String> = expected.iter().map(|f| f.to_string()).collect();
    assert_eq!(
        finding_lines(&v.stdout),
        want,
        "{what}: findings\n{}",
        v.stdout
    );
    match expected.first() {
        Some(first) => {
            let line = format!("tampered: first break at {first}");
            assert!(
                v.stdout.lines().any(|l| l == line),
                "{what}: expected {line:?} in\n{}",
                v.stdout
            );
        }
        None => assert!(
            v.stdout.starts_with("intact: "),
            "{what}: not intact\n{}",
            v.stdout
        ),
    }

    let report = verify_lib(path, anchor);
    assert_eq!(report.findings, expected, "{what}: typed findings");
    assert_eq!(report.findings_total, expected.len() as u64, "{what}");
    assert_eq!(report.is_intact(), expected.is_empty(), "{what}");
    let warnings: Vec<String> = report.warnings.iter().map(|w| w.to_string()).collect();
    let warning_lines: Vec<String> = v
        .stdout
        .lines()
        .filter_map(|l| l.strip_prefix("warning: "))
        .map(str::to_owned)
        .collect();
    assert_eq!(warning_lines, warnings, "{what}: warnings\n{}", v.stdout);
    report
}

/// `audit-verify` exits 2 with a message on stderr (and no verdict, no panic).
fn assert_could_not_run(path: &Path, anchor: Option<&Path>, what: &str) -> String {
    let v = run_verify(path, anchor, false);
    assert_eq!(v.code, 2, "{what}: exit code\n{v:#?}");
    assert!(
        v.stderr.starts_with("audit-verify: "),
        "{what}: no error message\n{v:#?}"
    );
    assert!(!v.stderr.contains("panicked"), "{what}: panicked\n{v:#?}");
    assert!(!v.stdout.contains("intact"), "{what}: {}", v.stdout);
    assert!(!v.stdout.contains("tampered"), "{what}: {}", v.stdout);

    let j = run_verify(path, anchor, true);
    assert_eq!(j.code, 2, "{what} (--json): exit code\n{j:#?}");
    assert!(!j.stderr.contains("panicked"), "{what} (--json)\n{j:#?}");
    let out: Json = serde_json::from_str(&j.stdout)
        .unwrap_or_else(|e| panic!("{what} (--json): {e}\n{}", j.stdout));
    assert_eq!(out["schema"], "confide-audit-verify/v1", "{what}");
    assert_eq!(out["status"], "error", "{what}");
    assert!(
        out["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{what}: {out:#}"
    );
    v.stderr
}

/// `confide audit anchor VAULT --out FILE`: (exit code, stderr).
fn confide_anchor(vault: &Path, out: &Path) -> (i32, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_confide"))
        .args([OsStr::new("audit"), OsStr::new("anchor"), vault.as_os_str()])
        .args([OsStr::new("--out"), out.as_os_str()])
        .output()
        .unwrap();
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Anchor `vault` in `out` with the real binary; returns the anchor read back.
fn anchor_to(vault: &Path, out: &Path) -> Anchor {
    let (code, stderr) = confide_anchor(vault, out);
    assert_eq!(code, 0, "confide audit anchor: {stderr}");
    let a = read_anchor(out);
    assert_eq!(
        stderr.trim_end(),
        format!(
            "anchored seq {} of vault {} in {}",
            a.seq,
            a.vault_id,
            out.display()
        )
    );
    a
}

fn at(seq: i64, kind: FindingKind) -> Finding {
    Finding {
        seq: u64::try_from(seq).unwrap(),
        kind,
    }
}

/// The log ends at `last`, before the signed head at `checkpoint`.
fn truncated(checkpoint: i64, last: i64) -> Finding {
    at(
        checkpoint,
        FindingKind::Truncated {
            last: u64::try_from(last).unwrap(),
        },
    )
}

fn unclean(opened: i64) -> Warning {
    Warning::UncleanShutdown {
        opened: u64::try_from(opened).unwrap(),
    }
}

// ---------------------------------------------------------------------------------------------
// 1. Untouched
// ---------------------------------------------------------------------------------------------

#[test]
fn clean_vault_has_verified_checkpoints_at_every_interval_and_at_close() {
    let b = build();
    let conn = raw(&b.path);
    // The test's own hashing agrees with the vault's (the forgeries below are made with it);
    // every entry of a new vault is of layout 4.
    assert_eq!(assert_chain_consistent(&conn), 0);
    let cps = checkpoints(&conn);
    let mut want: Vec<i64> = (1..=LAST).filter(|s| s % EVERY == 0).collect();
    want.push(LAST);
    assert_eq!(cps, want);
    // Each checkpoint signs the hash its entry has.
    for &c in &cps {
        assert_eq!(checkpoint_row(&conn, c).0, entry_hash(&conn, c), "seq {c}");
    }
    assert_eq!(action_at(&conn, LAST), "vault.close");
    drop(conn);

    let r = check(&b.path, None, &[], "untouched");
    assert_eq!(r.entries, LAST as u64);
    assert_eq!(r.seq_range, Some((1, LAST as u64)));
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    assert_eq!(r.last_checkpoint, Some(LAST as u64));
    assert_eq!(r.warnings, vec![], "no unclean shutdown, no unsigned tail");
    let v = run_verify(&b.path, None, false);
    assert_eq!(
        v.stdout.lines().collect::<Vec<_>>(),
        vec![
            format!("intact: {LAST} entries"),
            format!(
                "signed checkpoints: {} verified, newest at seq {LAST}",
                cps.len()
            ),
        ]
    );

    // A second opening closed by dropping the last handle (no explicit close) seals its head
    // too, and leaves no warning.
    let vault = Vault::open(&b.path, config()).unwrap();
    clinical_activity(&vault, &b.path, "Alex Roe", 40);
    drop(vault);
    let conn = raw(&b.path);
    let last = head(&b.path);
    assert_eq!(last, 41);
    assert_eq!(action_at(&conn, last), "vault.close");
    let cps = checkpoints(&conn);
    assert_eq!(cps.last(), Some(&last));
    assert!(cps.contains(&35) && cps.contains(&40), "{cps:?}");
    drop(conn);
    let r = check(&b.path, None, &[], "reopened and dropped");
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    assert_eq!(r.last_checkpoint, Some(last as u64));
    assert_eq!(r.warnings, vec![]);
}

// ---------------------------------------------------------------------------------------------
// 2. Cutting the tail
// ---------------------------------------------------------------------------------------------

#[test]
fn cutting_the_tail_is_found_at_every_signed_head_beyond_the_new_end() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));
    let opened = seqs_of_action(&raw(&b.path), "vault.open");
    assert_eq!(opened.len(), 1);
    let opened = opened[0];

    // (new end, keep the checkpoint rows up to): the attacker deletes the entries after the new
    // end and the checkpoint rows after the second number.
    let cases: [(i64, i64); 9] = [
        // Checkpoint rows left alone: every one beyond the end is a signed head the log lacks.
        (LAST - 1, LAST),
        (24, LAST),
        (13, LAST),
        // Every checkpoint beyond the end removed too: a shorter log that is a valid prefix.
        // Without an anchor nothing says it once went on (see the anchor case below); the
        // missing close marker shows only as an unclean shutdown.
        (24, 24),
        (LAST - 1, LAST - 1),
        // Only the close checkpoint removed: cutting back to the last interval checkpoint is
        // not found, cutting past it is.
        (26, LAST - 1),
        (25, LAST - 1),
        (22, LAST - 1),
        (17, 20),
    ];
    for (i, (end, kept)) in cases.into_iter().enumerate() {
        let what = format!("cut to {end}, checkpoints kept up to {kept}");
        let p = b.copy(&format!("cut-{i}.vault"));
        let conn = raw(&p);
        delete_entries_after(&conn, end);
        delete_checkpoints_after(&conn, kept);
        drop(conn);
        let expected: Vec<Finding> = cps
            .iter()
            .filter(|&&c| c > end && c <= kept)
            .map(|&c| truncated(c, end))
            .collect();
        let r = check(&p, None, &expected, &what);
        assert_eq!(r.entries, end as u64, "{what}");
        // The close marker went with the tail.
        assert_eq!(r.warnings.first(), Some(&unclean(opened)), "{what}");
        if expected.is_empty() {
            let sealed = cps.iter().copied().filter(|&c| c <= end).max().unwrap();
            let tail = end - sealed;
            let want_tail = (tail > 0).then_some(Warning::UnsignedTail {
                entries: tail as u64,
            });
            assert_eq!(r.warnings.get(1).copied(), want_tail, "{what}");
            assert_eq!(r.last_checkpoint, Some(sealed as u64), "{what}");
        }
    }

    // An anchor exported before the cut holds the log to its head, checkpoint rows or not.
    let anchor = b.file("anchor.json");
    assert_eq!(anchor_to(&b.path, &anchor).seq, LAST as u64);
    for end in [24, 13, LAST - 1] {
        let what = format!("cut to {end}, every later checkpoint removed, anchored at {LAST}");
        let p = b.copy(&format!("cut-anchored-{end}.vault"));
        let conn = raw(&p);
        delete_entries_after(&conn, end);
        delete_checkpoints_after(&conn, end);
        drop(conn);
        check(&p, Some(&anchor), &[truncated(LAST, end)], &what);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. A deletion hidden by recomputing every hash
// ---------------------------------------------------------------------------------------------

#[test]
fn deletion_rechained_with_correct_hashes_is_caught_by_the_signed_checkpoints() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));
    // Hide one read of the diagnosis (a write entry would leave its record unvouched for).
    let k = 12;
    let p = b.copy("rechained.vault");
    let conn = raw(&p);
    assert_eq!(action_at(&conn, k), "record.read");
    assert_eq!(
        conn.execute("DELETE FROM audit_log WHERE seq = ?1", [k])
            .unwrap(),
        1
    );
    for s in k + 1..=LAST {
        conn.execute(
            "UPDATE audit_log SET seq = ?1 WHERE seq = ?2",
            params![s - 1, s],
        )
        .unwrap();
    }
    audit_sql::rehash_from(&conn, k);
    // The plain chain is consistent again: every link and every hash recomputes.
    assert_chain_consistent(&conn);
    drop(conn);

    // Without its checkpoints the log would pass.
    let bare = b.file("rechained-no-checkpoints.vault");
    copy_vault(&p, &bare);
    raw(&bare)
        .execute("DELETE FROM audit_checkpoints", [])
        .unwrap();
    let r = check(&bare, None, &[], "rechained, checkpoints removed");
    assert_eq!(r.checkpoints_checked, 0);

    // With them: every signed head from the deleted row on covers another hash now, and the
    // close checkpoint is beyond the shortened log's end.
    let mut expected: Vec<Finding> = cps
        .iter()
        .filter(|&&c| c >= k && c < LAST)
        .map(|&c| at(c, FindingKind::ChainRewritten))
        .collect();
    assert_eq!(expected.first(), Some(&at(15, FindingKind::ChainRewritten)));
    expected.push(truncated(LAST, LAST - 1));
    let r = check(&p, None, &expected, "deleted, renumbered and rechained");
    assert_eq!(r.entries, LAST as u64 - 1);
    assert_eq!(
        r.checkpoints_checked,
        cps.len() as u64,
        "all genuinely signed"
    );
    assert_eq!(
        r.first_break(),
        Some(&at(15, FindingKind::ChainRewritten)),
        "the first checkpoint after the deleted row"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Forged checkpoints and a replaced key
// ---------------------------------------------------------------------------------------------

#[test]
fn forged_checkpoints_and_a_replaced_key_are_found() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));

    // One byte of one signature.
    let p = b.copy("signature.vault");
    let conn = raw(&p);
    let (_, sig) = checkpoint_row(&conn, 10);
    conn.execute(
        "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = 10",
        [flip_first_byte(&sig)],
    )
    .unwrap();
    drop(conn);
    let r = check(
        &p,
        None,
        &[at(10, FindingKind::CheckpointForged)],
        "signature byte flipped",
    );
    assert_eq!(r.checkpoints_checked, cps.len() as u64 - 1);

    // One byte of the hash a checkpoint vouches for (say, to cover a rewritten entry).
    let p = b.copy("entry-hash.vault");
    let conn = raw(&p);
    let (hash, _) = checkpoint_row(&conn, 15);
    conn.execute(
        "UPDATE audit_checkpoints SET entry_hash = ?1 WHERE seq = 15",
        [flip_first_byte(&hash)],
    )
    .unwrap();
    drop(conn);
    check(
        &p,
        None,
        &[at(15, FindingKind::CheckpointForged)],
        "entry hash changed",
    );

    // A checkpoint moved to another sequence number: it signed seq 20, not 21.
    let p = b.copy("moved.vault");
    let conn = raw(&p);
    conn.execute("UPDATE audit_checkpoints SET seq = 21 WHERE seq = 20", [])
        .unwrap();
    drop(conn);
    check(
        &p,
        None,
        &[at(21, FindingKind::CheckpointForged)],
        "checkpoint moved",
    );

    // Another public key in audit_key: no checkpoint verifies.
    let p = b.copy("key.vault");
    let conn = raw(&p);
    replace_public_key(&conn, &other_key());
    drop(conn);
    let expected: Vec<Finding> = cps
        .iter()
        .map(|&c| at(c, FindingKind::CheckpointForged))
        .collect();
    let r = check(&p, None, &expected, "public key replaced");
    assert_eq!(r.checkpoints_checked, 0);
    assert_eq!(r.last_checkpoint, None);
    assert_eq!(
        r.warnings,
        vec![Warning::UnsignedTail {
            entries: LAST as u64
        }]
    );

    // Another key, and every checkpoint re-signed with it: consistent in itself, so only an
    // anchor kept elsewhere (which names the real key) tells.
    let anchor = b.file("anchor.json");
    anchor_to(&b.path, &anchor);
    let p = b.copy("resigned.vault");
    let conn = raw(&p);
    let key = other_key();
    replace_public_key(&conn, &key);
    let vault = vault_id(&conn);
    for &c in &cps {
        let (hash, _) = checkpoint_row(&conn, c);
        let sig = key.sign(&checkpoint_message(&vault, c, &hash));
        conn.execute(
            "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = ?2",
            params![sig.as_ref(), c],
        )
        .unwrap();
    }
    drop(conn);
    let r = check(&p, None, &[], "key replaced, checkpoints re-signed");
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    check(
        &p,
        Some(&anchor),
        &[at(LAST, FindingKind::KeyReplaced)],
        "key replaced, checkpoints re-signed, anchored",
    );
}

// ---------------------------------------------------------------------------------------------
// 5. Anchors
// ---------------------------------------------------------------------------------------------

#[test]
fn anchors_catch_rollbacks_and_forks_and_bad_anchor_files_cannot_run() {
    let b = build();
    // The file as it was before the anchored head: what a rollback restores.
    let old = b.copy("before-anchor.vault");
    const ANCHORED: i64 = 42;
    reopen_and_grow(&b.path, "Alex Roe", ANCHORED);
    let anchor_file = b.file("anchor.json");
    let anchor = anchor_to(&b.path, &anchor_file);
    {
        let conn = raw(&b.path);
        assert_eq!(anchor.format, "confide-anchor/v1");
        assert_eq!(anchor.seq, ANCHORED as u64);
        assert_eq!(anchor.vault_id, hex::encode(vault_id(&conn)));
        assert_eq!(anchor.entry_hash, hex::encode(entry_hash(&conn, ANCHORED)));
        let key: Vec<u8> = conn
            .query_row("SELECT public_key FROM audit_key", [], |r| r.get(0))
            .unwrap();
        assert_eq!(anchor.public_key, hex::encode(key));
    }
    // More activity after the anchor: the log extends it.
    const FINAL: i64 = 53;
    reopen_and_grow(&b.path, "Kim Poe", FINAL);
    let r = check(&b.path, Some(&anchor_file), &[], "extends the anchor");
    assert_eq!(r.entries, FINAL as u64);
    assert_eq!(r.warnings, vec![]);

    // Rolled back to a copy from before the anchored head: intact in itself, not to the anchor.
    check(&old, None, &[], "rolled back, no anchor");
    check(
        &old,
        Some(&anchor_file),
        &[truncated(ANCHORED, LAST)],
        "rolled back",
    );

    // A fork: the anchored entry rewritten and everything after it rechained, the checkpoints
    // the attacker cannot re-sign removed. Passes on its own; not against the anchor.
    let forked = b.copy("forked.vault");
    let conn = raw(&forked);
    nudge_time(&conn, ANCHORED);
    audit_sql::rehash_from(&conn, ANCHORED);
    assert_chain_consistent(&conn);
    let later: Vec<i64> = checkpoints(&conn)
        .into_iter()
        .filter(|&c| c > ANCHORED)
        .collect();
    assert!(!later.is_empty());
    delete_checkpoints_after(&conn, ANCHORED - 1);
    drop(conn);
    check(&forked, None, &[], "forked, no anchor");
    let r = verify_lib(&forked, Some(&anchor_file));
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    let found = r.findings[0];
    assert_eq!(found.seq, ANCHORED as u64);
    assert!(
        matches!(
            found.kind,
            FindingKind::Forked | FindingKind::ChainRewritten
        ),
        "{found:?}"
    );
    check(&forked, Some(&anchor_file), &[found], "forked, anchored");

    // The same fork with the checkpoint rows left in place: every signed head from the anchored
    // one on is rewritten.
    let kept = b.copy("forked-kept.vault");
    let conn = raw(&kept);
    nudge_time(&conn, ANCHORED);
    audit_sql::rehash_from(&conn, ANCHORED);
    drop(conn);
    let mut expected = vec![at(ANCHORED, FindingKind::ChainRewritten)];
    expected.extend(later.iter().map(|&c| at(c, FindingKind::ChainRewritten)));
    check(&kept, None, &expected, "forked, checkpoints kept");

    // An anchor from another vault: the check cannot run.
    let other = build();
    let other_anchor = b.file("other-anchor.json");
    anchor_to(&other.path, &other_anchor);
    let stderr = assert_could_not_run(&b.path, Some(&other_anchor), "another vault's anchor");
    assert!(stderr.contains("another vault"), "{stderr}");
    let opts = VerifyOptions {
        anchor: Some(read_anchor(&other_anchor)),
        ..Default::default()
    };
    let refused = confide::verify_audit_log_with(&b.path, &opts).err();
    assert!(
        matches!(
            &refused,
            Some(Error::InvalidInput { what: "anchor", reason }) if reason == "it is from another vault"
        ),
        "{refused:?}"
    );

    // An edited anchor: its own signature fails.
    let text = std::fs::read_to_string(&anchor_file).unwrap();
    let mut edited: Json = serde_json::from_str(&text).unwrap();
    let hash = edited["entry_hash"].as_str().unwrap().to_owned();
    let digit = if hash.starts_with('0') { "1" } else { "0" };
    edited["entry_hash"] = json!(format!("{digit}{}", &hash[1..]));
    let edited_file = b.file("edited-anchor.json");
    std::fs::write(&edited_file, edited.to_string()).unwrap();
    let refused = Anchor::from_json(&edited.to_string()).err();
    assert!(
        matches!(
            &refused,
            Some(Error::InvalidInput { what: "anchor", reason }) if reason == "its signature does not verify"
        ),
        "{refused:?}"
    );
    let stderr = assert_could_not_run(&b.path, Some(&edited_file), "edited anchor");
    assert!(stderr.contains("signature"), "{stderr}");

    // A later sequence number claimed for the same signature.
    let mut moved: Json = serde_json::from_str(&text).unwrap();
    moved["seq"] = json!(ANCHORED + 1);
    let moved_file = b.file("moved-anchor.json");
    std::fs::write(&moved_file, moved.to_string()).unwrap();
    assert_could_not_run(&b.path, Some(&moved_file), "anchor seq edited");

    // Files that are not anchors at all.
    let bad: [(&str, &[u8]); 6] = [
        ("not-json.json", b"this is not an anchor\n"),
        ("empty.json", b""),
        ("object.json", b"{}"),
        ("wrong-format.json", b"{\"format\": \"confide-anchor/v0\"}"),
        ("binary.json", &[0xff, 0xfe, 0x00, 0x9c, 0x01]),
        ("truncated.json", &text.as_bytes()[..text.len() / 2]),
    ];
    for (name, bytes) in bad {
        let f = b.file(name);
        std::fs::write(&f, bytes).unwrap();
        assert_could_not_run(&b.path, Some(&f), name);
    }
    let wrong_format = text.replace("confide-anchor/v1", "confide-anchor/v9");
    let f = b.file("format-v9.json");
    std::fs::write(&f, wrong_format).unwrap();
    assert_could_not_run(&b.path, Some(&f), "unknown anchor format");
    assert_could_not_run(
        &b.path,
        Some(&b.file("no-such-anchor.json")),
        "missing anchor",
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Unclean shutdown
// ---------------------------------------------------------------------------------------------

#[test]
fn an_opening_never_closed_is_an_unclean_shutdown_warning_not_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.vault");
    let vault = create_vault(&path);
    clinical_activity(&vault, &path, "Sam Doe", 12);
    drop(vault);
    // A clean open/close cycle leaves no warning.
    let r = check(&path, None, &[], "clean cycle");
    assert_eq!(r.warnings, vec![]);

    // An opening that never closes: the handles are leaked, so no close marker is written (as
    // if the process had died; this process keeps the connection open, like a live one).
    let vault = Vault::open(&path, config()).unwrap();
    let opened = head(&path);
    assert_eq!(action_at(&raw(&path), opened), "vault.open");
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    new_client(&dr, "Before The Crash");
    std::mem::forget(dr);
    std::mem::forget(vault);
    let r = verify_lib(&path, None);
    assert!(r.is_intact(), "{:?}", r.findings);
    assert!(r.warnings.contains(&unclean(opened)), "{:?}", r.warnings);

    // Opened again normally, some work, closed.
    let vault = Vault::open(&path, config()).unwrap();
    let reopened = head(&path);
    assert!(reopened > opened);
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    new_client(&dr, "After The Crash");
    drop(dr);
    vault.close().unwrap();
    let last = head(&path);

    let r = check(&path, None, &[], "after an unclean shutdown");
    assert_eq!(r.warnings, vec![unclean(opened)]);
    assert_eq!(
        r.last_checkpoint,
        Some(last as u64),
        "the close sealed the head"
    );
    let v = run_verify(&path, None, false);
    let line = v
        .stdout
        .lines()
        .find(|l| l.starts_with("warning: unclean shutdown"))
        .unwrap_or_else(|| panic!("no unclean-shutdown warning in\n{}", v.stdout));
    assert!(
        line.contains(&format!("opened at seq {opened} ")),
        "names the forgotten opening: {line}"
    );
    assert_eq!(
        v.stdout
            .lines()
            .filter(|l| l.starts_with("warning: "))
            .count(),
        1,
        "{}",
        v.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// 7. --json
// ---------------------------------------------------------------------------------------------

fn json_verify(path: &Path, anchor: Option<&Path>, code: i32) -> Json {
    let v = run_verify(path, anchor, true);
    assert_eq!(v.code, code, "{v:#?}");
    let out: Json =
        serde_json::from_str(&v.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", v.stdout));
    assert_eq!(out["schema"], "confide-audit-verify/v1");
    out
}

#[test]
fn json_report_follows_the_schema() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));

    let out = json_verify(&b.path, None, 0);
    assert_eq!(out["status"], "intact");
    assert_eq!(out["vault"], b.path.display().to_string());
    assert_eq!(out["entries"], LAST);
    assert_eq!(out["first_seq"], 1);
    assert_eq!(out["last_seq"], LAST);
    assert!(out["first_time"].is_string() && out["last_time"].is_string());
    assert_eq!(out["checkpoints_checked"], cps.len());
    assert_eq!(out["last_checkpoint"], LAST);
    assert_eq!(out["anchor_checked"], false);
    assert_eq!(out["findings_total"], 0);
    assert_eq!(out["findings"], json!([]));
    assert_eq!(out["warnings"], json!([]));

    let anchor = b.file("anchor.json");
    anchor_to(&b.path, &anchor);
    let out = json_verify(&b.path, Some(&anchor), 0);
    assert_eq!(out["status"], "intact");
    assert_eq!(out["anchor_checked"], true);

    // A forged checkpoint, and the last entry cut with its checkpoint left behind.
    let opened = seqs_of_action(&raw(&b.path), "vault.open")[0];
    let p = b.copy("tampered.vault");
    let conn = raw(&p);
    let (_, sig) = checkpoint_row(&conn, 10);
    conn.execute(
        "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = 10",
        [flip_first_byte(&sig)],
    )
    .unwrap();
    delete_entries_after(&conn, LAST - 1);
    drop(conn);
    let out = json_verify(&p, None, 1);
    assert_eq!(out["status"], "tampered");
    assert_eq!(out["entries"], LAST - 1);
    assert_eq!(out["first_seq"], 1);
    assert_eq!(out["last_seq"], LAST - 1);
    assert_eq!(out["checkpoints_checked"], cps.len() - 1);
    assert_eq!(out["findings_total"], 2);
    let cut = FindingKind::Truncated {
        last: LAST as u64 - 1,
    };
    assert_eq!(
        out["findings"],
        json!([
            {
                "seq": 10,
                "kind": "checkpoint-forged",
                "message": FindingKind::CheckpointForged.to_string(),
            },
            { "seq": LAST, "kind": "truncated", "message": cut.to_string() },
        ])
    );
    assert_eq!(
        out["warnings"],
        json!([{ "kind": "unclean-shutdown", "message": unclean(opened).to_string() }])
    );
    // The same as the typed report.
    let r = verify_lib(&p, None);
    let kinds: Vec<&str> = r.findings.iter().map(|f| f.kind.code()).collect();
    assert_eq!(kinds, ["checkpoint-forged", "truncated"]);
    assert_eq!(
        r.warnings.iter().map(Warning::code).collect::<Vec<_>>(),
        ["unclean-shutdown"]
    );

    // An unsigned tail, and the anchor's own finding codes.
    let p = b.copy("cut-unsigned.vault");
    let conn = raw(&p);
    delete_entries_after(&conn, 23);
    delete_checkpoints_after(&conn, 23);
    drop(conn);
    let out = json_verify(&p, None, 0);
    assert_eq!(out["status"], "intact");
    assert_eq!(out["last_checkpoint"], 20);
    let warnings: Vec<&str> = out["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, ["unclean-shutdown", "unsigned-tail"]);
    assert_eq!(
        out["warnings"][1]["message"],
        Warning::UnsignedTail { entries: 3 }.to_string()
    );
    let out = json_verify(&p, Some(&anchor), 1);
    assert_eq!(out["status"], "tampered");
    assert_eq!(out["anchor_checked"], true);
    assert_eq!(
        out["findings"],
        json!([{
            "seq": LAST,
            "kind": "truncated",
            "message": FindingKind::Truncated { last: 23 }.to_string(),
        }])
    );

    // Could not run: status "error", exit 2.
    assert_could_not_run(&b.file("missing.vault"), None, "missing vault");
    let not_anchor = b.file("not-anchor.json");
    std::fs::write(&not_anchor, "nope").unwrap();
    assert_could_not_run(&b.path, Some(&not_anchor), "not an anchor");
}

// ---------------------------------------------------------------------------------------------
// 8. A vault from before checkpoints
// ---------------------------------------------------------------------------------------------

#[test]
fn an_old_vault_verifies_then_gains_a_key_and_signed_checkpoints() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vault");
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/format1.vault");
    std::fs::copy(&fixture, &path).unwrap();
    let before = head(&path);
    assert!(before > 0);
    // The hashes of format 1 (a column of the table then as now), which the move of the old
    // rows into one blob each must keep.
    let old_hashes: Vec<Vec<u8>> = raw(&path)
        .prepare("SELECT hash FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(old_hashes.len(), before as usize);

    // Format 1: a plain chain, nothing signed, no open/close markers.
    let r = check(&path, None, &[], "format 1");
    assert_eq!(r.entries, before as u64);
    assert_eq!(r.checkpoints_checked, 0);
    assert_eq!(r.last_checkpoint, None);
    assert!(
        r.warnings
            .iter()
            .all(|w| matches!(w, Warning::UnsignedTail { .. })),
        "{:?}",
        r.warnings
    );
    let v = run_verify(&path, None, false);
    assert!(!v.stdout.contains("signed checkpoints"), "{}", v.stdout);
    let out = json_verify(&path, None, 0);
    assert_eq!(out["checkpoints_checked"], 0);
    assert_eq!(out["last_checkpoint"], Json::Null);
    // Nothing to anchor yet.
    let (code, stderr) = confide_anchor(&path, &dir.path().join("none.json"));
    assert_eq!(code, 2, "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");

    // Opened (migrated) and unlocked: the audit key is made, and logged.
    let vault = Vault::open(&path, config()).unwrap();
    let dr = vault
        .unlock("dr.one", &Passphrase::new("format-1 clinician"))
        .unwrap();
    let conn = raw(&path);
    let created = seqs_of_action(&conn, "audit.key_create");
    assert_eq!(created.len(), 1, "one audit.key_create entry");
    let created = created[0];
    assert!(created > before);
    let key_rows: i64 = conn
        .query_row("SELECT count(*) FROM audit_key", [], |r| r.get(0))
        .unwrap();
    assert_eq!(key_rows, 1);
    drop(conn);
    // From then on, checkpoints are signed.
    let dx: RecordId = "4e95a9c7c47c2162a990cb1782d5a187".parse().unwrap();
    grow_until(&path, created + 12, || {
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    });
    drop(dr);
    vault.close().unwrap();
    let last = head(&path);
    let conn = raw(&path);
    assert_eq!(action_at(&conn, last), "vault.close");
    let cps = checkpoints(&conn);
    let mut want: Vec<i64> = (created + 1..=last).filter(|s| s % EVERY == 0).collect();
    if last % EVERY != 0 {
        want.push(last);
    }
    assert_eq!(cps, want, "audit.key_create at {created}, head {last}");
    drop(conn);

    let r = check(&path, None, &[], "format 1, migrated");
    assert!(r.checkpoints_checked >= 1);
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    assert_eq!(r.last_checkpoint, Some(last as u64));
    assert_eq!(r.warnings, vec![]);

    // And it can be anchored now.
    let anchor = dir.path().join("anchor.json");
    assert_eq!(anchor_to(&path, &anchor).seq, last as u64);
    check(&path, Some(&anchor), &[], "format 1, migrated, anchored");

    // The chain from format 1 continues unbroken through the migration: the old entries keep
    // their hashes (so the checkpoints signed over them hold), and the new ones chain on.
    let conn = raw(&path);
    assert_eq!(
        assert_chain_consistent(&conn),
        before as usize,
        "the entries of format 1 kept as they were, the later ones of layout 4"
    );
    let kept: Vec<Vec<u8>> = rows(&conn)
        .into_iter()
        .take(before as usize)
        .map(|r| r.hash)
        .collect();
    assert_eq!(kept, old_hashes);
}

#[test]
fn a_log_rewritten_from_its_first_entry_is_caught_by_every_signed_checkpoint() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));
    let p = b.copy("rewritten-from-1.vault");
    let conn = raw(&p);
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'at', audit_part(entry, 'at') + 1) \
         WHERE seq = 1",
        [],
    )
    .unwrap();
    audit_sql::rehash_from(&conn, 1);
    // Chained from the genesis again: only the signatures can tell.
    assert_chain_consistent(&conn);
    drop(conn);
    let expected: Vec<Finding> = cps
        .iter()
        .map(|&c| at(c, FindingKind::ChainRewritten))
        .collect();
    check(&p, None, &expected, "rewritten from seq 1");
}
