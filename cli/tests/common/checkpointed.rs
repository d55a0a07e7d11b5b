//! Vaults with signed checkpoints, edited as an attacker with write access to the file (and
//! knowledge of the public hash format, but not of the audit signing key) would, and the
//! `audit-verify` and `confide` binaries run on them: shared by the `checkpoints_*` tests.

#![allow(
    dead_code,
    reason = "each checkpoints_* file uses a different part of the helpers"
)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{ADMIN_PASS, CLIN_PASS, audit_sql, audit_verify, new_client, test_config};
use confide::{
    Anchor, Finding, FindingKind, MAX_SEAL_WITHIN, Passphrase, Purpose, RecordKind, Role, Value,
    Vault, VaultConfig, VerifyOptions, VerifyReport, Warning,
};
use ring::digest::{Context, SHA256, digest};
use ring::signature::{Ed25519KeyPair, KeyPair};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde_json::Value as Json;

/// The checkpoint interval of every vault built here.
pub const EVERY: i64 = 5;
/// The head of a freshly built vault: its close marker. Not a multiple of `EVERY`, so the close
/// checkpoint is a row of its own after the last interval checkpoint (25).
pub const LAST: i64 = 28;

/// Every `EVERY` entries and at close. The seals that fall due after a wait
/// (`VaultConfig::seal_within`) are put off as long as they can be, a minute, far longer than
/// these tests take to build a vault: so the checkpoints are exactly the counted ones and the
/// close's.
pub fn config() -> VaultConfig {
    test_config()
        .with_checkpoint_every(EVERY as u32)
        .with_seal_within(MAX_SEAL_WITHIN)
}

// ---------------------------------------------------------------------------------------------
// Building vaults with some history
// ---------------------------------------------------------------------------------------------

/// A closed vault file in its own temporary directory.
pub struct Built {
    pub dir: tempfile::TempDir,
    pub path: PathBuf,
}

