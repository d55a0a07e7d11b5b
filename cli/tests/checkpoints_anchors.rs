//! Anchors exported from a vault, end to end through the `confide` and `audit-verify`
//! binaries and the library: they catch rollbacks and forks, and an anchor file that is not
//! this vault's, or not intact, means the check cannot run. And the `--json` report, which
//! says whether an anchor was checked.
//!
//! Each test builds a vault with `checkpoint_every = 5`, closes it, and then edits the file with
//! SQLite directly, as an attacker with write access to the file (and knowledge of the public
//! hash format, but not of the audit signing key) would (`common/checkpointed.rs`).

#[path = "common/checkpointed.rs"]
mod checkpointed;
mod common;

use checkpointed::*;
use common::audit_sql;
use confide::{Anchor, Error, FindingKind, VerifyOptions, Warning};
use serde_json::{Value as Json, json};

// ---------------------------------------------------------------------------------------------
// 1. Anchors
// ---------------------------------------------------------------------------------------------

#[test]
fn anchors_catch_rollbacks_and_forks_and_bad_anchor_files_cannot_run() {
    let b = build();
    // The file as it was before the anchored head: what a rollback restores.
    let old = b.copy("before-anchor.vault");
    const ANCHORED: i64 = 42;
    reopen_and_grow(&b.path, "Alex Roe", ANCHORED);
    let anchor_file = b.file("anchor.json");
    let anchor = anchor_to(&b.path, &anchor_file);
    {
        let conn = raw(&b.path);
        // The close's checkpoint, of version 2: its state and time are signed with it.
        assert_eq!(anchor.format, "confide-anchor/v2");
        assert_eq!(anchor.state.as_deref(), Some("closed"));
        let (at, _) = checkpoint_at_and_state(&conn, ANCHORED);
        assert_eq!(anchor.signed_at_ms, Some(at));
        assert_eq!(anchor.seq, ANCHORED as u64);
        assert_eq!(anchor.vault_id, hex::encode(vault_id(&conn)));
        assert_eq!(anchor.entry_hash, hex::encode(entry_hash(&conn, ANCHORED)));
        let key: Vec<u8> = conn
            .query_row("SELECT public_key FROM audit_key", [], |r| r.get(0))
            .unwrap();
        assert_eq!(anchor.public_key, hex::encode(key));
    }
    // More activity after the anchor: the log extends it.
    const FINAL: i64 = 53;
    reopen_and_grow(&b.path, "Kim Poe", FINAL);
    let r = check(&b.path, Some(&anchor_file), &[], "extends the anchor");
    assert_eq!(r.entries, FINAL as u64);
    assert_eq!(r.warnings, vec![]);

    // Rolled back to a copy from before the anchored head: intact in itself, not to the anchor.
    check(&old, None, &[], "rolled back, no anchor");
    check(
        &old,
        Some(&anchor_file),
        &[truncated(ANCHORED, LAST)],
        "rolled back",
    );

    // A fork: the anchored entry rewritten and everything after it rechained, the checkpoints
    // the attacker cannot re-sign removed, and the closes after it made to say they signed
    // none (else a close without its checkpoint shows: checkpoints_deleted.rs). Passes on its
    // own; not against the anchor.
    let forked = b.copy("forked.vault");
    let conn = raw(&forked);
    nudge_time(&conn, ANCHORED);
    let closes = conn
        .execute(
            "UPDATE audit_log SET entry = audit_with(entry, 'fields', '') \
             WHERE seq >= ?1 AND audit_part(entry, 'action') = 'vault.close'",
            [ANCHORED],
        )
        .unwrap();
    assert_eq!(closes, 2, "the anchored close and the last");
    audit_sql::rehash_from(&conn, ANCHORED);
    assert_chain_consistent(&conn);
    let later: Vec<i64> = checkpoints(&conn)
        .into_iter()
        .filter(|&c| c > ANCHORED)
        .collect();
    assert!(!later.is_empty());
    delete_checkpoints_after(&conn, ANCHORED - 1);
    drop(conn);
    check(&forked, None, &[], "forked, no anchor");
    let r = verify_lib(&forked, Some(&anchor_file));
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    let found = r.findings[0];
    assert_eq!(found.seq, ANCHORED as u64);
    assert!(
        matches!(
            found.kind,
            FindingKind::Forked | FindingKind::ChainRewritten
        ),
        "{found:?}"
    );
    check(&forked, Some(&anchor_file), &[found], "forked, anchored");

    // The same fork with the checkpoint rows left in place: every signed head from the anchored
    // one on is rewritten.
    let kept = b.copy("forked-kept.vault");
    let conn = raw(&kept);
    nudge_time(&conn, ANCHORED);
    audit_sql::rehash_from(&conn, ANCHORED);
    drop(conn);
    let mut expected = vec![at(ANCHORED, FindingKind::ChainRewritten)];
    expected.extend(later.iter().map(|&c| at(c, FindingKind::ChainRewritten)));
    check(&kept, None, &expected, "forked, checkpoints kept");

    // An anchor from another vault: the check cannot run.
    let other = build();
    let other_anchor = b.file("other-anchor.json");
    anchor_to(&other.path, &other_anchor);
    let stderr = assert_could_not_run(&b.path, Some(&other_anchor), "another vault's anchor");
    assert!(stderr.contains("another vault"), "{stderr}");
    let opts = VerifyOptions {
        anchor: Some(read_anchor(&other_anchor)),
        ..Default::default()
    };
    let refused = confide::verify_audit_log_with(&b.path, &opts).err();
    assert!(
        matches!(
            &refused,
            Some(Error::InvalidInput { what: "anchor", reason }) if reason == "it is from another vault"
        ),
        "{refused:?}"
    );

    // An edited anchor: its own signature fails.
    let text = std::fs::read_to_string(&anchor_file).unwrap();
    let mut edited: Json = serde_json::from_str(&text).unwrap();
    let hash = edited["entry_hash"].as_str().unwrap().to_owned();
    let digit = if hash.starts_with('0') { "1" } else { "0" };
    edited["entry_hash"] = json!(format!("{digit}{}", &hash[1..]));
    let edited_file = b.file("edited-anchor.json");
    std::fs::write(&edited_file, edited.to_string()).unwrap();
    let refused = Anchor::from_json(&edited.to_string()).err();
    assert!(
        matches!(
            &refused,
            Some(Error::InvalidInput { what: "anchor", reason }) if reason == "its signature does not verify"
        ),
        "{refused:?}"
    );
    let stderr = assert_could_not_run(&b.path, Some(&edited_file), "edited anchor");
    assert!(stderr.contains("signature"), "{stderr}");

    // A later sequence number claimed for the same signature.
    let mut moved: Json = serde_json::from_str(&text).unwrap();
    moved["seq"] = json!(ANCHORED + 1);
    let moved_file = b.file("moved-anchor.json");
    std::fs::write(&moved_file, moved.to_string()).unwrap();
    assert_could_not_run(&b.path, Some(&moved_file), "anchor seq edited");

    // Files that are not anchors at all.
    let bad: [(&str, &[u8]); 6] = [
        ("not-json.json", b"this is not an anchor\n"),
        ("empty.json", b""),
        ("object.json", b"{}"),
        ("wrong-format.json", b"{\"format\": \"confide-anchor/v0\"}"),
        ("binary.json", &[0xff, 0xfe, 0x00, 0x9c, 0x01]),
        ("truncated.json", &text.as_bytes()[..text.len() / 2]),
    ];
    for (name, bytes) in bad {
        let f = b.file(name);
        std::fs::write(&f, bytes).unwrap();
        assert_could_not_run(&b.path, Some(&f), name);
    }
    let wrong_format = text.replace("confide-anchor/v2", "confide-anchor/v9");
    assert_ne!(wrong_format, text);
    let f = b.file("format-v9.json");
    std::fs::write(&f, wrong_format).unwrap();
    assert_could_not_run(&b.path, Some(&f), "unknown anchor format");
    // A checkpoint of version 2 passed off as one of version 1 (its state and time dropped),
    // or its state changed: the signature covers both.
    let mut as_v1: Json = serde_json::from_str(&text).unwrap();
    as_v1["format"] = json!("confide-anchor/v1");
    let obj = as_v1.as_object_mut().unwrap();
    obj.remove("state");
    obj.remove("signed_at_ms");
    let mut reopened: Json = serde_json::from_str(&text).unwrap();
    reopened["state"] = json!("open");
    for (name, edited) in [("as-v1.json", as_v1), ("reopened.json", reopened)] {
        let f = b.file(name);
        std::fs::write(&f, edited.to_string()).unwrap();
        assert_could_not_run(&b.path, Some(&f), name);
    }
    assert_could_not_run(
        &b.path,
        Some(&b.file("no-such-anchor.json")),
        "missing anchor",
    );
}
// ---------------------------------------------------------------------------------------------
// 2. --json
// ---------------------------------------------------------------------------------------------

