//! Random byte flips across a vault file and its write-ahead log: every outcome is a typed
//! error or a finding of `audit-verify`, never a panic and never wrong plaintext.

mod common;

use std::path::Path;

use common::*;
use confide::{DenyReason, Error, Passphrase, Purpose, RecordId, RecordKind, Value, Vault};

/// What was written, in order: each record with its text and the length of the audit log once
/// its creation committed (the record and its entry commit in one transaction).
struct Built {
    records: Vec<(RecordId, String, u64)>,
}

fn build(p: &Practice) -> Built {
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Flipped Client");
    let records = (0..6)
        .map(|i| {
            let text = format!("note {i}: {}", "the session went well ".repeat(i + 1));
            let id = dr
                .create_record(
                    &c,
                    RecordKind::ProgressNote,
                    &[("summary", Value::text(text.clone()))],
                    Purpose::Treatment,
                )
                .unwrap();
            (id, text, confide::audit_log_len(p.path()).unwrap())
        })
        .collect();
    Built { records }
}

fn flip(path: &Path, rng: &mut u64, flips: usize) {
    let mut bytes = std::fs::read(path).unwrap();
    if bytes.is_empty() {
        return;
    }
    for _ in 0..flips {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        let at = (*rng % bytes.len() as u64) as usize;
        bytes[at] ^= 1 << ((*rng >> 60) as u8 % 8);
    }
    std::fs::write(path, bytes).unwrap();
}

/// What one damaged copy gave.
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    /// `audit-verify` ran and found the log intact.
    intact: bool,
    /// The vault opened and dr.a logged in.
    opened: bool,
    /// The vault opened but has no dr.a (a copy from before dr.a was added).
    no_such_user: bool,
    /// The records each read returned, all of their text checked against what was written.
    read: Vec<RecordId>,
    /// Reads that returned a typed error.
    refused: usize,
}

/// Everything a user or the compliance officer might do with a damaged file. Every failure must
/// be one of the typed errors damage can explain, and whatever opens is exactly what was written.
fn exercise(path: &Path, built: &Built) -> Outcome {
    let mut out = Outcome::default();
    // audit-verify: a report, or the file is no longer a readable vault.
    match confide::verify_audit_log(path) {
        Ok(r) => out.intact = r.is_intact(),
        Err(e) => assert!(
            matches!(e, Error::NotAVault | Error::Corrupt { .. }),
            "audit-verify: {e:?}"
        ),
    }
    let vault = match Vault::open(path, test_config()) {
        Ok(v) => v,
        Err(e) => {
            assert!(
                matches!(e, Error::NotAVault | Error::Corrupt { .. }),
                "open: {e:?}"
            );
            return out;
        }
    };
    let dr = match vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)) {
        Ok(s) => s,
        Err(e) => {
            out.no_such_user = matches!(e, Error::UnknownUser);
            // The user's row: a name no longer found, a wrapped key that no longer opens, or a
            // row of the wrong shape.
            assert!(
                matches!(
                    e,
                    Error::UnknownUser
                        | Error::BadPassphrase
                        | Error::Integrity { .. }
                        | Error::Corrupt { .. }
                ),
                "unlock: {e:?}"
            );
            return out;
        }
    };
    out.opened = true;
    for (id, text, _) in &built.records {
        match dr.read_record(id, Purpose::Treatment) {
            Ok(r) => match r.get("summary") {
                // Whatever opens is exactly what was written.
                Some(v) => {
                    assert_eq!(v.reveal().as_str(), *text);
                    out.read.push(*id);
                }
                // A field row the flip made unfindable (its key bytes changed) is missing from
                // the answer, as a deleted row would be: audit-verify reports the record.
                None => assert!(
                    !out.intact,
                    "a field went missing and audit-verify saw nothing"
                ),
            },
            // An envelope that fails authentication, a malformed row, or a record (or care-team
            // row) the flip made unfindable, which the vault does not tell apart from a record
            // it never held.
            Err(e) => {
                assert!(
                    matches!(
                        e,
                        Error::Integrity { .. }
                            | Error::Corrupt { .. }
                            | Error::Denied {
                                reason: DenyReason::NoRelationship
                            }
                    ),
                    "read: {e:?}"
                );
                out.refused += 1;
            }
        }
    }
    out
}

