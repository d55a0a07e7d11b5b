//! De-identified extracts for consultation (45 CFR 164.514(b), safe harbor): no identifier the
//! vault holds for the client survives, in any case or date format; the clinical content that
//! identifies no one does; psychotherapy notes and substance-use records stay out; dates become
//! years; each extract has a fresh pseudonym; no consent is needed; only the treating clinician
//! may make one, and it is audited. And the right of access never carries psychotherapy notes.

mod common;

use common::*;
use confide::{
    ClientId, ConsultationExtract, Date, DenyReason, Error, NewClient, Purpose, RecordKind,
    Session, Value,
};

const T: Purpose = Purpose::Treatment;

const FULL_NAME: &str = "Jordan Q. Avery";
const PHONE: &str = "555-867-5309";
const EMAIL: &str = "jordan.avery@example.org";
const ADDRESS: &str = "1742 Evergreen Terrace, Springfield";
const INSURANCE: &str = "XKJ918273645";
const DOB_FORMS: &[&str] = &["1987-05-23", "05/23/1987", "5/23/1987"];

const DX_CODE: &str = "F43.10";
const CLEAN: &str =
    "Client practiced paced breathing and rated distress lower at the end of the session.";
const PLAN: &str = "Reduce avoidance; weekly CBT; review after twelve sessions.";
const PSY: &str = "PSYMARKER countertransference when the client spoke of the father";
const SUD: &str = "SUDMARKER alcohol use disorder, early remission";

/// A client whose demographics hold many identifiers, and whose clinical entries mention them.
fn avery(dr: &Session) -> ClientId {
    let c = dr
        .create_client(
            &NewClient {
                full_name: FULL_NAME.into(),
                date_of_birth: Date::new(1987, 5, 23).unwrap(),
            },
            T,
        )
        .unwrap();
    dr.create_record(
        &c,
        RecordKind::Demographics,
        &[
            ("phone", Value::text(PHONE)),
            ("email", Value::text(EMAIL)),
            ("address", Value::text(ADDRESS)),
            ("insurance_id", Value::text(INSURANCE)),
        ],
        T,
    )
    .unwrap();
    dr.create_record(
        &c,
        RecordKind::Diagnosis,
        &[
            ("code", Value::code(DX_CODE)),
            (
                "note",
                Value::text("jordan said the nightmares began after the crash."),
            ),
        ],
        T,
    )
    .unwrap();
    dr.create_record(
        &c,
        RecordKind::ProgressNote,
        &[
            (
                "summary",
                Value::text(
                    "Ms. AVERY reports sleeping five hours a night. Intake form gives DOB \
                     1987-05-23; the referral says 05/23/1987 and the insurer 5/23/1987.",
                ),
            ),
            (
                "contact",
                Value::text(format!(
                    "Jordan Avery asked to be reached at {PHONE} or {EMAIL}; lives at {ADDRESS}; \
                     member id {INSURANCE}."
                )),
            ),
        ],
        T,
    )
    .unwrap();
    dr.create_record(
        &c,
        RecordKind::ProgressNote,
        &[("summary", Value::text(CLEAN))],
        T,
    )
    .unwrap();
    dr.create_record(
        &c,
        RecordKind::TreatmentPlan,
        &[
            ("goals", Value::text(PLAN)),
            ("review_on", Value::Date(Date::new(2027, 2, 1).unwrap())),
        ],
        T,
    )
    .unwrap();
    dr.create_record(
        &c,
        RecordKind::Appointment,
        &[
            ("date", Value::Date(Date::new(2026, 11, 2).unwrap())),
            ("status", Value::text("attended")),
        ],
        T,
    )
    .unwrap();
    dr.create_record(
        &c,
        RecordKind::SubstanceUse,
        &[("summary", Value::text(SUD))],
        T,
    )
    .unwrap();
    dr.write_psychotherapy_note(&c, &[("impressions", Value::text(PSY))], T)
        .unwrap();
    c
}

/// Every identifier the vault holds for the client, lower-cased.
fn identifiers(client: &ClientId) -> Vec<String> {
    let mut ids = vec![
        FULL_NAME.to_owned(),
        "Jordan".to_owned(),
        "Avery".to_owned(),
        PHONE.to_owned(),
        "8675309".to_owned(),
        EMAIL.to_owned(),
        ADDRESS.to_owned(),
        "Evergreen".to_owned(),
        "Terrace".to_owned(),
        "Springfield".to_owned(),
        INSURANCE.to_owned(),
        client.to_string(),
    ];
    ids.extend(DOB_FORMS.iter().map(|d| (*d).to_owned()));
    ids.into_iter().map(|s| s.to_lowercase()).collect()
}

