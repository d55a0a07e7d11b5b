//! A witness: every signed checkpoint appended to a second file, which takes only what extends
//! what it holds, and against which `verify_audit_log_with` holds the vault. Attack-shaped: the
//! vault or the witness edited with SQLite or by hand, as someone with write access to the
//! files would; a rollback, a fork, the tail cut with its checkpoints, the witness cut back. A
//! backup and its restore through the library, and an unrecorded rollback. A required witness
//! that cannot be reached fails its operation with a typed error; a best-effort one is logged
//! as unreachable and caught up later.
//!
//! The vaults do a morning's timed work (`common/timed.rs`): a read every ten seconds, each
//! sealed before the next. (`audit-verify --witness` runs in `cli/tests/witness.rs`.)

mod common;
#[path = "common/timed.rs"]
mod timed;

use std::path::{Path, PathBuf};

use common::{ADMIN_PASS, CLIN_PASS, raw, test_config};
use confide::{
    Error, Finding, FindingKind, Passphrase, Purpose, RestoreOptions, Vault, VaultConfig,
    VerifyOptions, VerifyReport, Warning, WitnessFile,
};
use timed::{Timed, head, morning_with, pass, sealed_to};

fn witness_of(vault: &Path) -> PathBuf {
    let mut p = vault.as_os_str().to_owned();
    p.push(".witness");
    PathBuf::from(p)
}

/// Best effort, at `<vault>.witness`.
fn witnessed(vault: &Path) -> VaultConfig {
    test_config().with_witness(witness_of(vault))
}

fn at(seq: i64, kind: FindingKind) -> Finding {
    Finding {
        seq: u64::try_from(seq).unwrap(),
        kind,
    }
}

/// Verify `vault` against the witness file `witness`.
fn against(vault: &Path, witness: &Path) -> VerifyReport {
    let opts = VerifyOptions {
        witness: Some(WitnessFile::read(witness).unwrap()),
        ..VerifyOptions::default()
    };
    confide::verify_audit_log_with(vault, &opts).unwrap()
}

/// The witness's lines: (event, seq, hash).
fn lines(witness: &Path) -> Vec<(String, i64, String)> {
    std::fs::read_to_string(witness)
        .unwrap()
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 8, "{l}");
            assert_eq!(f[0], "confide-witness/v1");
            (f[1].to_owned(), f[3].parse().unwrap(), f[4].to_owned())
        })
        .collect()
}

