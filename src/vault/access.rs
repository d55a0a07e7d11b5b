//! The one access path every operation takes: gather cleartext facts, decide, audit, and only
//! then touch keys.
//!
//! [`Session::read_entry`] and [`Session::write_entry`] are the two functions a reader should
//! look at to see how a request is decided, audited and decrypted.

use std::collections::BTreeMap;

use rusqlite::Connection;

use crate::audit::{AuditAction, Failure, Outcome};
use crate::db::policy_rows;
use crate::db::rows::{self, FieldTable};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId};
use crate::model::{Category, Compartment, Purpose, Role};
use crate::policy::{
    Access, Basis, CaseFacts, Decision, DenyReason, Facts, Grant, PracticeOp, Request, decide,
};
use crate::value::{FieldName, Value};

use super::{Session, facts, now_ms};

/// How a request is recorded in the audit log: action, client, target.
#[derive(Clone, Copy)]
pub(super) struct AuditAs<'a> {
    pub action: AuditAction,
    pub client: Option<&'a ClientId>,
    pub target: Option<&'a [u8; 16]>,
}

impl<'a> AuditAs<'a> {
    pub(super) fn new(action: AuditAction) -> Self {
        Self {
            action,
            client: None,
            target: None,
        }
    }

    pub(super) fn client(mut self, client: &'a ClientId) -> Self {
        self.client = Some(client);
        self
    }

    pub(super) fn target(mut self, target: &'a [u8; 16]) -> Self {
        self.target = Some(target);
        self
    }
}

/// One stored entry with fields: where its envelopes are and what the policy calls it.
pub(super) struct Entry {
    pub table: FieldTable,
    /// The client or case whose data key seals it.
    pub owner: [u8; 16],
    /// The record, note, consent or grant id.
    pub parent: [u8; 16],
    pub compartment: Compartment,
    pub category: Category,
}

impl Session {
    /// Ask the policy, as `role`. A refusal is audited (committed) and returned as
    /// [`Error::Denied`]; no key is touched for it.
    pub(super) fn check(
        &self,
        role: Role,
        access: Access,
        purpose: Purpose,
        fields: Vec<FieldName>,
        facts: &Facts,
        audit_as: AuditAs<'_>,
    ) -> Result<Grant> {
        self.ensure_unlocked(audit_as.action, purpose)?;
        let req = Request {
            role,
            requester: Some(self.user),
            access,
            purpose,
            fields,
        };
        match decide(&req, facts) {
            Decision::Allow(grant) => Ok(grant),
            Decision::Deny(reason) => self.refuse(audit_as, purpose, reason),
        }
    }

    /// Audit a refusal and return it.
    pub(super) fn refuse<T>(
        &self,
        audit_as: AuditAs<'_>,
        purpose: Purpose,
        reason: DenyReason,
    ) -> Result<T> {
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Denied(reason);
        self.shared
            .audit(&self.entry(action, client, target, &[], purpose, outcome))?;
        Err(Error::Denied { reason })
    }

    /// Decide `access` for a change about a client; if allowed, run `op` and append the audit
    /// entry `audit_as` describes, in one transaction. A refusal is audited by `check`.
    pub(super) fn change(
        &self,
        access: Access,
        purpose: Purpose,
        facts: &Facts,
        audit_as: AuditAs<'_>,
        op: impl FnOnce(&rusqlite::Connection) -> Result<()>,
    ) -> Result<()> {
        let grant = self.check(self.role, access, purpose, vec![], facts, audit_as)?;
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Allowed(grant.basis);
        let e = self.entry(action, client, target, &[], purpose, outcome);
        self.shared.write_audited(&e, op)?;
        Ok(())
    }

    /// A practice operation (no client involved).
    pub(super) fn check_practice(
        &self,
        op: PracticeOp,
        purpose: Purpose,
        audit_as: AuditAs<'_>,
    ) -> Result<Grant> {
        let facts = Facts {
            now_ms: now_ms(),
            ..Facts::default()
        };
        let access = Access::Practice(op);
        self.check(self.role, access, purpose, Vec::new(), &facts, audit_as)
    }

