//! The contents of a release package, once the policy has decided: each permitted entry opened
//! with only its permitted fields, entries a restriction covers left out, free text a payment
//! release may not carry dropped, and a diagnosis kept only if it is about the one condition a
//! scope names. Everything withheld is said, so the manifest can say it. An addendum goes as
//! its own entry, naming the entry it corrects and any amendment it carries out, bounded like any
//! entry (its reason is free text); a restriction on an entry holds its addenda back with it.
//! A denied amendment the client disagreed with travels with every release of an entry it
//! disputes (45 CFR 164.526(d)(5)).

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::format_utc;
use crate::db::Conn;
use crate::db::amendment_rows::AmendmentRow;
use crate::db::rows::FieldTable;
use crate::db::{policy_rows, rows};
use crate::disclosure::{ConsentCopy, Dispute, PackageItem, ReleasedPart, WithheldPart};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, ConsentId, RecordId};
use crate::model::{Category, Compartment, RecordKind};
use crate::policy::{Condition, ConsentFact, DisclosureGrant, FreeText};
use crate::value::{FieldName, Value};
use crate::vault::amendments::{Amendment, amendment_entry, amendment_from};

use super::Session;
use super::cases::joint_entry;
use super::consents::{CONDITION_INDEX, condition_key};
use super::gate::{Admitted, Entry, Granted, Stored};
use super::notes::note_entry;
use super::records::record_entry;
use super::restrictions::Binding;

/// The entries that may leave, and what the basis allowed that did not.
pub(super) struct Gathered {
    pub items: Vec<PackageItem>,
    pub withheld: Vec<WithheldPart>,
}

/// Why an entry or field was withheld, as the manifest words it.
const FREE_TEXT_ON_PAYMENT: &str = "free-text-on-payment";

/// What one release's package is gathered from.
pub(super) struct Contents<'a> {
    pub client: &'a ClientId,
    pub case: Option<&'a CaseId>,
    pub grant: &'a DisclosureGrant,
    pub bindings: &'a [Binding],
}

