//! The witness through the real binaries: `audit-verify` holds a vault to the witness beside it
//! (`VAULT.witness`) or to the one named by `--witness`, and reports, with exit 1 and the
//! sequence number in `--json`, a log cut back with its checkpoints, a fork, the witness cut
//! back; `confide backup` seals the copy as a backup's, and `confide restore` records the
//! restore in the witness beside the vault, so only an unrecorded rollback is a finding. A
//! witness file that is not this vault's is exit 2.
//!
//! The vaults do a morning's timed work (`tests/common/timed.rs`) and are edited with SQLite
//! directly, as someone with write access to the files would.

#[path = "common/checkpointed.rs"]
mod checkpointed;
mod common;
#[path = "../../tests/common/timed.rs"]
mod timed;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use checkpointed::{delete_checkpoints_after, delete_entries_after, nudge_time, raw};
use common::{ADMIN_PASS, audit_sql, audit_verify, test_config};
use confide::{Passphrase, Purpose, Vault, VaultConfig};
use serde_json::Value as Json;
use timed::{Timed, morning_with};

fn witness_of(vault: &Path) -> PathBuf {
    let mut p = vault.as_os_str().to_owned();
    p.push(".witness");
    PathBuf::from(p)
}

fn witnessed(vault: &Path) -> VaultConfig {
    test_config().with_witness(witness_of(vault))
}

/// `audit-verify --json [--witness FILE] VAULT`: (exit code, report).
fn verify_json(vault: &Path, witness: Option<&Path>) -> (i32, Json) {
    let mut args: Vec<&OsStr> = vec![OsStr::new("--json")];
    if let Some(w) = witness {
        args.extend([OsStr::new("--witness"), w.as_os_str()]);
    }
    args.push(vault.as_os_str());
    let (code, stdout, stderr) = audit_verify(&args);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    (code, report)
}

/// The findings of a report as (seq, kind).
fn findings(report: &Json) -> Vec<(i64, String)> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["seq"].as_i64().unwrap(),
                f["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The witness's lines: (event, seq).
fn lines(witness: &Path) -> Vec<(String, i64)> {
    std::fs::read_to_string(witness)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            (f[1].to_owned(), f[3].parse().unwrap())
        })
        .collect()
}

/// A copy of the vault and of its witness, side by side (so the copy finds its witness).
fn copy_both(t: &Timed, name: &str) -> PathBuf {
    let to = t.file(name);
    std::fs::copy(&t.path, &to).unwrap();
    std::fs::copy(witness_of(&t.path), witness_of(&to)).unwrap();
    to
}

fn confide_cli(args: &[&OsStr]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_confide"))
        .args(args)
        .env("CONFIDE_PASSPHRASE", ADMIN_PASS)
        .env("CONFIDE_KDF", "64,1,1")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_witness_beside_a_vault_is_used_and_a_cut_tail_is_found_against_it() {
    let t = morning_with(witnessed, 10);
    let (code, report) = verify_json(&t.path, None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["witness"], witness_of(&t.path).display().to_string());
    assert_eq!(report["warnings"], serde_json::json!([]));
    let (_, stdout, _) = audit_verify(&[t.path.as_os_str()]);
    assert!(
        stdout.contains(&format!(
            "held to the witness {}",
            witness_of(&t.path).display()
        )),
        "{stdout}"
    );

    // The last entries and the checkpoints that covered them cut, at a checkpoint: intact on
    // its own (no witness given, none beside), not against the witness.
    let r = &t.reads;
    let cut = t.file("cut.vault");
    std::fs::copy(&t.path, &cut).unwrap();
    let conn = raw(&cut);
    delete_entries_after(&conn, r[6]);
    delete_checkpoints_after(&conn, r[6]);
    drop(conn);
    let (code, report) = verify_json(&cut, None);
    assert_eq!((code, report["witness"].clone()), (0, Json::Null));
    let (code, report) = verify_json(&cut, Some(&witness_of(&t.path)));
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(findings(&report), [(t.close, "truncated".to_owned())]);
    assert!(
        report["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains(&format!("ends at seq {}", r[6]))
    );
    // The same, found by the witness beside it.
    let beside = copy_both(&t, "cut-beside.vault");
    let conn = raw(&beside);
    delete_entries_after(&conn, r[6]);
    delete_checkpoints_after(&conn, r[6]);
    drop(conn);
    let (code, report) = verify_json(&beside, None);
    assert_eq!(
        (code, findings(&report)),
        (1, vec![(t.close, "truncated".into())])
    );
}

#[test]
fn a_fork_and_the_witness_cut_back_are_found_with_their_sequence_numbers() {
    let t = morning_with(witnessed, 8);
    let r = &t.reads;
    // Rewritten from the fourth read on and rechained, the checkpoints that no longer fit
    // deleted, the close made to say it signed none: consistent in itself.
    let forked = copy_both(&t, "forked.vault");
    let conn = raw(&forked);
    nudge_time(&conn, r[3]);
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'fields', '') \
         WHERE audit_part(entry, 'action') = 'vault.close'",
        [],
    )
    .unwrap();
    audit_sql::rehash_from(&conn, r[3]);
    delete_checkpoints_after(&conn, r[3] - 1);
    drop(conn);
    let (code, report) = verify_json(&forked, Some(&t.file("none.witness")));
    assert_eq!(code, 2, "no such witness: cannot run");
    std::fs::write(t.file("empty.witness"), "").unwrap();
    let (code, _) = verify_json(&forked, Some(&t.file("empty.witness")));
    assert_eq!(code, 0, "an empty witness holds it to nothing");
    let (code, report2) = verify_json(&forked, None);
    assert_eq!(code, 1, "{report2:#}");
    assert_eq!(findings(&report2), [(r[3], "forked".to_owned())]);
    drop(report);

    // The witness cut back by two lines: the vault signed checkpoints it lacks.
    let cut = copy_both(&t, "witness-cut.vault");
    let w = witness_of(&cut);
    let text = std::fs::read_to_string(&w).unwrap();
    let all: Vec<&str> = text.lines().collect();
    std::fs::write(&w, all[..all.len() - 2].join("\n") + "\n").unwrap();
    let (code, report) = verify_json(&cut, None);
    assert_eq!(code, 1, "{report:#}");
    let missing = lines(&witness_of(&t.path))[all.len() - 2].1;
    assert_eq!(
        findings(&report),
        [(missing, "witness-truncated".to_owned())]
    );
}

