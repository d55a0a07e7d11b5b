//! Checkpoints deleted, without a witness: what the log itself still shows, through the real
//! `audit-verify` binary (its `--json` report) and the library's typed report.
//!
//! Each test does a morning's timed work (`common/timed.rs`: a read every ten seconds, each
//! sealed within the vault's five seconds, then a clean close) and edits the file with SQLite
//! directly, as an attacker with write access to it would. Found: a clean close whose
//! checkpoint is gone, and a run of entries written past the time a checkpoint was due with
//! none left (so every checkpoint deleted is never exit 0 for a vault that was closed or used
//! for more than a minute). Not found, and documented: a log cut back exactly to one of its
//! checkpoints, with the later ones deleted, is a valid prefix, which only a witness tells
//! from a vault that stopped there (`witness.rs`).

#[path = "common/checkpointed.rs"]
mod checkpointed;
mod common;
#[path = "../../tests/common/timed.rs"]
mod timed;

use std::time::Duration;

use checkpointed::{at, check, delete_checkpoints_after, delete_entries_after, json_verify, raw};
use common::{CLIN_PASS, test_config};
use confide::{FindingKind, Passphrase, Purpose, Vault, Warning};
use serde_json::json;
use timed::{Timed, head, morning};

fn seal_missing(seq: i64, since: i64) -> confide::Finding {
    at(
        seq,
        FindingKind::SealMissing {
            since: u64::try_from(since).unwrap(),
        },
    )
}

fn copy(t: &Timed, name: &str) -> std::path::PathBuf {
    let to = t.file(name);
    std::fs::copy(&t.path, &to).unwrap();
    to
}

#[test]
fn a_clean_close_whose_checkpoint_was_deleted_is_found_at_the_close() {
    let t = morning(8);
    check(&t.path, None, &[], "untouched");
    let p = copy(&t, "close-checkpoint-deleted.vault");
    delete_checkpoints_after(&raw(&p), t.close - 1);
    let r = check(
        &p,
        None,
        &[at(t.close, FindingKind::CloseUnsealed)],
        "the close's checkpoint deleted",
    );
    // The close itself may wait for nobody; it is the checkpoint that says so which is gone.
    assert_eq!(r.warnings, vec![Warning::UnsignedTail { entries: 1 }]);
    let out = json_verify(&p, None, 1);
    assert_eq!(
        out["findings"],
        json!([{
            "seq": t.close,
            "kind": "close-unsealed",
            "message": FindingKind::CloseUnsealed.to_string(),
        }])
    );
}

#[test]
fn the_last_entries_and_the_checkpoints_of_their_last_minutes_cut_leave_a_late_run() {
    let t = morning(20);
    let r = &t.reads;
    // The attacker wants the last five reads gone: deletes them and the close, and every
    // checkpoint since the seventh read (not knowing exactly which covered what). The eighth
    // read and those after it are left unsealed, yet the fifteenth was written seventy seconds
    // after the eighth: any vault would have sealed by then.
    let p = copy(&t, "cut.vault");
    let conn = raw(&p);
    delete_entries_after(&conn, r[14]);
    delete_checkpoints_after(&conn, r[6]);
    drop(conn);
    let report = check(
        &p,
        None,
        &[seal_missing(r[14], r[7])],
        "tail and checkpoints cut",
    );
    assert_eq!(
        report.warnings.first(),
        Some(&checkpointed::unclean(t.opened))
    );
    let out = json_verify(&p, None, 1);
    assert_eq!(out["findings"][0]["seq"], r[14]);
    assert_eq!(out["findings"][0]["kind"], "seal-missing");

    // Cut sixty seconds' worth fewer: the run from the eighth read to the fourteenth spans
    // sixty seconds, within what a vault may wait, so it is a crash to the verifier.
    let p = copy(&t, "cut-shorter.vault");
    let conn = raw(&p);
    delete_entries_after(&conn, r[13]);
    delete_checkpoints_after(&conn, r[6]);
    drop(conn);
    check(&p, None, &[], "a run of sixty seconds");
}

