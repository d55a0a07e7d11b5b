//! What the record-history tests share (tests/record_history_*.rs, and through `audit-verify`
//! cli/tests/record_history.rs): a chart with signed entries, an addendum and a draft's
//! versions, the entries that vouched for them, and the edits a tamperer with SQLite makes.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::path::Path;

use confide::{AuditEntry, ClientId, FindingKind, Purpose, RecordId, RecordKind, Value};

use crate::common::*;

const T: Purpose = Purpose::Treatment;

/// Jordan, treated by dr.a: a diagnosis signed with one addendum correcting its code, and a
/// progress note written twice while a draft, then signed.
pub struct Chart {
    pub p: Practice,
    pub client: ClientId,
    pub dx: RecordId,
    pub addendum: RecordId,
    pub note: RecordId,
}

pub fn chart() -> Chart {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    dr.sign_record(&dx, T).unwrap();
    let addendum = dr
        .add_addendum(
            &dx,
            "trauma history disclosed",
            &[("code", Value::code("F43.10"))],
            T,
        )
        .unwrap();
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first draft"))],
            T,
        )
        .unwrap();
    dr.update_record(&note, &[("summary", Value::text("second draft"))], T)
        .unwrap();
    dr.sign_record(&note, T).unwrap();
    Chart {
        p,
        client,
        dx,
        addendum,
        note,
    }
}

/// The newest granted entry with `action` naming `target`.
pub fn granted_on(path: &Path, action: &str, target: &[u8; 16]) -> AuditEntry {
    let hex: String = target.iter().map(|b| format!("{b:02x}")).collect();
    confide::read_audit_log(path, &confide::AuditFilter::default())
        .unwrap()
        .entries
        .into_iter()
        .rev()
        .find(|e| {
            e.action == action
                && e.outcome.starts_with("granted")
                && e.target.as_deref() == Some(hex.as_str())
        })
        .unwrap_or_else(|| panic!("no granted {action} of {hex}"))
}

pub fn record_changed(seq: u64, id: &[u8; 16]) -> (u64, FindingKind) {
    (seq, FindingKind::RecordChanged { id: *id })
}

pub fn record_missing(seq: u64, id: &[u8; 16]) -> (u64, FindingKind) {
    (seq, FindingKind::RecordMissing { id: *id })
}

/// Delete an entry's row and its fields from `table` (`records` or `psychotherapy_notes`).
pub fn delete_entry(path: &Path, table: &str, id: &[u8; 16]) {
    let (fields, key) = match table {
        "records" => ("record_fields", "record_id"),
        _ => ("psychotherapy_note_fields", "note_id"),
    };
    let db = raw(path);
    let gone = db
        .execute(&format!("DELETE FROM {fields} WHERE {key} = ?1"), [id])
        .unwrap();
    assert!(gone > 0);
    let gone = db
        .execute(&format!("DELETE FROM {table} WHERE {key} = ?1"), [id])
        .unwrap();
    assert_eq!(gone, 1);
}

/// Copy the rows of `table` with `key` = `id` aside (into `saved_{table}`), to put back later.
pub fn save_row(db: &rusqlite::Connection, table: &str, key: &str, id: &[u8; 16]) {
    db.execute_batch(&format!(
        "DROP TABLE IF EXISTS saved_{table}; \
         CREATE TABLE saved_{table} AS SELECT * FROM {table} WHERE 0"
    ))
    .unwrap();
    db.execute(
        &format!("INSERT INTO saved_{table} SELECT * FROM {table} WHERE {key} = ?1"),
        [id],
    )
    .unwrap();
}

/// Put back the saved row (every column, its MAC and write count included) and its fields.
pub fn restore_row(db: &rusqlite::Connection, table: &str, fields: &str, key: &str, id: &[u8; 16]) {
    db.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    db.execute(&format!("DELETE FROM {table} WHERE {key} = ?1"), [id])
        .unwrap();
    db.execute(
        &format!("INSERT INTO {table} SELECT * FROM saved_{table}"),
        [],
    )
    .unwrap();
    db.execute(&format!("DELETE FROM {fields} WHERE {key} = ?1"), [id])
        .unwrap();
    db.execute(
        &format!("INSERT INTO {fields} SELECT * FROM saved_{fields}"),
        [],
    )
    .unwrap();
}
