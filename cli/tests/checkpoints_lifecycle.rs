//! The open/close markers and the signing key over a vault's life: an opening never closed is
//! an unclean-shutdown warning, not tampering; and a vault from before checkpoints verifies,
//! then gains a key and signed checkpoints without its old entries changing.
//!
//! Each test builds a vault with `checkpoint_every = 5`, closes it, and then edits the file with
//! SQLite directly, as an attacker with write access to the file (and knowledge of the public
//! hash format, but not of the audit signing key) would (`common/checkpointed.rs`).

#[path = "common/checkpointed.rs"]
mod checkpointed;
mod common;

use std::path::Path;

use checkpointed::*;
use common::{CLIN_PASS, new_client};
use confide::{Passphrase, Purpose, RecordId, Vault, Warning};
use serde_json::Value as Json;

// ---------------------------------------------------------------------------------------------
// 1. Unclean shutdown
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
// 2. A vault from before checkpoints
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
    // The entries of format 1 have waited far longer than `seal_within`: they are sealed as
    // soon as the key is made, by the background sealer (at the key's entry) or by the first
    // append after it, or both when the sealer's checkpoint commits while that append decides.
    let first: Vec<i64> = cps
        .iter()
        .copied()
        .take_while(|s| *s <= created + 1)
        .collect();
    assert!(
        !first.is_empty() && first.iter().all(|s| [created, created + 1].contains(s)),
        "audit.key_create at {created}: {cps:?}"
    );
    let mut want = first;
    want.extend((created + 2..=last).filter(|s| s % EVERY == 0));
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
