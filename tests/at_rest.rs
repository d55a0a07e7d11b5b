//! Invariant 1, no plaintext at rest: canary strings written into every kind of field and note
//! never appear in the vault file, its WAL or its shared-memory file, open or closed.

mod common;

use std::path::Path;

use common::*;
use confide::{Date, NewClient, Purpose, RecordKind, Value};

const CANARIES: &[&str] = &[
    "CANARYNAME-Quixotic Zebediah",
    "CANARYDIAG-F99.99-zz",
    "CANARYPLAN-walk the labyrinth",
    "CANARYPROG-spoke of the lighthouse",
    "CANARYAPPT-room nine",
    "CANARYPSY-dreams of the drowned bell",
    "CANARYCODE1",
    "CANARYCODE2",
];

fn files_of(path: &Path) -> Vec<(String, Vec<u8>)> {
    ["", "-wal", "-shm"]
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

fn assert_no_canary(path: &Path) -> usize {
    let files = files_of(path);
    for (name, bytes) in &files {
        for canary in CANARIES {
            // Also look for the bare tail, in case a prefix was split or encoded.
            for needle in [canary.as_bytes(), &canary.as_bytes()[7..]] {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle),
                    "{canary:?} found in {name}"
                );
            }
        }
    }
    files.len()
}

#[test]
fn no_canary_in_vault_wal_or_shm() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let t = Purpose::Treatment;
    let client = dr
        .create_client(
            &NewClient {
                full_name: CANARIES[0].into(),
                date_of_birth: Date::new(1971, 1, 2).unwrap(),
            },
            t,
        )
        .unwrap();
    dr.create_record(
        &client,
        RecordKind::Diagnosis,
        &[
            ("description", Value::text(CANARIES[1])),
            (
                "codes",
                Value::Codes(vec![CANARIES[6].into(), CANARIES[7].into()]),
            ),
        ],
        t,
    )
    .unwrap();
    dr.create_record(
        &client,
        RecordKind::TreatmentPlan,
        &[("goals", Value::text(CANARIES[2]))],
        t,
    )
    .unwrap();
    let prog = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first"))],
            t,
        )
        .unwrap();
    dr.update_record(&prog, &[("summary", Value::text(CANARIES[3]))], t)
        .unwrap();
    dr.create_record(
        &client,
        RecordKind::Appointment,
        &[
            ("room", Value::text(CANARIES[4])),
            ("date", Value::Date(Date::new(2026, 12, 24).unwrap())),
        ],
        t,
    )
    .unwrap();
    let note = dr
        .write_psychotherapy_note(&client, &[("impressions", Value::text(CANARIES[5]))], t)
        .unwrap();
    // Reads write audit entries; they must not carry values either.
    dr.read_record(&prog, t).unwrap();
    dr.read_psychotherapy_note(&note, t).unwrap();
    dr.find_client(CANARIES[0], &Date::new(1971, 1, 2).unwrap(), t)
        .unwrap();

    // While open: the WAL holds the recent pages.
    assert!(
        assert_no_canary(p.path()) >= 2,
        "expected the vault and its WAL"
    );
    drop(dr);
    let Practice { dir, path, vault } = p;
    drop(vault);
    assert!(assert_no_canary(&path) >= 1);
    drop(dir);
}

#[test]
fn the_canaries_are_readable_through_the_api() {
    // The scan above would pass trivially if nothing were stored; check the values are there.
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Any Name");
    let r = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("description", Value::text(CANARIES[1]))],
            Purpose::Treatment,
        )
        .unwrap();
    let read = dr.read_record(&r, Purpose::Treatment).unwrap();
    assert_eq!(read.get("description"), Some(&Value::text(CANARIES[1])));
    let raw = std::fs::read(p.path()).unwrap();
    let mut wal = p.path().as_os_str().to_owned();
    wal.push("-wal");
    let wal = std::fs::read(wal).unwrap_or_default();
    // The field's envelope is in the files (as ciphertext), so the scan is looking at real data.
    let envelopes: i64 = raw_count(p.path());
    assert!(envelopes >= 3);
    assert!(!raw.is_empty() || !wal.is_empty());
}

fn raw_count(path: &Path) -> i64 {
    raw(path)
        .query_row("SELECT count(*) FROM record_fields", [], |r| r.get(0))
        .unwrap()
}
