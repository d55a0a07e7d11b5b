//! Couple, family and group cases: the joint record every member shares, and each member's
//! individual-session notes, which stay in that member's own record.

use std::collections::BTreeMap;

use crate::audit::{AuditAction, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::policy_rows::{self, JointRow};
use crate::db::rows::{self, FieldTable};
use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, JointRecordId, RecordId};
use crate::model::{CaseKind, Category, Compartment, Purpose, RecordKind, SecretsPolicy};
use crate::policy::{Access, Basis, Facts};
use crate::value::{FieldName, Value};

use super::Session;
use super::gate::{Ask, AuditAs, Entry, ReadItem, Stored, Target};
use super::records::named_fields;

/// An entry of a case's joint record, decrypted for its reader.
#[derive(Debug)]
pub struct JointRecord {
    /// The entry.
    pub id: JointRecordId,
    /// The case it belongs to.
    pub case: CaseId,
    /// Created (unix ms).
    pub created_at_ms: i64,
    /// Why the reader was allowed.
    pub basis: Basis,
    /// The field values.
    pub fields: BTreeMap<FieldName, Value>,
}

impl JointRecord {
    /// One field's value.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| k.as_str() == field)
            .map(|(_, v)| v)
    }
}

/// Time for joint-record entries and departures from a case: strictly increasing within the
/// process, so an entry written in the same millisecond as a member leaves is still ordered
/// after (or before) the departure, never tied with it. A former member keeps what the joint
/// record held when they left and receives nothing written after (`created_at <= left_at`).
fn case_clock(now: i64) -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static LAST: AtomicI64 = AtomicI64::new(0);
    let mut last = LAST.load(Ordering::Relaxed);
    loop {
        let next = now.max(last + 1);
        match LAST.compare_exchange_weak(last, next, Ordering::Relaxed, Ordering::Relaxed) {
            Ok(_) => return next,
            Err(seen) => last = seen,
        }
    }
}

pub(super) fn joint_entry(case: &CaseId, id: &JointRecordId) -> Entry {
    Entry {
        table: FieldTable::CaseRecords,
        owner: case.into(),
        parent: *id.as_bytes(),
        compartment: Compartment::General,
        category: Some(Category::JointRecord),
    }
}

