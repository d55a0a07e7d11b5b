//! Minimum necessary (45 CFR 164.502(b), 164.514(d)): billing gets codes, dates and fees but no
//! notes; the front desk gets contact details and appointments but nothing clinical; and one
//! sensitive entry never hides a client's ordinary entries (OpenEMR #11279).

mod common;
#[path = "common/stories.rs"]
mod stories;

use std::collections::BTreeSet;

use common::*;
use confide::{
    ClientId, Date, DenyReason, NoteId, Purpose, Record, RecordId, RecordKind, Session, Value,
    fields,
};
use stories::*;

const T: Purpose = Purpose::Treatment;
const PAY: Purpose = Purpose::Payment;
const OPS: Purpose = Purpose::Operations;

/// Jamie's chart, written by dr.a after an intake and a first session.
struct Chart {
    p: Practice,
    jamie: ClientId,
    contact: RecordId,
    dx: RecordId,
    dx_codes: RecordId,
    appt: RecordId,
    bill: RecordId,
    progress: RecordId,
    plan: RecordId,
    note: NoteId,
}

fn chart() -> Chart {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let jamie = new_client(&dr, "Jamie Fox");
    let rec = |kind, fields: &[(&str, Value)]| dr.create_record(&jamie, kind, fields, T).unwrap();
    let contact = rec(
        RecordKind::Demographics,
        &[
            ("phone", Value::text("555-0134")),
            ("email", Value::text("jamie@example.org")),
            ("address", Value::text("12 Elm St")),
            ("insurance_id", Value::text("INS-99812")),
            ("insurance_group", Value::text("GRP-7")),
            ("emergency_contact", Value::text("Pat Fox, sister")),
        ],
    );
    let dx = rec(
        RecordKind::Diagnosis,
        &[
            ("code", Value::code("F33.1")),
            (
                "narrative",
                Value::text("Recurrent depression since the divorce; passive ideation last winter"),
            ),
        ],
    );
    let dx_codes = rec(
        RecordKind::Diagnosis,
        &[
            ("codes", Value::Codes(vec!["F33.1".into(), "F41.1".into()])),
            (
                "rationale",
                Value::text("Worry most days, sleep onset insomnia"),
            ),
        ],
    );
    let appt = rec(
        RecordKind::Appointment,
        &[
            ("date", Value::Date(Date::new(2026, 3, 2).unwrap())),
            ("time", Value::text("14:00")),
            ("minutes", Value::Number(53)),
            ("location", Value::text("Room 2")),
            ("status", Value::text("attended")),
            ("clinician", Value::text("dr.a")),
            ("service_code", Value::code("90837")),
            (
                "reason",
                Value::text("Follow-up after ER visit for overdose"),
            ),
        ],
    );
    let bill = rec(
        RecordKind::Billing,
        &[
            ("service_code", Value::code("90837")),
            ("fee_cents", Value::Number(18_000)),
            ("date", Value::Date(Date::new(2026, 3, 2).unwrap())),
            ("payer", Value::text("Acme Health")),
        ],
    );
    let progress = rec(
        RecordKind::ProgressNote,
        &[("summary", Value::text("Mood 4/10; safety plan reviewed"))],
    );
    let plan = rec(
        RecordKind::TreatmentPlan,
        &[(
            "goals",
            Value::text("Behavioural activation; reduce drinking"),
        )],
    );
    let note = dr
        .write_psychotherapy_note(
            &jamie,
            &[(
                "impressions",
                Value::text("Shame about the divorce drives the drinking"),
            )],
            T,
        )
        .unwrap();
    Chart {
        p,
        jamie,
        contact,
        dx,
        dx_codes,
        appt,
        bill,
        progress,
        plan,
        note,
    }
}

fn names(r: &Record) -> BTreeSet<&str> {
    r.fields.keys().map(|k| k.as_str()).collect()
}

fn set<'a>(names: &[&'a str]) -> BTreeSet<&'a str> {
    names.iter().copied().collect()
}

fn kinds(s: &Session, client: &ClientId, purpose: Purpose) -> BTreeSet<RecordKind> {
    s.list_records(client, purpose)
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect()
}

