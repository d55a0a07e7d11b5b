//! A full disk: writes and audited reads fail with `Error::DiskFull`, nothing half-written
//! stays, no plaintext leaves without its audit entry, and everything committed before is intact.
//! The disk is filled by capping the vault file's size (`VaultConfig::with_max_size_bytes`),
//! which fails writes exactly as a full disk does.

mod common;

use common::*;
use confide::{Error, Passphrase, Purpose, RecordId, RecordKind, Value, Vault};

/// The file's logical size: pages in use, the write-ahead log included.
fn logical_size(path: &std::path::Path) -> u64 {
    let conn = raw(path);
    let pages: u64 = conn
        .pragma_query_value(None, "page_count", |r| r.get(0))
        .unwrap();
    let size: u64 = conn
        .pragma_query_value(None, "page_size", |r| r.get(0))
        .unwrap();
    pages * size
}

#[test]
fn a_full_disk_fails_writes_and_reads_with_a_typed_error_and_loses_nothing() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Full Disk Client");
    let first = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("written before the disk filled"))],
            Purpose::Treatment,
        )
        .unwrap();
    drop(dr);
    drop(p.vault);

    // Room for a few more pages only.
    let cap = logical_size(&p.path) + 16 * 4096;
    let vault = Vault::open(&p.path, test_config().with_max_size_bytes(cap)).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();

    // Write until the disk is full; every write either commits whole or fails typed.
    let mut written: Vec<RecordId> = Vec::new();
    let mut full = false;
    for i in 0..200 {
        match dr.create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text(format!("{i}: {}", "x".repeat(2000))))],
            Purpose::Treatment,
        ) {
            Ok(id) => written.push(id),
            Err(Error::DiskFull) => {
                full = true;
                break;
            }
            Err(other) => panic!("expected DiskFull, got {other:?}"),
        }
    }
    assert!(full, "the cap was never reached");

    // Reads go on while their audit entries fit; once they do not, the read fails and returns
    // nothing. Count the reads that returned plaintext.
    let mut returned = 0;
    for _ in 0..2_000 {
        match dr.read_record(&first, Purpose::Treatment) {
            Ok(r) => {
                assert_eq!(
                    r.get("summary").unwrap().reveal().as_str(),
                    "written before the disk filled"
                );
                returned += 1;
            }
            Err(Error::DiskFull) => break,
            Err(other) => panic!("expected DiskFull, got {other:?}"),
        }
    }
    assert!(matches!(
        dr.read_record(&first, Purpose::Treatment),
        Err(Error::DiskFull)
    ));
    drop(dr);
    drop(vault);

    // With room again: everything committed is there, and every returned read has its entry.
    let vault = Vault::open(&p.path, test_config()).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    for id in &written {
        assert!(dr.read_record(id, Purpose::Treatment).is_ok());
    }
    let notes = dr
        .list_records(&c, Purpose::Treatment)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == RecordKind::ProgressNote)
        .count();
    // The first note, the ones that committed, and nothing half-written.
    assert_eq!(notes, 1 + written.len());
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    let target = hex_id(&first);
    let audited = admin
        .audit_tail(100_000)
        .unwrap()
        .into_iter()
        .filter(|e| {
            e.action == "record.read"
                && e.target.as_deref() == Some(target.as_str())
                && e.outcome.starts_with("granted")
        })
        .count();
    assert_eq!(audited, returned);
    drop((dr, admin, vault));
    let report = confide::verify_audit_log(&p.path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

fn hex_id(id: &RecordId) -> String {
    id.to_string()
}

#[test]
fn a_cap_given_at_creation_holds_from_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.vault");
    // SQLite never caps a file below what it already holds: the new vault is made, and full.
    let vault = Vault::create(
        &path,
        "admin",
        &Passphrase::new(ADMIN_PASS),
        test_config().with_max_size_bytes(4096),
    )
    .unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    let mut full = false;
    for i in 0..500 {
        match admin.add_user(
            &format!("user.{i}"),
            confide::Role::Clinician,
            &Passphrase::new(CLIN_PASS),
        ) {
            Ok(_) => {}
            Err(Error::DiskFull) => {
                full = true;
                break;
            }
            Err(other) => panic!("expected DiskFull, got {other:?}"),
        }
    }
    assert!(full);
    drop((admin, vault));
    let report = confide::verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}
