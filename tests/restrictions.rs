//! Restrictions (45 CFR 164.522(a)): a client who paid for a service in full out of pocket
//! requires that it not be disclosed to their health plan (164.522(a)(1)(vi)), and the practice
//! must agree; other requests are recorded as agreed or refused. Recording and lifting one is a
//! treating clinician's act, audited for the client; a restriction is a fact of the client's
//! authenticated scope, so one edited or deleted in the file fails closed and `audit-verify`
//! names the entry that last vouched for it.

mod common;
#[path = "common/stories.rs"]
mod stories;
#[path = "common/tampered.rs"]
mod tampered;

use std::collections::BTreeSet;

use common::*;
use confide::{
    Category, ClientId, DenyReason, Error, NewRestriction, Purpose, RecordId, RecordKind, Value,
};
use rusqlite::params;
use stories::{assert_denied, assert_invalid, assert_log_intact, entries};
use tampered::*;

const T: Purpose = Purpose::Treatment;

/// Morgan, treated by dr.a: two sessions, each with its appointment and its bill. Morgan paid the
/// first one in full out of pocket.
struct Chart {
    p: Practice,
    client: ClientId,
    paid_visit: RecordId,
    paid_bill: RecordId,
    billed_visit: RecordId,
    billed_bill: RecordId,
}

fn date(y: i16, m: u8, d: u8) -> Value {
    Value::Date(confide::Date::new(y, m, d).unwrap())
}

fn chart() -> Chart {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Morgan Ellis");
    let add = |kind, fields: &[(&str, Value)]| dr.create_record(&client, kind, fields, T).unwrap();
    let paid_visit = add(
        RecordKind::Appointment,
        &[
            ("date", date(2024, 5, 2)),
            ("service_code", Value::code("90837")),
        ],
    );
    let paid_bill = add(
        RecordKind::Billing,
        &[("date", date(2024, 5, 2)), ("fee", Value::Number(18_500))],
    );
    let billed_visit = add(
        RecordKind::Appointment,
        &[
            ("date", date(2024, 5, 9)),
            ("service_code", Value::code("90834")),
        ],
    );
    let billed_bill = add(
        RecordKind::Billing,
        &[("date", date(2024, 5, 9)), ("fee", Value::Number(14_000))],
    );
    Chart {
        p,
        client,
        paid_visit,
        paid_bill,
        billed_visit,
        billed_bill,
    }
}

impl Chart {
    fn id(&self) -> &[u8; 16] {
        self.client.as_bytes()
    }

    /// The self-pay restriction of the first session, against plan A.
    fn keep_from_plan_a(&self) -> NewRestriction {
        NewRestriction::SelfPay {
            plan_name: "Acme Health".into(),
            plan_organisation: "ACME Health Plan".into(),
            records: vec![self.paid_visit, self.paid_bill],
        }
    }
}

/// A request the practice refused: progress notes kept from a lawyer.
fn refused_request() -> NewRestriction {
    NewRestriction::Other {
        recipient: Some(("Pat Smith".into(), "Smith & Partners LLP".into())),
        purposes: vec![Purpose::Legal],
        categories: vec![Category::ProgressNotes],
        records: vec![],
        agreed: false,
    }
}

#[test]
fn a_self_pay_restriction_is_recorded_listed_and_lifted() {
    let c = chart();
    let dr = c.p.login("dr.a");
    assert!(dr.list_restrictions(&c.client, T).unwrap().is_empty());

    let id = dr
        .record_restriction(&c.client, &c.keep_from_plan_a(), T)
        .unwrap();
    let listed = dr.list_restrictions(&c.client, T).unwrap();
    assert_eq!(listed.len(), 1);
    let r = &listed[0];
    assert_eq!(r.id, id);
    // 164.522(a)(1)(vi): agreed, for payment and operations, to the plan it names.
    assert!(r.self_pay && r.agreed && r.names_recipient);
    assert_eq!(
        r.purposes,
        BTreeSet::from([Purpose::Payment, Purpose::Operations])
    );
    assert_eq!(r.records, BTreeSet::from([c.paid_visit, c.paid_bill]));
    assert!(!r.records.contains(&c.billed_visit) && !r.records.contains(&c.billed_bill));
    assert!(r.categories.is_empty());
    assert_eq!(r.lifted_ms, None);
    let recorded = r.recorded_ms;

    dr.lift_restriction(&c.client, &id, T).unwrap();
    let listed = dr.list_restrictions(&c.client, T).unwrap();
    let lifted = listed[0].lifted_ms.expect("the lift is recorded");
    assert!(lifted >= recorded);
    // Once only.
    assert_invalid(dr.lift_restriction(&c.client, &id, T));

    // The log, read without a passphrase: recorded, then lifted, for Morgan, granted, each
    // naming the restriction.
    let about: Vec<_> = log(c.p.path())
        .into_iter()
        .filter(|e| e.action.starts_with("restriction."))
        .collect();
    let seen: Vec<_> = about
        .iter()
        .map(|e| {
            (
                e.action.as_str(),
                e.client,
                e.target.clone(),
                e.outcome.as_str(),
                e.actor,
            )
        })
        .collect();
    let target = Some(hex(id.as_bytes()));
    let me = Some(dr.user_id());
    assert_eq!(
        seen,
        [
            (
                "restriction.record",
                Some(c.client),
                target.clone(),
                "granted:care-team",
                me
            ),
            (
                "restriction.lift",
                Some(c.client),
                target,
                "granted:care-team",
                me
            ),
        ]
    );
    // Listing them is audited as a list of the client's restrictions.
    let lists = entries(&c.p, "record.list");
    assert!(lists.iter().any(|e| e.fields == ["restrictions"]));
    assert_log_intact(&c.p);
}

