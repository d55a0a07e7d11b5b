//! Record history: signing, addenda, and the earlier versions of a draft.
//!
//! Clinical documentation is a legal record, and these are its rules (`docs/access.md`,
//! "Record history"):
//!
//! - A clinical entry (diagnosis, treatment plan, progress note, substance-use record, case
//!   note) or a psychotherapy note is a **draft** until its author signs it. A draft may be
//!   written again; every earlier version of a field stays in the vault, sealed and bound to
//!   its place and the write it was sealed in, for whoever may read the entry.
//! - **Signing** is its author's, audited (`record.sign`, `note.sign`) and part of what the
//!   entry's MAC covers; which entries are drafts is also a fact of the client, so an entry's
//!   row put back whole as its draft (a state its own MAC once vouched for) fails the client's
//!   check instead of reopening it. In a supervision flagged as a training programme, the
//!   supervisor **co-signs** a supervisee's signed entry.
//! - A signed entry is **never overwritten**: writing it again fails with [`Error::Signed`],
//!   which names the way forward, an **addendum**: its own entry, linked to the one it corrects,
//!   with its author, time and reason, signed as it is written. Reading an entry returns it
//!   with its addenda, oldest first. The links are facts of the client, so an addendum deleted
//!   from the file fails the client's check.
//! - Administrative entries (demographics, appointments, billing) are not signed: they stay
//!   open to updates, with their versions kept.
//! - Entries written before format 10: clinical ones and psychotherapy notes are signed by the
//!   upgrade ([`EntryStatus::SignedByUpgrade`]), which says so in the log; administrative ones
//!   stay open.

use std::collections::BTreeMap;

use crate::audit::Outcome;
use crate::db::fact_rows::ScopeKind;
use crate::db::policy_rows;
use crate::db::rows::{self, FieldTable, History, Status};
use crate::error::{Error, Result};
use crate::ids::{ClientId, UserId};
use crate::policy::{Access, DenyReason, Facts};
use crate::value::{FieldName, Value};

use super::Session;
use super::gate::{Admitted, AuditAs, Entry, ReadItem, Target, failure_of};

/// Who signed, and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// The signer.
    pub by: UserId,
    /// When (unix ms).
    pub at_ms: i64,
}

/// Where an entry stands in its history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EntryStatus {
    /// Open to updates: a draft, or an administrative entry. Earlier versions are kept.
    Draft,
    /// Signed by its author, and co-signed by their training supervisor once they do. Never
    /// written again: corrected by addenda.
    Signed {
        /// The author's signature.
        signed: Signature,
        /// A supervisor's co-signature.
        cosigned: Option<Signature>,
    },
    /// Written before the vault recorded signing (format 10) and signed by that upgrade:
    /// finished documentation, never written again.
    SignedByUpgrade,
}

impl EntryStatus {
    /// Whether the entry may be written again.
    pub fn is_draft(&self) -> bool {
        matches!(self, EntryStatus::Draft)
    }
}

/// An entry as it stood after one write: the fields the reader may see, with the values they
/// had then.
#[derive(Debug)]
pub struct EntryVersion {
    /// The write (1 is the entry's creation; signing and re-encryption count writes too, but
    /// leave no version of their own).
    pub write: u64,
    /// The permitted fields as they stood after that write.
    pub fields: BTreeMap<FieldName, Value>,
}

/// The status an entry's stored history gives it; `signs` says whether its kind is signed
/// documentation.
pub(super) fn status_of(history: &History, signs: bool) -> EntryStatus {
    let sig = |(by, at_ms): (UserId, i64)| Signature { by, at_ms };
    match history.status {
        Status::Draft | Status::Open => EntryStatus::Draft,
        Status::Signed { by, at } => EntryStatus::Signed {
            signed: sig((by, at)),
            cosigned: history.cosigned.map(sig),
        },
        Status::Before if signs => EntryStatus::SignedByUpgrade,
        Status::Before => EntryStatus::Draft,
    }
}

pub(super) fn invalid(reason: &str) -> Error {
    Error::InvalidInput {
        what: "entry history",
        reason: reason.into(),
    }
}

/// An entry that can be signed: where it is, whose, by whom, how it stands.
pub(super) struct Signable {
    pub entry: Entry,
    pub client: ClientId,
    pub author: UserId,
    pub history: History,
    /// Whether its kind is signed documentation.
    pub signs: bool,
}

/// The versions of an entry from every envelope of it (write, field, value), oldest first:
/// after each write that sealed a field, every field with the value it then had.
pub(super) fn versions_from(opened: Vec<(u64, FieldName, Value)>) -> Vec<EntryVersion> {
    let mut out: Vec<EntryVersion> = Vec::new();
    let mut state = BTreeMap::new();
    for (write, name, value) in opened {
        state.insert(name, value);
        match out.last_mut() {
            Some(last) if last.write == write => last.fields = state.clone(),
            _ => out.push(EntryVersion {
                write,
                fields: state.clone(),
            }),
        }
    }
    out
}