/// The vault's checkpoints of version 2: (state name, seq, hash).
fn checkpoints(vault: &Path) -> Vec<(String, i64, String)> {
    raw(vault)
        .prepare("SELECT state, seq, entry_hash FROM audit_checkpoints WHERE state IS NOT NULL ORDER BY seq")
        .unwrap()
        .query_map([], |r| {
            let state: i64 = r.get(0)?;
            let name = ["open", "closed", "backup"][usize::try_from(state - 1).unwrap()];
            Ok((name.to_owned(), r.get(1)?, hex::encode(r.get::<_, Vec<u8>>(2)?)))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn copy(t: &Timed, name: &str) -> PathBuf {
    let to = t.file(name);
    std::fs::copy(&t.path, &to).unwrap();
    to
}

/// Keep the first `n` lines of a witness (as someone cutting it back would), in a copy.
fn cut_witness(t: &Timed, name: &str, keep: impl Fn(usize, &str) -> bool) -> PathBuf {
    let text = std::fs::read_to_string(witness_of(&t.path)).unwrap();
    let kept: String = text
        .lines()
        .enumerate()
        .filter(|(i, l)| keep(*i, l))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    let to = t.file(name);
    std::fs::write(&to, kept).unwrap();
    to
}

fn audited(vault: &Path, action: &str) -> usize {
    let filter = confide::AuditFilter::default();
    confide::read_audit_log(vault, &filter)
        .unwrap()
        .entries
        .iter()
        .filter(|e| e.action == action)
        .count()
}

#[test]
fn every_checkpoint_reaches_the_witness_on_a_line_that_verifies_alone() {
    let t = morning_with(witnessed, 6);
    let w = witness_of(&t.path);
    // Every checkpoint the vault signed, in order, with its state: the witness began with the
    // first (the vault had none before it).
    assert_eq!(lines(&w), checkpoints(&t.path));
    assert_eq!(lines(&w).last().map(|l| l.0.as_str()), Some("closed"));
    let r = against(&t.path, &w);
    assert!(r.is_intact(), "{:?}", r.findings);
    assert_eq!(r.warnings, vec![]);

    // One changed character of one line: that line no longer verifies.
    let text = std::fs::read_to_string(&w).unwrap();
    let third = text.lines().nth(2).unwrap();
    let flipped = third.replacen(" open ", " closed ", 1);
    assert_ne!(flipped, third);
    let edited = t.file("edited.witness");
    std::fs::write(&edited, text.replacen(third, &flipped, 1)).unwrap();
    let seq = lines(&w)[2].1;
    let r = against(&t.path, &edited);
    assert_eq!(r.findings, vec![at(seq, FindingKind::WitnessForged)]);
    // A file that is no witness at all cannot be read.
    assert!(matches!(
        WitnessFile::parse(b"confide-witness/v1 open nonsense\n"),
        Err(Error::InvalidInput {
            what: "witness",
            ..
        })
    ));
}

#[test]
fn the_tail_and_its_checkpoints_cut_are_found_against_the_witness() {
    let t = morning_with(witnessed, 12);
    let w = witness_of(&t.path);
    let r = &t.reads;
    // Cut back exactly to a checkpoint, every later checkpoint deleted: a valid prefix, that
    // only the witness tells from a vault that stopped there (checkpoints_deleted.rs).
    let p = copy(&t, "cut.vault");
    let conn = raw(&p);
    conn.execute("DELETE FROM audit_log WHERE seq > ?1", [r[7]])
        .unwrap();
    conn.execute("DELETE FROM audit_checkpoints WHERE seq > ?1", [r[7]])
        .unwrap();
    drop(conn);
    assert!(confide::verify_audit_log(&p).unwrap().is_intact());
    let last = u64::try_from(r[7]).unwrap();
    let report = against(&p, &w);
    assert_eq!(
        report.findings,
        vec![at(t.close, FindingKind::Truncated { last })],
        "the newest witnessed head is past the end"
    );
}

#[test]
fn a_rollback_and_a_fork_are_found_against_the_witness_and_refused_by_it() {
    let (t, vault, dr, dx) = timed::working(witnessed, 4);
    let w = witness_of(&t.path);
    // A copy of the file taken now (closed copies are what a rollback puts back).
    drop(dr);
    vault.close().unwrap();
    let old = copy(&t, "old.vault");
    let old_end = head(&old);
    // More work, then the old copy put back over the vault.
    let vault = Vault::open(&t.path, witnessed(&t.path).with_test_clock(t.clock)).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    for _ in 0..3 {
        pass(t.clock, &t.path, timed::PACE);
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    }
    drop(dr);
    vault.close().unwrap();
    let witnessed_to = lines(&w).last().unwrap().1;
    std::fs::copy(&old, &t.path).unwrap();
    assert!(confide::verify_audit_log(&t.path).unwrap().is_intact());
    let last = u64::try_from(old_end).unwrap();
    assert_eq!(
        against(&t.path, &w).findings,
        vec![at(witnessed_to, FindingKind::Truncated { last })]
    );

    // Used again as it is: the witness refuses its checkpoints (the log does not hold the
    // witness's last head), the vault logs so once, and goes on (best effort). Grown past the
    // witnessed head, it is a fork.
    let before = lines(&w);
    let vault = Vault::open(&t.path, witnessed(&t.path).with_test_clock(t.clock)).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    while head(&t.path) <= witnessed_to {
        pass(t.clock, &t.path, timed::PACE);
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    }
    drop(dr);
    vault.close().unwrap();
    assert_eq!(lines(&w), before, "nothing was taken");
    assert_eq!(audited(&t.path, "witness.refused"), 1);
    let forked_at = before.iter().map(|l| l.1).find(|&s| s > old_end).unwrap();
    let r = against(&t.path, &w);
    assert_eq!(r.findings, vec![at(forked_at, FindingKind::Forked)]);

    // Required, it fails the operation that signed the checkpoint, with a typed error.
    let required = test_config()
        .with_required_witness(&w)
        .with_test_clock(t.clock);
    let vault = Vault::open(&t.path, required).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    t.clock.advance(timed::PACE);
    let refused = dr.read_record(&dx, Purpose::Treatment);
    assert!(
        matches!(refused, Err(Error::WitnessRefused { .. })),
        "{refused:?}"
    );
    drop((dr, vault));
}

#[test]
fn the_witness_cut_back_or_edited_is_found_against_the_vault() {
    let t = morning_with(witnessed, 8);
    let all = lines(&witness_of(&t.path));
    let n = all.len();
    // Its last two lines removed: the vault signed checkpoints that the witness, reachable
    // all along (the log says nothing else), lacks.
    let cut = cut_witness(&t, "cut.witness", |i, _| i + 2 < n);
    let r = against(&t.path, &cut);
    assert_eq!(
        r.findings,
        vec![at(all[n - 2].1, FindingKind::WitnessTruncated)]
    );
    // Only its last line removed: what a crash between the vault's commit and the witness's
    // append leaves too, so a warning.
    let short = cut_witness(&t, "short.witness", |i, _| i + 1 < n);
    let r = against(&t.path, &short);
    assert!(r.is_intact(), "{:?}", r.findings);
    let since = u64::try_from(all[n - 1].1).unwrap();
    assert_eq!(r.warnings, vec![Warning::WitnessBehind { since }]);
    // A line from the middle removed.
    let gap = cut_witness(&t, "gap.witness", |i, _| i != 3);
    let r = against(&t.path, &gap);
    assert_eq!(
        r.findings,
        vec![at(all[3].1, FindingKind::WitnessTruncated)]
    );
    // Two lines swapped: the later one is out of place.
    let text = std::fs::read_to_string(witness_of(&t.path)).unwrap();
    let mut swapped: Vec<&str> = text.lines().collect();
    swapped.swap(2, 3);
    let file = t.file("swapped.witness");
    std::fs::write(&file, swapped.join("\n") + "\n").unwrap();
    let r = against(&t.path, &file);
    assert_eq!(
        r.findings.first(),
        Some(&at(all[2].1, FindingKind::WitnessForged))
    );
    // Emptied: nothing to hold the vault to, which is all that can be said.
    let empty = cut_witness(&t, "empty.witness", |_, _| false);
    let r = against(&t.path, &empty);
    assert!(r.is_intact());
    assert_eq!(r.warnings, vec![Warning::WitnessEmpty]);
}

#[test]
fn a_backup_verifies_clean_and_its_restore_is_recorded_but_an_unrecorded_rollback_is_found() {
    let (t, vault, dr, dx) = timed::working(witnessed, 3);
    let w = witness_of(&t.path);
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    let backup = t.file("morning.backup");
    let summary = admin.backup(&backup).unwrap();
    drop(admin);
    // The backup: a prefix of the live log, ending at a checkpoint the witness holds.
    let report = confide::verify_audit_log(&backup).unwrap();
    assert!(
        report.is_intact() && report.warnings.is_empty(),
        "{report:?}"
    );
    let end = i64::try_from(summary.audit_seq).unwrap();
    assert!(lines(&w).iter().any(|l| l.0 == "backup" && l.1 == end));
    for _ in 0..3 {
        pass(t.clock, &t.path, timed::PACE);
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    }
    drop(dr);
    vault.close().unwrap();
    // Against the live witness, the backup is what it is: a log rolled back.
    let r = against(&backup, &w);
    assert!(matches!(
        r.findings[..],
        [Finding {
            kind: FindingKind::Truncated { .. },
            ..
        }]
    ));

    // Put back by hand (a copy over the vault): an unrecorded rollback.
    let by_hand = t.file("by-hand.vault");
    std::fs::copy(&backup, &by_hand).unwrap();
    assert!(!against(&by_hand, &w).is_intact());

    // Restored through the library with the witness: a signed "restored" line first, then
    // the restored log's checkpoints; the restored vault verifies against its witness.
    let config = witnessed(&t.path).with_test_clock(t.clock);
    let restored = Vault::restore(
        &backup,
        &t.path,
        "admin",
        &Passphrase::new(ADMIN_PASS),
        config,
        RestoreOptions::default(),
    )
    .unwrap();
    let dr = restored
        .unlock("dr.a", &Passphrase::new(CLIN_PASS))
        .unwrap();
    pass(t.clock, &t.path, timed::PACE);
    dr.read_record(&dx, Purpose::Treatment).unwrap();
    drop(dr);
    restored.close().unwrap();
    let after = lines(&w);
    let restore = after.iter().position(|l| l.0 == "restored").unwrap();
    assert_eq!(
        after[restore].1, end,
        "rolled back to the backup's last entry"
    );
    assert!(after[restore + 1..].iter().all(|l| l.1 > end));
    let r = against(&t.path, &w);
    assert!(r.is_intact(), "{:?}", r.findings);
    assert_eq!(r.warnings, vec![]);
    assert_eq!(audited(&t.path, "witness.refused"), 0);
}

#[test]
fn a_required_witness_out_of_reach_fails_the_operation_with_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let away = dir.path().join("elsewhere");
    let witness = away.join("practice.witness");
    let path = dir.path().join("practice.vault");
    let clock = confide::TestClock::starting_at(timed::START);
    let config = test_config()
        .with_required_witness(&witness)
        .with_test_clock(clock)
        .with_seal_within(confide::MAX_SEAL_WITHIN);
    // Nothing is signed yet, so nothing needs the witness.
    let vault = Vault::create(&path, "admin", &Passphrase::new(ADMIN_PASS), config).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    // A minute later the next entry is sealed with it, and its operation fails: its entry is
    // committed, the checkpoint is in the vault, the witness did not get it.
    clock.advance(confide::MAX_SEAL_WITHIN);
    let failed = admin.audit_tail(1);
    assert!(
        matches!(&failed, Err(Error::WitnessUnreachable { path, .. }) if *path == witness),
        "{failed:?}"
    );
    assert!(sealed_to(&path) > 0, "the vault has its checkpoint");
    // Every operation fails while the witness lacks a checkpoint.
    assert!(matches!(
        admin.audit_tail(1),
        Err(Error::WitnessUnreachable { .. })
    ));
    assert_eq!(audited(&path, "witness.unreachable"), 1, "once per outage");
    // Reachable again: the next operation brings it up to date, and succeeds.
    std::fs::create_dir(&away).unwrap();
    admin.audit_tail(1).unwrap();
    // A witness new to the vault begins with its newest checkpoint.
    assert_eq!(
        lines(&witness),
        checkpoints(&path)[checkpoints(&path).len() - 1..]
    );
    drop(admin);
    vault.close().unwrap();
    let r = against(&path, &witness);
    assert!(r.is_intact(), "{:?}", r.findings);
    assert_eq!(r.warnings, vec![]);
}

#[test]
fn a_best_effort_witness_out_of_reach_is_logged_and_caught_up_later() {
    let (t, vault, dr, dx) = timed::working(witnessed, 3);
    let w = witness_of(&t.path);
    let held = lines(&w).len();
    // The witness goes out of reach (an unplugged disk, an unmounted share): where it was,
    // nothing can be appended to.
    let kept = t.file("kept.witness");
    std::fs::rename(&w, &kept).unwrap();
    std::fs::create_dir(&w).unwrap();
    for _ in 0..3 {
        pass(t.clock, &t.path, timed::PACE);
        dr.read_record(&dx, Purpose::Treatment).unwrap();
    }
    // The work went on; the log says, once, that the witness was unreachable.
    assert_eq!(audited(&t.path, "witness.unreachable"), 1);
    std::fs::remove_dir(&w).unwrap();
    std::fs::rename(&kept, &w).unwrap();
    // Behind, with the reason in the log: a warning.
    let r = against(&t.path, &w);
    assert!(r.is_intact(), "{:?}", r.findings);
    assert!(
        matches!(r.warnings[..], [.., Warning::WitnessBehind { .. }]),
        "{:?}",
        r.warnings
    );
    // Back: the sealer (or the next checkpoint) brings it up to date with every checkpoint
    // it missed, in order.
    pass(t.clock, &t.path, timed::PACE);
    drop(dr);
    vault.close().unwrap();
    let now = lines(&w);
    assert!(now.len() > held + 3, "{held} then {}", now.len());
    assert_eq!(now, checkpoints(&t.path));
    let r = against(&t.path, &w);
    assert!(r.is_intact(), "{:?}", r.findings);
    assert_eq!(r.warnings, vec![]);
}

#[test]
fn another_vaults_witness_refuses_this_one_and_cannot_verify_it() {
    let ours = morning_with(witnessed, 2);
    let theirs = morning_with(|_| test_config(), 2);
    let w = witness_of(&ours.path);
    // Their vault pointed at our witness: refused, as a typed error when required, and the
    // witness is left as it was.
    let before = std::fs::read(&w).unwrap();
    let config = test_config()
        .with_required_witness(&w)
        .with_test_clock(theirs.clock);
    let vault = Vault::open(&theirs.path, config).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    theirs.clock.advance(timed::PACE);
    let refused = admin.audit_tail(1);
    assert!(
        matches!(refused, Err(Error::WitnessRefused { .. })),
        "{refused:?}"
    );
    drop((admin, vault));
    assert_eq!(std::fs::read(&w).unwrap(), before);
    // Nor can it be verified against it: the check cannot run.
    let opts = VerifyOptions {
        witness: Some(WitnessFile::read(&w).unwrap()),
        ..VerifyOptions::default()
    };
    assert!(matches!(
        confide::verify_audit_log_with(&theirs.path, &opts),
        Err(Error::InvalidInput {
            what: "witness",
            ..
        })
    ));
}
