//! What the release stories (tests/release_*.rs) compare beyond the package's entries: the
//! manifest's released parts and withheld entries as plain tuples, the client's accounting of
//! disclosures, and chart entries whose ids a story keeps.

#![allow(
    dead_code,
    reason = "each release story uses a different part of the helpers"
)]

use confide::{
    AccountingEntry, Category, ClientId, RecordId, RecordKind, ReleasePackage, RestrictionId,
    Session, Value,
};

use crate::common::Practice;
use crate::disclosing::{Chart, Entry, T};

/// One released part as the manifest says it: (category, fields, limit).
pub type Part = (String, Vec<String>, String);

/// One withheld entry as the manifest says it: (entry, category, field, reason).
pub type Held = (Option<String>, String, Option<String>, String);

/// `fields` of `category` left under `limit`.
pub fn part(category: Category, fields: &[&str], limit: &str) -> Part {
    let mut fields: Vec<String> = fields.iter().map(|f| (*f).to_owned()).collect();
    fields.sort();
    (category.code().to_owned(), fields, limit.to_owned())
}

/// The manifest's released parts, sorted.
pub fn released(pkg: &ReleasePackage) -> Vec<Part> {
    let mut parts: Vec<Part> = pkg
        .manifest
        .released
        .iter()
        .map(|p| (p.category.clone(), p.fields.clone(), p.limit.clone()))
        .collect();
    parts.sort();
    parts
}

/// The manifest's withheld entries, sorted.
pub fn withheld(pkg: &ReleasePackage) -> Vec<Held> {
    let mut held: Vec<Held> = pkg
        .manifest
        .withheld
        .iter()
        .map(|w| {
            (
                w.entry.clone(),
                w.category.clone(),
                w.field.clone(),
                w.reason.clone(),
            )
        })
        .collect();
    held.sort();
    held
}

/// The entry `record` of `category`, withheld whole under `restriction` (164.522(a)).
pub fn held_by(record: &RecordId, category: Category, restriction: &RestrictionId) -> Held {
    (
        Some(record.to_string()),
        category.code().to_owned(),
        None,
        format!("restriction:{restriction}"),
    )
}

/// Sorted, as [`withheld`] returns them.
pub fn sorted(mut held: Vec<Held>) -> Vec<Held> {
    held.sort();
    held
}

/// The client's accounting of disclosures, as their clinician (dr.a) produces it.
pub fn accounting(p: &Practice, client: &ClientId) -> Vec<AccountingEntry> {
    p.login("dr.a").accounting(client, None).unwrap()
}

/// The accounting line of `pkg`, if it has one.
pub fn line_of<'a>(
    lines: &'a [AccountingEntry],
    pkg: &ReleasePackage,
) -> Option<&'a AccountingEntry> {
    lines.iter().find(|l| l.audit_seq == pkg.manifest.audit_seq)
}

/// Write a general-record entry of the chart as `dr`, remember its plaintext, return its id.
pub fn add_entry(
    chart: &mut Chart,
    dr: &Session,
    kind: RecordKind,
    fields: Vec<(&'static str, Value)>,
) -> RecordId {
    let id = dr.create_record(&chart.client, kind, &fields, T).unwrap();
    chart.entries.push(Entry {
        id: id.to_string(),
        category: kind.category(),
        kind: kind.code(),
        fields: fields
            .iter()
            .map(|(n, v)| (*n, v.reveal().as_str().to_owned()))
            .collect(),
    });
    id
}

/// The categories the ledger row of `pkg` says were released (its cleartext column).
pub fn ledger_categories(p: &Practice, pkg: &ReleasePackage) -> String {
    crate::common::raw(p.path())
        .query_row(
            "SELECT categories FROM disclosures WHERE audit_seq = ?1",
            [i64::try_from(pkg.manifest.audit_seq).unwrap()],
            |r| r.get(0),
        )
        .unwrap()
}