#[test]
fn confide_restore_is_recorded_in_the_witness_and_an_unrecorded_rollback_is_found() {
    let (t, vault, dr, dx) = timed::working(witnessed, 3);
    drop(dr);
    vault.close().unwrap();
    // A backup through the command line (it uses the witness beside the vault): sealed as a
    // backup's, it verifies clean on its own.
    let backup = t.file("morning.backup");
    let (code, stdout, stderr) = confide_cli(&[
        OsStr::new("backup"),
        t.path.as_os_str(),
        backup.as_os_str(),
        OsStr::new("--user"),
        OsStr::new("admin"),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, report) = verify_json(&backup, None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["warnings"], serde_json::json!([]));
    assert!(lines(&witness_of(&t.path)).iter().any(|l| l.0 == "backup"));
    // More work after it.
    let config = witnessed(&t.path).with_test_clock(t.clock);
    let vault = Vault::open(&t.path, config).unwrap();
    let dr = vault
        .unlock("dr.a", &Passphrase::new(common::CLIN_PASS))
        .unwrap();
    for _ in 0..2 {
        timed::pass(t.clock, &t.path, timed::PACE);
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    }
    drop(dr);
    vault.close().unwrap();

    // The backup copied over the vault by hand: a rollback the witness never heard of.
    let rolled = copy_both(&t, "rolled.vault");
    std::fs::copy(&backup, &rolled).unwrap();
    let (code, report) = verify_json(&rolled, None);
    assert_eq!(code, 1, "{report:#}");
    let kinds: Vec<String> = findings(&report).into_iter().map(|f| f.1).collect();
    assert_eq!(kinds, ["truncated"]);

    // `confide restore`: recorded in the witness beside the vault, so no finding.
    let (code, stdout, stderr) = confide_cli(&[
        OsStr::new("restore"),
        backup.as_os_str(),
        t.path.as_os_str(),
        OsStr::new("--user"),
        OsStr::new("admin"),
    ]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        lines(&witness_of(&t.path))
            .iter()
            .any(|l| l.0 == "restored")
    );
    let (code, report) = verify_json(&t.path, None);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(findings(&report), []);
}

#[test]
fn a_witness_that_is_not_this_vaults_cannot_be_checked() {
    let ours = morning_with(witnessed, 2);
    let theirs = morning_with(witnessed, 2);
    for (name, witness) in [
        ("another vault's", witness_of(&theirs.path)),
        ("not a witness", {
            let f = ours.file("garbage.witness");
            std::fs::write(&f, "this is no witness\n").unwrap();
            f
        }),
    ] {
        let (code, report) = verify_json(&ours.path, Some(&witness));
        assert_eq!(code, 2, "{name}: {report:#}");
        assert_eq!(report["status"], "error", "{name}");
    }
}
