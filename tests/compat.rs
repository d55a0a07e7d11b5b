//! Compatibility: a vault written by format 1 (the vault core, before the access policy) opens,
//! is migrated in place to the current format, and keeps its data, keys and audit chain.
//!
//! `tests/fixtures/format1.vault` was made by format 1's code with cheap KDF parameters:
//! users admin / dr.one / biller, one client, one diagnosis, one psychotherapy note.

mod common;

use common::test_config;
use confide::{ClientId, FORMAT_VERSION, NoteId, Passphrase, Purpose, RecordId, Value, Vault};

const CLIENT: &str = "967c6ecfacdb8a01da38901e82e65e7a";
const DIAGNOSIS: &str = "4e95a9c7c47c2162a990cb1782d5a187";
const NOTE: &str = "bd29ba2d55b1441ae2d8a7ced0099703";

fn copy_fixture() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vault");
    std::fs::copy("tests/fixtures/format1.vault", &path).unwrap();
    (dir, path)
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
