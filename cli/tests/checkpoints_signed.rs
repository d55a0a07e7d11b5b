//! Signed checkpoints of the audit log, end to end through the real `audit-verify` binary and
//! the library's typed report: a clean vault has one at every interval and at close, and
//! cutting the tail, a deletion re-chained with correct hashes, forged checkpoints, a replaced
//! key and a log rewritten from its first entry are each found at the signed heads they break.
//!
//! Each test builds a vault with `checkpoint_every = 5`, closes it, and then edits the file with
//! SQLite directly, as an attacker with write access to the file (and knowledge of the public
//! hash format, but not of the audit signing key) would (`common/checkpointed.rs`).

#[path = "common/checkpointed.rs"]
mod checkpointed;
mod common;

use checkpointed::*;
use common::audit_sql;
use confide::{Finding, FindingKind, Vault, Warning};
use rusqlite::params;

// ---------------------------------------------------------------------------------------------
// 1. Untouched
// ---------------------------------------------------------------------------------------------

#[test]
fn clean_vault_has_verified_checkpoints_at_every_interval_and_at_close() {
    let b = build();
    let conn = raw(&b.path);
    // The test's own hashing agrees with the vault's (the forgeries below are made with it);
    // every entry of a new vault is of layout 4.
    assert_eq!(assert_chain_consistent(&conn), 0);
    let cps = checkpoints(&conn);
    let mut want: Vec<i64> = (1..=LAST).filter(|s| s % EVERY == 0).collect();
    want.push(LAST);
    assert_eq!(cps, want);
    // Each checkpoint signs the hash its entry has, and the vault's state: open at every
    // interval, closed at the close.
    for &c in &cps {
        assert_eq!(checkpoint_row(&conn, c).0, entry_hash(&conn, c), "seq {c}");
        let state = checkpoint_at_and_state(&conn, c).1;
        assert_eq!(state, if c == LAST { 2 } else { 1 }, "state at seq {c}");
    }
    assert_eq!(action_at(&conn, LAST), "vault.close");
    drop(conn);

    let r = check(&b.path, None, &[], "untouched");
    assert_eq!(r.entries, LAST as u64);
    assert_eq!(r.seq_range, Some((1, LAST as u64)));
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    assert_eq!(r.last_checkpoint, Some(LAST as u64));
    assert_eq!(r.warnings, vec![], "no unclean shutdown, no unsigned tail");
    let v = run_verify(&b.path, None, false);
    assert_eq!(
        v.stdout.lines().collect::<Vec<_>>(),
        vec![
            format!("intact: {LAST} entries"),
            format!(
                "signed checkpoints: {} verified, newest at seq {LAST}",
                cps.len()
            ),
        ]
    );

    // A second opening closed by dropping the last handle (no explicit close) seals its head
    // too, and leaves no warning.
    let vault = Vault::open(&b.path, config()).unwrap();
    clinical_activity(&vault, &b.path, "Alex Roe", 40);
    drop(vault);
    let conn = raw(&b.path);
    let last = head(&b.path);
    assert_eq!(last, 41);
    assert_eq!(action_at(&conn, last), "vault.close");
    let cps = checkpoints(&conn);
    assert_eq!(cps.last(), Some(&last));
    assert!(cps.contains(&35) && cps.contains(&40), "{cps:?}");
    drop(conn);
    let r = check(&b.path, None, &[], "reopened and dropped");
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    assert_eq!(r.last_checkpoint, Some(last as u64));
    assert_eq!(r.warnings, vec![]);
}

// ---------------------------------------------------------------------------------------------
// 2. Cutting the tail
// ---------------------------------------------------------------------------------------------

