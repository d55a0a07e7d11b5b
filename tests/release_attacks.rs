//! Releases attacked: request shapes that try to get more out than their basis allows, a
//! partner reaching the other's words, and edits of the vault file that must fail closed.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;

use common::new_client;
use confide::Category::{Demographics, JointRecord};
use confide::{DisclosureRequest, Error, LegalBasis, Purpose};
use disclosing::*;

/// A court order for Dana's records, naming the joint record, cites the case of a couple Dana
/// is not in: the couple's joint session must not leave with Dana's release.
#[test]
fn a_court_order_for_one_client_cannot_carry_the_joint_record_of_a_case_they_are_not_in() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let dana = new_client(&dr, "Dana Quill");
    let req = DisclosureRequest {
        case: Some(c.case),
        ..with_order(
            ask(
                dana,
                &court(),
                LegalBasis::CourtOrder,
                Purpose::Legal,
                &[JointRecord],
            ),
            "CV-2024-0117",
            &[JointRecord],
        )
    };
    // Refused, audited, and nothing in the ledger: the answer a case that does not exist gets.
    refused_for(&c.p, &dr, &req, confide::DenyReason::NoRelationship);
}

/// The same on a protective basis: a duty to warn about Dana names the joint record's summary
/// of a case Dana is not in.
#[test]
fn a_duty_to_warn_for_one_client_cannot_carry_the_joint_record_of_a_case_they_are_not_in() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let dana = new_client(&dr, "Dana Quill");
    let req = DisclosureRequest {
        case: Some(c.case),
        ..protect(
            ask(
                dana,
                &police(),
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                &[Demographics, JointRecord],
            ),
            &[(JointRecord, "summary")],
        )
    };
    // Refused, audited, and nothing in the ledger: the answer a case that does not exist gets.
    refused_for(&c.p, &dr, &req, confide::DenyReason::NoRelationship);
}

/// An attendance-only authorization whose field list holds the stored form's separators: once
/// stored and read back, it must still cover attendance only, never the progress notes.
#[test]
fn a_field_name_holding_the_scope_separators_does_not_widen_the_stored_authorization() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let scope = confide::ReleaseScope::new().with(
        confide::Category::Appointments,
        confide::scope::Fields::only(&["date", "status;progress_notes:*"]),
    );
    let mut new = signed(
        &to,
        &[confide::Category::Appointments],
        Purpose::Treatment,
        now_ms() - DAY_MS,
        None,
    );
    new.scope = Some(scope);
    assert!(matches!(
        dr.record_consent(&c.client, &new, T),
        Err(Error::InvalidInput { .. })
    ));
    // Recorded as the vault would have stored it, the scope would name progress notes: the
    // scope's own field names never can.
    new.scope = Some(confide::ReleaseScope::attendance_only());
    let consent = dr.record_consent(&c.client, &new, T).unwrap();
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            Purpose::Treatment,
            &[
                confide::Category::Appointments,
                confide::Category::ProgressNotes,
            ],
        ),
        consent,
    );
    match dr.disclose(&req) {
        Err(Error::Denied { .. } | Error::Integrity { .. } | Error::Corrupt { .. }) => {}
        Err(other) => panic!("unexpected error {other:?}"),
        Ok(pkg) => {
            let json = pkg.to_json();
            assert!(
                !json.contains(PROGRESS_1) && !json.contains(PROGRESS_2),
                "progress notes left under an attendance-only authorization"
            );
        }
    }
}

/// A duty-to-warn release narrowed by the request to the client's name only: the request can
/// only narrow, so the phone and address stay in.
#[test]
fn a_protective_release_honours_the_requests_narrower_scope() {
    let c = Chart::new();
    let dr = c.dr();
    let req = DisclosureRequest {
        narrow: Some(
            confide::ReleaseScope::new()
                .with(Demographics, confide::scope::Fields::only(&["full_name"])),
        ),
        ..protect(
            ask(
                c.client,
                &police(),
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                &[Demographics],
            ),
            &[],
        )
    };
    let want = c.expect(&[(Demographics, Only(&["full_name"]))]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    let json = pkg.to_json();
    assert!(!json.contains(PHONE) && !json.contains(ADDRESS));
}

/// A court order released the couple's joint record with Alex's records. Someone with write
/// access drops the ledger's append-only triggers and takes `joint_record` out of the row's
/// categories: Blake's accounting must not silently lose the release, and audit-verify must
/// report the ledger row.
#[test]
fn a_joint_release_hidden_from_the_other_members_accounting_in_the_file_fails_closed() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let req = DisclosureRequest {
        case: Some(c.case),
        ..with_order(
            ask(
                c.alex,
                &court(),
                LegalBasis::CourtOrder,
                Purpose::Legal,
                &[JointRecord],
            ),
            "CV-2024-0117",
            &[JointRecord],
        )
    };
    dr.disclose(&req).unwrap();
    assert_eq!(dr.accounting(&c.blake, None).unwrap().len(), 1);
    {
        let conn = common::raw(c.p.path());
        let triggers: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'disclosures'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for t in triggers {
            conn.execute(&format!("DROP TRIGGER \"{t}\""), []).unwrap();
        }
        conn.execute("UPDATE disclosures SET categories = ''", [])
            .unwrap();
    }
    let report = confide::verify_audit_log(c.p.path()).unwrap();
    assert!(
        !report.is_intact(),
        "audit-verify finds nothing wrong with the edited ledger row"
    );
    // The release names its case: Blake's accounting still lists it.
    match dr.accounting(&c.blake, None) {
        Err(Error::Integrity { .. }) => {}
        Ok(lines) if lines.len() == 1 => {}
        other => panic!("Blake's accounting answered {other:?}: the release is gone from it"),
    }
}
