//! The charts the erasure tests shred (tests/erasure.rs, and through `audit-verify` in
//! cli/tests/erasure.rs).

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::path::Path;

use confide::{
    Category, ClientId, Date, DisclosureRequest, LegalBasis, NewClient, NoteId, OutsideParty,
    Passphrase, Purpose, RecordId, RecordKind, Role, Session, Value, Vault,
};

use crate::common::*;

pub const T: Purpose = Purpose::Treatment;
pub const DX_NOTE: &str = "ERASEME-dx recurrent depressive episodes";
pub const PROGRESS: &str = "ERASEME-progress spoke about the orchard";
pub const SUD: &str = "ERASEME-sud methadone maintenance";
pub const PSY: &str = "ERASEME-psy transference around the father";
/// The standard practice, with another retention period.
pub fn practice_with_retention(years: u32) -> Practice {
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
pub struct Chart {
    pub client: ClientId,
    pub demographics: RecordId,
    pub records: Vec<RecordId>,
    pub note: NoteId,
}

pub fn chart(dr: &Session, name: &str) -> Chart {
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
pub fn wrapped_keys(path: &Path, owner: &ClientId) -> Vec<Vec<u8>> {
    let conn = raw(path);
    let mut stmt = conn
        .prepare("SELECT wrapped FROM data_keys WHERE owner_id = ?1 ORDER BY compartment")
        .unwrap();
    stmt.query_map([owner.as_bytes()], |r| r.get(0))
        .unwrap()
        .collect::<Result<Vec<Vec<u8>>, _>>()
        .unwrap()
}

pub fn erasure_rows(path: &Path) -> i64 {
    raw(path)
        .query_row("SELECT count(*) FROM erasures", [], |r| r.get(0))
        .unwrap()
}

pub fn duty_to_warn(client: &ClientId) -> DisclosureRequest {
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
        order: None,
        categories: vec![Category::DiagnosisCodes, Category::ProgressNotes],
        narrow: None,
        protective: Some(confide::Protective {
            at_risk: confide::PersonAtRisk {
                name: "the named coworker".into(),
                contact: "through the employer".into(),
            },
            threat: "threat against a named coworker".into(),
            named: vec![
                confide::NamedField {
                    category: Category::DiagnosisCodes,
                    field: "code".into(),
                    reason: "the officer's risk assessment".into(),
                },
                confide::NamedField {
                    category: Category::ProgressNotes,
                    field: "summary".into(),
                    reason: "the threat as stated".into(),
                },
            ],
        }),
        description: "threat against a named coworker".into(),
    }
}