/// The extract as every way it may be written out: Debug and JSON, lower-cased.
fn serialised(x: &ConsultationExtract) -> Vec<(&'static str, String)> {
    vec![
        ("debug", format!("{x:?}").to_lowercase()),
        ("json", serde_json::to_string(x).unwrap().to_lowercase()),
        (
            "pretty json",
            serde_json::to_string_pretty(x).unwrap().to_lowercase(),
        ),
    ]
}

fn field<'a>(x: &'a ConsultationExtract, kind: &str, name: &str) -> Vec<&'a str> {
    x.items
        .iter()
        .filter(|i| i.kind == kind)
        .filter_map(|i| i.fields.get(name).map(String::as_str))
        .collect()
}

#[test]
fn no_identifier_the_vault_holds_survives_the_extract() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);

    let x = dr.consultation_extract(&c).unwrap();
    assert!(!x.items.is_empty());
    for (how, text) in serialised(&x) {
        for id in identifiers(&c) {
            assert!(
                !text.contains(&id),
                "identifier {id:?} found in the {how} of the extract: {text}"
            );
        }
    }
    // The demographics entries themselves are not in it.
    assert!(x.items.iter().all(|i| i.category != "demographics"));
    // The mentions were removed, not the entries that held them.
    let summaries = field(&x, "progress_note", "summary");
    assert!(
        summaries
            .iter()
            .any(|s| s.contains("reports sleeping five hours a night")),
        "{summaries:?}"
    );
    assert!(summaries.iter().any(|s| s.contains("[redacted]")));
    assert!(
        field(&x, "diagnosis", "note")
            .iter()
            .any(|n| n.contains("said the nightmares began after the crash")),
        "{x:?}"
    );
}

#[test]
fn clinical_content_that_identifies_no_one_survives() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let x = dr.consultation_extract(&c).unwrap();

    assert_eq!(field(&x, "diagnosis", "code"), [DX_CODE]);
    assert!(field(&x, "progress_note", "summary").contains(&CLEAN));
    assert_eq!(field(&x, "treatment_plan", "goals"), [PLAN]);
    assert_eq!(field(&x, "appointment", "status"), ["attended"]);
    let categories: Vec<&str> = x.items.iter().map(|i| i.category.as_str()).collect();
    for expected in [
        "diagnosis_codes",
        "progress_notes",
        "treatment_plan",
        "appointments",
    ] {
        assert!(categories.contains(&expected), "{categories:?}");
    }
}

#[test]
fn psychotherapy_notes_and_substance_use_records_stay_out() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let x = dr.consultation_extract(&c).unwrap();
    for (how, text) in serialised(&x) {
        for marker in ["psymarker", "countertransference", "sudmarker", "alcohol"] {
            assert!(
                !text.contains(marker),
                "{marker} in the {how} of the extract"
            );
        }
    }
    for i in &x.items {
        assert!(
            !matches!(
                i.category.as_str(),
                "psychotherapy_notes" | "substance_use" | "individual_case_notes" | "billing"
            ),
            "{i:?}"
        );
        assert_ne!(i.kind, "psychotherapy_note");
        assert_ne!(i.kind, "substance_use");
    }
}

#[test]
fn dates_are_reduced_to_the_year() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let x = dr.consultation_extract(&c).unwrap();
    let year = |s: &str| s.len() == 4 && s.chars().all(|c| c.is_ascii_digit());
    for i in &x.items {
        assert!(year(&i.written), "written {:?} is not a year", i.written);
    }
    assert_eq!(field(&x, "appointment", "date"), ["2026"]);
    assert_eq!(field(&x, "treatment_plan", "review_on"), ["2027"]);
    // No timestamp (RFC 3339 times carry a 'T' between date and time) and no full date.
    assert!(x.items.iter().all(|i| !i.written.contains('T')));
    for (how, text) in serialised(&x) {
        for full in ["2026-11-02", "2027-02-01", "11/02/2026", "2/1/2027"] {
            assert!(!text.contains(full), "{full} in the {how} of the extract");
        }
    }
}

#[test]
fn each_extract_has_a_fresh_pseudonym() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let a = dr.consultation_extract(&c).unwrap();
    let b = dr.consultation_extract(&c).unwrap();
    assert_ne!(a.pseudonym, b.pseudonym);
    let hex = c.to_string();
    for x in [&a, &b] {
        assert!(x.pseudonym.starts_with("consult-"), "{}", x.pseudonym);
        assert!(!hex.contains(&x.pseudonym["consult-".len()..]));
        assert!(!x.pseudonym.to_lowercase().contains("avery"));
        // Item ids are ordinals: they do not link back to the client's record ids.
        for (n, i) in x.items.iter().enumerate() {
            assert_eq!(i.id, format!("item-{}", n + 1));
        }
    }
    // The same clinical content, under another name.
    assert_eq!(a.items.len(), b.items.len());
}

