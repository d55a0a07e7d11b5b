//! Compatibility: vaults written by older formats open, are migrated in place to the current
//! format, and keep their data, keys and audit chain.
//!
//! `tests/fixtures/format1.vault` was made by format 1's code (the vault core, before the access
//! policy) with cheap KDF parameters: users admin / dr.one / biller, one client, one diagnosis,
//! one psychotherapy note.
//!
//! `tests/fixtures/format5.vault` was made by format 5's code (the last with one column per part
//! of an audit entry), cheap KDF parameters and a signed checkpoint every 4 entries: users
//! admin / dr.five, one client, a diagnosis written, read and updated, a psychotherapy note
//! written and read, and a refused read.
//!
//! `tests/fixtures/format6.vault` was made by format 6's code (audit entries of layout version
//! 3, before codes and packed field names), cheap KDF parameters and a signed checkpoint every 4
//! entries: users admin / dr.six / biller, one client, a diagnosis written, read and updated, a
//! psychotherapy note written and read, and the biller refused that note.

mod common;

use common::test_config;
use confide::{
    AuditFilter, ClientId, FORMAT_VERSION, NoteId, Passphrase, Purpose, RecordId, Value, Vault,
};

const CLIENT: &str = "967c6ecfacdb8a01da38901e82e65e7a";
const DIAGNOSIS: &str = "4e95a9c7c47c2162a990cb1782d5a187";
const NOTE: &str = "bd29ba2d55b1441ae2d8a7ced0099703";

fn copy_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    copy_of("tests/fixtures/format1.vault")
}

fn copy_of(fixture: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vault");
    std::fs::copy(fixture, &path).unwrap();
    (dir, path)
}

fn audit_columns(path: &std::path::Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT name FROM pragma_table_info('audit_log') ORDER BY cid")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

#[test]
fn format_5_audit_entries_move_into_one_blob_each_with_their_hashes_and_signatures() {
    let (_dir, path) = copy_of("tests/fixtures/format5.vault");
    assert_eq!(user_version(&path), 5);
    assert!(audit_columns(&path).contains(&"prev_hash".to_string()));
    // Read-only verification and review never migrate: the old layout is read as it is.
    let before = confide::verify_audit_log(&path).unwrap();
    assert!(before.is_intact(), "{:?}", before.findings);
    assert!(before.checkpoints_checked >= 4, "{before:?}");
    let shown = confide::read_audit_log(&path, &AuditFilter::default()).unwrap();
    assert_eq!(shown.entries.len() as u64, before.entries);
    assert_eq!(user_version(&path), 5);

    let vault = Vault::open(&path, test_config()).unwrap();
    assert_eq!(user_version(&path), FORMAT_VERSION);
    assert_eq!(audit_columns(&path), ["seq", "entry", "hash"]);
    // Every old entry is still there, the same to a reader, with the same hashes: so the
    // checkpoints signed over them still verify.
    let moved = confide::read_audit_log(&path, &AuditFilter::default()).unwrap();
    assert_eq!(moved.entries[..shown.entries.len()], shown.entries[..]);
    let after = confide::verify_audit_log(&path).unwrap();
    assert!(after.is_intact(), "{:?}", after.findings);
    assert!(after.checkpoints_checked >= before.checkpoints_checked);

    // The data reads back, and new entries chain on after the old ones.
    let dr = vault
        .unlock("dr.five", &Passphrase::new("format-5 clinician"))
        .unwrap();
    let record: RecordId = "dfb65aa8e02c2f841ca8cad4e0be158d".parse().unwrap();
    let read = dr.read_record(&record, Purpose::Treatment).unwrap();
    assert_eq!(
        read.get("description"),
        Some(&Value::text("format-5 diagnosis, revised"))
    );
    let note: NoteId = "d8c0fda271f0bc49fd1f6a672ee02605".parse().unwrap();
    let n = dr
        .read_psychotherapy_note(&note, Purpose::Treatment)
        .unwrap();
    assert_eq!(n.get("impressions"), Some(&Value::text("format-5 note")));
    drop(dr);
    vault.close().unwrap();
    let last = confide::verify_audit_log(&path).unwrap();
    assert!(last.is_intact(), "{:?}", last.findings);
    assert!(last.entries > before.entries + 3);
}

#[test]
fn format_6_entries_keep_their_bytes_and_new_ones_are_compact() {
    let (_dir, path) = copy_of("tests/fixtures/format6.vault");
    assert_eq!(user_version(&path), 6);
    let before = confide::verify_audit_log(&path).unwrap();
    assert!(before.is_intact(), "{:?}", before.findings);
    assert!(before.checkpoints_checked >= 4, "{before:?}");
    let shown = confide::read_audit_log(&path, &AuditFilter::default()).unwrap();
    assert!(
        shown
            .entries
            .iter()
            .any(|e| e.outcome == "denied:purpose-not-permitted")
    );
    let old_rows = entry_versions(&path);
    assert!(old_rows.iter().all(|v| *v == 3), "{old_rows:?}");

    let vault = Vault::open(&path, test_config()).unwrap();
    assert_eq!(user_version(&path), FORMAT_VERSION);
    let dr = vault
        .unlock("dr.six", &Passphrase::new("format-6 clinician"))
        .unwrap();
    let record: RecordId = "3d0e12f2ae39afd33fc1a5b481ad22d5".parse().unwrap();
    let read = dr.read_record(&record, Purpose::Treatment).unwrap();
    assert_eq!(
        read.get("description"),
        Some(&Value::text("format-6 diagnosis, revised"))
    );
    drop(dr);
    vault.close().unwrap();

    // The old entries are byte for byte what they were; the new ones are of layout 4, shown
    // with the same texts as the old.
    let versions = entry_versions(&path);
    assert_eq!(versions[..old_rows.len()], old_rows[..]);
    assert!(
        versions[old_rows.len()..].iter().all(|v| *v == 4),
        "{versions:?}"
    );
    let after = confide::read_audit_log(&path, &AuditFilter::default()).unwrap();
    assert_eq!(after.entries[..shown.entries.len()], shown.entries[..]);
    let new_read = after.entries[shown.entries.len()..]
        .iter()
        .find(|e| e.action == "record.read")
        .expect("the new read's entry");
    let old_read = shown
        .entries
        .iter()
        .find(|e| e.action == "record.read")
        .unwrap();
    assert_eq!(
        (&new_read.fields, &new_read.purpose, &new_read.outcome),
        (&old_read.fields, &old_read.purpose, &old_read.outcome)
    );
    let last = confide::verify_audit_log(&path).unwrap();
    assert!(last.is_intact(), "{:?}", last.findings);
    assert!(last.checkpoints_checked > before.checkpoints_checked);
    // The checkpoints signed before format 8 keep their signature of version 1 (no state);
    // those signed since say whether the vault was open or closed, and all of them verify.
    let states = checkpoint_states(&path);
    let old = before.checkpoints_checked as usize;
    assert!(states[..old].iter().all(Option::is_none), "{states:?}");
    assert!(states[old..].iter().all(Option::is_some), "{states:?}");
    assert_eq!(states.last(), Some(&Some(2)), "the close: closed");
    assert_eq!(last.checkpoints_checked, states.len() as u64);
}

/// The state code of every stored checkpoint, in order (`None` for version 1).
fn checkpoint_states(path: &std::path::Path) -> Vec<Option<i64>> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT state FROM audit_checkpoints ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The layout version (first byte) of every stored entry, in order.
fn entry_versions(path: &std::path::Path) -> Vec<u8> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT entry FROM audit_log ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|e| e.unwrap()[0])
        .collect()
}

