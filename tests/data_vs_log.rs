//! Data against log: every write entry vouches for the complete stored state of what it wrote,
//! so audit-verify, without any key, reports a record deleted from the file, a field rolled back
//! to an older ciphertext, and a row added outside the vault.

mod common;
#[path = "common/vouched.rs"]
mod vouched;

use common::*;
use confide::{FindingKind, verify_audit_log};
use vouched::*;

#[test]
fn an_untouched_vault_has_every_record_vouched_for() {
    let b = build();
    assert!(verify_audit_log(b.p.path()).unwrap().is_intact());
    let vouching: i64 = raw(b.p.path())
        .query_row(
            "SELECT count(*) FROM audit_log WHERE audit_part(entry, 'digest') IS NOT NULL \
             AND audit_part(entry, 'action') LIKE 'record.%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(vouching, 3, "two creates and an update");
}

#[test]
fn an_added_field_is_a_changed_record() {
    let b = build();
    raw(b.p.path())
        .execute(
            "INSERT INTO record_fields SELECT record_id, 'extra', key_version, envelope \
             FROM record_fields WHERE record_id = ?1",
            [b.plan.as_bytes()],
        )
        .unwrap();
    let id = *b.plan.as_bytes();
    let found = findings(b.p.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, FindingKind::RecordChanged { id });
}

#[test]
fn a_field_row_deleted_on_its_own_fails_the_read_instead_of_shortening_it() {
    let b = build();
    let dr = b.p.login("dr.a");
    let before = dr.read_record(&b.plan, T).unwrap();
    let field = before.fields.keys().next().unwrap().as_str().to_owned();
    raw(b.p.path())
        .execute(
            "DELETE FROM record_fields WHERE record_id = ?1 AND field = ?2",
            rusqlite::params![b.plan.as_bytes(), field],
        )
        .unwrap();
    // Not a record quietly missing a field (a risk assessment, say): an integrity error.
    let read = dr.read_record(&b.plan, T);
    assert!(
        matches!(&read, Err(confide::Error::Integrity { place })
            if place.record == b.plan.to_string() && place.field == "(the set of fields)"),
        "{read:?}"
    );
    assert_eq!(last_entry(&b.p, "record.read").outcome, "failed:integrity");
    // Batched reads say the same, for that record only.
    let both = dr.read_records(&[b.progress, b.plan], T).unwrap();
    assert!(both[0].is_ok());
    assert!(matches!(both[1], Err(confide::Error::Integrity { .. })));
}
