//! The right to amend (45 CFR 164.526): a request is recorded with its 60-day deadline (one
//! 30-day extension), accepted as an addendum of every affected entry or denied in writing; a
//! statement of disagreement and its rebuttal travel with every later release of a disputed
//! entry and with the client's own export. A request is a fact of the client's authenticated
//! scope: one edited or deleted in the file fails closed, and `audit-verify` names the entry
//! that last vouched for it.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/tampered.rs"]
mod tampered;

use std::time::Duration;

use common::*;
use confide::{
    AMENDMENT_DUE_MS, AmendmentDecision, AmendmentId, Category, ClientId, DenialBasis, DenyReason,
    Error, LegalBasis, NewAmendment, Purpose, RecordId, RecordKind, Session, TestClock, Value,
};
use disclosing::{ask, court, with_order};
use tampered::*;

const T: Purpose = Purpose::Treatment;
const DAY: Duration = Duration::from_secs(24 * 3600);
const START_MS: i64 = 1_772_442_000_000;

/// Sam, treated by dr.a: a signed diagnosis, a signed progress note and an appointment.
struct Chart {
    p: Practice,
    client: ClientId,
    dx: RecordId,
    note: RecordId,
    visit: RecordId,
}

fn chart_in(p: Practice) -> Chart {
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("Reported panic at work"))],
            T,
        )
        .unwrap();
    let visit = dr
        .create_record(
            &client,
            RecordKind::Appointment,
            &[("date", disclosing::date(2026, 3, 2))],
            T,
        )
        .unwrap();
    dr.sign_record(&dx, T).unwrap();
    dr.sign_record(&note, T).unwrap();
    Chart {
        p,
        client,
        dx,
        note,
        visit,
    }
}

fn chart() -> Chart {
    chart_in(Practice::new())
}

fn asking(records: &[RecordId]) -> NewAmendment {
    NewAmendment {
        records: records.to_vec(),
        what: "The panic attacks were about the commute, not work".into(),
        why: "I never said work".into(),
    }
}

fn outcomes(p: &Practice, action: &str) -> Vec<String> {
    log(p.path())
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.outcome)
        .collect()
}

#[test]
fn an_accepted_amendment_is_an_addendum_of_every_affected_entry() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .request_amendment(&c.client, &asking(&[c.dx, c.note]), T)
        .unwrap();
    let correction = [("correction", Value::text("panic about the commute"))];
    let addenda = dr
        .accept_amendment(&id, &correction, &["Dr. Lee, Riverside Psychiatry"], T)
        .unwrap();
    assert_eq!(addenda.len(), 2);
    for (of, addendum) in [c.dx, c.note].iter().zip(&addenda) {
        let read = dr.read_record(of, T).unwrap();
        assert_eq!(read.addenda.len(), 1, "{of}");
        let a = &read.addenda[0];
        assert_eq!(
            (a.id, a.addendum_of, a.amends),
            (*addendum, Some(*of), Some(id))
        );
        assert_eq!(a.get("correction"), Some(&correction[0].1));
        assert!(a.get("reason").is_some());
    }
    let listed = dr.list_amendments(&c.client, T).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].decision, Some(AmendmentDecision::Accepted));
    assert_eq!(listed[0].records, [c.dx, c.note]);
    let read = dr.read_amendment(&id, Purpose::Operations).unwrap();
    assert_eq!(read.notify, ["Dr. Lee, Riverside Psychiatry"]);
    assert_eq!(read.why, "I never said work");
    assert!(read.denial.is_none());
    // Decided once.
    let again = dr.accept_amendment(&id, &correction, &[], T);
    assert!(
        matches!(again, Err(Error::InvalidInput { .. })),
        "{again:?}"
    );
    let denied = dr.deny_amendment(&id, DenialBasis::AccurateAndComplete, "no", T);
    assert!(
        matches!(denied, Err(Error::InvalidInput { .. })),
        "{denied:?}"
    );
    assert_eq!(
        outcomes(&c.p, "amendment.accept"),
        ["granted:care-team"],
        "an invalid second answer changes nothing"
    );
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