impl Session {
    /// Sign `s` (`cosign`: co-sign it as the author's training supervisor) and append `action`
    /// vouching for the entry as signed, in one transaction. Decided first: a signer must be
    /// allowed to write the entry, a co-signer to read it.
    pub(super) fn sign_entry(
        &self,
        gate: &Admitted<'_>,
        s: &Signable,
        facts: &Facts,
        audit_as: AuditAs<'_>,
        cosign: bool,
    ) -> Result<()> {
        let category = s.entry.category.ok_or_else(|| invalid("not an entry"))?;
        let access = if cosign {
            Access::Read(category)
        } else {
            Access::Write(category)
        };
        let granted = gate.check(
            self.role,
            access,
            Vec::new(),
            facts,
            audit_as,
            Target::Nothing,
        )?;
        if !s.signs {
            return Err(invalid(
                "an administrative entry is not signed documentation",
            ));
        }
        if s.history.addendum_of.is_some() {
            return Err(invalid("an addendum is signed as it is written"));
        }
        let status = status_of(&s.history, s.signs);
        if cosign {
            let conn = self.shared.conn();
            // The supervision is a fact of the author's: checked before it is trusted.
            self.check_scope_now(&conn, ScopeKind::User, s.author.as_bytes())?;
            if !policy_rows::training_supervisor(&conn, &self.user, &s.author)? {
                drop(conn);
                return gate.refuse(audit_as, DenyReason::NotAuthor);
            }
            if !matches!(status, EntryStatus::Signed { cosigned: None, .. }) {
                return Err(invalid(
                    "only an entry its author signed, not yet co-signed, is co-signed",
                ));
            }
        } else {
            if s.author != self.user {
                return gate.refuse(audit_as, DenyReason::NotAuthor);
            }
            if !status.is_draft() {
                return Err(invalid("it is signed already"));
            }
        }
        let outcome = Outcome::Allowed(granted.basis());
        let AuditAs { action, .. } = audit_as;
        let e = gate.entry(action, Some(&s.client), Some(&s.entry.parent), &[], outcome);
        let (table, parent) = (s.entry.table, &s.entry.parent);
        // Which entries are drafts is a fact of the client (`fact_rows`): signing changes it,
        // so the same entry vouches for the client's facts as signing left them.
        let client = &s.client.as_bytes()[..];
        let scope = (!cosign).then_some((ScopeKind::Client, client));
        let written = self.shared.write(|tx| {
            self.check_parent_now(tx, table, parent)?;
            if let Some((kind, id)) = scope {
                self.check_scope_now(tx, kind, id)?;
            }
            let at = self.shared.now_ms();
            if cosign {
                rows::set_cosigned(tx, table, parent, &self.user, at)?;
            } else {
                rows::set_signed(tx, table, parent, &self.user, at)?;
                rows::remove_draft(tx, &s.client, parent)?;
            }
            self.audit_fields(tx, &e, table, parent, scope)
        });
        match written {
            Ok(_) => Ok(()),
            Err(e @ (Error::Integrity { .. } | Error::SessionLocked)) => {
                gate.fail(audit_as, &[], failure_of(&e), e)
            }
            Err(e) => Err(e),
        }
    }

    /// Read every version of the entry `item` holds, decided and audited as one read (its
    /// entry names each envelope opened, `field@write` for the earlier ones).
    pub(super) fn entry_versions(
        &self,
        gate: &Admitted<'_>,
        item: ReadItem<'_>,
    ) -> Result<Vec<EntryVersion>> {
        let opened = gate.read_versions(item)?;
        Ok(versions_from(opened))
    }

    /// Keep the current envelope of each of `fields` of `parent` as an earlier version before
    /// it is written again; `Error::Signed` if the entry (as `tx` now holds it) is not a draft.
    pub(super) fn supersede(
        &self,
        tx: &crate::db::Conn,
        table: FieldTable,
        parent: &[u8; 16],
        status: EntryStatus,
        fields: &[(FieldName, &Value)],
        next: &'static str,
    ) -> Result<()> {
        if !status.is_draft() {
            return Err(Error::Signed { next });
        }
        for (name, _) in fields {
            rows::supersede(tx, table, parent, name.as_str())?;
        }
        Ok(())
    }
}

/// The fields of an addendum: the correction's fields and its reason, which no caller field
/// may shadow.
pub(super) fn addendum_fields<'v>(
    reason: &'v Value,
    fields: &'v [(&'v str, Value)],
) -> Result<Vec<(&'v str, Value)>> {
    if fields.iter().any(|(n, _)| *n == REASON) {
        return Err(invalid("the reason is given on its own, not as a field"));
    }
    if matches!(reason, Value::Text(t) if t.trim().is_empty()) {
        return Err(invalid("an addendum says why it was added"));
    }
    let mut all: Vec<(&str, Value)> = fields.to_vec();
    all.push((REASON, reason.clone()));
    Ok(all)
}

/// The field holding an addendum's reason.
pub const REASON: &str = "reason";