#[test]
fn a_refused_request_is_listed_as_refused_and_cannot_be_lifted() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let refused = dr
        .record_restriction(&c.client, &refused_request(), T)
        .unwrap();
    // An agreed one naming no recipient binds every recipient.
    let agreed = dr
        .record_restriction(
            &c.client,
            &NewRestriction::Other {
                recipient: None,
                purposes: vec![Purpose::Payment, Purpose::Legal],
                categories: vec![Category::DiagnosisCodes],
                records: vec![c.billed_visit],
                agreed: true,
            },
            T,
        )
        .unwrap();
    let listed = dr.list_restrictions(&c.client, T).unwrap();
    let get = |id| listed.iter().find(|r| r.id == id).unwrap();
    let r = get(refused);
    assert!(!r.agreed && !r.self_pay && r.names_recipient);
    assert_eq!(r.purposes, BTreeSet::from([Purpose::Legal]));
    assert_eq!(r.categories, BTreeSet::from([Category::ProgressNotes]));
    let a = get(agreed);
    assert!(a.agreed && !a.self_pay && !a.names_recipient);
    assert_eq!(a.records, BTreeSet::from([c.billed_visit]));

    // A refused request bound nothing, so there is nothing to lift.
    assert_invalid(dr.lift_restriction(&c.client, &refused, T));
    assert_eq!(get(refused).lifted_ms, None);
    assert_eq!(entries(&c.p, "restriction.record").len(), 2);
    assert!(entries(&c.p, "restriction.lift").is_empty());
    assert_log_intact(&c.p);
}

#[test]
fn a_restriction_names_this_clients_records_and_a_recipient() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let other = new_client(&dr, "Riley Park");
    let theirs = dr
        .create_record(
            &other,
            RecordKind::Billing,
            &[("fee", Value::Number(9_000))],
            T,
        )
        .unwrap();
    let self_pay = |name: &str, records: Vec<RecordId>| NewRestriction::SelfPay {
        plan_name: name.into(),
        plan_organisation: "Acme Health Plan".into(),
        records,
    };
    // Another client's entry; no entry at all; an unnamed plan.
    assert_invalid(dr.record_restriction(
        &c.client,
        &self_pay("Acme Health", vec![c.paid_bill, theirs]),
        T,
    ));
    assert_invalid(dr.record_restriction(&c.client, &self_pay("Acme Health", vec![]), T));
    assert_invalid(dr.record_restriction(&c.client, &self_pay("  ", vec![c.paid_bill]), T));
    // Nothing withheld, or for no purpose.
    let other_ask = |categories: Vec<Category>, purposes: Vec<Purpose>| NewRestriction::Other {
        recipient: None,
        purposes,
        categories,
        records: vec![],
        agreed: true,
    };
    assert_invalid(dr.record_restriction(&c.client, &other_ask(vec![], vec![T]), T));
    assert_invalid(dr.record_restriction(
        &c.client,
        &other_ask(vec![Category::Billing], vec![]),
        T,
    ));
    assert!(dr.list_restrictions(&c.client, T).unwrap().is_empty());
    assert!(entries(&c.p, "restriction.record").is_empty());
}