    /// The answer for a target that does not exist. It is the same refusal a user gets for a
    /// client they have no relationship with, so errors are no existence oracle; the audit entry
    /// records it like any refusal.
    pub(super) fn refuse_unknown<T>(&self, audit_as: AuditAs<'_>, purpose: Purpose) -> Result<T> {
        self.refuse(audit_as, purpose, DenyReason::NoRelationship)
    }

    /// Audit a failure (integrity) and return `err`.
    /// Run `write` (one transaction). If it stopped because the master key was rotated by
    /// another process meanwhile (seen inside, where an audit entry would be rolled back with
    /// the rest), record the refusal after the rollback.
    pub(super) fn write_audited<T>(
        &self,
        audit_as: AuditAs<'_>,
        purpose: Purpose,
        write: impl FnOnce(&Connection) -> Result<T>,
    ) -> Result<T> {
        match self.shared.write(write) {
            Err(e @ Error::SessionLocked) => {
                self.fail(audit_as, &[], purpose, Failure::SessionLocked, e)
            }
            other => other,
        }
    }

    pub(super) fn fail<T>(
        &self,
        audit_as: AuditAs<'_>,
        fields: &[&str],
        purpose: Purpose,
        why: Failure,
        err: Error,
    ) -> Result<T> {
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Failed(why);
        self.shared
            .audit(&self.entry(action, client, target, fields, purpose, outcome))?;
        Err(err)
    }