#[test]
fn an_amendment_of_a_draft_waits_for_the_draft_to_be_finished() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let draft = dr
        .create_record(
            &c.client,
            RecordKind::TreatmentPlan,
            &[("goals", Value::text("sleep"))],
            T,
        )
        .unwrap();
    let id = dr
        .request_amendment(&c.client, &asking(&[draft]), T)
        .unwrap();
    let fields = [("goals", Value::text("sleep and the commute"))];
    let early = dr.accept_amendment(&id, &fields, &[], T);
    assert!(
        matches!(early, Err(Error::InvalidInput { .. })),
        "{early:?}"
    );
    assert!(dr.read_record(&draft, T).unwrap().addenda.is_empty());
    dr.sign_record(&draft, T).unwrap();
    dr.accept_amendment(&id, &fields, &[], T).unwrap();
    // What a request may name: this client's entries, not addenda, at least one.
    let other = new_client(&dr, "Alex Roe");
    let theirs = dr
        .create_record(
            &other,
            RecordKind::Diagnosis,
            &[("code", Value::code("F32.0"))],
            T,
        )
        .unwrap();
    let addendum = dr.read_record(&draft, T).unwrap().addenda[0].id;
    for records in [vec![], vec![theirs], vec![addendum]] {
        let r = dr.request_amendment(&c.client, &asking(&records), T);
        assert!(
            matches!(r, Err(Error::InvalidInput { .. })),
            "{records:?}: {r:?}"
        );
    }
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

/// Denied on `dx`, with Sam's statement and dr.a's rebuttal.
fn disputed(c: &Chart, dr: &Session) -> AmendmentId {
    let id = dr
        .request_amendment(&c.client, &asking(&[c.dx]), T)
        .unwrap();
    dr.deny_amendment(
        &id,
        DenialBasis::AccurateAndComplete,
        "The diagnosis reflects the assessment of 2 March",
        T,
    )
    .unwrap();
    id
}

#[test]
fn a_statement_of_disagreement_travels_with_every_release_of_the_disputed_entry() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = disputed(&c, &dr);
    let order = |categories: &[Category]| {
        with_order(
            ask(
                c.client,
                &court(),
                LegalBasis::CourtOrder,
                Purpose::Legal,
                categories,
            ),
            "Order 2026-CV-0042",
            categories,
        )
    };
    // Denied, but no statement yet: nothing travels.
    let before = dr.disclose(&order(&[Category::DiagnosisCodes])).unwrap();
    assert!(before.disputes.is_empty() && before.manifest.disputes.is_empty());
    // A rebuttal answers a statement, and a statement a denial.
    let early = dr.rebut_disagreement(&id, "the assessment stands", T);
    assert!(
        matches!(early, Err(Error::InvalidInput { .. })),
        "{early:?}"
    );
    dr.file_disagreement(&id, "I was never assessed for panic disorder", T)
        .unwrap();
    let twice = dr.file_disagreement(&id, "again", T);
    assert!(
        matches!(twice, Err(Error::InvalidInput { .. })),
        "{twice:?}"
    );
    dr.rebut_disagreement(&id, "The structured interview is in the chart", T)
        .unwrap();

    let pkg = dr.disclose(&order(&[Category::DiagnosisCodes])).unwrap();
    assert_eq!(pkg.disputes.len(), 1);
    let d = &pkg.disputes[0];
    assert_eq!(
        (d.request.as_str(), d.records.clone()),
        (id.to_string().as_str(), vec![c.dx.to_string()])
    );
    assert_eq!(d.what, "The panic attacks were about the commute, not work");
    assert_eq!(d.why, "I never said work");
    assert_eq!(d.denial_basis, "accurate-and-complete");
    assert_eq!(
        d.denial_explanation,
        "The diagnosis reflects the assessment of 2 March"
    );
    assert_eq!(d.statement, "I was never assessed for panic disorder");
    assert_eq!(
        d.rebuttal.as_deref(),
        Some("The structured interview is in the chart")
    );
    assert_eq!(pkg.manifest.disputes.len(), 1);
    assert_eq!(pkg.manifest.disputes[0].request, id.to_string());
    assert_eq!(pkg.manifest.disputes[0].records, [c.dx.to_string()]);
    assert!(
        pkg.to_json()
            .contains("I was never assessed for panic disorder")
    );

    // A release of an undisputed entry carries none.
    let visits = dr.disclose(&order(&[Category::Appointments])).unwrap();
    assert!(visits.disputes.is_empty() && visits.manifest.disputes.is_empty());
    assert!(!visits.to_json().contains("never assessed"));

    // The client's own export holds every request, with its outcome and texts.
    let export = dr.export_for_client(&c.client).unwrap();
    assert_eq!(export.amendments.len(), 1);
    let a = &export.amendments[0];
    assert_eq!(a.summary.decision, Some(AmendmentDecision::Denied));
    assert_eq!(
        a.denial.as_ref().map(|d| d.basis),
        Some(DenialBasis::AccurateAndComplete)
    );
    assert_eq!(
        a.statement.as_deref(),
        Some("I was never assessed for panic disorder")
    );
    assert!(a.rebuttal.is_some());
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