#[test]
fn billing_and_the_front_desk_cannot_record_or_lift_a_restriction() {
    // Neither has a relationship with the client, and managing consents is no duty of theirs:
    // they get the answer a missing client gets.
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .record_restriction(&c.client, &c.keep_from_plan_a(), T)
        .unwrap();
    for name in ["biller", "front.desk"] {
        let s = c.p.login(name);
        for purpose in [T, Purpose::Payment, Purpose::Operations] {
            assert_denied(
                s.record_restriction(&c.client, &c.keep_from_plan_a(), purpose),
                DenyReason::NoRelationship,
            );
            let last = log(c.p.path()).pop().unwrap();
            assert_eq!(
                (last.action.as_str(), last.client, last.actor),
                ("restriction.record", Some(c.client), Some(s.user_id()))
            );
            assert!(last.outcome.starts_with("denied"), "{last:?}");
            assert_denied(
                s.lift_restriction(&c.client, &id, purpose),
                DenyReason::NoRelationship,
            );
            assert_eq!(log(c.p.path()).pop().unwrap().action, "restriction.lift");
            assert_denied(
                s.list_restrictions(&c.client, purpose),
                DenyReason::NoRelationship,
            );
        }
    }
    // A clinician who does not treat Morgan learns nothing, not even whether it exists.
    let drb = c.p.login("dr.b");
    assert_denied(
        drb.record_restriction(&c.client, &c.keep_from_plan_a(), T),
        DenyReason::NoRelationship,
    );
    assert_denied(
        drb.lift_restriction(&c.client, &id, T),
        DenyReason::NoRelationship,
    );
    // The treating clinician, for treatment only.
    assert_denied(
        dr.lift_restriction(&c.client, &id, Purpose::Operations),
        DenyReason::PurposeNotPermitted,
    );
    let listed = dr.list_restrictions(&c.client, T).unwrap();
    assert_eq!((listed.len(), listed[0].lifted_ms), (1, None));
    assert_log_intact(&c.p);
}

#[test]
fn a_restriction_of_another_client_is_not_found() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let other = new_client(&dr, "Riley Park");
    let bill = dr
        .create_record(
            &other,
            RecordKind::Billing,
            &[("fee", Value::Number(9_000))],
            T,
        )
        .unwrap();
    let theirs = dr
        .record_restriction(
            &other,
            &NewRestriction::SelfPay {
                plan_name: "Acme Health".into(),
                plan_organisation: "Acme Health Plan".into(),
                records: vec![bill],
            },
            T,
        )
        .unwrap();
    assert!(matches!(
        dr.lift_restriction(&c.client, &theirs, T),
        Err(Error::NotFound {
            what: "restriction"
        })
    ));
    assert_eq!(dr.list_restrictions(&other, T).unwrap()[0].lifted_ms, None);
}

/// Lifted in the file, as someone who wants the self-paid session billed would: every decision
/// on Morgan fails on integrity, audited, and `audit-verify` reports the scope at the entry that
/// recorded the restriction.
#[test]
fn a_restriction_lifted_in_the_file_fails_closed() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .record_restriction(&c.client, &c.keep_from_plan_a(), T)
        .unwrap();
    let vouch = granted(c.p.path(), "restriction.record");
    raw(c.p.path())
        .execute(
            "UPDATE restrictions SET lifted_at = recorded_at + 1 WHERE restriction_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(dr.list_restrictions(&c.client, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.list", &dr.user_id());
    assert_scope_failed(dr.read_record(&c.billed_bill, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    // Nor can the vault be made to vouch for it by lifting it properly.
    assert_scope_failed(dr.lift_restriction(&c.client, &id, T), "clients", c.id());
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}

/// Deleted from the file, and a lifted one put back: neither is treated as absent or as
/// recorded; `audit-verify` names the entry that last vouched for the scope.
#[test]
fn a_restriction_deleted_or_put_back_fails_closed() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .record_restriction(&c.client, &c.keep_from_plan_a(), T)
        .unwrap();
    let vouch = granted(c.p.path(), "restriction.record");
    raw(c.p.path())
        .execute(
            "DELETE FROM restrictions WHERE restriction_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(dr.list_restrictions(&c.client, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.list", &dr.user_id());
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);

    let c = chart();
    let dr = c.p.login("dr.a");
    let id = dr
        .record_restriction(&c.client, &c.keep_from_plan_a(), T)
        .unwrap();
    dr.lift_restriction(&c.client, &id, T).unwrap();
    let vouch = granted(c.p.path(), "restriction.lift");
    raw(c.p.path())
        .execute(
            "UPDATE restrictions SET lifted_at = NULL, lifted_by = NULL \
             WHERE restriction_id = ?1",
            params![id.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(dr.list_restrictions(&c.client, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.list", &dr.user_id());
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}
