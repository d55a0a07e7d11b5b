//! Erasure (GDPR art. 17(3)(c), 45 CFR 164.316(b)(2), 164.528): a request is answered with what
//! is retained, on which basis, until when; before the end of retention nothing is destroyed; at
//! the end the client's data keys are destroyed (crypto-shredding) so no session, cache, export
//! or leftover page brings their content back, while the audit chain and the accounting of
//! disclosures survive.

mod common;

use std::path::Path;

use common::*;
use confide::{
    Category, ClientId, Date, DenyReason, DisclosureRequest, Error, LegalBasis, NewClient, NoteId,
    OutsideParty, Passphrase, Purpose, RecordId, RecordKind, Role, Session, Value, Vault,
    verify_audit_log,
};

const T: Purpose = Purpose::Treatment;
const DAY_MS: i64 = 24 * 3600 * 1000;

const DX_NOTE: &str = "ERASEME-dx recurrent depressive episodes";
const PROGRESS: &str = "ERASEME-progress spoke about the orchard";
const SUD: &str = "ERASEME-sud methadone maintenance";
const PSY: &str = "ERASEME-psy transference around the father";
const OTHER_PROGRESS: &str = "KEEPME-progress slept better this week";
const OTHER_PSY: &str = "KEEPME-psy working through grief";

/// The standard practice, with another retention period.
fn practice_with_retention(years: u32) -> Practice {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("practice.vault");
    let config = test_config().with_retention_years(years);
    let vault = Vault::create(&path, "admin", &Passphrase::new(ADMIN_PASS), config).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    for (name, role) in [
        ("dr.a", Role::Clinician),
        ("dr.b", Role::Clinician),
        ("biller", Role::Biller),
        ("front.desk", Role::Scheduler),
        ("auditor", Role::Auditor),
    ] {
        admin
            .add_user(name, role, &Passphrase::new(CLIN_PASS))
            .unwrap();
    }
    Practice { dir, path, vault }
}

/// One client's chart: every compartment holds something.
struct Chart {
    client: ClientId,
    demographics: RecordId,
    records: Vec<RecordId>,
    note: NoteId,
}

fn chart(dr: &Session, name: &str) -> Chart {
    let client = dr
        .create_client(
            &NewClient {
                full_name: name.into(),
                date_of_birth: Date::new(1979, 11, 2).unwrap(),
            },
            T,
        )
        .unwrap();
    let demographics = dr.list_records(&client, T).unwrap()[0].id;
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[
                ("code", Value::code("F33.1")),
                ("note", Value::text(DX_NOTE)),
            ],
            T,
        )
        .unwrap();
    let progress = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(PROGRESS))],
            T,
        )
        .unwrap();
    let sud = dr
        .create_record(
            &client,
            RecordKind::SubstanceUse,
            &[("summary", Value::text(SUD))],
            T,
        )
        .unwrap();
    let note = dr
        .write_psychotherapy_note(&client, &[("impressions", Value::text(PSY))], T)
        .unwrap();
    Chart {
        client,
        demographics,
        records: vec![demographics, dx, progress, sud],
        note,
    }
}

/// The wrapped data keys of `owner`, straight from the file.
fn wrapped_keys(path: &Path, owner: &ClientId) -> Vec<Vec<u8>> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT wrapped FROM data_keys WHERE owner_id = ?1 ORDER BY compartment")
        .unwrap();
    stmt.query_map([owner.as_bytes()], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<Vec<u8>>, _>>()
        .unwrap()
}

fn erasure_rows(path: &Path) -> i64 {
    raw(path)
        .query_row("SELECT count(*) FROM erasures", [], |r| r.get(0))
        .unwrap()
}

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

/// The newest activity on the chart: its newest entry or note.
fn last_activity(dr: &Session, c: &Chart) -> i64 {
    let records = dr.list_records(&c.client, T).unwrap();
    let notes = dr.list_psychotherapy_notes(&c.client, T).unwrap();
    records
        .iter()
        .map(|r| r.updated_at_ms.max(r.created_at_ms))
        .chain(notes.iter().map(|(_, at)| *at))
        .max()
        .unwrap()
}

/// Current time in unix milliseconds.
fn now_ms() -> i64 {
    i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap()
}

fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn duty_to_warn(client: &ClientId) -> DisclosureRequest {
    DisclosureRequest {
        client: *client,
        case: None,
        recipient: OutsideParty {
            name: "Sgt. Dana Whitcombe".into(),
            organisation: "Riverside Police Department".into(),
            address: "12 Station Road, Riverside".into(),
        },
        purpose: Purpose::Legal,
        basis: LegalBasis::DutyToWarn,
        consent: None,
        reference: None,
        order_names: vec![],
        categories: vec![Category::DiagnosisCodes, Category::ProgressNotes],
        narrow: None,
        description: "threat against a named coworker".into(),
    }
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
fn erasure_request_answers_what_is_retained_on_which_basis_until_when() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let last = last_activity(&dr, &c);

    let answer = dr.request_erasure(&c.client).unwrap();

    // Three things are kept: the clinical record, the disclosure ledger, the audit log.
    assert_eq!(answer.retained.len(), 3, "{answer:?}");
    let find = |word: &str| {
        answer
            .retained
            .iter()
            .find(|r| r.what.to_lowercase().contains(word))
            .unwrap_or_else(|| panic!("nothing retained about {word:?}: {answer:?}"))
    };
    let record = find("clinical record");
    let ledger = find("disclosure");
    let audit = find("audit log");
    assert!(ledger.what.contains("accounting"), "{ledger:?}");
    for r in [record, ledger, audit] {
        assert!(!r.basis.trim().is_empty(), "{r:?} names no basis");
    }
    // Each basis names its law.
    assert!(record.basis.contains("17(3)"), "{record:?}");
    assert!(ledger.basis.contains("164.528"), "{ledger:?}");
    assert!(audit.basis.contains("164.312") || audit.basis.contains("164.316"));

    // Until when: last activity + the retention period (six years by default).
    assert_eq!(record.until_ms, answer.erasable_from_ms);
    let kept = answer.erasable_from_ms - last;
    assert!(
        (6 * 365 * DAY_MS..=6 * 366 * DAY_MS).contains(&kept),
        "erasable {kept} ms after the last activity, not six years"
    );
    for r in [ledger, audit] {
        assert!(r.until_ms >= last + 6 * 365 * DAY_MS, "{r:?}");
    }
    assert!(answer.erasable_from_ms > now_ms());

    // The answer is serialisable for the letter to the client.
    let json = serde_json::to_string(&answer).unwrap();
    assert!(json.contains("erasable_from_ms"));

    // Audited: who asked, for whom, on which basis.
    let e = last_entry(&p, "erasure.request");
    assert_eq!(e.client, Some(c.client));
    assert_eq!(e.actor, Some(dr.user_id()));
    assert_eq!(e.outcome, "granted:care-team");
    assert_eq!(e.purpose, "PATRQT");
}

#[test]
fn erasable_from_follows_the_practices_retention_period() {
    let p = practice_with_retention(10);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let last = last_activity(&dr, &c);
    let answer = dr.request_erasure(&c.client).unwrap();
    let kept = answer.erasable_from_ms - last;
    assert!(
        (10 * 365 * DAY_MS..=10 * 366 * DAY_MS).contains(&kept),
        "erasable {kept} ms after the last activity, not ten years"
    );
    // The ledger and the audit log keep their own six years, whatever the record's rule.
    let ledger = answer
        .retained
        .iter()
        .find(|r| r.what.contains("disclosure"))
        .unwrap();
    assert!((6 * 365 * DAY_MS..=6 * 366 * DAY_MS).contains(&(ledger.until_ms - last)));

    // With no retention the record is erasable from the last activity.
    let p = practice_with_retention(0);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let last = last_activity(&dr, &c);
    let answer = dr.request_erasure(&c.client).unwrap();
    assert_eq!(answer.erasable_from_ms, last);
}

#[test]
fn erasure_request_is_refused_to_anyone_but_the_treating_clinician() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    for s in [p.login("dr.b"), p.login("biller"), p.admin()] {
        let got = s.request_erasure(&c.client);
        assert!(
            matches!(got, Err(Error::Denied { .. })),
            "{}: {got:?}",
            s.user_name()
        );
        let e = last_entry(&p, "erasure.request");
        assert_eq!(e.actor, Some(s.user_id()));
        assert!(e.outcome.starts_with("denied:"), "{e:?}");
    }
    // A clinician with no relationship learns nothing more specific.
    assert!(matches!(
        p.login("dr.b").request_erasure(&c.client),
        Err(Error::Denied {
            reason: DenyReason::NoRelationship
        })
    ));
}

#[test]
fn erasing_before_the_end_of_retention_is_refused_and_changes_nothing() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let keys = wrapped_keys(&p.path, &c.client);
    assert_eq!(keys.len(), 3, "general, psychotherapy notes, substance use");
    let answer = dr.request_erasure(&c.client).unwrap();

    let got = dr.erase_client(&c.client, T);
    match &got {
        Err(Error::Retained { until, basis }) => {
            assert_eq!(until, &rfc3339(answer.erasable_from_ms));
            assert!(basis.contains("retention"), "{basis}");
        }
        other => panic!("erasure before the end of retention: {other:?}"),
    }
    // The message says until when, and holds no content.
    let msg = got.unwrap_err().to_string();
    assert!(msg.contains(&rfc3339(answer.erasable_from_ms)), "{msg}");
    assert!(!msg.contains("ERASEME"));

    // Nothing changed: keys, no erasure mark, and every read still works.
    assert_eq!(wrapped_keys(&p.path, &c.client), keys);
    assert_eq!(erasure_rows(&p.path), 0);
    for id in &c.records {
        dr.read_record(id, T).unwrap();
    }
    let note = dr.read_psychotherapy_note(&c.note, T).unwrap();
    assert_eq!(note.get("impressions"), Some(&Value::text(PSY)));
    let fresh = p.login("dr.a");
    assert_eq!(
        fresh.read_record(&c.records[2], T).unwrap().get("summary"),
        Some(&Value::text(PROGRESS))
    );
    assert!(
        p.admin()
            .audit_tail(1000)
            .unwrap()
            .iter()
            .all(|e| !(e.action == "erasure.shred" && e.outcome.starts_with("granted"))),
        "no shredding was recorded"
    );
}

