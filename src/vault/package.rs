//! The contents of a release package, once the policy has decided: each permitted entry opened
//! with only its permitted fields, entries a restriction covers left out, free text a payment
//! release may not carry dropped, and a diagnosis kept only if it is about the one condition a
//! scope names. Everything withheld is said, so the manifest can say it.

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::format_utc;
use crate::db::rows::FieldTable;
use crate::db::{policy_rows, rows};
use crate::disclosure::{ConsentCopy, PackageItem, ReleasedPart, WithheldPart};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, ConsentId, RecordId};
use crate::model::{Category, Compartment, RecordKind};
use crate::policy::{Condition, ConsentFact, DisclosureGrant, FreeText};
use crate::value::{FieldName, Value};

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
                    category: Category,
                    kind: &str,
                    at: i64,
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
        for meta in rows::records_of(&conn, ask.client).map_err(plain)? {
            let category = meta.kind.category();
            if scope.part(category).is_none() {
                continue;
            }
            if let Some(b) = restricted(category, Some(&meta.id)) {
                withhold(&mut out, meta.id.to_string(), category, b);
                continue;
            }
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
            push(&mut out, id, category, kind, meta.updated_at, fields);
        }
        let notes = Category::PsychotherapyNotes;
        if scope.part(notes).is_some() {
            for note in rows::notes_of(&conn, ask.client).map_err(plain)? {
                if let Some(b) = restricted(notes, None) {
                    withhold(&mut out, note.id.to_string(), notes, b);
                    continue;
                }
                let fields = open(note_entry(ask.client, &note.id), notes)?;
                let id = note.id.to_string();
                push(
                    &mut out,
                    id,
                    notes,
                    "psychotherapy_note",
                    note.created_at,
                    fields,
                );
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
                push(&mut out, id, joint, "joint_record", row.created_at, fields);
            }
        }
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
