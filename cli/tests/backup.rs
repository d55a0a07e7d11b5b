//! Backups through the real binaries: a backup taken during writes restores to a vault that
//! `audit-verify` finds intact, and `confide backup` / `confide restore` on the command line.
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use confide::{Passphrase, Purpose, RecordKind, RestoreOptions, Value, Vault};

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s)
}

fn actions(path: &std::path::Path) -> Vec<String> {
    let v = Vault::open(path, test_config()).unwrap();
    let admin = v.unlock("admin", &pass(ADMIN_PASS)).unwrap();
    admin
        .audit_tail(100_000)
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[test]
fn a_backup_taken_during_writes_restores_to_a_vault_that_verifies_and_reads_back() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Backed Up Client");
    let first = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("before the backup"))],
            Purpose::Treatment,
        )
        .unwrap();

    // A clinician keeps writing while the administrator backs up.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) && n < 500 {
                dr.update_record(
                    &first,
                    &[("summary", Value::text(format!("version {n}")))],
                    Purpose::Treatment,
                )
                .unwrap();
                n += 1;
            }
            n
        })
    };
    let out = p.dir.path().join("practice.backup");
    let summary = p.admin().backup(&out).unwrap();
    stop.store(true, Ordering::Relaxed);
    assert!(writer.join().unwrap() > 0);
    assert_eq!(summary.path, out);
    assert!(summary.bytes > 0);

    // The copy verifies on its own, without a passphrase, and holds the entry of its own making
    // (writes committed while it was read may follow that entry).
    let (code, stdout, stderr) = audit_verify(&[out.as_os_str()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains("warning"), "{stdout}");
    let report = confide::verify_audit_log(&out).unwrap();
    assert!(report.seq_range.is_some_and(|r| r.1 >= summary.audit_seq));
    // Sealed as a complete copy at its last entry, whatever was written meanwhile: no
    // unclean shutdown, no unsigned tail.
    assert_eq!(report.warnings, vec![]);
    assert_eq!(report.last_checkpoint, report.seq_range.map(|r| r.1));
    // Still encrypted: no plaintext in the backup's bytes.
    let bytes = std::fs::read(&out).unwrap();
    assert!(!bytes.windows(17).any(|w| w == b"before the backup"));
    assert!(!bytes.windows(16).any(|w| w == b"Backed Up Client"));

    // Restored to a new place, it opens, reads back, and records the restore.
    let to = p.dir.path().join("restored.vault");
    let restored = Vault::restore(
        &out,
        &to,
        "admin",
        &pass(ADMIN_PASS),
        test_config(),
        RestoreOptions::default(),
    )
    .unwrap();
    assert_eq!(restored.id(), p.vault.id());
    let dr = restored.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    let read = dr.read_record(&first, Purpose::Treatment).unwrap();
    assert!(read.get("summary").is_some());
    drop((dr, restored));
    let restored_log = actions(&to);
    assert_eq!(restored_log[summary.audit_seq as usize - 1], "vault.backup");
    assert!(restored_log.contains(&"vault.restore".to_string()));
    let report = confide::verify_audit_log(&to).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.warnings, vec![]);
    // And the source recorded the backup.
    assert!(actions(p.path()).contains(&"vault.backup".to_string()));
}

fn confide_cli(args: &[&std::ffi::OsStr], passphrase: &str) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_confide"))
        .args(args)
        .env("CONFIDE_PASSPHRASE", passphrase)
        // The test vault's cheap KDF costs, so a login does not raise them to the defaults.
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
fn the_command_line_backs_up_and_restores() {
    let p = Practice::new();
    let id = p.vault.id();
    let out = p.dir.path().join("cli.backup");
    let to = p.dir.path().join("cli-restored.vault");
    let os = |s: &'static str| std::ffi::OsStr::new(s);

    let (code, stdout, stderr) = confide_cli(
        &[
            os("backup"),
            p.path().as_os_str(),
            out.as_os_str(),
            os("--user"),
            os("admin"),
        ],
        ADMIN_PASS,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains(&id.to_string()), "{stdout}");

    // A second backup to the same file is refused, exit 2, without the demo's --force hint.
    let (code, _, stderr) = confide_cli(
        &[
            os("backup"),
            p.path().as_os_str(),
            out.as_os_str(),
            os("--user"),
            os("admin"),
        ],
        ADMIN_PASS,
    );
    assert_eq!(code, 2);
    assert!(!stderr.contains("--force"), "{stderr}");

    // A wrong passphrase restores nothing.
    let (code, _, _) = confide_cli(
        &[
            os("restore"),
            out.as_os_str(),
            to.as_os_str(),
            os("--user"),
            os("admin"),
        ],
        "not the admin passphrase",
    );
    assert_eq!(code, 2);
    assert!(!to.exists());

    let to2 = p.dir.path().join("cli-restored-2.vault");
    let (code, stdout, stderr) = confide_cli(
        &[
            os("restore"),
            out.as_os_str(),
            to2.as_os_str(),
            os("--user"),
            os("admin"),
        ],
        ADMIN_PASS,
    );
    assert_eq!(code, 0, "{stdout}{stderr}");
    let (code, stdout, stderr) = audit_verify(&[to2.as_os_str()]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert_eq!(confide::vault_id_of(&to2).unwrap(), id);
}