impl Session {
    /// Decrypt the permitted entries. On an integrity failure, the field that failed.
    pub(super) fn gather(
        &self,
        gate: &Admitted<'_>,
        granted: &Granted,
        ask: &Contents<'_>,
    ) -> Result<Gathered, (String, Error)> {
        let plain = |e: Error| (String::new(), e);
        let conn = self.shared.conn();
        let scope = &ask.grant.scope;
        let mut out = Gathered {
            items: Vec::new(),
            withheld: Vec::new(),
        };
        let keep = |category: Category| {
            move |field: &str| {
                scope
                    .part(category)
                    .is_some_and(|p| p.fields.includes(field))
            }
        };
        let open = |entry: Entry, category: Category| {
            let stored = Stored::load(&conn, entry, None).map_err(plain)?;
            self.open(&conn, granted, stored, keep(category))
        };
        let restricted = |category: Category, record: Option<&RecordId>| {
            ask.bindings.iter().find(|b| match record {
                Some(r) => b.covers(r, category),
                None => b.categories.contains(&category),
            })
        };
        let push = |out: &mut Gathered,
                    id: String,
                    (category, kind): (Category, &str),
                    at: i64,
                    (addendum_of, amends): (Option<[u8; 16]>, Option<[u8; 16]>),
                    fields: BTreeMap<FieldName, Value>| {
            let mut kept = BTreeMap::new();
            for (name, value) in fields {
                if matches!(value, Value::Text(_))
                    && !free_text_may_leave(ask.grant, category, &name)
                {
                    out.withheld.push(WithheldPart {
                        entry: Some(id.clone()),
                        category: category.code().into(),
                        field: Some(name.as_str().to_owned()),
                        reason: FREE_TEXT_ON_PAYMENT.into(),
                    });
                    continue;
                }
                kept.insert(name.as_str().to_owned(), value.reveal_plain());
            }
            if kept.is_empty() {
                // Nothing of it may leave: not even that it exists.
                return;
            }
            out.items.push(PackageItem {
                id,
                category: category.code().into(),
                kind: kind.into(),
                written: format_utc(at),
                fields: kept,
                addendum_of: addendum_of.map(hex::encode),
                amends: amends.map(hex::encode),
            });
        };
        let withhold = |out: &mut Gathered, id: String, category: Category, b: &Binding| {
            out.withheld.push(WithheldPart {
                entry: Some(id),
                category: category.code().into(),
                field: None,
                reason: format!("restriction:{}", hex::encode(b.id.as_bytes())),
            });
        };
        let condition = scope
            .part(Category::DiagnosisCodes)
            .and_then(|p| p.condition.clone());
        let records = rows::records_of(&conn, ask.client).map_err(plain)?;
        let present: BTreeSet<[u8; 16]> = records.iter().map(|r| *r.id.as_bytes()).collect();
        self.check_addenda_present(&conn, ask.client, false, |a| present.contains(a))
            .map_err(plain)?;
        for meta in records {
            let category = meta.kind.category();
            if scope.part(category).is_none() {
                continue;
            }
            // An addendum is part of the entry it corrects: withheld with it.
            let of = meta.history.addendum_of.map(RecordId::from_bytes);
            let bound = restricted(category, Some(&meta.id))
                .or_else(|| of.and_then(|of| restricted(category, Some(&of))));
            if let Some(b) = bound {
                withhold(&mut out, meta.id.to_string(), category, b);
                continue;
            }
            self.check_draft_now(&conn, ask.client, meta.id.as_bytes(), &meta.history)
                .map_err(plain)?;
            let fields = open(record_entry(&meta), category)?;
            // The condition limits the diagnoses; the other categories beside them (the dates
            // of service of a claim) are bounded by their own part of the scope.
            if let (Some(Condition::Index(index)), Category::DiagnosisCodes) =
                (&condition, category)
            {
                if meta.kind != RecordKind::Diagnosis
                    || !self.about_condition(gate, &fields, index).map_err(plain)?
                {
                    continue;
                }
            }
            let (id, kind) = (meta.id.to_string(), meta.kind.code());
            let links = (meta.history.addendum_of, meta.history.amends);
            push(
                &mut out,
                id,
                (category, kind),
                meta.updated_at,
                links,
                fields,
            );
        }
        let notes = Category::PsychotherapyNotes;
        if scope.part(notes).is_some() {
            let found = rows::notes_of(&conn, ask.client).map_err(plain)?;
            let present: BTreeSet<[u8; 16]> = found.iter().map(|n| *n.id.as_bytes()).collect();
            self.check_addenda_present(&conn, ask.client, true, |a| present.contains(a))
                .map_err(plain)?;
            for note in found {
                if let Some(b) = restricted(notes, None) {
                    withhold(&mut out, note.id.to_string(), notes, b);
                    continue;
                }
                self.check_draft_now(&conn, ask.client, note.id.as_bytes(), &note.history)
                    .map_err(plain)?;
                let fields = open(note_entry(ask.client, &note.id), notes)?;
                let id = note.id.to_string();
                let links = (note.history.addendum_of, None);
                let what = (notes, "psychotherapy_note");
                push(&mut out, id, what, note.created_at, links, fields);
            }
        }
        let joint = Category::JointRecord;
        if let (Some(case), true) = (ask.case, scope.part(joint).is_some()) {
            for row in policy_rows::joint_records_of(&conn, case).map_err(plain)? {
                if let Some(b) = restricted(joint, None) {
                    withhold(&mut out, row.id.to_string(), joint, b);
                    continue;
                }
                let fields = open(joint_entry(case, &row.id), joint)?;
                let id = row.id.to_string();
                let what = (joint, "joint_record");
                push(&mut out, id, what, row.created_at, (None, None), fields);
            }
        }
        Ok(out)
    }

    /// The disputes that travel with a release carrying `released` (entries of `client`),
    /// opened under the release's grant.
    pub(super) fn disputes(
        &self,
        granted: &Granted,
        client: &ClientId,
        released: &BTreeSet<RecordId>,
    ) -> Result<Vec<Dispute>, (String, Error)> {
        let conn = self.shared.conn();
        let found = self.open_amendments(&conn, granted, client, |r| disputed(r, released))?;
        Ok(found.into_iter().filter_map(dispute_of).collect())
    }

    /// Every request of `client` opened under `granted` (a release's or an export's grant, which
    /// reaches the client's keys), for those that `which` keeps.
    pub(super) fn open_amendments(
        &self,
        conn: &Conn,
        granted: &Granted,
        client: &ClientId,
        which: impl Fn(&AmendmentRow) -> bool,
    ) -> Result<Vec<Amendment>, (String, Error)> {
        let plain = |e: Error| (String::new(), e);
        let found = self.client_rows(conn, client).map_err(plain)?.amendments;
        let mut out = Vec::new();
        for row in found.iter().filter(|r| which(r)) {
            let stored =
                Stored::load(conn, amendment_entry(client, &row.id), None).map_err(plain)?;
            let fields = self.open(conn, granted, stored, |_| true)?;
            out.push(amendment_from(client, row, fields).map_err(plain)?);
        }
        out.sort_by_key(|a| (a.summary.received_at_ms, a.summary.id));
        Ok(out)
    }