impl Session {
    /// Open a couple, family or group case with its members and the secrets policy chosen at
    /// intake. The caller must treat every member and becomes the case's clinician.
    pub fn create_case(
        &self,
        kind: CaseKind,
        secrets: SecretsPolicy,
        members: &[ClientId],
        purpose: Purpose,
    ) -> Result<CaseId> {
        let gate = self.admit(AuditAction::CaseCreate, purpose)?;
        let mut distinct = members.to_vec();
        distinct.sort();
        distinct.dedup();
        if distinct.len() < 2 || distinct.len() != members.len() {
            return Err(Error::InvalidInput {
                what: "case members",
                reason: "a case joins two or more distinct clients".into(),
            });
        }
        let id = CaseId::random(&self.shared.rng)?;
        let mut basis = None;
        for member in members {
            let audit_as = AuditAs::new(AuditAction::CaseCreate)
                .client(member)
                .target(id.as_bytes());
            gate.known_client(member, audit_as)?;
            let facts = self.client_facts(&self.shared.conn(), member)?;
            let grant = gate.check(
                self.role,
                Access::ManageClient,
                vec![],
                &facts,
                audit_as,
                Target::Nothing,
            )?;
            basis = Some(grant.basis());
        }
        let outcome = Outcome::Allowed(basis.unwrap_or(Basis::CareTeam));
        self.shared.write(|tx| {
            let at = self.shared.now_ms();
            policy_rows::insert_case(tx, &id, kind, secrets, at, &self.user)?;
            policy_rows::add_case_clinician(tx, &id, &self.user, at)?;
            for member in members {
                policy_rows::add_case_member(tx, &id, member, at)?;
                let e = self.entry(
                    AuditAction::CaseCreate,
                    Some(member),
                    Some(id.as_bytes()),
                    &[],
                    purpose,
                    outcome,
                );
                // Each member's entry vouches for the case as it stands then; the last for all.
                self.audit_scope(tx, &e, ScopeKind::Case, id.as_bytes())?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    /// Record that `member` left the case (a couple separates). What the case's joint record
    /// held stays theirs; individual notes stay with the member they are about.
    pub fn leave_case(&self, case: &CaseId, member: &ClientId, purpose: Purpose) -> Result<()> {
        let gate = self.admit(AuditAction::CaseLeave, purpose)?;
        let audit_as = AuditAs::new(AuditAction::CaseLeave)
            .client(member)
            .target(case.as_bytes());
        let (is_member, facts) = {
            let conn = self.shared.conn();
            let is_member = policy_rows::is_case_member(&conn, case, member)?;
            (is_member, self.client_facts(&conn, member)?)
        };
        if !is_member {
            return gate.refuse_unknown(audit_as);
        }
        let scope = (ScopeKind::Case, &case.as_bytes()[..]);
        gate.change(Access::ManageClient, &facts, audit_as, scope, |tx| {
            policy_rows::leave_case(tx, case, member, case_clock(self.shared.now_ms()))?;
            Ok(())
        })?;
        Ok(())
    }

    /// Facts about a case for this user, or `None` if there is no such case. A supervisor of
    /// one of the case's clinicians counts as supervising its care.
    fn case_only_facts(&self, case: &CaseId) -> Result<Option<Facts>> {
        let conn = self.shared.conn();
        let Some(case_facts) = self.case_facts(&conn, case, None, None)? else {
            return Ok(None);
        };
        Ok(Some(Facts {
            now_ms: self.shared.now_ms(),
            supervises_care_team: policy_rows::supervises_case_clinician(&conn, &self.user, case)?,
            case: Some(case_facts),
            ..Facts::default()
        }))
    }

    /// Write an entry of the case's joint record (a clinician of the case), sealed under the
    /// case's own data key.
    pub fn write_joint_record(
        &self,
        case: &CaseId,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<JointRecordId> {
        let gate = self.admit(AuditAction::JointCreate, purpose)?;
        let named = named_fields(fields)?;
        let id = JointRecordId::random(&self.shared.rng)?;
        let audit_as = AuditAs::new(AuditAction::JointCreate).target(id.as_bytes());
        let Some(facts) = self.case_only_facts(case)? else {
            return gate.refuse_unknown(audit_as);
        };
        let entry = joint_entry(case, &id);
        gate.write_entry(&entry, &facts, &named, audit_as, |tx, _| {
            let at = case_clock(self.shared.now_ms());
            let row = JointRow {
                id,
                case: *case,
                created_at: at,
                created_by: self.user,
                updated_at: at,
            };
            policy_rows::insert_joint_record(tx, &row, None)
        })?;
        Ok(id)
    }

    /// Read an entry of a joint record (a clinician of the case, or a supervisor).
    pub fn read_joint_record(&self, id: &JointRecordId, purpose: Purpose) -> Result<JointRecord> {
        let gate = self.admit(AuditAction::JointRead, purpose)?;
        let audit_as = AuditAs::new(AuditAction::JointRead).target(id.as_bytes());
        let row = policy_rows::joint_record(&self.shared.conn(), id)?;
        let Some(row) = row else {
            return gate.refuse_unknown(audit_as);
        };
        let Some(facts) = self.case_only_facts(&row.case)? else {
            return gate.refuse_unknown(audit_as);
        };
        let entry = joint_entry(&row.case, id);
        let (basis, fields) = gate.read_one(|tx| {
            Ok(Ask::Read(ReadItem {
                role: self.role,
                stored: Stored::load(tx, entry, None)?,
                facts,
                audit_as,
            }))
        })?;
        Ok(JointRecord {
            id: *id,
            case: row.case,
            created_at_ms: row.created_at,
            basis,
            fields,
        })
    }

    /// The ids of a case's joint-record entries (a clinician of the case).
    pub fn list_joint_records(
        &self,
        case: &CaseId,
        purpose: Purpose,
    ) -> Result<Vec<JointRecordId>> {
        let gate = self.admit(AuditAction::RecordList, purpose)?;
        let audit_as = AuditAs::new(AuditAction::RecordList).target(case.as_bytes());
        let Some(facts) = self.case_only_facts(case)? else {
            return gate.refuse_unknown(audit_as);
        };
        let access = Access::Read(Category::JointRecord);
        let grant = gate.check(self.role, access, vec![], &facts, audit_as, Target::Nothing)?;
        let list = policy_rows::joint_records_of(&self.shared.conn(), case)?;
        let outcome = Outcome::Allowed(grant.basis());
        let e = self.entry(
            AuditAction::RecordList,
            None,
            Some(case.as_bytes()),
            &[],
            purpose,
            outcome,
        );
        self.shared.audit(&e)?;
        Ok(list.into_iter().map(|r| r.id).collect())
    }

    /// Write notes of `member`'s individual session within `case`. They stay in that member's
    /// own record: no other member ever reads them.
    pub fn write_case_note(
        &self,
        case: &CaseId,
        member: &ClientId,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<RecordId> {
        let gate = self.admit(AuditAction::RecordCreate, purpose)?;
        let is_member = policy_rows::is_case_member(&self.shared.conn(), case, member)?;
        if !is_member {
            let audit_as = AuditAs::new(AuditAction::RecordCreate)
                .client(member)
                .target(case.as_bytes());
            return gate.refuse_unknown(audit_as);
        }
        self.create_entry(&gate, member, RecordKind::CaseNote, Some(*case), fields)
    }

    /// Bring an individual-session note into the case's joint record. Under a no-secrets policy
    /// the clinician may; under held-in-confidence only with the disclosing member's recorded
    /// consent (a consent to the joint record naming individual case notes), in force now.
    pub fn share_into_joint(&self, note: &RecordId, purpose: Purpose) -> Result<JointRecordId> {
        let gate = self.admit(AuditAction::JointShare, purpose)?;
        let audit_as = AuditAs::new(AuditAction::JointShare).target(note.as_bytes());
        let (meta, facts) = {
            let conn = self.shared.conn();
            let meta = rows::record(&conn, note)?;
            let Some((meta, case)) = meta.and_then(|m| m.case.map(|c| (m, c))) else {
                drop(conn);
                return gate.refuse_unknown(audit_as);
            };
            let mut facts = self.client_facts(&conn, &meta.client)?;
            self.check_draft_now(&conn, &meta.client, note.as_bytes(), &meta.history)?;
            facts.case = self.case_facts(&conn, &case, Some(&meta.client), None)?;
            (meta, facts)
        };
        let member = meta.client;
        let audit_as = audit_as.client(&member);
        let case = meta.case.ok_or(Error::NotFound { what: "case" })?;
        // Into the case's joint record, under the case's key: whatever of the note this user
        // may read.
        let into = Target::Owners(vec![(&case).into()]);
        let share = gate.check(
            self.role,
            Access::ShareIntoJoint,
            vec![],
            &facts,
            audit_as,
            into,
        )?;
        let read_as = AuditAs::new(AuditAction::RecordRead)
            .client(&member)
            .target(note.as_bytes());
        let entry = super::records::record_entry(&meta);
        let (_, fields) = gate.read_one(|tx| {
            Ok(Ask::Read(ReadItem {
                role: self.role,
                stored: Stored::load(tx, entry, None)?,
                facts,
                audit_as: read_as,
            }))
        })?;
        let id = JointRecordId::random(&self.shared.rng)?;
        let named: Vec<(FieldName, &Value)> = fields.iter().map(|(k, v)| (k.clone(), v)).collect();
        let names: Vec<&str> = fields.keys().map(FieldName::as_str).collect();
        gate.write_audited(audit_as, |tx| {
            let at = case_clock(self.shared.now_ms());
            let row = JointRow {
                id,
                case,
                created_at: at,
                created_by: self.user,
                updated_at: at,
            };
            policy_rows::insert_joint_record(tx, &row, Some(note.as_bytes()))?;
            let entry = joint_entry(&case, &id);
            let (table, parent) = (entry.table, &entry.parent);
            self.seal(tx, &share, &entry, &named)?;
            let e = self.entry(
                AuditAction::JointShare,
                Some(&member),
                Some(id.as_bytes()),
                &names,
                purpose,
                Outcome::Allowed(share.basis()),
            );
            self.audit_fields(tx, &e, table, parent, None)
        })?;
        Ok(id)
    }
}
