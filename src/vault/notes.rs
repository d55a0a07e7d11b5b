//! Psychotherapy notes (45 CFR 164.501): their own methods, tables and data key.
//!
//! No general-record method reads these tables, and these methods read no other: the only way
//! to a note's content is [`Session::read_psychotherapy_note`], which the policy grants to the
//! note's author alone.

use std::collections::BTreeMap;

use crate::audit::{AuditAction, Failure, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::rows::{self, FieldTable, History, NoteRow};
use crate::error::{Error, Place, Result};
use crate::ids::{ClientId, NoteId, UserId};
use crate::model::{Category, Compartment, Purpose};
use crate::policy::{Access, Basis};
use crate::value::{FieldName, Value};

use super::Session;
use super::gate::{Ask, AuditAs, Entry, ReadItem, Stored, Target};
use super::history::{EntryStatus, status_of};
use super::records::named_fields;

/// A psychotherapy note, decrypted for its author.
#[derive(Debug)]
pub struct Note {
    /// The note.
    pub id: NoteId,
    /// Whose.
    pub client: ClientId,
    /// Who wrote it.
    pub author: UserId,
    /// Written (unix ms).
    pub created_at_ms: i64,
    /// Why the reader was allowed.
    pub basis: Basis,
    /// The field values.
    pub fields: BTreeMap<FieldName, Value>,
    /// Draft, signed, or signed by the upgrade that began recording it.
    pub status: EntryStatus,
    /// For an addendum: the note it corrects (its reason is its field `reason`).
    pub addendum_of: Option<NoteId>,
    /// The note's addenda, oldest first.
    pub addenda: Vec<Note>,
}

impl Note {
    /// One field's value.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| k.as_str() == field)
            .map(|(_, v)| v)
    }
}

