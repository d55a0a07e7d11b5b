//! Hostile input through the API: oversized fields, odd and empty text, SQL metacharacters in
//! every text input, unknown ids and ids of another vault, dates at the ends of the calendar.
//! Each gives a typed error with nothing written, or is stored and read back exactly; refusals
//! are audited.

mod common;

use common::*;
use confide::{
    Date, Error, MAX_FIELD_BYTES, NewClient, Passphrase, Purpose, RecordId, RecordKind, Role, Value,
};

fn log_len(p: &Practice) -> u64 {
    confide::audit_log_len(p.path()).unwrap()
}

#[test]
fn an_oversized_field_is_refused_whole_and_nothing_is_written() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Big Field Client");
    let before = log_len(&p);
    let huge = Value::text("x".repeat(MAX_FIELD_BYTES + 1));
    let result = dr.create_record(
        &c,
        RecordKind::ProgressNote,
        &[("summary", Value::text("fine")), ("attachment", huge)],
        Purpose::Treatment,
    );
    assert!(
        matches!(result, Err(Error::InvalidInput { .. })),
        "{result:?}"
    );
    // Nothing of it: no record, no entry.
    assert_eq!(log_len(&p), before);
    let notes = dr
        .list_records(&c, Purpose::Treatment)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == RecordKind::ProgressNote)
        .count();
    assert_eq!(notes, 0);
}

#[test]
fn sql_metacharacters_and_odd_text_are_stored_and_read_back_exactly() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let nasty = [
        "Robert'); DROP TABLE clients;--",
        "\" OR 1=1 --",
        "%_\\",
        "",
        "nul \0 inside",
        "emoji 🧠 and RTL \u{202E}gnirts",
        "line\nbreaks\r\nand\ttabs",
    ];
    for (i, text) in nasty.iter().enumerate() {
        let name = format!("{text} {i}");
        let dob = Date::new(1970, 1, 1 + i as u8).unwrap();
        let c = dr
            .create_client(
                &NewClient {
                    full_name: name.clone(),
                    date_of_birth: dob,
                },
                Purpose::Treatment,
            )
            .unwrap();
        assert_eq!(
            dr.find_client(&name, &dob, Purpose::Treatment).unwrap(),
            vec![c]
        );
        let r = dr
            .create_record(
                &c,
                RecordKind::ProgressNote,
                &[("summary", Value::text(*text))],
                Purpose::Treatment,
            )
            .unwrap();
        let read = dr.read_record(&r, Purpose::Treatment).unwrap();
        assert_eq!(read.get("summary").unwrap().reveal().as_str(), *text);
    }
    // The schema is untouched.
    let tables: i64 = raw(p.path())
        .query_row(
            "SELECT count(*) FROM sqlite_schema WHERE name IN ('clients', 'records')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 2);
}

#[test]
fn names_that_could_smuggle_values_are_refused() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Named Client");
    for bad in [
        "",
        "Summary",
        "summary'; DROP TABLE records;--",
        "sum mary",
        "x".repeat(65).as_str(),
    ] {
        let result = dr.create_record(
            &c,
            RecordKind::ProgressNote,
            &[(bad, Value::text("v"))],
            Purpose::Treatment,
        );
        assert!(
            matches!(
                result,
                Err(Error::InvalidInput {
                    what: "field name",
                    ..
                })
            ),
            "{bad:?}: {result:?}"
        );
    }
    let admin = p.admin();
    for bad in ["", "tab\tname", "x".repeat(65).as_str()] {
        let result = admin.add_user(bad, Role::Clinician, &Passphrase::new(CLIN_PASS));
        assert!(
            matches!(
                result,
                Err(Error::InvalidInput {
                    what: "user name",
                    ..
                })
            ),
            "{bad:?}"
        );
    }
    // Odd but harmless user names work.
    admin
        .add_user("o'brien; --", Role::Clinician, &Passphrase::new(CLIN_PASS))
        .unwrap();
    p.login("o'brien; --");
}

#[test]
fn unknown_ids_and_ids_of_another_vault_are_refused_and_audited() {
    let ours = Practice::new();
    let theirs = Practice::new();
    let their_dr = theirs.login("dr.a");
    let their_client = new_client(&their_dr, "Their Client");
    let their_record = their_dr
        .create_record(
            &their_client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("theirs"))],
            Purpose::Treatment,
        )
        .unwrap();

    let dr = ours.login("dr.a");
    let random: RecordId = "00112233445566778899aabbccddeeff".parse().unwrap();
    for id in [random, their_record] {
        assert!(matches!(
            dr.read_record(&id, Purpose::Treatment),
            Err(Error::Denied { .. })
        ));
        let e = last_entry(&ours, "record.read");
        assert_eq!(e.target.as_deref(), Some(id.to_string().as_str()));
        assert!(e.outcome.starts_with("denied:"));
    }
    assert!(matches!(
        dr.create_record(
            &their_client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("x"))],
            Purpose::Treatment
        ),
        Err(Error::Denied { .. })
    ));
    // Malformed ids never reach the vault.
    for malformed in ["not-an-id", "00112233"] {
        assert!(
            matches!(
                malformed.parse::<RecordId>(),
                Err(Error::InvalidInput {
                    what: "record id",
                    ..
                })
            ),
            "{malformed}"
        );
    }
}

#[test]
fn dates_at_the_ends_of_the_calendar() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    // Out of range: typed errors before anything is written.
    for (y, m, d) in [
        (-32768, 1, 1),
        (2024, 2, 30),
        (2024, 13, 1),
        (2024, 0, 1),
        (2024, 1, 0),
    ] {
        assert!(
            matches!(Date::new(y, m, d), Err(Error::InvalidInput { .. })),
            "{y}-{m}-{d}"
        );
    }
    // Far in the past and the future, but real dates: stored and found exactly.
    for (y, m, d) in [(1, 1, 1), (1850, 6, 30), (9999, 12, 31)] {
        let dob = Date::new(y, m, d).unwrap();
        let name = format!("Born {y}");
        let c = dr
            .create_client(
                &NewClient {
                    full_name: name.clone(),
                    date_of_birth: dob,
                },
                Purpose::Treatment,
            )
            .unwrap();
        assert_eq!(
            dr.find_client(&name, &dob, Purpose::Treatment).unwrap(),
            vec![c]
        );
    }
    let report = confide::verify_audit_log(p.path()).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
}
