//! The accounting of disclosures through `confide accounting`: the same lines as the library's
//! (tests/accounting.rs), as text and JSON, and a passphrase refused without a panic.

mod common;
#[path = "../../tests/common/releases.rs"]
mod releases;
#[path = "../../tests/common/stories.rs"]
mod stories;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;
use releases::*;
use stories::*;

fn confide_cli(args: &[&str], passphrase: Option<&str>, stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confide"));
    cmd.args(args)
        .env_remove("CONFIDE_PASSPHRASE")
        // The test vault's cheap KDF costs, so a login does not raise them to the defaults.
        .env("CONFIDE_KDF", "64,1,1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::piped());
    if let Some(p) = passphrase {
        cmd.env("CONFIDE_PASSPHRASE", p);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        // Dropped: stdin closes.
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_lists_accountable_only(r: &Released, out: &Output) {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout}\nstderr {stderr}"
    );
    assert!(stdout.contains(&r.jordan.to_string()), "{stdout}");
    for made in &r.accountable {
        assert!(stdout.contains(&made.recipient.name), "{stdout}");
        assert!(stdout.contains(&made.recipient.address), "{stdout}");
        assert!(stdout.contains(made.basis.code()), "{stdout}");
        assert!(stdout.contains(&made.description), "{stdout}");
    }
    for made in r.exempt.iter().chain([&r.rileys]) {
        assert!(
            !stdout.contains(&made.recipient.name),
            "{} recipient in {stdout}",
            made.basis
        );
        assert!(
            !stdout.contains(&made.description),
            "{} release in {stdout}",
            made.basis
        );
    }
    for basis in ["authorization", "treatment-with-consent", "payment"] {
        assert!(
            !stdout.contains(&format!("basis {basis}")),
            "{basis} in {stdout}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn cli_prints_the_accounting_while_the_vault_is_open() {
    let r = released();
    // Sessions and the vault stay open: WAL lets the command read alongside.
    let dr = r.p.login("dr.a");
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let args = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let out = confide_cli(&args, Some(CLIN_PASS), None);
    assert_lists_accountable_only(&r, &out);
    let stdout = text(&out.stdout);
    for made in &r.accountable {
        assert!(
            stdout.contains(&format!("(audit entry #{})", made.seq())),
            "{stdout}"
        );
    }
    // The command's own read is audited, under dr.a.
    let last = entries(&r.p, "accounting.read").pop().unwrap();
    assert_eq!(last.actor, Some(dr.user_id()));
    assert!(last.outcome.starts_with("granted"));
    assert_log_intact(&r.p);
}

#[test]
fn cli_json_parses_into_the_same_lines() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let out = confide_cli(
        &[
            "accounting",
            "--vault",
            &path,
            "--user",
            "dr.a",
            "--client",
            &client,
            "--json",
        ],
        Some(CLIN_PASS),
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout}\nstderr {}",
        text(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let lines = parsed.as_array().expect("a JSON list");
    assert_eq!(lines.len(), r.accountable.len(), "{stdout}");
    for (line, made) in lines.iter().zip(&r.accountable) {
        assert_eq!(line["legal_basis"], made.basis.code());
        assert_eq!(line["audit_seq"], made.seq());
        assert_eq!(line["purpose"], made.purpose.code());
        assert_eq!(line["recipient"]["name"], made.recipient.name.as_str());
        assert_eq!(
            line["recipient"]["organisation"],
            made.recipient.organisation.as_str()
        );
        assert_eq!(
            line["recipient"]["address"],
            made.recipient.address.as_str()
        );
        assert_eq!(
            line["disclosed_at"],
            made.package.manifest.released_at.as_str()
        );
        assert!(
            line["description"]
                .as_str()
                .unwrap()
                .contains(&made.description)
        );
    }
    // The library gives the same lines.
    let library = r.p.login("dr.a").accounting(&r.jordan, None).unwrap();
    let via_library: serde_json::Value = serde_json::to_value(&library).unwrap();
    assert_eq!(&via_library, &parsed);
}

#[test]
fn cli_since_bounds_the_period() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let run = |since: &str| {
        confide_cli(
            &[
                "accounting",
                "--vault",
                &path,
                "--user",
                "dr.a",
                "--client",
                &client,
                "--since",
                since,
                "--json",
            ],
            Some(CLIN_PASS),
            None,
        )
    };
    let old = run("2000-01-01");
    assert_eq!(old.status.code(), Some(0), "{}", text(&old.stderr));
    let all: serde_json::Value = serde_json::from_slice(&old.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), r.accountable.len());

    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    let tomorrow = format!(
        "{:04}-{:02}-{:02}",
        tomorrow.year(),
        u8::from(tomorrow.month()),
        tomorrow.day()
    );
    let none = run(&tomorrow);
    assert_eq!(none.status.code(), Some(0), "{}", text(&none.stderr));
    let none: serde_json::Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);

    let bad = run("next tuesday");
    assert_ne!(bad.status.code(), Some(0));
    assert!(!text(&bad.stderr).contains("panicked"));
}

#[test]
fn cli_refuses_a_wrong_passphrase_without_panicking() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let args = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let out = confide_cli(&args, Some("not the passphrase"), None);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        matches!(out.status.code(), Some(c) if c != 0),
        "exit {:?}",
        out.status
    );
    assert!(!stderr.trim().is_empty(), "no error on stderr");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for made in &r.accountable {
        assert!(!stdout.contains(&made.recipient.name), "{stdout}");
    }
    // The failed login is audited, under dr.a.
    let dr_a = r.p.login("dr.a").user_id();
    let failed: Vec<_> = entries(&r.p, "login")
        .into_iter()
        .filter(|e| e.actor == Some(dr_a) && e.outcome.starts_with("failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].outcome, "failed:bad-passphrase");

    // A user who is refused the accounting also exits non-zero, with no line printed.
    let out = confide_cli(
        &[
            "accounting",
            "--vault",
            &path,
            "--user",
            "dr.b",
            "--client",
            &client,
        ],
        Some(CLIN_PASS),
        None,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0));
    assert!(!stderr.trim().is_empty());
    assert!(!stderr.contains("panicked"), "{stderr}");
    for made in &r.accountable {
        assert!(!stdout.contains(&made.recipient.name), "{stdout}");
    }
}

#[test]
fn cli_reads_the_passphrase_from_stdin_without_the_env_var() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let args = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let out = confide_cli(&args, None, Some(&format!("{CLIN_PASS}\n")));
    assert_lists_accountable_only(&r, &out);
    // And a wrong one on stdin is refused.
    let out = confide_cli(&args, None, Some("wrong\n"));
    assert_ne!(out.status.code(), Some(0));
    assert!(!text(&out.stderr).contains("panicked"));
}
