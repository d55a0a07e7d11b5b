//! Erasure (GDPR art. 17(3)(c), 45 CFR 164.316(b)(2), 164.528): a request is answered with what
//! is retained, on which basis, until when; before the end of retention nothing is destroyed; at
//! the end the client's data keys are destroyed (crypto-shredding) so no session, cache, export
//! or leftover page brings their content back, while the audit chain and the accounting of
//! disclosures survive.

mod common;
#[path = "common/shredding.rs"]
mod shredding;

use common::*;
use confide::{DenyReason, Error, Purpose, RecordKind, Session, Value, verify_audit_log};
use shredding::*;

const DAY_MS: i64 = 24 * 3600 * 1000;

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
fn no_other_path_brings_erased_content_back() {
    let p = practice_with_retention(0);
    let dr = p.login("dr.a");
    let c = chart(&dr, "Morgan Ellery");
    // Morgan is a minor, and a parent may see the record: the guardian's export is tried too.
    dr.set_minor_status(&c.client, Some(confide::MinorFacts::default()), T)
        .unwrap();
    let custody = confide::NewGuardian {
        basis: confide::GuardianBasis::Parent,
        may_access: true,
        may_authorize: false,
        until_ms: None,
    };
    let parent = dr.record_guardian(&c.client, &custody, T).unwrap();
    let cached = p.login("dr.a");
    cached.export_for_client(&c.client).unwrap();
    assert!(
        !cached
            .export_for_guardian(&c.client, &parent)
            .unwrap()
            .records
            .is_empty()
    );
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
                    .flat_map(|r| r.fields.values().map(|v| v.reveal().as_str().to_owned()))
                    .collect();
                panic!(
                    "export after erasure returned {} entries ({} withheld): {shown:?}",
                    export.records.len(),
                    export.withheld.len()
                );
            }
            Err(e) => panic!("export after erasure: {e:?}"),
        }
        let got = s.export_for_guardian(&c.client, &parent);
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
        // And the refused release is in the log.
        let log = confide::read_audit_log(&p.path, &confide::AuditFilter::default()).unwrap();
        let last = log.entries.last().unwrap();
        assert_eq!(
            (last.action.as_str(), last.outcome.as_str()),
            ("disclosure.release", "failed:erased")
        );
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