#[test]
fn json_report_follows_the_schema() {
    let b = build();
    let cps = checkpoints(&raw(&b.path));

    let out = json_verify(&b.path, None, 0);
    assert_eq!(out["status"], "intact");
    assert_eq!(out["vault"], b.path.display().to_string());
    assert_eq!(out["entries"], LAST);
    assert_eq!(out["first_seq"], 1);
    assert_eq!(out["last_seq"], LAST);
    assert!(out["first_time"].is_string() && out["last_time"].is_string());
    assert_eq!(out["checkpoints_checked"], cps.len());
    assert_eq!(out["last_checkpoint"], LAST);
    assert_eq!(out["anchor_checked"], false);
    assert_eq!(out["findings_total"], 0);
    assert_eq!(out["findings"], json!([]));
    assert_eq!(out["warnings"], json!([]));

    let anchor = b.file("anchor.json");
    anchor_to(&b.path, &anchor);
    let out = json_verify(&b.path, Some(&anchor), 0);
    assert_eq!(out["status"], "intact");
    assert_eq!(out["anchor_checked"], true);

    // A forged checkpoint, and the last entry cut with its checkpoint left behind.
    let opened = seqs_of_action(&raw(&b.path), "vault.open")[0];
    let p = b.copy("tampered.vault");
    let conn = raw(&p);
    let (_, sig) = checkpoint_row(&conn, 10);
    conn.execute(
        "UPDATE audit_checkpoints SET signature = ?1 WHERE seq = 10",
        [flip_first_byte(&sig)],
    )
    .unwrap();
    delete_entries_after(&conn, LAST - 1);
    drop(conn);
    let out = json_verify(&p, None, 1);
    assert_eq!(out["status"], "tampered");
    assert_eq!(out["entries"], LAST - 1);
    assert_eq!(out["first_seq"], 1);
    assert_eq!(out["last_seq"], LAST - 1);
    assert_eq!(out["checkpoints_checked"], cps.len() - 1);
    assert_eq!(out["findings_total"], 2);
    let cut = FindingKind::Truncated {
        last: LAST as u64 - 1,
    };
    assert_eq!(
        out["findings"],
        json!([
            {
                "seq": 10,
                "kind": "checkpoint-forged",
                "message": FindingKind::CheckpointForged.to_string(),
            },
            { "seq": LAST, "kind": "truncated", "message": cut.to_string() },
        ])
    );
    assert_eq!(
        out["warnings"],
        json!([{ "kind": "unclean-shutdown", "message": unclean(opened).to_string() }])
    );
    // The same as the typed report.
    let r = verify_lib(&p, None);
    let kinds: Vec<&str> = r.findings.iter().map(|f| f.kind.code()).collect();
    assert_eq!(kinds, ["checkpoint-forged", "truncated"]);
    assert_eq!(
        r.warnings.iter().map(Warning::code).collect::<Vec<_>>(),
        ["unclean-shutdown"]
    );

    // An unsigned tail, and the anchor's own finding codes.
    let p = b.copy("cut-unsigned.vault");
    let conn = raw(&p);
    delete_entries_after(&conn, 23);
    delete_checkpoints_after(&conn, 23);
    drop(conn);
    let out = json_verify(&p, None, 0);
    assert_eq!(out["status"], "intact");
    assert_eq!(out["last_checkpoint"], 20);
    let warnings: Vec<&str> = out["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["kind"].as_str().unwrap())
        .collect();
    assert_eq!(warnings, ["unclean-shutdown", "unsigned-tail"]);
    assert_eq!(
        out["warnings"][1]["message"],
        Warning::UnsignedTail { entries: 3 }.to_string()
    );
    let out = json_verify(&p, Some(&anchor), 1);
    assert_eq!(out["status"], "tampered");
    assert_eq!(out["anchor_checked"], true);
    assert_eq!(
        out["findings"],
        json!([{
            "seq": LAST,
            "kind": "truncated",
            "message": FindingKind::Truncated { last: 23 }.to_string(),
        }])
    );

    // Could not run: status "error", exit 2.
    assert_could_not_run(&b.file("missing.vault"), None, "missing vault");
    let not_anchor = b.file("not-anchor.json");
    std::fs::write(&not_anchor, "nope").unwrap();
    assert_could_not_run(&b.path, Some(&not_anchor), "not an anchor");
}
