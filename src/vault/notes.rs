//! Psychotherapy notes (45 CFR 164.501): their own methods, tables and data key.
//!
//! No general-record method reads these tables, and these methods read no other: the only way
//! to a note's content is [`Session::read_psychotherapy_note`], which the policy grants to the
//! note's author alone.

use std::collections::BTreeMap;

use crate::audit::{AuditAction, Failure, Outcome};
use crate::db::rows::{self, FieldTable, NoteRow};
use crate::error::{Error, Result};
use crate::ids::{ClientId, NoteId, UserId};
use crate::model::{Compartment, Purpose};
use crate::policy::Access;
use crate::value::{FieldName, Value};

use super::Session;
use super::now_ms;
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
        let named = named_fields(fields)?;
        let facts = self.facts(&self.shared.conn(), client)?;
        let audit_as = (AuditAction::NoteCreate, Some(client), None);
        self.check(Access::WriteNote, purpose, facts, audit_as)?;
        let id = NoteId::random(&self.shared.rng)?;
        let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        self.shared.write(|tx| {
            let row = NoteRow {
                id,
                client: *client,
                author: self.user,
                created_at: now_ms(),
            };
            rows::insert_note(tx, &row)?;
            let (table, compartment) = (FieldTable::Notes, Compartment::PsychotherapyNotes);
            self.seal_fields(tx, table, client, id.as_bytes(), compartment, &named)?;
            self.shared.audit_in(
                tx,
                &self.entry(
                    AuditAction::NoteCreate,
                    Some(client),
                    Some(id.as_bytes()),
                    &names,
                    purpose,
                    Outcome::Granted,
                ),
            )
        })?;
        Ok(id)
    }

    /// Read a psychotherapy note (its author only). Audited before the plaintext is returned.
    pub fn read_psychotherapy_note(&self, note: &NoteId, purpose: Purpose) -> Result<Note> {
        let target = Some(note.as_bytes());
        let meta = rows::note(&self.shared.conn(), note)?;
        let Some(meta) = meta else {
            let audit_as = (AuditAction::NoteRead, None, target);
            let err = Error::NotFound { what: "note" };
            return self.fail(audit_as, &[], purpose, Failure::NotFound, err);
        };
        let client = meta.client;
        let mut facts = self.facts(&self.shared.conn(), &client)?;
        facts.is_note_author = meta.author == self.user;
        let audit_as = (AuditAction::NoteRead, Some(&client), target);
        self.check(Access::ReadNote, purpose, facts, audit_as)?;
        let opened = {
            let conn = self.shared.conn();
            let table = FieldTable::Notes;
            rows::fields(&conn, table, note.as_bytes()).map(|stored| {
                let compartment = Compartment::PsychotherapyNotes;
                self.open_fields(&conn, table, &client, note.as_bytes(), compartment, &stored)
            })?
        };
        let fields = match opened {
            Ok(f) => f,
            Err((field, err)) => {
                return self.fail(audit_as, &[&field], purpose, Failure::Integrity, err);
            }
        };
        let names: Vec<&str> = fields.keys().map(FieldName::as_str).collect();
        self.shared.audit(&self.entry(
            AuditAction::NoteRead,
            Some(&client),
            target,
            &names,
            purpose,
            Outcome::Granted,
        ))?;
        Ok(Note {
            id: *note,
            client,
            author: meta.author,
            created_at_ms: meta.created_at,
            fields,
        })
    }

    /// The client's psychotherapy notes written by the caller (ids and dates only).
    pub fn list_psychotherapy_notes(
        &self,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<(NoteId, i64)>> {
        let facts = self.facts(&self.shared.conn(), client)?;
        let audit_as = (AuditAction::RecordList, Some(client), None);
        self.check(Access::ListRecords, purpose, facts, audit_as)?;
        let notes = rows::notes_of(&self.shared.conn(), client)?;
        self.shared.audit(&self.entry(
            AuditAction::RecordList,
            Some(client),
            None,
            &["psychotherapy_notes"],
            purpose,
            Outcome::Granted,
        ))?;
        Ok(notes
            .into_iter()
            .filter(|n| n.author == self.user)
            .map(|n| (n.id, n.created_at))
            .collect())
    }
}