#[test]
fn every_checkpoint_deleted_is_found() {
    let t = morning(10);
    let p = copy(&t, "no-checkpoints.vault");
    raw(&p)
        .execute("DELETE FROM audit_checkpoints", [])
        .unwrap();
    // From the opening (which says it seals in time) nothing is covered: the first entry of a
    // logged-in session written more than a minute later (the seventh read, seventy seconds
    // after the opening), and the close that signed its own checkpoint.
    let expected = [
        seal_missing(t.reads[6], t.opened),
        at(t.close, FindingKind::CloseUnsealed),
    ];
    let r = check(&p, None, &expected, "every checkpoint deleted");
    assert_eq!(r.checkpoints_checked, 0);
    let out = json_verify(&p, None, 1);
    assert_eq!(out["status"], "tampered");
    let kinds: Vec<_> = out["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["seq"].as_i64().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        kinds,
        [(t.reads[6], "seal-missing"), (t.close, "close-unsealed")]
    );

    // Never closed (the process died), every checkpoint deleted: the late run still shows.
    let (crashed, vault, dr, _) = timed::working(|_| test_config(), 10);
    std::mem::forget((vault, dr));
    let p = crashed.file("crashed-no-checkpoints.vault");
    checkpointed::copy_vault(&crashed.path, &p);
    raw(&p)
        .execute("DELETE FROM audit_checkpoints", [])
        .unwrap();
    check(
        &p,
        None,
        &[seal_missing(crashed.reads[6], crashed.opened)],
        "crashed, every checkpoint deleted",
    );
}

#[test]
fn a_log_cut_back_exactly_to_a_checkpoint_is_a_valid_prefix_without_a_witness() {
    let t = morning(20);
    let r = &t.reads;
    // The last entries cut with the checkpoints that covered them, at a checkpoint: the log
    // is one a vault could have left by crashing just after sealing there. Without a witness
    // (or an anchor taken later) this is all the verifier can say.
    let p = copy(&t, "clean-cut.vault");
    let conn = raw(&p);
    delete_entries_after(&conn, r[14]);
    delete_checkpoints_after(&conn, r[14]);
    drop(conn);
    let report = check(&p, None, &[], "cut back to a checkpoint");
    assert_eq!(report.warnings, vec![checkpointed::unclean(t.opened)]);
    // And one entry short of it: the last read's own checkpoint gone with what followed.
    let p = copy(&t, "one-short.vault");
    let conn = raw(&p);
    delete_entries_after(&conn, r[14]);
    delete_checkpoints_after(&conn, r[13]);
    drop(conn);
    let report = check(&p, None, &[], "the last entry's checkpoint cut");
    assert_eq!(
        report.warnings,
        vec![
            checkpointed::unclean(t.opened),
            Warning::UnsignedTail { entries: 1 }
        ]
    );
}

#[test]
fn a_crash_and_a_vault_left_at_its_login_screen_are_not_findings() {
    // A crash after a morning's work: the last read sealed, its opening never closed.
    let (t, vault, dr, dx) = timed::working(|_| test_config(), 8);
    dr.read_record(&dx, Purpose::Treatment).unwrap();
    std::mem::forget((vault, dr));
    let r = check(&t.path, None, &[], "crashed");
    assert_eq!(
        r.warnings,
        vec![
            checkpointed::unclean(t.opened),
            Warning::UnsignedTail { entries: 1 }
        ]
    );

    // Opened again and left at the login screen for three minutes, with failed attempts
    // (nobody holds the key: they wait), then a login and a read.
    let config = test_config().with_test_clock(t.clock);
    let vault = Vault::open(&t.path, config).unwrap();
    for _ in 0..3 {
        t.clock.advance(Duration::from_secs(60));
        assert!(
            vault
                .unlock("dr.a", &Passphrase::new("a wrong passphrase"))
                .is_err()
        );
    }
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    dr.read_record(&dx, Purpose::Treatment).unwrap();
    drop(dr);
    vault.close().unwrap();
    let r = check(&t.path, None, &[], "a slow morning");
    assert_eq!(r.warnings, vec![checkpointed::unclean(t.opened)]);
    assert_eq!(r.last_checkpoint, Some(head(&t.path) as u64));
}