#[test]
fn cutting_the_tail_is_found_at_every_signed_head_beyond_the_new_end() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));
    let opened = seqs_of_action(&raw(&b.path), "vault.open");
    assert_eq!(opened.len(), 1);
    let opened = opened[0];

    // (new end, keep the checkpoint rows up to): the attacker deletes the entries after the new
    // end and the checkpoint rows after the second number.
    let cases: [(i64, i64); 9] = [
        // Checkpoint rows left alone: every one beyond the end is a signed head the log lacks.
        (LAST - 1, LAST),
        (24, LAST),
        (13, LAST),
        // Every checkpoint beyond the end removed too: a shorter log that is a valid prefix.
        // Without an anchor nothing says it once went on (see the anchor case below); the
        // missing close marker shows only as an unclean shutdown.
        (24, 24),
        (LAST - 1, LAST - 1),
        // Only the close checkpoint removed: cutting back to the last interval checkpoint is
        // not found, cutting past it is.
        (26, LAST - 1),
        (25, LAST - 1),
        (22, LAST - 1),
        (17, 20),
    ];
    for (i, (end, kept)) in cases.into_iter().enumerate() {
        let what = format!("cut to {end}, checkpoints kept up to {kept}");
        let p = b.copy(&format!("cut-{i}.vault"));
        let conn = raw(&p);
        delete_entries_after(&conn, end);
        delete_checkpoints_after(&conn, kept);
        drop(conn);
        let expected: Vec<Finding> = cps
            .iter()
            .filter(|&&c| c > end && c <= kept)
            .map(|&c| truncated(c, end))
            .collect();
        let r = check(&p, None, &expected, &what);
        assert_eq!(r.entries, end as u64, "{what}");
        // The close marker went with the tail.
        assert_eq!(r.warnings.first(), Some(&unclean(opened)), "{what}");
        if expected.is_empty() {
            let sealed = cps.iter().copied().filter(|&c| c <= end).max().unwrap();
            let tail = end - sealed;
            let want_tail = (tail > 0).then_some(Warning::UnsignedTail {
                entries: tail as u64,
            });
            assert_eq!(r.warnings.get(1).copied(), want_tail, "{what}");
            assert_eq!(r.last_checkpoint, Some(sealed as u64), "{what}");
        }
    }

    // An anchor exported before the cut holds the log to its head, checkpoint rows or not.
    let anchor = b.file("anchor.json");
    assert_eq!(anchor_to(&b.path, &anchor).seq, LAST as u64);
    for end in [24, 13, LAST - 1] {
        let what = format!("cut to {end}, every later checkpoint removed, anchored at {LAST}");
        let p = b.copy(&format!("cut-anchored-{end}.vault"));
        let conn = raw(&p);
        delete_entries_after(&conn, end);
        delete_checkpoints_after(&conn, end);
        drop(conn);
        check(&p, Some(&anchor), &[truncated(LAST, end)], &what);
    }
}

// ---------------------------------------------------------------------------------------------
// 3. A deletion hidden by recomputing every hash
// ---------------------------------------------------------------------------------------------

