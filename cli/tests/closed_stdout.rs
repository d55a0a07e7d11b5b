//! A reader that goes away: `audit-verify VAULT | head -1`, `confide accounting ... | head`.
//! Each binary runs with stdout a pipe whose read end is already closed, on vaults whose
//! reports are long; it must stop writing quietly and exit with the code its work earned
//! (0 intact, 1 tampered, 2 could not run), never 101, and never panic.

mod common;
#[path = "../../tests/common/releases.rs"]
mod releases;
#[path = "../../tests/common/stories.rs"]
mod stories;

use std::ffi::OsStr;
use std::path::Path;
use std::process::{Command, Stdio};

use common::*;
use confide::{Purpose, RecordKind, Value};
use releases::*;

/// What a run with a closed stdout left: its exit code and its stderr (`None` when stderr was
/// closed too).
struct Run {
    code: Option<i32>,
    stderr: Option<String>,
}

/// Run `cmd` with stdout a pipe nobody reads: its read end is dropped as soon as the child is
/// spawned, before the child, which must first open and check a vault, writes anything. With
/// `close_stderr`, stderr goes the same way (`2>&1 | head`).
fn run_unread(mut cmd: Command, close_stderr: bool) -> Run {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    if close_stderr {
        drop(child.stderr.take());
    }
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code(),
        stderr: (!close_stderr).then(|| String::from_utf8_lossy(&out.stderr).into_owned()),
    }
}

#[track_caller]
fn assert_exits(run: &Run, code: i32, what: &str) {
    if let Some(stderr) = &run.stderr {
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        // Quietly: a reader that left is not an error to report.
        assert!(!stderr.contains("writing the output"), "{what}: {stderr}");
        if code == 0 {
            assert_eq!(stderr, "", "{what}");
        }
    }
    assert_eq!(run.code, Some(code), "{what}: stderr {:?}", run.stderr);
}

fn audit_verify_cmd(args: &[&OsStr]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_audit-verify"));
    cmd.args(args);
    cmd
}

fn confide_cmd(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confide"));
    cmd.args(args)
        .env("CONFIDE_PASSPHRASE", CLIN_PASS)
        // The test vault's cheap KDF costs, so a login does not raise them to the defaults.
        .env("CONFIDE_KDF", "64,1,1");
    cmd
}

/// A closed practice whose log is long: many record writes.
fn long_log() -> Practice {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Avery Quinn");
    for i in 0..150 {
        dr.create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(format!("session {i}")))],
            Purpose::Treatment,
        )
        .unwrap();
    }
    p
}

/// Every entry's time moved by a millisecond: each one is a finding.
fn tamper_every_entry(path: &Path) -> usize {
    raw(path)
        .execute(
            "UPDATE audit_log SET entry = audit_with(entry, 'at', audit_part(entry, 'at') + 1)",
            [],
        )
        .unwrap()
}

#[test]
fn audit_verify_keeps_its_exit_code_when_the_reader_goes_away() {
    let p = long_log();
    let intact = p.path().to_path_buf();
    let tampered = p.dir.path().join("tampered.vault");
    drop(p.vault);
    std::fs::copy(&intact, &tampered).unwrap();
    let edited = tamper_every_entry(&tampered);
    assert!(edited > 150, "{edited} entries");
    let missing = p.dir.path().join("missing.vault");

    // Read normally, the tampered report is long: more than one pipe write's worth of lines.
    let (code, stdout, _) = audit_verify(&[tampered.as_os_str()]);
    assert_eq!(code, 1);
    assert!(stdout.lines().count() > 100, "{stdout}");
    let (code, stdout, _) = audit_verify(&[OsStr::new("--json"), tampered.as_os_str()]);
    assert_eq!(code, 1);
    assert!(stdout.len() > 10_000, "{} bytes", stdout.len());

    let json = OsStr::new("--json");
    let show = OsStr::new("show");
    let cases: [(&str, Vec<&OsStr>, i32); 7] = [
        ("intact", vec![intact.as_os_str()], 0),
        ("intact, json", vec![json, intact.as_os_str()], 0),
        ("tampered", vec![tampered.as_os_str()], 1),
        ("tampered, json", vec![json, tampered.as_os_str()], 1),
        ("missing, json", vec![json, missing.as_os_str()], 2),
        ("show", vec![show, intact.as_os_str()], 0),
        ("show, tampered", vec![show, tampered.as_os_str()], 1),
    ];
    for (what, args, code) in &cases {
        let run = run_unread(audit_verify_cmd(args), false);
        assert_exits(&run, *code, what);
        let run = run_unread(audit_verify_cmd(args), true);
        assert_exits(&run, *code, &format!("{what}, stderr closed too"));
    }
}

#[test]
fn confide_keeps_its_exit_code_when_the_reader_goes_away() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let accounting = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let mut json = accounting.to_vec();
    json.push("--json");
    let missing = r.p.dir.path().join("missing.vault");
    let missing = missing.to_str().unwrap();
    let cases: [(&str, Vec<&str>, i32); 4] = [
        ("accounting", accounting.to_vec(), 0),
        ("accounting, json", json, 0),
        ("anchor to stdout", vec!["audit", "anchor", &path], 0),
        (
            "anchor of a missing vault",
            vec!["audit", "anchor", missing],
            2,
        ),
    ];
    for (what, args, code) in &cases {
        let run = run_unread(confide_cmd(args), false);
        assert_exits(&run, *code, what);
        let run = run_unread(confide_cmd(args), true);
        assert_exits(&run, *code, &format!("{what}, stderr closed too"));
    }
    // The accounting was produced (and audited) each time, though nobody read it.
    let filter = confide::AuditFilter {
        action: Some(confide::AuditAction::AccountingRead),
        ..confide::AuditFilter::default()
    };
    let reads = confide::read_audit_log(r.p.path(), &filter)
        .unwrap()
        .entries;
    assert_eq!(reads.len(), 4);
}

/// A report that cannot be written for another reason (a full disk under a redirect) is not a
/// reader going away: said on stderr, and the run could not do its job, exit 2.
#[cfg(target_os = "linux")]
#[test]
fn a_report_that_cannot_be_written_is_exit_2() {
    let p = Practice::new();
    let path = p.path().to_path_buf();
    drop(p.vault);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let out = audit_verify_cmd(&[path.as_os_str()])
        .stdout(Stdio::from(full))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("writing the output"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