impl Built {
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// A copy of the vault to tamper with.
    pub fn copy(&self, name: &str) -> PathBuf {
        let to = self.file(name);
        copy_vault(&self.path, &to);
        to
    }
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

/// The newest sequence number in the file (read beside any open vault: WAL allows it).
pub fn head(path: &Path) -> i64 {
    raw(path)
        .query_row("SELECT coalesce(max(seq), 0) FROM audit_log", [], |r| {
            r.get(0)
        })
        .unwrap()
}

/// Run `op` (one audit entry each time) until the log's head is `target`.
pub fn grow_until(path: &Path, target: i64, mut op: impl FnMut()) {
    assert!(head(path) <= target, "already past {target}");
    while head(path) < target {
        op();
    }
    assert_eq!(head(path), target, "overshot {target}");
}

/// Log in as dr.a, register a client with a diagnosis, and read it until the head is `target`.
pub fn clinical_activity(vault: &Vault, path: &Path, client_name: &str, target: i64) {
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
pub fn create_vault(path: &Path) -> Vault {
    let vault = Vault::create(path, "admin", &Passphrase::new(ADMIN_PASS), config()).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    admin
        .add_user("dr.a", Role::Clinician, &Passphrase::new(CLIN_PASS))
        .unwrap();
    vault
}

/// A closed vault of `LAST` entries, with checkpoints at 5, 10, 15, 20, 25 and 28 (the close).
pub fn build() -> Built {
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
pub fn reopen_and_grow(path: &Path, client_name: &str, last: i64) {
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
pub fn raw(path: &Path) -> Connection {
    audit_sql::open(path)
}

/// One stored row of `audit_log`: `(seq, entry, hash)`.
pub struct Row {
    pub seq: i64,
    pub entry: Vec<u8>,
    pub hash: Vec<u8>,
}

pub fn rows(conn: &Connection) -> Vec<Row> {
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
pub fn legacy_cells(entry: &[u8]) -> Option<Vec<Sql>> {
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
pub fn action_of(entry: &[u8]) -> String {
    if let Some(parts) = audit_sql::decode(entry) {
        return String::from_utf8(parts.action).unwrap();
    }
    match legacy_cells(entry).map(|c| c[3].clone()) {
        Some(Sql::Text(action)) => action,
        other => panic!("not an entry of layout 1, 2 or 3 (action {other:?})"),
    }
}

/// The stored hash of entry `seq` (named for the checkpoint column it is compared with).
pub fn entry_hash(conn: &Connection, seq: i64) -> Vec<u8> {
    conn.query_row("SELECT hash FROM audit_log WHERE seq = ?1", [seq], |r| {
        r.get(0)
    })
    .unwrap()
}

pub fn action_at(conn: &Connection, seq: i64) -> String {
    let entry: Vec<u8> = conn
        .query_row("SELECT entry FROM audit_log WHERE seq = ?1", [seq], |r| {
            r.get(0)
        })
        .unwrap();
    action_of(&entry)
}

/// Every entry with `action`, read under either layout (a migrated vault holds both).
pub fn seqs_of_action(conn: &Connection, action: &str) -> Vec<i64> {
    rows(conn)
        .into_iter()
        .filter(|r| action_of(&r.entry) == action)
        .map(|r| r.seq)
        .collect()
}

pub fn vault_id(conn: &Connection) -> Vec<u8> {
    conn.query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap()
}

/// The sequence numbers of the stored checkpoints.
pub fn checkpoints(conn: &Connection) -> Vec<i64> {
    conn.prepare("SELECT seq FROM audit_checkpoints ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

pub fn checkpoint_row(conn: &Connection, seq: i64) -> (Vec<u8>, Vec<u8>) {
    conn.query_row(
        "SELECT entry_hash, signature FROM audit_checkpoints WHERE seq = ?1",
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// Delete every entry after `end`.
pub fn delete_entries_after(conn: &Connection, end: i64) {
    conn.execute("DELETE FROM audit_log WHERE seq > ?1", [end])
        .unwrap();
}

/// Delete every checkpoint after `end`.
pub fn delete_checkpoints_after(conn: &Connection, end: i64) {
    conn.execute("DELETE FROM audit_checkpoints WHERE seq > ?1", [end])
        .unwrap();
}

pub fn flip_first_byte(b: &[u8]) -> Vec<u8> {
    let mut b = b.to_vec();
    b[0] ^= 0x01;
    b
}

/// `SHA-256("confide/audit/v1" ‖ prev ‖ canonical bytes)`: the hash of an entry written before
/// format 6, unchanged by the move (its sequence number is inside its bytes).
pub fn legacy_hash(prev: &[u8], entry: &[u8]) -> Vec<u8> {
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"confide/audit/v1");
    ctx.update(prev);
    ctx.update(entry);
    ctx.finish().as_ref().to_vec()
}

pub fn genesis(conn: &Connection) -> Vec<u8> {
    digest(&SHA256, &vault_id(conn)).as_ref().to_vec()
}

/// Shift `at` of entry `seq` by one millisecond (nothing else changes; the hash is left alone).
pub fn nudge_time(conn: &Connection, seq: i64) {
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
pub fn assert_chain_consistent(conn: &Connection) -> usize {
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

/// The message a checkpoint of version 2 signs: "confide/checkpoint/v2" ‖ vault id ‖ seq
/// (u64 BE) ‖ hash ‖ at (i64 BE) ‖ state (one byte).
pub fn checkpoint_message(vault: &[u8], seq: i64, hash: &[u8], at: i64, state: i64) -> Vec<u8> {
    let mut m = b"confide/checkpoint/v2".to_vec();
    m.extend_from_slice(vault);
    m.extend_from_slice(&u64::try_from(seq).unwrap().to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&at.to_be_bytes());
    m.push(u8::try_from(state).unwrap());
    m
}

/// The time and state code (1 open, 2 closed, 3 a backup's) a checkpoint of version 2 signs.
pub fn checkpoint_at_and_state(conn: &Connection, seq: i64) -> (i64, i64) {
    conn.query_row(
        "SELECT at, state FROM audit_checkpoints WHERE seq = ?1",
        [seq],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .unwrap()
}

/// A fresh Ed25519 key pair that is not the vault's.
pub fn other_key() -> Ed25519KeyPair {
    let rng = ring::rand::SystemRandom::new();
    let doc = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
    Ed25519KeyPair::from_pkcs8(doc.as_ref()).unwrap()
}

pub fn replace_public_key(conn: &Connection, key: &Ed25519KeyPair) {
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
pub struct Verdict {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run_verify(path: &Path, anchor: Option<&Path>, json: bool) -> Verdict {
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

pub fn read_anchor(file: &Path) -> Anchor {
    Anchor::from_json(&std::fs::read_to_string(file).unwrap()).unwrap()
}

pub fn verify_lib(path: &Path, anchor: Option<&Path>) -> VerifyReport {
    let opts = VerifyOptions {
        anchor: anchor.map(read_anchor),
        ..Default::default()
    };
    confide::verify_audit_log_with(path, &opts).unwrap()
}

/// The `seq N: ...` lines of the text report.
pub fn finding_lines(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  seq "))
        .map(|l| format!("seq {l}"))
        .collect()
}

/// The binary (exit code, first break, finding lines) and the library (typed findings) both
/// find exactly `expected`, in sequence order; the binary's warning lines are the report's
/// warnings. Returns the library's report.
pub fn check(path: &Path, anchor: Option<&Path>, expected: &[Finding], what: &str) -> VerifyReport {
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
pub fn assert_could_not_run(path: &Path, anchor: Option<&Path>, what: &str) -> String {
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
pub fn confide_anchor(vault: &Path, out: &Path) -> (i32, String) {
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
pub fn anchor_to(vault: &Path, out: &Path) -> Anchor {
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

pub fn at(seq: i64, kind: FindingKind) -> Finding {
    Finding {
        seq: u64::try_from(seq).unwrap(),
        kind,
    }
}

/// The log ends at `last`, before the signed head at `checkpoint`.
pub fn truncated(checkpoint: i64, last: i64) -> Finding {
    at(
        checkpoint,
        FindingKind::Truncated {
            last: u64::try_from(last).unwrap(),
        },
    )
}

pub fn unclean(opened: i64) -> Warning {
    Warning::UncleanShutdown {
        opened: u64::try_from(opened).unwrap(),
    }
}

/// `audit-verify --json`: exits `code` and prints a report of the documented schema.
pub fn json_verify(path: &Path, anchor: Option<&Path>, code: i32) -> Json {
    let v = run_verify(path, anchor, true);
    assert_eq!(v.code, code, "{v:#?}");
    let out: Json =
        serde_json::from_str(&v.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", v.stdout));
    assert_eq!(out["schema"], "confide-audit-verify/v1");
    out
}
