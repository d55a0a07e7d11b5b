//! Attacks on the gate, as three people would make them: an ordinary login using the API, a
//! release under a narrow authorization, and someone with write access to the file between calls.
//! Each must fail closed with a typed error and an audit entry.
//!
//! Three of them edit facts the file holds in clear (a record's kind, its field-set digest):
//! every such fact is authenticated (a MAC under a key of the master key), so the edit fails
//! closed on the read path.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;

use confide::Category::{DiagnosisCodes, JointRecord};
use confide::{AuditFilter, DenyReason, DisclosureRequest, Error, LegalBasis, RecordKind, Value};
use disclosing::*;

fn outcomes(p: &common::Practice) -> Vec<(String, String)> {
    confide::read_audit_log(p.path(), &AuditFilter::default())
        .unwrap()
        .entries
        .into_iter()
        .map(|e| (e.action.to_string(), e.outcome))
        .collect()
}

fn last_outcome(p: &common::Practice) -> (String, String) {
    outcomes(p).pop().unwrap()
}

// --- 2. Narrow authorization -----------------------------------------------------------------

/// Blake authorized release of the joint record to Dr. Hart only; Alex authorized it to a lawyer.
/// The joint record does not go to the lawyer, whom Blake never named: every member's consent
/// must name the recipient.
#[test]
fn a_joint_release_needs_every_member_to_name_the_recipient() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let hart = party("Dr. Lee Hart", "Hart Family Therapy", "18 Birch Court");
    let lawyer = party("J. Shark", "Shark & Co, Divorce Law", "1 Court St");
    // Blake: joint record, treatment, to Dr. Hart.
    joint_consent(&dr, &c.blake, c.case, &hart, T);
    // Alex: joint record, treatment, to the lawyer.
    let alex = joint_consent(&dr, &c.alex, c.case, &lawyer, T);
    let req = DisclosureRequest {
        case: Some(c.case),
        ..with_consent(
            ask(
                c.alex,
                &lawyer,
                LegalBasis::Authorization,
                T,
                &[JointRecord],
            ),
            alex,
        )
    };
    match dr.disclose(&req) {
        Err(Error::Denied {
            reason: DenyReason::HeldInConfidence,
        }) => {}
        Ok(pkg) => panic!(
            "joint record released to a recipient only one member named: {}",
            pkg.to_json()
        ),
        other => panic!("unexpected: {other:?}"),
    }
}

#[test]
fn revoked_and_expired_consent_refused() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    dr.revoke_consent(&id, T).unwrap();
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        id,
    );
    assert!(matches!(
        dr.disclose(&req),
        Err(Error::Denied {
            reason: DenyReason::ConsentRevoked
        })
    ));
    assert_eq!(last_outcome(&c.p).1, "denied:consent-revoked");
    // Expired.
    let old = signed(
        &to,
        &[DiagnosisCodes],
        T,
        now_ms() - 10 * DAY_MS,
        Some(now_ms() - DAY_MS),
    );
    let old = dr.record_consent(&c.client, &old, T).unwrap();
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        old,
    );
    assert!(matches!(dr.disclose(&req), Err(Error::Denied { .. })));
    assert!(last_outcome(&c.p).1.starts_with("denied:"));
}

#[test]
fn diagnosis_consent_releases_only_diagnoses() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        id,
    );
    let pkg = dr.disclose(&req).unwrap();
    let json = pkg.to_json();
    for secret in [
        PROGRESS_1,
        PROGRESS_2,
        PLAN,
        SUD,
        IMPRESSIONS,
        REASON_1,
        PHONE,
    ] {
        assert!(!json.contains(secret), "{secret} leaked");
    }
    assert!(pkg.items.iter().all(|i| i.category == "diagnosis_codes"));
}

// --- 3. Write access to the file -------------------------------------------------------------

/// Flipping `records.kind` in the file would re-categorize the entry: a progress note relabelled
/// `diagnosis` would leave under a consent that names only diagnosis codes. The kind is covered
/// by the record's MAC, so the release fails closed.
#[test]
fn file_relabelled_record_kind_widens_a_narrow_release() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let changed = common::raw(c.p.path())
        .execute(
            "UPDATE records SET kind = 'diagnosis' WHERE kind = 'progress_note'",
            [],
        )
        .unwrap();
    assert_eq!(changed, 2);
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        id,
    );
    match dr.disclose(&req) {
        Err(Error::Integrity { .. }) => {
            assert!(last_outcome(&c.p).1.starts_with("failed:"));
        }
        Ok(pkg) => {
            let json = pkg.to_json();
            assert!(
                !json.contains(PROGRESS_1) && !json.contains(PROGRESS_2),
                "progress notes released as diagnosis codes: {json}"
            );
        }
        other => panic!("unexpected: {other:?}"),
    }
}

