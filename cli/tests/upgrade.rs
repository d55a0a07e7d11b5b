//! `confide upgrade VAULT`: opens (and so upgrades) a vault and lists the consents the upgrade
//! to format 9 narrowed, as the library lists them.

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
    drop(dir);
}