fn user_version(path: &std::path::Path) -> u32 {
    rusqlite::Connection::open(path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap()
}

#[test]
fn format_1_vault_is_migrated_and_reads_back() {
    let (_dir, path) = copy_fixture();
    assert_eq!(user_version(&path), 1);
    assert!(confide::verify_audit_log(&path).unwrap().is_intact());

    let vault = Vault::open(&path, test_config()).unwrap();
    assert_eq!(user_version(&path), FORMAT_VERSION);
    let dr = vault
        .unlock("dr.one", &Passphrase::new("format-1 clinician"))
        .unwrap();
    let record: RecordId = DIAGNOSIS.parse().unwrap();
    let read = dr.read_record(&record, Purpose::Treatment).unwrap();
    assert_eq!(read.client, CLIENT.parse::<ClientId>().unwrap());
    assert_eq!(read.get("code"), Some(&Value::code("F41.1")));
    assert_eq!(
        read.get("description"),
        Some(&Value::text("generalised anxiety"))
    );
    let note: NoteId = NOTE.parse().unwrap();
    let n = dr
        .read_psychotherapy_note(&note, Purpose::Treatment)
        .unwrap();
    assert_eq!(n.get("impressions"), Some(&Value::text("format-1 note")));

    // The new policy applies to old data: the biller gets the codes, not the description.
    let biller = vault
        .unlock("biller", &Passphrase::new("format-1 biller"))
        .unwrap();
    let billed = biller.read_record(&record, Purpose::Payment).unwrap();
    assert_eq!(billed.fields.len(), 1);
    assert!(billed.get("code").is_some());
    drop((dr, biller, vault));
    // The old chain continues unbroken through the migration.
    let report = confide::verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

#[test]
fn the_fixture_itself_is_untouched() {
    // Tests work on copies: the committed fixture stays format 1.
    assert_eq!(
        user_version(std::path::Path::new("tests/fixtures/format1.vault")),
        1
    );
}
