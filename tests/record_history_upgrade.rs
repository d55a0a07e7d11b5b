//! Record history on vaults written before it (the fixtures of tests/compat.rs, formats 1, 5
//! and 6: each has one client with a demographics entry, a diagnosis and a psychotherapy
//! note). The upgrade to format 10 signs the clinical entry and the note (finished
//! documentation, corrected by addenda from then on), leaves the demographics open, and says
//! so once in the log.

mod common;

use std::path::Path;

use common::test_config;
use confide::{
    AuditFilter, EntryStatus, Error, FORMAT_VERSION, NoteId, Passphrase, Purpose, RecordId,
    SignedByUpgrade, Value, Vault,
};

const T: Purpose = Purpose::Treatment;

/// A fixture, its clinician and their passphrase, and its entries (demographics, diagnosis,
/// psychotherapy note).
struct Fixture {
    file: &'static str,
    clinician: &'static str,
    passphrase: &'static str,
    demographics: &'static str,
    diagnosis: &'static str,
    note: &'static str,
}

const FIXTURES: [Fixture; 3] = [
    Fixture {
        file: "tests/fixtures/format1.vault",
        clinician: "dr.one",
        passphrase: "format-1 clinician",
        demographics: "42135f5e5ea929c5809f8c312143e7c3",
        diagnosis: "4e95a9c7c47c2162a990cb1782d5a187",
        note: "bd29ba2d55b1441ae2d8a7ced0099703",
    },
    Fixture {
        file: "tests/fixtures/format5.vault",
        clinician: "dr.five",
        passphrase: "format-5 clinician",
        demographics: "3af7a039dbdbcb19969158e56d8c4c8f",
        diagnosis: "dfb65aa8e02c2f841ca8cad4e0be158d",
        note: "d8c0fda271f0bc49fd1f6a672ee02605",
    },
    Fixture {
        file: "tests/fixtures/format6.vault",
        clinician: "dr.six",
        passphrase: "format-6 clinician",
        demographics: "3586ada3d359b3c96b43f555d8813c7a",
        diagnosis: "3d0e12f2ae39afd33fc1a5b481ad22d5",
        note: "4b070b6dc84336cde5b180ad1f932e9a",
    },
];

/// The `history.signed_by_upgrade` entries of the log: (seq, fields).
fn upgrade_entries(path: &Path) -> Vec<(u64, Vec<String>)> {
    confide::read_audit_log(path, &AuditFilter::default())
        .unwrap()
        .entries
        .into_iter()
        .filter(|e| e.action == "history.signed_by_upgrade")
        .map(|e| (e.seq, e.fields))
        .collect()
}

fn upgraded(f: &Fixture) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.vault");
    std::fs::copy(f.file, &path).unwrap();
    assert!(upgrade_entries(&path).is_empty());

    let vault = Vault::open(&path, test_config()).unwrap();
    let logged = upgrade_entries(&path);
    assert_eq!(logged.len(), 1, "{}: {logged:?}", f.file);
    assert_eq!(logged[0].1, ["records", "notes"]);
    assert_eq!(
        vault.signed_by_upgrade().unwrap(),
        Some(SignedByUpgrade {
            records: 1,
            notes: 1,
            audit_seq: Some(logged[0].0),
        }),
        "{}",
        f.file
    );

    let dr = vault
        .unlock(f.clinician, &Passphrase::new(f.passphrase))
        .unwrap();
    let dx: RecordId = f.diagnosis.parse().unwrap();
    let read = dr.read_record(&dx, T).unwrap();
    assert_eq!(read.status, EntryStatus::SignedByUpgrade, "{}", f.file);
    let code = read.get("code").cloned();
    let refused = dr.update_record(&dx, &[("code", Value::code("F43.10"))], T);
    assert!(
        matches!(
            refused,
            Err(Error::Signed {
                next: "Session::add_addendum"
            })
        ),
        "{}: {refused:?}",
        f.file
    );
    let resign = dr.sign_record(&dx, T);
    assert!(
        matches!(resign, Err(Error::InvalidInput { .. })),
        "{resign:?}"
    );
    // Corrected the way any signed entry is.
    let fix = dr
        .add_addendum(
            &dx,
            "reviewed after the upgrade",
            &[("code", Value::code("F43.10"))],
            T,
        )
        .unwrap();
    let read = dr.read_record(&dx, T).unwrap();
    assert_eq!(read.get("code").cloned(), code);
    assert_eq!(read.addenda.iter().map(|a| a.id).collect::<Vec<_>>(), [fix]);

    let note: NoteId = f.note.parse().unwrap();
    let n = dr.read_psychotherapy_note(&note, T).unwrap();
    assert_eq!(n.status, EntryStatus::SignedByUpgrade, "{}", f.file);
    let refused = dr.update_psychotherapy_note(&note, &[("impressions", Value::text("x"))], T);
    assert!(
        matches!(
            refused,
            Err(Error::Signed {
                next: "Session::add_note_addendum"
            })
        ),
        "{}: {refused:?}",
        f.file
    );

    // Administrative: open, as it always was.
    let demographics: RecordId = f.demographics.parse().unwrap();
    assert_eq!(
        dr.read_record(&demographics, T).unwrap().status,
        EntryStatus::Draft
    );
    dr.update_record(&demographics, &[("full_name", Value::text("New Name"))], T)
        .unwrap();
    assert_eq!(
        dr.read_record(&demographics, T).unwrap().get("full_name"),
        Some(&Value::text("New Name"))
    );
    drop(dr);
    vault.close().unwrap();

    // Opened again: the upgrade is not logged twice, and says where it was.
    let vault = Vault::open(&path, test_config()).unwrap();
    assert_eq!(upgrade_entries(&path), logged);
    assert_eq!(
        vault.signed_by_upgrade().unwrap().and_then(|s| s.audit_seq),
        Some(logged[0].0)
    );
    vault.close().unwrap();
    assert_eq!(
        rusqlite::Connection::open(&path)
            .unwrap()
            .query_row("PRAGMA user_version", [], |r| r.get::<_, u32>(0))
            .unwrap(),
        FORMAT_VERSION
    );
    let report = confide::verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "{}: {:?}", f.file, report.findings);
}

#[test]
fn a_format_1_vault_has_its_clinical_entries_signed_by_the_upgrade() {
    upgraded(&FIXTURES[0]);
}

#[test]
fn a_format_5_vault_has_its_clinical_entries_signed_by_the_upgrade() {
    upgraded(&FIXTURES[1]);
}

#[test]
fn a_format_6_vault_has_its_clinical_entries_signed_by_the_upgrade() {
    upgraded(&FIXTURES[2]);
}

/// A vault created at format 10 had nothing to sign, and logs nothing about it.
#[test]
fn a_new_vault_has_nothing_signed_by_an_upgrade() {
    let p = common::Practice::new();
    assert_eq!(p.vault.signed_by_upgrade().unwrap(), None);
    assert!(upgrade_entries(p.path()).is_empty());
}