#[test]
fn deletion_rechained_with_correct_hashes_is_caught_by_the_signed_checkpoints() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));
    // Hide one read of the diagnosis (a write entry would leave its record unvouched for).
    let k = 12;
    let p = b.copy("rechained.vault");
    let conn = raw(&p);
    assert_eq!(action_at(&conn, k), "record.read");
    assert_eq!(
        conn.execute("DELETE FROM audit_log WHERE seq = ?1", [k])
            .unwrap(),
        1
    );
    for s in k + 1..=LAST {
        conn.execute(
            "UPDATE audit_log SET seq = ?1 WHERE seq = ?2",
            params![s - 1, s],
        )
        .unwrap();
    }
    audit_sql::rehash_from(&conn, k);
    // The plain chain is consistent again: every link and every hash recomputes.
    assert_chain_consistent(&conn);
    drop(conn);

    // Without its checkpoints the chain alone would pass: only the close, which says it
    // signed a checkpoint, shows that they are gone.
    let bare = b.file("rechained-no-checkpoints.vault");
    copy_vault(&p, &bare);
    raw(&bare)
        .execute("DELETE FROM audit_checkpoints", [])
        .unwrap();
    let closed = at(LAST - 1, FindingKind::CloseUnsealed);
    let r = check(&bare, None, &[closed], "rechained, checkpoints removed");
    assert_eq!(r.checkpoints_checked, 0);

    // With them: every signed head from the deleted row on covers another hash now, and the
    // close checkpoint is beyond the shortened log's end.
    let mut expected: Vec<Finding> = cps
        .iter()
        .filter(|&&c| c >= k && c < LAST)
        .map(|&c| at(c, FindingKind::ChainRewritten))
        .collect();
    assert_eq!(expected.first(), Some(&at(15, FindingKind::ChainRewritten)));
    expected.push(truncated(LAST, LAST - 1));
    let r = check(&p, None, &expected, "deleted, renumbered and rechained");
    assert_eq!(r.entries, LAST as u64 - 1);
    assert_eq!(
        r.checkpoints_checked,
        cps.len() as u64,
        "all genuinely signed"
    );
    assert_eq!(
        r.first_break(),
        Some(&at(15, FindingKind::ChainRewritten)),
        "the first checkpoint after the deleted row"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Forged checkpoints and a replaced key
// ---------------------------------------------------------------------------------------------

#[test]
fn forged_checkpoints_and_a_replaced_key_are_found() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));

    // One byte of one signature.
    let p = b.copy("signature.vault");
    let conn = raw(&p);
    let (_, sig) = checkpoint_row(&conn, 10);
    conn.execute(
        "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = 10",
        [flip_first_byte(&sig)],
    )
    .unwrap();
    drop(conn);
    let r = check(
        &p,
        None,
        &[at(10, FindingKind::CheckpointForged)],
        "signature byte flipped",
    );
    assert_eq!(r.checkpoints_checked, cps.len() as u64 - 1);

    // One byte of the hash a checkpoint vouches for (say, to cover a rewritten entry).
    let p = b.copy("entry-hash.vault");
    let conn = raw(&p);
    let (hash, _) = checkpoint_row(&conn, 15);
    conn.execute(
        "UPDATE audit_checkpoints SET entry_hash = ?1 WHERE seq = 15",
        [flip_first_byte(&hash)],
    )
    .unwrap();
    drop(conn);
    check(
        &p,
        None,
        &[at(15, FindingKind::CheckpointForged)],
        "entry hash changed",
    );

    // A checkpoint moved to another sequence number: it signed seq 20, not 21.
    let p = b.copy("moved.vault");
    let conn = raw(&p);
    conn.execute("UPDATE audit_checkpoints SET seq = 21 WHERE seq = 20", [])
        .unwrap();
    drop(conn);
    check(
        &p,
        None,
        &[at(21, FindingKind::CheckpointForged)],
        "checkpoint moved",
    );

    // The state or the time of a checkpoint changed: both are signed. (Say, a close's
    // checkpoint made to read "open", or an interval's "closed".)
    let edits = [
        (
            10,
            "state",
            "UPDATE audit_checkpoints SET state = 2 WHERE seq = ?1",
        ),
        (
            LAST,
            "state",
            "UPDATE audit_checkpoints SET state = 1 WHERE seq = ?1",
        ),
        (
            10,
            "time",
            "UPDATE audit_checkpoints SET at = at - 1 WHERE seq = ?1",
        ),
        (
            LAST,
            "time",
            "UPDATE audit_checkpoints SET at = at + 1 WHERE seq = ?1",
        ),
    ];
    for (seq, what, sql) in edits {
        let p = b.copy(&format!("{what}-{seq}.vault"));
        assert_eq!(raw(&p).execute(sql, [seq]).unwrap(), 1);
        let what = format!("{what} changed at seq {seq}");
        check(&p, None, &[at(seq, FindingKind::CheckpointForged)], &what);
    }

    // Another public key in audit_key: no checkpoint verifies.
    let p = b.copy("key.vault");
    let conn = raw(&p);
    replace_public_key(&conn, &other_key());
    drop(conn);
    let expected: Vec<Finding> = cps
        .iter()
        .map(|&c| at(c, FindingKind::CheckpointForged))
        .collect();
    let r = check(&p, None, &expected, "public key replaced");
    assert_eq!(r.checkpoints_checked, 0);
    assert_eq!(r.last_checkpoint, None);
    assert_eq!(
        r.warnings,
        vec![Warning::UnsignedTail {
            entries: LAST as u64
        }]
    );

    // Another key, and every checkpoint re-signed with it: consistent in itself, so only an
    // anchor kept elsewhere (which names the real key) tells.
    let anchor = b.file("anchor.json");
    anchor_to(&b.path, &anchor);
    let p = b.copy("resigned.vault");
    let conn = raw(&p);
    let key = other_key();
    replace_public_key(&conn, &key);
    let vault = vault_id(&conn);
    for &c in &cps {
        let (hash, _) = checkpoint_row(&conn, c);
        let (at, state) = checkpoint_at_and_state(&conn, c);
        let sig = key.sign(&checkpoint_message(&vault, c, &hash, at, state));
        conn.execute(
            "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = ?2",
            params![sig.as_ref(), c],
        )
        .unwrap();
    }
    drop(conn);
    let r = check(&p, None, &[], "key replaced, checkpoints re-signed");
    assert_eq!(r.checkpoints_checked, cps.len() as u64);
    check(
        &p,
        Some(&anchor),
        &[at(LAST, FindingKind::KeyReplaced)],
        "key replaced, checkpoints re-signed, anchored",
    );
}
// ---------------------------------------------------------------------------------------------
// 5. A log rewritten from its first entry
// ---------------------------------------------------------------------------------------------

#[test]
fn a_log_rewritten_from_its_first_entry_is_caught_by_every_signed_checkpoint() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));
    let p = b.copy("rewritten-from-1.vault");
    let conn = raw(&p);
    conn.execute(
        "UPDATE audit_log SET entry = audit_with(entry, 'at', audit_part(entry, 'at') + 1) \
         WHERE seq = 1",
        [],
    )
    .unwrap();
    audit_sql::rehash_from(&conn, 1);
    // Chained from the genesis again: only the signatures can tell.
    assert_chain_consistent(&conn);
    drop(conn);
    let expected: Vec<Finding> = cps
        .iter()
        .map(|&c| at(c, FindingKind::ChainRewritten))
        .collect();
    check(&p, None, &expected, "rewritten from seq 1");
}