#[test]
fn erasing_is_refused_to_other_clinicians_and_billing() {
    let p = practice_with_retention(0);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let keys = wrapped_keys(&p.path, &c.client);
    for s in [p.login("dr.b"), p.login("biller"), p.login("front.desk")] {
        let got = s.erase_client(&c.client, T);
        assert!(
            matches!(got, Err(Error::Denied { .. })),
            "{}: {got:?}",
            s.user_name()
        );
        let e = last_entry(&p, "erasure.shred");
        assert_eq!(e.actor, Some(s.user_id()));
        assert!(e.outcome.starts_with("denied:"), "{e:?}");
    }
    // The treating clinician must name treatment as the purpose.
    assert!(matches!(
        dr.erase_client(&c.client, Purpose::Payment),
        Err(Error::Denied {
            reason: DenyReason::PurposeNotPermitted
        })
    ));
    assert_eq!(wrapped_keys(&p.path, &c.client), keys);
    assert_eq!(erasure_rows(&p.path), 0);
    dr.read_record(&c.records[1], T).unwrap();
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

#[test]
fn no_other_path_brings_erased_content_back() {
    let p = practice_with_retention(0);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    let cached = p.login("dr.a");
    cached.export_for_client(&c.client).unwrap();
    cached.consultation_extract(&c.client).unwrap();
    dr.erase_client(&c.client, T).unwrap();

    for s in [&dr, &cached] {
        // The right-of-access export: the code refuses the whole export with Erased (it never
        // returns a partial one). Either way, no plaintext may come back.
        match s.export_for_client(&c.client) {
            Err(Error::Erased) => {}
            Ok(export) => {
                let shown: Vec<String> = export
                    .records
                    .iter()
                    .flat_map(|r| r.fields.values().map(Value::reveal))
                    .collect();
                panic!(
                    "export after erasure returned {} entries ({} withheld): {shown:?}",
                    export.records.len(),
                    export.withheld
                );
            }
            Err(e) => panic!("export after erasure: {e:?}"),
        }
        let got = s.export_for_guardian(&c.client);
        assert!(
            !matches!(got, Ok(ref e) if !e.records.is_empty()),
            "guardian export after erasure: {got:?}"
        );
        // The de-identified extract.
        let got = s.consultation_extract(&c.client);
        assert!(matches!(got, Err(Error::Erased)), "extract: {got:?}");
        // A release outside the vault.
        let got = s.disclose(&duty_to_warn(&c.client));
        assert!(matches!(got, Err(Error::Erased)), "disclosure: {got:?}");
    }
    // Nothing above added a ledger row for content that could not be read.
    assert!(dr.accounting(&c.client, None).unwrap().is_empty());
    // Metadata without content remains (the record list): it holds no field value.
    let listed = dr.list_records(&c.client, T).unwrap();
    assert_eq!(listed.len(), c.records.len());
    assert!(verify_audit_log(&p.path).unwrap().is_intact());
}

#[test]
fn nothing_new_is_written_for_an_erased_client() {
    let p = practice_with_retention(0);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    dr.erase_client(&c.client, T).unwrap();

    // Intended: a write for an erased client is refused with Erased, and no data key comes back
    // for them (a new key would seal content that no read may ever open).
    let got = dr.create_record(
        &c.client,
        RecordKind::ProgressNote,
        &[("summary", Value::text("written after erasure"))],
        T,
    );
    assert!(matches!(got, Err(Error::Erased)), "record write: {got:?}");
    let got = dr.write_psychotherapy_note(&c.client, &[("x", Value::text("after"))], T);
    assert!(matches!(got, Err(Error::Erased)), "note write: {got:?}");
    assert!(wrapped_keys(&p.path, &c.client).is_empty());
}

#[test]
fn a_refused_erasure_is_audited() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    assert!(matches!(
        dr.erase_client(&c.client, T),
        Err(Error::Retained { .. })
    ));
    // Intended: every refusal is in the log (crate docs; 45 CFR 164.312(b)). An attempt to destroy
    // a record before the end of its retention is what an auditor most needs to see.
    let e = p
        .admin()
        .audit_tail(1000)
        .unwrap()
        .into_iter()
        .rev()
        .find(|e| e.action == "erasure.shred");
    let e = e.expect("no erasure.shred entry for the refused erasure");
    assert_eq!(e.client, Some(c.client));
    assert_eq!(e.actor, Some(dr.user_id()));
    assert!(!e.outcome.starts_with("granted"), "{e:?}");
}