#[test]
fn extract_is_audited_and_needs_no_consent() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    // No consent was ever recorded for this client.
    dr.consultation_extract(&c).unwrap();
    let e = last_entry(&p, "extract.deidentified");
    assert_eq!(e.client, Some(c));
    assert_eq!(e.actor, Some(dr.user_id()));
    assert_eq!(e.outcome, "granted:care-team");
    assert_eq!(e.purpose, "TREAT");
    // The audit entry names no content.
    let entry = format!("{e:?}").to_lowercase();
    for id in identifiers(&c).iter().filter(|i| **i != c.to_string()) {
        assert!(!entry.contains(id.as_str()), "{id} in {entry}");
    }
}

#[test]
fn extract_is_refused_to_anyone_but_the_treating_clinician() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    for s in [p.login("dr.b"), p.login("biller"), p.admin()] {
        let got = s.consultation_extract(&c);
        assert!(
            matches!(got, Err(Error::Denied { .. })),
            "{}: {got:?}",
            s.user_name()
        );
        let e = last_entry(&p, "extract.deidentified");
        assert_eq!(e.actor, Some(s.user_id()));
        assert!(e.outcome.starts_with("denied:"), "{e:?}");
    }
    assert!(matches!(
        p.login("dr.b").consultation_extract(&c),
        Err(Error::Denied {
            reason: DenyReason::NoRelationship
        })
    ));
}

#[test]
fn right_of_access_never_includes_psychotherapy_notes() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let export = dr.export_for_client(&c).unwrap();

    // The general record is there (it is the client's own: identifiers included).
    let values: Vec<String> = export
        .records
        .iter()
        .flat_map(|r| r.fields.values().map(|v| v.reveal().as_str().to_owned()))
        .collect();
    assert!(values.iter().any(|v| v == CLEAN), "{values:?}");
    assert!(values.iter().any(|v| v == FULL_NAME));
    // The psychotherapy note is not, under any field.
    assert!(
        values
            .iter()
            .all(|v| !v.contains("PSYMARKER") && !v.contains("countertransference")),
        "{values:?}"
    );
    let debug = format!("{export:?}");
    assert!(!debug.contains("PSYMARKER"));
    assert!(
        export
            .records
            .iter()
            .all(|r| r.kind != RecordKind::CaseNote && r.client == c)
    );

    let e = last_entry(&p, "export.release");
    assert_eq!(e.client, Some(c));
    assert_eq!(e.actor, Some(dr.user_id()));
    assert_eq!(e.outcome, "granted:care-team");
    assert_eq!(e.purpose, "PATRQT");
    assert_eq!(e.fields, ["client"]);
    // Refused to a clinician who does not treat the client, and audited.
    assert!(matches!(
        p.login("dr.b").export_for_client(&c),
        Err(Error::Denied { .. })
    ));
    assert!(
        last_entry(&p, "export.release")
            .outcome
            .starts_with("denied:")
    );
}

/// Add one progress note to the client and return the extract's text for it.
fn scrubbed(dr: &Session, c: &ClientId, text: &str) -> String {
    dr.create_record(
        c,
        RecordKind::ProgressNote,
        &[("summary", Value::text(text))],
        T,
    )
    .unwrap();
    let x = dr.consultation_extract(c).unwrap();
    let all = serialised(&x)
        .into_iter()
        .map(|(_, t)| t)
        .collect::<Vec<_>>();
    all.join("\n")
}

#[test]
fn date_of_birth_in_other_common_formats_is_removed() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let text = scrubbed(
        &dr,
        &c,
        "Born May 23, 1987 (intake); 23 May 1987 on the referral; 5/23/87 on the insurer's form; \
         1987/05/23 on the school record.",
    );
    for dob in ["may 23, 1987", "23 may 1987", "5/23/87", "1987/05/23"] {
        assert!(!text.contains(dob), "date of birth {dob:?} in the extract");
    }
}

#[test]
fn dates_in_free_text_are_reduced_to_the_year() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = avery(&dr);
    let text = scrubbed(
        &dr,
        &c,
        "Admitted 2026-10-30, discharged 11/02/2026; next session 12/7/2026.",
    );
    for date in ["2026-10-30", "11/02/2026", "12/7/2026"] {
        assert!(!text.contains(date), "date {date:?} in the extract");
    }
}

#[test]
fn case_mappings_that_change_lengths_neither_panic_nor_leak() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = dr
        .create_client(
            &NewClient {
                full_name: "İpek Yılmaz".into(),
                date_of_birth: Date::new(1990, 1, 2).unwrap(),
            },
            T,
        )
        .unwrap();
    // U+2126 OHM SIGN lower-cases to a shorter 'ω', 'İ' to a longer "i̇": the byte lengths of
    // the text and its lower case agree, the positions inside them do not.
    let text = scrubbed(&dr, &c, "\u{2126}\u{2126} İpek Yılmaz measured İ");
    for part in ["pek", "yılmaz"] {
        assert!(!text.contains(part), "{part:?} in the extract: {text}");
    }
    assert!(text.contains("progress_note"), "{text}");
}