    /// Facts for a request about `client`, with how to audit it; or, for a client that does not
    /// exist, the same audited refusal an unrelated client gets.
    pub(super) fn client_request<'a>(
        &self,
        client: &'a ClientId,
        action: AuditAction,
        purpose: Purpose,
    ) -> Result<(Facts, AuditAs<'a>)> {
        let audit_as = AuditAs::new(action).client(client);
        let (exists, facts) = {
            let conn = self.shared.conn();
            (
                rows::client_exists(&conn, client)?,
                self.client_facts(&conn, client)?,
            )
        };
        if !exists {
            return self.refuse_unknown(audit_as, purpose);
        }
        Ok((facts, audit_as))
    }

    /// Cleartext facts about this user and `client`, at the current time: one query, and a
    /// second only when the client has consents.
    pub(super) fn client_facts(&self, conn: &Connection, client: &ClientId) -> Result<Facts> {
        let now = now_ms();
        let rel = facts::relationship(conn, client, &self.user, now)?;
        let consents = if rel.has_consents {
            facts::consents_of(conn, client)?
                .into_iter()
                .map(|c| c.fact)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Facts {
            now_ms: now,
            on_care_team: rel.on_care_team,
            supervises_care_team: rel.supervises_care_team,
            break_glass_active: rel.break_glass_active,
            consents,
            minor: rel.minor,
            ..Facts::default()
        })
    }

    /// Facts about `case`: its kind and policy, and whether this user is one of its clinicians.
    /// `as_client` is the client an export is made for, with the creation time of the entry
    /// asked for: a member who left keeps what the joint record held when they left, and gets
    /// nothing written after. `subject` is the member an individual note is about.
    pub(super) fn case_facts(
        &self,
        conn: &Connection,
        case: &CaseId,
        subject: Option<&ClientId>,
        as_client: Option<(&ClientId, i64)>,
    ) -> Result<Option<CaseFacts>> {
        let Some((kind, secrets)) = policy_rows::case(conn, case)? else {
            return Ok(None);
        };
        let requester_is_member = match as_client {
            Some((c, entry_at)) => match policy_rows::membership(conn, case, c)? {
                Some(left_at) => left_at.is_none_or(|left| entry_at <= left),
                None => false,
            },
            None => false,
        };
        Ok(Some(CaseFacts {
            kind,
            secrets,
            requester_is_case_clinician: policy_rows::is_case_clinician(conn, case, &self.user)?,
            requester_is_member,
            requester_is_subject: as_client.is_some_and(|(c, _)| Some(c) == subject),
        }))
    }

    /// Decide a read of `entry` as `role`, open only the permitted fields, audit, return them.
    ///
    /// INVARIANT: the audit entry naming the fields is committed before this returns them.
    pub(super) fn read_entry(
        &self,
        role: Role,
        entry: &Entry,
        purpose: Purpose,
        facts: &Facts,
        audit_as: AuditAs<'_>,
    ) -> Result<(Basis, BTreeMap<FieldName, Value>)> {
        // The envelopes come with their names; none is opened before the decision. The set is
        // checked whole now and reported after the fields themselves.
        let (mut stored, whole) = {
            let conn = self.shared.conn();
            let stored = rows::fields(&conn, entry.table, &entry.parent)?;
            let whole = facts::check_fields_whole(&conn, entry.table, &entry.parent, &stored);
            (stored, whole)
        };
        let names = stored
            .iter()
            .map(|f| f.field.as_str())
            .map(FieldName::new)
            .collect::<Result<Vec<_>>>()
            .map_err(|_| Error::Corrupt {
                what: "stored field name".into(),
            })?;
        let access = Access::Read(entry.category);
        let grant = self.check(role, access, purpose, names, facts, audit_as)?;
        let opened = {
            let conn = self.shared.conn();
            stored.retain(|f| grant.fields.iter().any(|g| g.as_str() == f.field));
            let (table, owner, parent) = (entry.table, &entry.owner, &entry.parent);
            self.open_fields(&conn, table, owner, parent, entry.compartment, &stored)
                .and_then(|fields| whole.map(|()| fields).map_err(|e| (String::new(), e)))
        };
        let fields = match opened {
            Ok(f) => f,
            Err((field, err)) => {
                return self.fail(audit_as, &[&field], purpose, failure_of(&err), err);
            }
        };
        let read: Vec<&str> = fields.keys().map(FieldName::as_str).collect();
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Allowed(grant.basis);
        self.shared
            .audit(&self.entry(action, client, target, &read, purpose, outcome))?;
        Ok((grant.basis, fields))
    }

    /// Decide a write of `fields` to `entry`, then, in one transaction, create the parent row
    /// (`create`), seal the fields and append the audit entry.
    pub(super) fn write_entry(
        &self,
        entry: &Entry,
        purpose: Purpose,
        facts: &Facts,
        fields: &[(FieldName, &Value)],
        audit_as: AuditAs<'_>,
        create: impl FnOnce(&Connection, i64) -> Result<()>,
    ) -> Result<Basis> {
        let names: Vec<FieldName> = fields.iter().map(|(n, _)| n.clone()).collect();
        let access = Access::Write(entry.category);
        let grant = self.check(self.role, access, purpose, names, facts, audit_as)?;
        let written: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let written_ok = self.shared.write(|tx| {
            // Never vouch for a set of fields someone changed outside the vault.
            let before = rows::fields(tx, entry.table, &entry.parent)?;
            facts::check_fields_whole(tx, entry.table, &entry.parent, &before)?;
            create(tx, now_ms())?;
            let (table, owner, parent) = (entry.table, &entry.owner, &entry.parent);
            self.seal_fields(tx, table, owner, parent, entry.compartment, fields)?;
            let AuditAs {
                action,
                client,
                target,
            } = audit_as;
            let outcome = Outcome::Allowed(grant.basis);
            let e = self.entry(action, client, target, &written, purpose, outcome);
            self.shared.audit_fields(tx, &e, entry.table, &entry.parent)
        });
        match written_ok {
            Ok(_) => Ok(grant.basis),
            // Rolled back; the refusal to write over damaged fields, or with a master key
            // rotated meanwhile, is audited on its own.
            Err(e @ (Error::Integrity { .. } | Error::SessionLocked)) => {
                self.fail(audit_as, &[], purpose, failure_of(&e), e)
            }
            Err(e) => Err(e),
        }
    }
}

/// How a failed read or write of fields is recorded.
pub(super) fn failure_of(err: &Error) -> Failure {
    match err {
        Error::Erased => Failure::Erased,
        Error::SessionLocked => Failure::SessionLocked,
        _ => Failure::Integrity,
    }
}