#[test]
fn releases_and_exports_carry_addenda_as_far_as_their_scope_allows() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .request_amendment(&c.client, &asking(&[c.dx]), T)
        .unwrap();
    let fields = [("code", Value::code("F40.00"))];
    let addenda = dr.accept_amendment(&id, &fields, &[], T).unwrap();
    let codes = confide::ReleaseScope::new().with(
        Category::DiagnosisCodes,
        confide::scope::Fields::only(&["code"]),
    );
    let mut req = with_order(
        ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &[Category::DiagnosisCodes],
        ),
        "Order 2026-CV-0043",
        &[Category::DiagnosisCodes],
    );
    if let Some(o) = req.order.as_mut() {
        o.names = codes;
    }
    let pkg = dr.disclose(&req).unwrap();
    let addendum = pkg
        .items
        .iter()
        .find(|i| i.id == addenda[0].to_string())
        .expect("the addendum is released");
    assert_eq!(addendum.addendum_of, Some(c.dx.to_string()));
    assert_eq!(addendum.amends, Some(id.to_string()));
    // The order names the code only: not the addendum's reason.
    assert_eq!(addendum.fields.keys().collect::<Vec<_>>(), ["code"]);
    // The client's export shows the entry with its addendum.
    let export = dr.export_for_client(&c.client).unwrap();
    let entry = export.records.iter().find(|r| r.id == c.dx).unwrap();
    assert_eq!(entry.addenda.len(), 1);
    assert_eq!(entry.addenda[0].amends, Some(id));
    assert!(export.records.iter().all(|r| r.addendum_of.is_none()));
    // The de-identified extract leaves addenda out.
    let extract = dr.consultation_extract(&c.client).unwrap();
    assert!(
        !extract
            .items
            .iter()
            .any(|i| i.fields.contains_key("reason"))
    );
    assert!(
        !extract
            .items
            .iter()
            .any(|i| i.fields.get("code").is_some_and(|v| v == "F40.00"))
    );
}

