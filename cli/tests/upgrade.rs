//! `confide upgrade VAULT`: opens (and so upgrades) a vault, lists the consents the upgrade to
//! format 9 narrowed and says what the upgrade to format 10 signed, as the library lists them.

mod common;
#[path = "../../tests/common/upgraded.rs"]
mod upgraded;

use std::process::Command;

use common::*;
use confide::Purpose;
use upgraded::*;

fn upgrade(path: &std::path::Path) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_confide"))
        .arg("upgrade")
        .arg(path)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

#[test]
fn the_upgrade_prints_each_narrowed_consent() {
    let p = Practice::new();
    let (client, narrowed) = {
        let dr = p.login("dr.a");
        let client = new_client(&dr, "Avery Quinn");
        let to = to_user(p.login("dr.b").user_id());
        (
            client,
            dr.record_consent(&client, &to, Purpose::Treatment).unwrap(),
        )
    };
    let Practice { dir, path, vault } = p;
    drop(vault);
    as_format_8(&path, &[narrowed]);
    let (ok, out) = upgrade(&path);
    assert!(ok, "{out}");
    assert!(
        out.contains(&format!("is at format {}", confide::FORMAT_VERSION)),
        "{out}"
    );
    let line = out.lines().find(|l| l.starts_with("consent ")).unwrap();
    assert!(
        line.contains(&narrowed.to_string()) && line.contains(&client.to_string()),
        "{out}"
    );
    assert!(line.contains("audit entry #"), "{out}");
    assert!(
        !line.contains("#-"),
        "logged at the upgrade's own open: {out}"
    );
    drop(dir);
}

#[test]
fn a_current_vault_has_nothing_narrowed() {
    let p = Practice::new();
    let Practice { dir, path, vault } = p;
    drop(vault);
    let (ok, out) = upgrade(&path);
    assert!(
        ok && out.contains("no consent's reach was narrowed"),
        "{out}"
    );
    assert!(out.contains("no entry was signed by an upgrade"), "{out}");
    drop(dir);
}

/// The format-1 fixture (tests/compat.rs): one diagnosis and one psychotherapy note, signed by
/// the upgrade, counted on one line that names the entry saying so; the same line on a second
/// run, which logs nothing more.
#[test]
fn the_upgrade_says_how_many_entries_it_signed_and_where_the_log_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vault");
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/format1.vault"
    );
    std::fs::copy(fixture, &path).unwrap();
    let (ok, out) = upgrade(&path);
    assert!(ok, "{out}");
    let logged: Vec<u64> = confide::read_audit_log(&path, &confide::AuditFilter::default())
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.action == "history.signed_by_upgrade")
        .map(|e| e.seq)
        .collect();
    assert_eq!(logged.len(), 1, "{logged:?}");
    let want = format!(
        "the upgrade to format 10 signed 1 clinical entry and 1 psychotherapy note written \
         before it (never written again; corrected by addenda); audit entry #{}",
        logged[0]
    );
    assert!(out.lines().any(|l| l == want), "{want:?} not in\n{out}");
    let (ok, again) = upgrade(&path);
    assert!(ok && again.lines().any(|l| l == want), "{again}");
    let entries = confide::read_audit_log(&path, &confide::AuditFilter::default())
        .unwrap()
        .entries;
    assert_eq!(
        entries
            .iter()
            .filter(|e| e.action == "history.signed_by_upgrade")
            .count(),
        1
    );
}
