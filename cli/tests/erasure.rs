//! Crypto-shredding seen from `audit-verify`: after an erasure the keys are gone everywhere, the
//! audit chain still verifies without a passphrase, and the accounting still lists the releases.
mod common;
#[path = "../../tests/common/shredding.rs"]
mod shredding;

use std::path::Path;

use common::*;
use confide::{Error, RecordKind, Session, Value, verify_audit_log};
use shredding::*;

const OTHER_PROGRESS: &str = "KEEPME-progress slept better this week";
const OTHER_PSY: &str = "KEEPME-psy working through grief";

/// The vault file and its WAL, as bytes.
fn vault_bytes(path: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal"]
        .iter()
        .filter_map(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::read(&p)
                .ok()
                .map(|b| (p.to_string_lossy().into_owned(), b))
        })
        .collect()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every read of the chart's content fails with `Erased`.
fn assert_all_erased(who: &str, s: &Session, c: &Chart) {
    for id in &c.records {
        let got = s.read_record(id, T);
        assert!(
            matches!(got, Err(Error::Erased)),
            "{who}: record {id} after erasure: {got:?}"
        );
    }
    let got = s.read_psychotherapy_note(&c.note, T);
    assert!(
        matches!(got, Err(Error::Erased)),
        "{who}: note after erasure: {got:?}"
    );
}

#[test]
fn erasure_shreds_the_keys_everywhere_and_keeps_audit_and_accounting() {
    let p = practice_with_retention(0);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let other = chart(&dr, "Robin Castellane");
    let other_progress = dr
        .create_record(
            &other.client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(OTHER_PROGRESS))],
            T,
        )
        .unwrap();
    let other_note = dr
        .write_psychotherapy_note(&other.client, &[("impressions", Value::text(OTHER_PSY))], T)
        .unwrap();

    // A duty-to-warn release before the erasure: it must stay in the accounting.
    let released = dr.disclose(&duty_to_warn(&c.client)).unwrap();
    let recipient = released.manifest.recipient.clone();

    // Another session of the same clinician reads everything first, caching every data key.
    let cached = p.login("dr.a");
    for id in &c.records {
        cached.read_record(id, T).unwrap();
    }
    cached.read_psychotherapy_note(&c.note, T).unwrap();
    assert!(cached.key_stats().cached >= 3, "{:?}", cached.key_stats());

    // The wrapped keys, as an attacker with the file would copy them.
    let keys = wrapped_keys(&p.path, &c.client);
    assert_eq!(keys.len(), 3, "general, psychotherapy notes, substance use");
    let other_keys = wrapped_keys(&p.path, &other.client);
    assert_eq!(other_keys.len(), 3);
    // Before: every wrapped key is in the file or its WAL (so the search below can find them).
    let before = vault_bytes(&p.path);
    for (i, k) in keys.iter().enumerate() {
        assert!(
            before.iter().any(|(_, bytes)| contains(bytes, k)),
            "wrapped key {i} not found before erasure: the search would prove nothing"
        );
    }

    dr.erase_client(&c.client, T).unwrap();

    // Audited.
    let e = last_entry(&p, "erasure.shred");
    assert_eq!(e.client, Some(c.client));
    assert_eq!(e.actor, Some(dr.user_id()));
    assert_eq!(e.outcome, "granted:care-team");
    assert_eq!(erasure_rows(&p.path), 1);

    // Every read fails with Erased: the erasing session, the session that had cached the keys,
    // and a new one.
    assert_all_erased("erasing session", &dr, &c);
    assert_all_erased("session with cached keys", &cached, &c);
    assert_all_erased("new session", &p.login("dr.a"), &c);

    // The wrapped keys are gone from the table, the file and the WAL.
    assert!(wrapped_keys(&p.path, &c.client).is_empty());
    let files = vault_bytes(&p.path);
    assert!(!files.is_empty());
    for (name, bytes) in &files {
        for (i, k) in keys.iter().enumerate() {
            assert!(k.len() >= 32);
            assert!(!contains(bytes, k), "wrapped key {i} still in {name}");
        }
    }

    // The audit chain verifies, by the library and by the tool.
    let report = verify_audit_log(&p.path).unwrap();
    assert!(report.is_intact(), "{report:?}");
    let (code, out, err) = audit_verify(&[p.path.as_os_str()]);
    assert_eq!(code, 0, "audit-verify: {out}{err}");
    assert!(out.starts_with("intact"), "{out}");

    // The accounting still lists the duty-to-warn release, with its recipient.
    let accounting = dr.accounting(&c.client, None).unwrap();
    let entry = accounting
        .iter()
        .find(|a| a.legal_basis == "duty-to-warn")
        .unwrap_or_else(|| panic!("release missing from the accounting: {accounting:?}"));
    assert_eq!(entry.recipient, recipient);
    assert_eq!(entry.recipient.name, "Sgt. Dana Whitcombe");
    assert_eq!(entry.recipient.address, "12 Station Road, Riverside");
    assert_eq!(entry.audit_seq, released.manifest.audit_seq);
    assert!(!entry.description.contains("ERASEME"), "{entry:?}");

    // The other client is untouched.
    assert_eq!(wrapped_keys(&p.path, &other.client), other_keys);
    for s in [&dr, &cached] {
        for id in &other.records {
            s.read_record(id, T).unwrap();
        }
        assert_eq!(
            s.read_record(&other_progress, T).unwrap().get("summary"),
            Some(&Value::text(OTHER_PROGRESS))
        );
        assert_eq!(
            s.read_psychotherapy_note(&other_note, T)
                .unwrap()
                .get("impressions"),
            Some(&Value::text(OTHER_PSY))
        );
    }
    let export = dr.export_for_client(&other.client).unwrap();
    assert!(!export.records.is_empty());
    assert_eq!(
        dr.read_record(&other.demographics, T)
            .unwrap()
            .get("full_name"),
        Some(&Value::text("Robin Castellane"))
    );
}
