//! The history calls of general-record entries and psychotherapy notes: sign, co-sign, add an
//! addendum, read earlier versions. The rules are in [`super::history`].

use crate::audit::AuditAction;
use crate::db::fact_rows::ScopeKind;
use crate::db::policy_rows;
use crate::db::rows::{self, AddendumLink, FieldTable, History, NoteRow};
use crate::error::{Error, Result};
use crate::ids::{AmendmentId, NoteId, RecordId};
use crate::model::Purpose;
use crate::value::Value;

use super::Session;
use super::gate::{Admitted, AuditAs, ReadItem, Stored};
use super::history::{EntryVersion, Signable, addendum_fields, invalid, status_of};
use super::notes::note_entry;
use super::records::{named_fields, record_entry};

impl Session {
    /// Sign a draft entry of the general record: only its author signs it. From then on it is
    /// never overwritten ([`Session::update_record`] fails with [`Error::Signed`]); a
    /// correction is an addendum ([`Session::add_addendum`]).
    pub fn sign_record(&self, record: &RecordId, purpose: Purpose) -> Result<()> {
        self.sign_record_as(record, purpose, AuditAction::RecordSign)
    }

    /// Co-sign a supervisee's signed entry, as their supervisor in a training programme (the
    /// supervision says so by its training flag).
    pub fn cosign_record(&self, record: &RecordId, purpose: Purpose) -> Result<()> {
        self.sign_record_as(record, purpose, AuditAction::RecordCosign)
    }

    fn sign_record_as(
        &self,
        record: &RecordId,
        purpose: Purpose,
        action: AuditAction,
    ) -> Result<()> {
        let gate = self.admit(action, purpose)?;
        let audit_as = AuditAs::new(action).target(record.as_bytes());
        let Some((meta, facts)) = self.record_facts(record)? else {
            return gate.refuse_unknown(audit_as);
        };
        let signable = Signable {
            entry: record_entry(&meta),
            client: meta.client,
            author: meta.created_by,
            history: meta.history,
            signs: meta.kind.is_signed_documentation(),
        };
        let audit_as = audit_as.client(&meta.client);
        let cosign = action == AuditAction::RecordCosign;
        self.sign_entry(&gate, &signable, &facts, audit_as, cosign)
    }

