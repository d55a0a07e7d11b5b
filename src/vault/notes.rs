//! Psychotherapy notes (45 CFR 164.501): their own methods, tables and data key.
//!
//! No general-record method reads these tables, and these methods read no other: the only way
//! to a note's content is [`Session::read_psychotherapy_note`], which the policy grants to the
//! note's author alone.

use std::collections::BTreeMap;

use crate::audit::{AuditAction, Outcome};
use crate::db::policy_rows;
use crate::db::rows::{self, FieldTable, NoteRow};
use crate::error::Result;
use crate::ids::{ClientId, NoteId, UserId};
use crate::model::{Category, Compartment, Purpose};
use crate::policy::{Access, Basis};
use crate::value::{FieldName, Value};

use super::Session;
use super::gate::{Ask, AuditAs, Entry, ReadItem, Stored, Target};
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
        gate.write_entry(&entry, &facts, &named, audit_as, |tx, at| {
            let row = NoteRow {
                id,
                client: *client,
                author: self.user,
                created_at: at,
            };
            rows::insert_note(tx, &row)
        })?;
        Ok(id)
    }

    /// Read a psychotherapy note: its author, or the author's supervisor in a training
    /// programme, or a recipient the client authorised for these notes alone. Audited before
    /// the plaintext is returned.
    pub fn read_psychotherapy_note(&self, note: &NoteId, purpose: Purpose) -> Result<Note> {
        let gate = self.admit(AuditAction::NoteRead, purpose)?;
        let audit_as = AuditAs::new(AuditAction::NoteRead).target(note.as_bytes());
        let (meta, facts) = {
            let conn = self.shared.conn();
            let Some(meta) = rows::note(&conn, note)? else {
                drop(conn);
                return gate.refuse_unknown(audit_as);
            };
            let mut facts = self.client_facts(&conn, &meta.client)?;
            facts.is_note_author = meta.author == self.user;
            facts.training_supervisor_of_author =
                policy_rows::training_supervisor(&conn, &self.user, &meta.author)?;
            (meta, facts)
        };
        let audit_as = audit_as.client(&meta.client);
        let entry = note_entry(&meta.client, note);
        let (basis, fields) = gate.read_one(|tx| {
            Ok(Ask::Read(ReadItem {
                role: self.role,
                stored: Stored::load(tx, entry, None)?,
                facts,
                audit_as,
            }))
        })?;
        Ok(Note {
            id: *note,
            client: meta.client,
            author: meta.author,
            created_at_ms: meta.created_at,
            basis,
            fields,
        })
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
            .filter(|n| n.author == self.user)
            .map(|n| (n.id, n.created_at))
            .collect())
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