    /// A diagnosis entry about the condition whose keyed index is `index`.
    fn about_condition(
        &self,
        gate: &Admitted<'_>,
        fields: &BTreeMap<FieldName, Value>,
        index: &[u8],
    ) -> Result<bool> {
        for v in fields.values() {
            let codes: Vec<&str> = match v {
                Value::Code(c) => vec![c.as_str()],
                Value::Codes(cs) => cs.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            for code in codes {
                if self.blind_index(gate, CONDITION_INDEX, &condition_key(code))? == index {
                    return Ok(true);
                }
            }
        }
        Ok(false)
    }

    /// A copy of the consent a Part 2 release relies on, with its sealed description.
    pub(super) fn consent_copy(
        &self,
        granted: &Granted,
        client: &ClientId,
        id: Option<ConsentId>,
        fact: &ConsentFact,
    ) -> Result<ConsentCopy> {
        let id = id.ok_or(Error::NotFound { what: "consent" })?;
        let conn = self.shared.conn();
        let signed_on = self
            .consents_of(&conn, client)?
            .into_iter()
            .find(|c| c.id == id)
            .map_or(0, |c| c.signed_on);
        let entry = Entry {
            table: FieldTable::Consents,
            owner: client.into(),
            parent: *id.as_bytes(),
            compartment: Compartment::General,
            category: None,
        };
        let stored = Stored::load(&conn, entry, None)?;
        let fields = self
            .open(&conn, granted, stored, |f| f == "description")
            .map_err(|(_, e)| e)?;
        Ok(ConsentCopy {
            id: id.to_string(),
            categories: fact
                .categories
                .iter()
                .map(|c| c.code().to_owned())
                .collect(),
            purpose: fact.purpose.code().into(),
            signed_on: format_utc(signed_on),
            expires: fact.expires_ms.map(format_utc),
            description: fields
                .values()
                .map(Value::reveal_plain)
                .collect::<Vec<_>>()
                .join(""),
        })
    }
}

/// A free-text value may leave unless the release is for payment and no authorization names
/// its field (minimum necessary, 164.502(b)).
fn free_text_may_leave(grant: &DisclosureGrant, category: Category, field: &FieldName) -> bool {
    match &grant.free_text {
        FreeText::Any => true,
        FreeText::OnlyNamed(named) => named
            .part(category)
            .is_some_and(|p| p.fields.names(field.as_str())),
    }
}

/// Which fields left, per category and limit: what the manifest says.
pub(super) fn released_parts(grant: &DisclosureGrant, items: &[PackageItem]) -> Vec<ReleasedPart> {
    let mut parts: BTreeMap<(String, &'static str), BTreeSet<String>> = BTreeMap::new();
    for item in items {
        let Ok(category) = item.category.parse::<Category>() else {
            continue;
        };
        for field in item.fields.keys() {
            let limit = grant
                .limit_of(category, field)
                .map_or("unnamed", |l| l.code());
            parts
                .entry((item.category.clone(), limit))
                .or_default()
                .insert(field.clone());
        }
    }
    parts
        .into_iter()
        .map(|((category, limit), fields)| ReleasedPart {
            category,
            fields: fields.into_iter().collect(),
            limit: limit.into(),
        })
        .collect()
}

/// The requests in dispute for a release carrying `released`: denied, with the client's
/// statement of disagreement filed, about at least one released entry (164.526(d)(5)(i)).
pub(super) fn disputed(row: &AmendmentRow, released: &BTreeSet<RecordId>) -> bool {
    row.accepted == Some(false)
        && row.statement_at.is_some()
        && row.records.iter().any(|r| released.contains(r))
}

/// A denied request with its statement, as it travels.
fn dispute_of(a: Amendment) -> Option<Dispute> {
    let denial = a.denial?;
    Some(Dispute {
        request: a.summary.id.to_string(),
        records: a.summary.records.iter().map(ToString::to_string).collect(),
        what: a.what,
        why: a.why,
        denial_basis: denial.basis.code().into(),
        denial_explanation: denial.explanation,
        statement: a.statement?,
        rebuttal: a.rebuttal,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{AmendmentId, UserId};

    #[test]
    fn a_dispute_is_a_denial_with_a_statement_about_a_released_entry() {
        let r = RecordId::from_bytes([1; 16]);
        let mut row = AmendmentRow {
            id: AmendmentId::from_bytes([2; 16]),
            records: vec![r],
            received_at: 0,
            due_at: 1,
            extended_at: None,
            accepted: Some(false),
            decided_at: Some(1),
            decided_by: None,
            statement_at: None,
            rebuttal_at: None,
            recorded_by: UserId::from_bytes([3; 16]),
        };
        let released = BTreeSet::from([r]);
        assert!(!disputed(&row, &released));
        row.statement_at = Some(2);
        assert!(disputed(&row, &released));
        assert!(!disputed(&row, &BTreeSet::new()));
        row.accepted = Some(true);
        assert!(!disputed(&row, &released));
    }
}