#[test]
fn a_biller_gets_codes_dates_and_fees_but_no_notes() {
    let c = chart();
    let biller = c.p.login("biller");

    let dx = biller.read_record(&c.dx, PAY).unwrap();
    assert_eq!(names(&dx), set(&["code"]));
    assert_eq!(dx.get("code"), Some(&Value::code("F33.1")));
    let dx_codes = biller.read_record(&c.dx_codes, PAY).unwrap();
    assert_eq!(names(&dx_codes), set(&["codes"]));

    let appt = biller.read_record(&c.appt, PAY).unwrap();
    assert_eq!(names(&appt), set(fields::DATES_OF_SERVICE));
    assert_eq!(
        names(&appt),
        set(&["date", "minutes", "service_code", "status"])
    );

    let bill = biller.read_record(&c.bill, PAY).unwrap();
    assert_eq!(
        names(&bill),
        set(&["date", "fee_cents", "payer", "service_code"])
    );
    assert_eq!(bill.get("fee_cents"), Some(&Value::Number(18_000)));

    let contact = biller.read_record(&c.contact, PAY).unwrap();
    assert_eq!(
        names(&contact),
        set(&["address", "insurance_group", "insurance_id"])
    );

    // Notes and plans: never, not even trimmed. They are outside billing's duty, so the
    // biller has no relationship with the client for them: the answer a missing record gets,
    // which says neither that the note exists nor what it is.
    assert_denied(
        biller.read_record(&c.progress, PAY),
        DenyReason::NoRelationship,
    );
    assert_denied(biller.read_record(&c.plan, PAY), DenyReason::NoRelationship);
    // Psychotherapy notes are never for payment (45 CFR 164.508(a)(2)); to the biller, with no
    // relationship, the refusal does not even say so.
    assert_denied(
        biller.read_psychotherapy_note(&c.note, PAY),
        DenyReason::NoRelationship,
    );

    // Each granted read names exactly the fields released, never the narrative.
    let reads = entries(&c.p, "record.read");
    let appt_read = reads
        .iter()
        .rev()
        .find(|e| e.actor == Some(biller.user_id()) && e.target == Some(c.appt.to_string()))
        .unwrap();
    assert_eq!(appt_read.outcome, "granted:role");
    assert_eq!(
        appt_read.fields,
        ["date", "minutes", "service_code", "status"]
    );
    assert_log_intact(&c.p);
}

#[test]
fn a_biller_reading_for_treatment_is_refused_and_unwraps_nothing() {
    let c = chart();
    let biller = c.p.login("biller");
    for r in [c.dx, c.appt, c.bill, c.contact] {
        assert_denied(biller.read_record(&r, T), DenyReason::PurposeNotPermitted);
    }
    // Outside billing's duty: no relationship, the answer a missing id gets.
    assert_denied(
        biller.read_record(&c.progress, PAY),
        DenyReason::NoRelationship,
    );
    assert_denied(
        biller.read_psychotherapy_note(&c.note, T),
        DenyReason::NoRelationship,
    );
    // A biller writes fees, not clinical entries.
    assert_denied(
        biller.create_record(
            &c.jamie,
            RecordKind::Diagnosis,
            &[("code", Value::code("F32.9"))],
            PAY,
        ),
        DenyReason::NoRelationship,
    );
    // ...and releases nothing to the client: that is a treating clinician's call.
    assert_denied(
        biller.export_for_client(&c.jamie),
        DenyReason::NoRelationship,
    );
    assert_eq!(biller.key_stats().unwrapped, 0);
    assert_eq!(
        entries(&c.p, "record.read").last().unwrap().outcome,
        "denied:no-relationship"
    );
    assert_log_intact(&c.p);
}

#[test]
fn a_biller_lists_only_what_they_may_read() {
    let c = chart();
    let biller = c.p.login("biller");
    let listed = biller.list_records(&c.jamie, PAY).unwrap();
    let got: BTreeSet<RecordKind> = listed.iter().map(|r| r.kind).collect();
    assert_eq!(
        got,
        [
            RecordKind::Demographics,
            RecordKind::Diagnosis,
            RecordKind::Appointment,
            RecordKind::Billing
        ]
        .into()
    );
    // Intake demographics, contact, two diagnoses, the appointment, the bill.
    assert_eq!(listed.len(), 6);
    let ids: BTreeSet<RecordId> = listed.iter().map(|r| r.id).collect();
    assert!(!ids.contains(&c.progress) && !ids.contains(&c.plan));
    // Every listed entry reads (trimmed) for the same purpose: the two paths agree.
    for r in &listed {
        biller.read_record(&r.id, PAY).unwrap();
    }
    // For any other purpose there is nothing to list.
    assert_denied(biller.list_records(&c.jamie, T), DenyReason::NoRelationship);
    // Posting a payment is the biller's own write.
    biller
        .create_record(
            &c.jamie,
            RecordKind::Billing,
            &[("paid_cents", Value::Number(18_000))],
            PAY,
        )
        .unwrap();
    assert_log_intact(&c.p);
}