    /// Add an addendum to a signed entry: its own entry, of the same kind and client, linked to
    /// the entry, signed by its author as it is written, with `reason` (kept as its field
    /// `reason`) and the fields it corrects or adds. Returns the addendum's id; reading the
    /// entry returns it among its addenda.
    pub fn add_addendum(
        &self,
        record: &RecordId,
        reason: &str,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<RecordId> {
        let gate = self.admit(AuditAction::RecordAddendum, purpose)?;
        self.record_addendum(&gate, record, reason, fields, None)
    }

    /// [`Session::add_addendum`] under `gate`, for an amendment request too.
    pub(super) fn record_addendum(
        &self,
        gate: &Admitted<'_>,
        record: &RecordId,
        reason: &str,
        fields: &[(&str, Value)],
        amends: Option<&AmendmentId>,
    ) -> Result<RecordId> {
        let reason = Value::text(reason);
        let all = addendum_fields(&reason, fields)?;
        let named = named_fields(&all)?;
        let id = RecordId::random(&self.shared.rng)?;
        let audit_as = AuditAs::new(AuditAction::RecordAddendum).target(id.as_bytes());
        let Some((meta, facts)) = self.record_facts(record)? else {
            return gate.refuse_unknown(audit_as);
        };
        let client = meta.client;
        let audit_as = audit_as.client(&client);
        let mut entry = record_entry(&meta);
        entry.parent = *id.as_bytes();
        let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
        gate.write_entry_in(&entry, &facts, &named, audit_as, scope, |tx, at| {
            // As the transaction holds it, after the decision, and as its MAC vouches for it:
            // an addendum is never linked to an entry someone changed outside the vault.
            self.check_parent_now(tx, FieldTable::Records, record.as_bytes())?;
            let now = rows::record(tx, record)?.ok_or(Error::NotFound { what: "record" })?;
            if now.history.addendum_of.is_some() {
                return Err(invalid(
                    "an addendum is corrected by another addendum of its entry",
                ));
            }
            if status_of(&now.history, now.kind.is_signed_documentation()).is_draft() {
                return Err(invalid(
                    "a draft is corrected by writing it again (update_record)",
                ));
            }
            let amends = amends.map(|a| *a.as_bytes());
            let history = History::addendum(*record.as_bytes(), self.user, at, amends);
            let row = self.new_row(id, client, now.kind, now.case, at, history);
            rows::insert_record(tx, &row)?;
            rows::insert_addendum_link(
                tx,
                &AddendumLink {
                    addendum: *id.as_bytes(),
                    client,
                    of_note: false,
                    of: *record.as_bytes(),
                    ordinal: 0,
                    author: self.user,
                    added_at: at,
                    amends,
                },
            )
        })?;
        Ok(id)
    }

    /// Every version of an entry the reader may see: after each write that sealed fields, the
    /// permitted fields as they then stood, oldest first (the last is the entry as it is). A
    /// signed entry has the versions of its draft. One audited read.
    pub fn record_versions(
        &self,
        record: &RecordId,
        purpose: Purpose,
    ) -> Result<Vec<EntryVersion>> {
        let gate = self.admit(AuditAction::RecordRead, purpose)?;
        let audit_as = AuditAs::new(AuditAction::RecordRead).target(record.as_bytes());
        let Some((meta, facts)) = self.record_facts(record)? else {
            return gate.refuse_unknown(audit_as);
        };
        let stored = Stored::load(&self.shared.conn(), record_entry(&meta), Some(&meta.auth))?;
        let item = ReadItem {
            role: self.role,
            stored,
            facts,
            audit_as: audit_as.client(&meta.client),
        };
        self.entry_versions(&gate, item)
    }

    /// Write a draft psychotherapy note again (its author only, as for writing one). The
    /// values replaced are kept as its earlier versions. A signed note is never overwritten:
    /// [`Error::Signed`], and the correction is [`Session::add_note_addendum`].
    pub fn update_psychotherapy_note(
        &self,
        note: &NoteId,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<()> {
        let action = AuditAction::NoteUpdate;
        let gate = self.admit(action, purpose)?;
        let named = named_fields(fields)?;
        let audit_as = AuditAs::new(action).target(note.as_bytes());
        let Some((meta, facts)) = self.note_facts(note)? else {
            return gate.refuse_unknown(audit_as);
        };
        let audit_as = audit_as.client(&meta.client);
        if meta.author != self.user {
            return gate.refuse(audit_as, crate::policy::DenyReason::NotNoteAuthor);
        }
        let entry = note_entry(&meta.client, note);
        gate.write_entry(&entry, &facts, &named, audit_as, |tx, _| {
            let now = rows::note(tx, note)?.ok_or(Error::NotFound { what: "note" })?;
            let status = status_of(&now.history, true);
            let next = "Session::add_note_addendum";
            self.supersede(tx, FieldTable::Notes, note.as_bytes(), status, &named, next)
        })?;
        Ok(())
    }

    /// Sign a draft psychotherapy note (its author).
    pub fn sign_psychotherapy_note(&self, note: &NoteId, purpose: Purpose) -> Result<()> {
        self.sign_note_as(note, purpose, AuditAction::NoteSign)
    }

    /// Co-sign a supervisee's signed psychotherapy note, as their training supervisor.
    pub fn cosign_psychotherapy_note(&self, note: &NoteId, purpose: Purpose) -> Result<()> {
        self.sign_note_as(note, purpose, AuditAction::NoteCosign)
    }

    fn sign_note_as(&self, note: &NoteId, purpose: Purpose, action: AuditAction) -> Result<()> {
        let gate = self.admit(action, purpose)?;
        let audit_as = AuditAs::new(action).target(note.as_bytes());
        let Some((meta, facts)) = self.note_facts(note)? else {
            return gate.refuse_unknown(audit_as);
        };
        let signable = Signable {
            entry: note_entry(&meta.client, note),
            client: meta.client,
            author: meta.author,
            history: meta.history,
            signs: true,
        };
        let audit_as = audit_as.client(&meta.client);
        let cosign = action == AuditAction::NoteCosign;
        self.sign_entry(&gate, &signable, &facts, audit_as, cosign)
    }

    /// Add an addendum to a signed psychotherapy note (its author): its own note in the same
    /// compartment, linked to it, with `reason` (its field `reason`). Reading the note returns
    /// it among its addenda.
    pub fn add_note_addendum(
        &self,
        note: &NoteId,
        reason: &str,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<NoteId> {
        let action = AuditAction::NoteAddendum;
        let gate = self.admit(action, purpose)?;
        let reason = Value::text(reason);
        let all = addendum_fields(&reason, fields)?;
        let named = named_fields(&all)?;
        let id = NoteId::random(&self.shared.rng)?;
        let audit_as = AuditAs::new(action).target(id.as_bytes());
        let Some((meta, facts)) = self.note_facts(note)? else {
            return gate.refuse_unknown(audit_as);
        };
        let client = meta.client;
        let audit_as = audit_as.client(&client);
        if meta.author != self.user {
            return gate.refuse(audit_as, crate::policy::DenyReason::NotNoteAuthor);
        }
        let entry = note_entry(&client, &id);
        let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
        gate.write_entry_in(&entry, &facts, &named, audit_as, scope, |tx, at| {
            self.check_parent_now(tx, FieldTable::Notes, note.as_bytes())?;
            let now = rows::note(tx, note)?.ok_or(Error::NotFound { what: "note" })?;
            if now.history.addendum_of.is_some() {
                return Err(invalid(
                    "an addendum is corrected by another addendum of its note",
                ));
            }
            if status_of(&now.history, true).is_draft() {
                return Err(invalid(
                    "a draft is corrected by writing it again (update_psychotherapy_note)",
                ));
            }
            let row = NoteRow {
                id,
                client,
                author: self.user,
                created_at: at,
                history: History::addendum(*note.as_bytes(), self.user, at, None),
            };
            rows::insert_note(tx, &row)?;
            rows::insert_addendum_link(
                tx,
                &AddendumLink {
                    addendum: *id.as_bytes(),
                    client,
                    of_note: true,
                    of: *note.as_bytes(),
                    ordinal: 0,
                    author: self.user,
                    added_at: at,
                    amends: None,
                },
            )
        })?;
        Ok(id)
    }

    /// Every version of a psychotherapy note its reader may see, as [`Session::record_versions`].
    pub fn psychotherapy_note_versions(
        &self,
        note: &NoteId,
        purpose: Purpose,
    ) -> Result<Vec<EntryVersion>> {
        let gate = self.admit(AuditAction::NoteRead, purpose)?;
        let audit_as = AuditAs::new(AuditAction::NoteRead).target(note.as_bytes());
        let Some((meta, facts)) = self.note_facts(note)? else {
            return gate.refuse_unknown(audit_as);
        };
        let stored = Stored::load(&self.shared.conn(), note_entry(&meta.client, note), None)?;
        let item = ReadItem {
            role: self.role,
            stored,
            facts,
            audit_as: audit_as.client(&meta.client),
        };
        self.entry_versions(&gate, item)
    }

    /// A note's metadata and the facts its decisions use, or `None` if there is no such note.
    pub(super) fn note_facts(
        &self,
        note: &NoteId,
    ) -> Result<Option<(NoteRow, crate::policy::Facts)>> {
        let conn = self.shared.conn();
        let Some(meta) = rows::note(&conn, note)? else {
            return Ok(None);
        };
        let (mut facts, history) = self.client_facts_and_history(&conn, &meta.client)?;
        self.check_draft(&meta.client, note.as_bytes(), &meta.history, &history)?;
        facts.is_note_author = meta.author == self.user;
        facts.training_supervisor_of_author =
            policy_rows::training_supervisor(&conn, &self.user, &meta.author)?;
        Ok(Some((meta, facts)))
    }
}
