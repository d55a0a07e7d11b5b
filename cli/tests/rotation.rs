//! A client-key rotation seen from `audit-verify`: interrupted, resumed, ended with only the new
//! keys, and every step vouched for in the log.
mod common;

use common::*;
use confide::{ClientId, Error, Passphrase, Purpose, RecordKind, Value, Vault};

/// (compartment, version) of every data key of `client`.
fn keys_of(path: &std::path::Path, client: &ClientId) -> Vec<(String, u32)> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare(
            "SELECT compartment, version FROM data_keys WHERE owner_id = ?1 \
             ORDER BY compartment, version",
        )
        .unwrap();
    stmt.query_map([&client.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

/// The key versions the client's general-record fields name.
fn record_versions(path: &std::path::Path, client: &ClientId) -> Vec<u32> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT f.key_version FROM record_fields f \
             JOIN records r ON r.record_id = f.record_id WHERE r.client_id = ?1 \
             ORDER BY f.key_version",
        )
        .unwrap();
    stmt.query_map([&client.as_bytes()[..]], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn intact(path: &std::path::Path) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}

#[test]
fn an_interrupted_rotation_resumes_and_ends_with_only_the_new_keys() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Rotated Client");
    let mut records = Vec::new();
    for i in 0..3 {
        records.push(
            dr.create_record(
                &c,
                RecordKind::ProgressNote,
                &[("summary", Value::text(format!("session {i}")))],
                Purpose::Treatment,
            )
            .unwrap(),
        );
    }
    let note = dr
        .write_psychotherapy_note(
            &c,
            &[("process", Value::text("the therapist's own impressions"))],
            Purpose::Treatment,
        )
        .unwrap();
    assert_eq!(
        keys_of(&p.path, &c),
        vec![("general".into(), 1), ("psychotherapy_notes".into(), 1)]
    );
    let before = p.dir.path().join("before-rotation.backup");
    p.admin().backup(&before).unwrap();

    // One step, then the vault goes away mid-rotation.
    let admin = p.admin();
    let first = admin.rotate_client_keys(&c, Some(2)).unwrap();
    assert_eq!(first.reencrypted, 2);
    assert!(!first.finished);
    assert!(first.remaining > 0);
    assert_eq!(
        keys_of(&p.path, &c),
        vec![
            ("general".into(), 1),
            ("general".into(), 2),
            ("psychotherapy_notes".into(), 1),
            ("psychotherapy_notes".into(), 2),
        ]
    );
    // Half done, the log still vouches for every stored envelope.
    intact(&p.path);
    drop((admin, dr));
    drop(p.vault);

    let vault = Vault::open(&p.path, test_config()).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    let rest = admin.rotate_client_keys(&c, None).unwrap();
    assert!(rest.finished);
    assert_eq!(rest.remaining, 0);
    assert_eq!(
        first.reencrypted + rest.reencrypted,
        first.reencrypted + first.remaining
    );
    assert_eq!(
        keys_of(&p.path, &c),
        vec![("general".into(), 2), ("psychotherapy_notes".into(), 2)]
    );
    assert_eq!(record_versions(&p.path, &c), vec![2]);

    // Everything reads back, under the new keys, in a fresh session.
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    for (i, r) in records.iter().enumerate() {
        let read = dr.read_record(r, Purpose::Treatment).unwrap();
        assert_eq!(
            *read.get("summary").unwrap().reveal(),
            format!("session {i}")
        );
    }
    let n = dr
        .read_psychotherapy_note(&note, Purpose::Treatment)
        .unwrap();
    assert_eq!(
        n.get("process").unwrap().reveal().as_str(),
        "the therapist's own impressions"
    );
    let found = dr
        .find_client(
            "Rotated Client",
            &confide::Date::new(1988, 3, 14).unwrap(),
            Purpose::Treatment,
        )
        .unwrap();
    assert_eq!(found, vec![c]);

    // Each step is in the log: the start, one re-encryption per parent, the end.
    let tail = admin.audit_tail(1000).unwrap();
    let count = |a: &str| tail.iter().filter(|e| e.action == a).count();
    assert_eq!(count("keys.rotate"), 1);
    assert_eq!(count("keys.rotated"), 1);
    assert_eq!(count("note.rekey"), 1);
    assert!(count("record.rekey") >= 3);
    drop((dr, admin, vault));
    let (code, out, err) = audit_verify(&[p.path.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");

    // An envelope put back from the copy taken before the rotation names a deleted key: it
    // opens nothing, and audit-verify sees the record rolled back.
    let old: (Vec<u8>, u32, Vec<u8>) = raw(&before)
        .query_row(
            "SELECT record_id, key_version, envelope FROM record_fields WHERE record_id = ?1",
            [&records[0].as_bytes()[..]],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    raw(&p.path)
        .execute(
            "UPDATE record_fields SET key_version = ?2, envelope = ?3 WHERE record_id = ?1",
            rusqlite::params![old.0, old.1, old.2],
        )
        .unwrap();
    let vault = Vault::open(&p.path, test_config()).unwrap();
    let dr = vault.unlock("dr.a", &Passphrase::new(CLIN_PASS)).unwrap();
    assert!(matches!(
        dr.read_record(&records[0], Purpose::Treatment),
        Err(Error::Integrity { .. })
    ));
    drop((dr, vault));
    let report = confide::verify_audit_log(&p.path).unwrap();
    assert!(
        report
            .findings
            .iter()
            .any(|f| matches!(f.kind, confide::FindingKind::RecordChanged { .. })),
        "{:?}",
        report.findings
    );
}