/// The same edit on the read path: the relabelled entry is an integrity failure, never a
/// progress note read as another kind.
#[test]
fn file_relabelled_record_kind_is_read_without_error() {
    let mut c = Chart::new();
    let dr = c.dr();
    c.add(
        &dr,
        RecordKind::ProgressNote,
        vec![("summary", Value::text("relabel me"))],
    );
    let id: confide::RecordId = c.entries.last().unwrap().id.parse().unwrap();
    common::raw(c.p.path())
        .execute(
            "UPDATE records SET kind = 'appointment' WHERE record_id = ?1",
            [id.as_bytes().to_vec()],
        )
        .unwrap();
    match dr.read_record(&id, T) {
        Err(Error::Integrity { .. }) => {}
        Ok(r) => panic!(
            "relabelled entry read as {:?} without complaint: {:?}",
            r.kind, r.fields
        ),
        other => panic!("unexpected: {other:?}"),
    }
}

/// Clearing `records.fields_digest` and deleting a field row must not make the read return a
/// partial entry: the field set is checked against the record's MAC, which is mandatory.
#[test]
fn file_cleared_digest_hides_a_deleted_field() {
    let mut c = Chart::new();
    let dr = c.dr();
    c.add(
        &dr,
        RecordKind::Diagnosis,
        vec![
            ("code", Value::code("F43.1")),
            ("rule_out", Value::text("rule out bipolar; do not code yet")),
        ],
    );
    let id: confide::RecordId = c.entries.last().unwrap().id.parse().unwrap();
    let db = common::raw(c.p.path());
    db.execute(
        "UPDATE records SET fields_digest = NULL WHERE record_id = ?1",
        [id.as_bytes().to_vec()],
    )
    .unwrap();
    db.execute(
        "DELETE FROM record_fields WHERE record_id = ?1 AND field = 'code'",
        [id.as_bytes().to_vec()],
    )
    .unwrap();
    drop(db);
    match dr.read_record(&id, T) {
        Err(Error::Integrity { .. }) => {}
        Ok(r) => panic!("partial entry read without complaint: {:?}", r.fields),
        other => panic!("unexpected: {other:?}"),
    }
}

#[test]
fn file_disabled_user_refused_and_audited() {
    let p = common::Practice::new();
    let dr = p.login("dr.a");
    let client = common::new_client(&dr, "Casey");
    let rec = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("x"))],
            T,
        )
        .unwrap();
    common::raw(p.path())
        .execute("UPDATE users SET disabled = 1 WHERE name = 'dr.a'", [])
        .unwrap();
    assert!(matches!(dr.read_record(&rec, T), Err(Error::UserDisabled)));
    assert_eq!(last_outcome(&p).1, "failed:user-disabled");
    // Keys wiped: a locked session afterwards.
    assert!(dr.is_locked());
    assert!(dr.list_records(&client, T).is_err());
}

#[test]
fn file_moved_field_row_fails_closed_and_audited() {
    let c = Chart::new();
    let dr = c.dr();
    let list = dr.list_records(&c.client, T).unwrap();
    let dx = list
        .iter()
        .find(|r| r.kind == RecordKind::Diagnosis)
        .unwrap()
        .id;
    let pn = list
        .iter()
        .find(|r| r.kind == RecordKind::ProgressNote)
        .unwrap()
        .id;
    common::raw(c.p.path())
        .execute(
            "UPDATE record_fields SET record_id = ?1 WHERE record_id = ?2",
            [dx.as_bytes().to_vec(), pn.as_bytes().to_vec()],
        )
        .unwrap();
    assert!(matches!(
        dr.read_record(&dx, T),
        Err(Error::Integrity { .. })
    ));
    assert!(last_outcome(&c.p).1.starts_with("failed:"));
}

// --- 1. Ordinary user ------------------------------------------------------------------------

#[test]
fn locked_session_refused_and_audited() {
    let c = Chart::new();
    let dr = c.dr();
    dr.lock().unwrap();
    let to = psychiatrist();
    let req = ask(c.client, &to, LegalBasis::DutyToWarn, T, &[DiagnosisCodes]);
    assert!(matches!(dr.disclose(&req), Err(Error::SessionLocked)));
    assert_eq!(last_outcome(&c.p).1, "failed:session-locked");
    assert!(matches!(
        dr.export_for_client(&c.client),
        Err(Error::SessionLocked)
    ));
}

#[test]
fn partner_export_omits_other_partners_case_note() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let json = format!("{:?}", dr.export_for_client(&c.blake).unwrap());
    assert!(
        !json.contains(AFFAIR),
        "blake's export holds alex's case note"
    );
    let rec = dr.list_records(&c.blake, T).unwrap();
    assert!(rec.iter().all(|r| r.kind != RecordKind::CaseNote));
}