fn all_read(built: &Built) -> Outcome {
    Outcome {
        intact: true,
        opened: true,
        no_such_user: false,
        read: built.records.iter().map(|(id, _, _)| *id).collect(),
        refused: 0,
    }
}

#[test]
fn flipped_bytes_in_the_file_give_typed_errors_never_wrong_plaintext() {
    let p = Practice::new();
    let built = build(&p);
    drop(p.vault);
    // The undamaged file: every record reads back and the log is intact.
    assert_eq!(exercise(&p.path, &built), all_read(&built));
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let (mut reads, mut damaged) = (0, 0);
    for trial in 0..60 {
        let path = p.dir.path().join(format!("flipped-{trial}.vault"));
        std::fs::copy(&p.path, &path).unwrap();
        flip(&path, &mut rng, 1 + trial % 4);
        let out = exercise(&path, &built);
        reads += out.read.len();
        if out != all_read(&built) {
            damaged += 1;
        }
    }
    // Most flips land in pages a read does not need; those reads still return the right text.
    assert!(reads > 0);
    // And some land where they show: a typed error, or a finding of audit-verify.
    assert!(damaged > 0);
}

#[test]
fn flipped_bytes_in_the_write_ahead_log_give_typed_errors_never_wrong_plaintext() {
    let p = Practice::new();
    // Written while the vault stays open: the newest pages are in the write-ahead log.
    let built = build(&p);
    let wal = {
        let mut w = p.path.as_os_str().to_owned();
        w.push("-wal");
        std::path::PathBuf::from(w)
    };
    assert!(std::fs::metadata(&wal).unwrap().len() > 0);
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let (mut earlier, mut unreadable) = (0, 0);
    for trial in 0..40 {
        let path = p.dir.path().join(format!("wal-{trial}.vault"));
        std::fs::copy(&p.path, &path).unwrap();
        let mut copy_wal = path.as_os_str().to_owned();
        copy_wal.push("-wal");
        let copy_wal = std::path::PathBuf::from(copy_wal);
        std::fs::copy(&wal, &copy_wal).unwrap();
        flip(&copy_wal, &mut rng, 1 + trial % 3);
        // Every frame of the write-ahead log is checksummed: SQLite keeps the transactions
        // before the first damaged frame and drops the rest. The copy is the vault as it was
        // at an earlier commit, whole (perhaps from before dr.a was added), or (damage before
        // the vault's own tables committed) no vault at all.
        let head = confide::audit_log_len(&path);
        let out = exercise(&path, &built);
        if out.no_such_user && out.intact {
            // An earlier commit, whole, from before dr.a had an account.
            assert!(head.unwrap() < built.records[0].2, "wal-{trial}");
            earlier += 1;
            continue;
        }
        if !out.opened {
            assert!(!out.intact, "wal-{trial}: no vault, yet an intact log");
            unreadable += 1;
            continue;
        }
        assert!(
            out.intact,
            "wal-{trial}: an earlier commit is an intact log"
        );
        // Exactly the records whose creation committed within the surviving log, and the
        // others refused as unknown.
        let head = head.unwrap();
        let want: Vec<RecordId> = built
            .records
            .iter()
            .filter(|(_, _, at)| *at <= head)
            .map(|(id, _, _)| *id)
            .collect();
        assert_eq!(out.read, want, "wal-{trial}: log of {head} entries");
        assert_eq!(out.refused, built.records.len() - want.len(), "wal-{trial}");
        earlier += 1;
    }
    assert!(earlier > 0 && unreadable > 0);
}