impl Session {
    /// Write a psychotherapy note about `client`, under the client's psychotherapy-notes key.
    pub fn write_psychotherapy_note(
        &self,
        client: &ClientId,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<NoteId> {
        let gate = self.admit(AuditAction::NoteCreate, purpose)?;
        let named = named_fields(fields)?;
        let id = NoteId::random(&self.shared.rng)?;
        let facts = self.client_facts(&self.shared.conn(), client)?;
        let audit_as = AuditAs::new(AuditAction::NoteCreate)
            .client(client)
            .target(id.as_bytes());
        let entry = note_entry(client, &id);
        // A new note is a draft, and a client's drafts are facts of the client.
        let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
        gate.write_entry_in(&entry, &facts, &named, audit_as, scope, |tx, at| {
            let row = NoteRow {
                id,
                client: *client,
                author: self.user,
                created_at: at,
                history: History::draft(),
            };
            rows::insert_note(tx, &row)?;
            rows::add_draft(tx, client, id.as_bytes())
        })?;
        Ok(id)
    }

    /// Read a psychotherapy note: its author, or the author's supervisor in a training
    /// programme, or a recipient the client authorised for these notes alone. Audited before
    /// the plaintext is returned.
    pub fn read_psychotherapy_note(&self, note: &NoteId, purpose: Purpose) -> Result<Note> {
        let gate = self.admit(AuditAction::NoteRead, purpose)?;
        let audit_as = AuditAs::new(AuditAction::NoteRead).target(note.as_bytes());
        let Some((meta, facts)) = self.note_facts(note)? else {
            return gate.refuse_unknown(audit_as);
        };
        let audit_as = audit_as.client(&meta.client);
        let read = self.shared.write(|tx| {
            // The links were covered by the client's facts, checked above; read again here,
            // an addendum added since is read with the note.
            let mut addenda = Vec::new();
            for link in rows::addenda_of(tx, note.as_bytes())? {
                match rows::note(tx, &NoteId::from_bytes(link.addendum))? {
                    // Only a link this note's client vouches for (its facts were checked
                    // above) names an addendum of it; the addendum's own MAC, over its
                    // `addendum_of`, is checked as it is opened.
                    Some(a)
                        if a.client == meta.client
                            && link.client == meta.client
                            && link.of_note =>
                    {
                        addenda.push(a)
                    }
                    _ => {
                        let failed = Outcome::Failed(Failure::Integrity);
                        let target = Some(&link.addendum);
                        let e = gate.entry(
                            AuditAction::NoteRead,
                            Some(&meta.client),
                            target,
                            &[],
                            failed,
                        );
                        self.shared.audit_in(tx, &e)?;
                        let place = Place {
                            table: "addenda",
                            owner: "-".into(),
                            record: hex::encode(link.addendum),
                            field: "(the addendum)".into(),
                        };
                        return Ok(Err(Error::Integrity { place }));
                    }
                }
            }
            let asks = vec![Ask::Read(ReadItem {
                role: self.role,
                stored: Stored::load(tx, note_entry(&meta.client, note), None)?,
                facts: facts.clone(),
                audit_as,
            })];
            let mut results = gate.read_in(tx, asks)?;
            // The addenda are opened only with their note: a note that failed is not read on
            // through its corrections.
            if !matches!(results.first(), Some(Ok(_))) {
                return Ok(Ok((results, Vec::new())));
            }
            let mut asks = Vec::with_capacity(addenda.len());
            for a in &addenda {
                asks.push(Ask::Read(ReadItem {
                    role: self.role,
                    stored: Stored::load(tx, note_entry(&a.client, &a.id), None)?,
                    facts: facts.clone(),
                    audit_as: AuditAs::new(AuditAction::NoteRead)
                        .target(a.id.as_bytes())
                        .client(&a.client),
                }));
            }
            results.extend(gate.read_in(tx, asks)?);
            Ok(Ok((results, addenda)))
        })?;
        let (results, addenda) = read?;
        let mut results = results.into_iter();
        // INVARIANT: read_in gives exactly one result per entry asked for.
        let (basis, fields) = results.next().ok_or(Error::NotFound { what: "note" })??;
        let mut out = note_from(meta, basis, fields);
        for (a, result) in addenda.into_iter().zip(results) {
            let (basis, fields) = result?;
            out.addenda.push(note_from(a, basis, fields));
        }
        Ok(out)
    }

    /// The client's psychotherapy notes this user wrote (ids and dates only).
    pub fn list_psychotherapy_notes(
        &self,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<(NoteId, i64)>> {
        let gate = self.admit(AuditAction::RecordList, purpose)?;
        let facts = self.client_facts(&self.shared.conn(), client)?;
        let audit_as = AuditAs::new(AuditAction::RecordList).client(client);
        let access = Access::Write(Category::PsychotherapyNotes);
        let grant = gate.check(
            self.role,
            access,
            Vec::new(),
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let notes = rows::notes_of(&self.shared.conn(), client)?;
        self.shared.audit(&gate.entry(
            AuditAction::RecordList,
            Some(client),
            None,
            &["psychotherapy_notes"],
            Outcome::Allowed(grant.basis()),
        ))?;
        Ok(notes
            .into_iter()
            .filter(|n| n.author == self.user && n.history.addendum_of.is_none())
            .map(|n| (n.id, n.created_at))
            .collect())
    }
}

fn note_from(meta: NoteRow, basis: Basis, fields: BTreeMap<FieldName, Value>) -> Note {
    Note {
        id: meta.id,
        client: meta.client,
        author: meta.author,
        created_at_ms: meta.created_at,
        basis,
        fields,
        status: status_of(&meta.history, true),
        addendum_of: meta.history.addendum_of.map(NoteId::from_bytes),
        addenda: Vec::new(),
    }
}

pub(super) fn note_entry(client: &ClientId, note: &NoteId) -> Entry {
    Entry {
        table: FieldTable::Notes,
        owner: client.into(),
        parent: *note.as_bytes(),
        compartment: Compartment::PsychotherapyNotes,
        category: Some(Category::PsychotherapyNotes),
    }
}