#[test]
fn requests_past_due_are_found_by_the_vaults_clock() {
    let clock = TestClock::starting_at(START_MS);
    let c = chart_in(Practice::on_clock(clock));
    let dr = c.p.login("dr.a");
    let first = dr
        .request_amendment(&c.client, &asking(&[c.dx]), T)
        .unwrap();
    let second = dr
        .request_amendment(&c.client, &asking(&[c.note]), T)
        .unwrap();
    let decided = dr
        .request_amendment(&c.client, &asking(&[c.visit]), T)
        .unwrap();
    let listed = dr.list_amendments(&c.client, T).unwrap();
    assert!(
        listed
            .iter()
            .all(|s| s.due_at_ms == START_MS + AMENDMENT_DUE_MS)
    );
    dr.deny_amendment(
        &decided,
        DenialBasis::NotCreatedByPractice,
        "from the hospital",
        T,
    )
    .unwrap();
    drop(dr);

    clock.advance(30 * DAY);
    let dr = c.p.login("dr.a");
    dr.extend_amendment(&first, "waiting for the hospital's records", T)
        .unwrap();
    let twice = dr.extend_amendment(&first, "still waiting", T);
    assert!(
        matches!(twice, Err(Error::InvalidInput { .. })),
        "{twice:?}"
    );
    assert!(dr.amendments_past_due(T).unwrap().is_empty());
    drop(dr);

    clock.advance(31 * DAY);
    let dr = c.p.login("dr.a");
    let due: Vec<_> = dr
        .amendments_past_due(T)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(due, [second], "day 61: the unextended request only");
    // Too late to extend now.
    let late = dr.extend_amendment(&second, "late", T);
    assert!(matches!(late, Err(Error::InvalidInput { .. })), "{late:?}");
    drop(dr);

    clock.advance(30 * DAY);
    let dr = c.p.login("dr.a");
    let due: Vec<_> = dr
        .amendments_past_due(Purpose::Operations)
        .unwrap()
        .iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(
        due,
        [second, first],
        "day 91: the extended one too (by due date), never the decided"
    );
    // Someone who treats none of these clients sees none of them.
    assert!(c.p.login("dr.b").amendments_past_due(T).unwrap().is_empty());
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

#[test]
fn only_a_treating_clinician_answers_and_every_refusal_is_audited() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .request_amendment(&c.client, &asking(&[c.dx]), T)
        .unwrap();
    let other = c.p.login("dr.b");
    let biller = c.p.login("biller");
    for s in [&other, &biller] {
        let r = s.request_amendment(&c.client, &asking(&[c.dx]), T);
        assert!(
            matches!(
                r,
                Err(Error::Denied {
                    reason: DenyReason::NoRelationship
                })
            ),
            "{r:?}"
        );
        let r = s.deny_amendment(&id, DenialBasis::AccurateAndComplete, "no", T);
        assert!(matches!(r, Err(Error::Denied { .. })), "{r:?}");
        assert!(matches!(
            s.list_amendments(&c.client, T),
            Err(Error::Denied { .. })
        ));
        assert!(matches!(
            s.read_amendment(&id, T),
            Err(Error::Denied { .. })
        ));
    }
    let r = biller.amendments_past_due(Purpose::Operations);
    assert!(
        matches!(
            r,
            Err(Error::Denied {
                reason: DenyReason::RoleNotPermitted
            })
        ),
        "{r:?}"
    );
    // Not for payment, even by the treating clinician.
    let r = dr.extend_amendment(&id, "busy", Purpose::Payment);
    assert!(
        matches!(
            r,
            Err(Error::Denied {
                reason: DenyReason::PurposeNotPermitted
            })
        ),
        "{r:?}"
    );
    // An id that names nothing gets the same answer as a request of a stranger's.
    let unknown: AmendmentId = "00112233445566778899aabbccddeeff".parse().unwrap();
    let r = dr.read_amendment(&unknown, T);
    assert!(
        matches!(
            r,
            Err(Error::Denied {
                reason: DenyReason::NoRelationship
            })
        ),
        "{r:?}"
    );
    assert_eq!(
        outcomes(&c.p, "amendment.request"),
        [
            "granted:care-team",
            "denied:no-relationship",
            "denied:no-relationship"
        ]
    );
    assert_eq!(
        outcomes(&c.p, "amendment.deny"),
        ["denied:no-relationship", "denied:no-relationship"]
    );
    assert_eq!(
        outcomes(&c.p, "amendment.extend"),
        ["denied:purpose-not-permitted"]
    );
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

#[test]
fn a_request_edited_in_the_file_fails_closed_and_is_reported() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = disputed(&c, &dr);
    let vouch = granted(c.p.path(), "amendment.deny");
    // Turn the denial into an acceptance, so the statement would never travel.
    raw(c.p.path())
        .execute(
            "UPDATE amendment_requests SET decision = 'accepted' WHERE request_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    let client = *c.client.as_bytes();
    assert_scope_failed(dr.list_amendments(&c.client, T), "clients", &client);
    assert_failure_audited(c.p.path(), "amendment.read", &dr.user_id());
    assert_scope_failed(dr.read_record(&c.dx, T), "clients", &client);
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    // Nor can the vault be made to vouch for it by answering it.
    let r = dr.file_disagreement(&id, "I disagree", T);
    assert_scope_failed(r, "clients", &client);
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", &client)]);
}

#[test]
fn a_request_deleted_from_the_file_fails_closed_and_is_reported() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .request_amendment(&c.client, &asking(&[c.dx]), T)
        .unwrap();
    let vouch = granted(c.p.path(), "amendment.request");
    let conn = raw(c.p.path());
    conn.execute(
        "DELETE FROM amendment_fields WHERE request_id = ?1",
        [id.as_bytes()],
    )
    .unwrap();
    conn.execute(
        "DELETE FROM amendment_requests WHERE request_id = ?1",
        [id.as_bytes()],
    )
    .unwrap();
    drop(conn);
    let client = *c.client.as_bytes();
    assert_scope_failed(dr.list_amendments(&c.client, T), "clients", &client);
    assert_failure_audited(c.p.path(), "amendment.read", &dr.user_id());
    let report = confide::verify_audit_log(c.p.path()).unwrap();
    assert!(!report.is_intact());
    assert!(
        report.findings.iter().any(|f| f.seq == vouch.seq
            && f.kind
                == confide::FindingKind::FactsChanged {
                    scope: "client",
                    id: client
                }),
        "{report:?}"
    );
}