#[test]
fn the_front_desk_sees_appointments_and_contacts_but_nothing_clinical() {
    let c = chart();
    let desk = c.p.login("front.desk");

    let appt = desk.read_record(&c.appt, OPS).unwrap();
    assert_eq!(
        names(&appt),
        set(&["clinician", "date", "location", "minutes", "status", "time"])
    );
    assert!(names(&appt).is_subset(&set(fields::SCHEDULING)));
    assert!(
        appt.get("reason").is_none(),
        "the reason for a visit is clinical"
    );
    assert!(appt.get("service_code").is_none());

    let contact = desk.read_record(&c.contact, OPS).unwrap();
    assert_eq!(names(&contact), set(&["address", "email", "phone"]));
    assert!(contact.get("insurance_id").is_none());
    assert!(contact.get("emergency_contact").is_none());
    let intake = desk
        .list_records(&c.jamie, OPS)
        .unwrap()
        .into_iter()
        .find(|r| r.kind == RecordKind::Demographics && r.id != c.contact)
        .unwrap();
    let intake = desk.read_record(&intake.id, OPS).unwrap();
    assert_eq!(intake.get("full_name"), Some(&Value::text("Jamie Fox")));

    assert_eq!(
        kinds(&desk, &c.jamie, OPS),
        [RecordKind::Demographics, RecordKind::Appointment].into()
    );
    // Nothing clinical: no relationship, the answer a missing id gets.
    for r in [c.dx, c.dx_codes, c.bill, c.progress, c.plan] {
        assert_denied(desk.read_record(&r, OPS), DenyReason::NoRelationship);
    }
    assert_denied(
        desk.read_psychotherapy_note(&c.note, OPS),
        DenyReason::NoRelationship,
    );

    // Booking: scheduling fields only; a visit reason is refused whole.
    assert_denied(
        desk.create_record(
            &c.jamie,
            RecordKind::Appointment,
            &[
                ("date", Value::Date(Date::new(2026, 3, 9).unwrap())),
                ("reason", Value::text("crisis follow-up")),
            ],
            OPS,
        ),
        DenyReason::FieldNotPermitted,
    );
    desk.create_record(
        &c.jamie,
        RecordKind::Appointment,
        &[
            ("date", Value::Date(Date::new(2026, 3, 9).unwrap())),
            ("time", Value::text("14:00")),
        ],
        OPS,
    )
    .unwrap();
    // The front desk finds any client of the practice to book them.
    let found = desk
        .find_client("jamie fox", &Date::new(1988, 3, 14).unwrap(), OPS)
        .unwrap();
    assert_eq!(found, [c.jamie]);
    assert_log_intact(&c.p);
}

#[test]
fn one_sensitive_entry_never_hides_the_ordinary_ones() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let robin = new_client(&dr, "Robin Vale");
    let rec = |kind, fields: &[(&str, Value)]| dr.create_record(&robin, kind, fields, T).unwrap();
    // The sensitive entry comes first, so a "first denial wins" listing would hide the rest.
    let sud = rec(
        RecordKind::SubstanceUse,
        &[(
            "assessment",
            Value::text("Opioid use disorder, moderate; on buprenorphine"),
        )],
    );
    let appt = rec(
        RecordKind::Appointment,
        &[
            ("date", Value::Date(Date::new(2026, 4, 1).unwrap())),
            ("minutes", Value::Number(45)),
            ("status", Value::text("booked")),
        ],
    );
    let bill = rec(RecordKind::Billing, &[("fee_cents", Value::Number(12_500))]);
    let dx = rec(RecordKind::Diagnosis, &[("code", Value::code("F11.20"))]);
    dr.write_psychotherapy_note(&robin, &[("impressions", Value::text("ambivalent"))], T)
        .unwrap();

    let desk = p.login("front.desk");
    let desk_list: Vec<RecordId> = desk
        .list_records(&robin, OPS)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert!(desk_list.contains(&appt) && !desk_list.contains(&sud));
    assert_eq!(
        desk_list.len(),
        2,
        "intake demographics and the appointment"
    );
    assert_eq!(
        desk.read_record(&appt, OPS).unwrap().get("status"),
        Some(&Value::text("booked"))
    );
    assert_denied(desk.read_record(&sud, OPS), DenyReason::NoRelationship);

    let biller = p.login("biller");
    let bill_list: Vec<RecordId> = biller
        .list_records(&robin, PAY)
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    for r in [appt, bill, dx] {
        assert!(bill_list.contains(&r));
    }
    assert!(!bill_list.contains(&sud));
    assert_eq!(
        biller.read_record(&bill, PAY).unwrap().get("fee_cents"),
        Some(&Value::Number(12_500))
    );
    assert_eq!(
        biller.read_record(&dx, PAY).unwrap().get("code"),
        Some(&Value::code("F11.20"))
    );
    assert_denied(biller.read_record(&sud, PAY), DenyReason::NoRelationship);

    // The client's own release carries every general-record entry; the note is never in it.
    let export = dr.export_for_client(&robin).unwrap();
    let ids: BTreeSet<RecordId> = export.records.iter().map(|r| r.id).collect();
    for r in [appt, bill, dx, sud] {
        assert!(ids.contains(&r));
    }
    assert!(export.withheld.is_empty());
    assert!(revealed(&export).iter().all(|v| v != "ambivalent"));
    assert_log_intact(&p);
}
