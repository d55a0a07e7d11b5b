//! Exports a clinician releases to the client (right of access, 45 CFR 164.524) or to a minor's
//! guardian. Every entry is decided on its own, as the recipient, by the same policy as every
//! read, so no field leaks through this side door and one withheld entry hides nothing else.

use crate::audit::{AuditAction, Outcome};
use crate::db::{policy_rows, rows};
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::model::{Purpose, Role};
use crate::policy::{Access, Facts};

use super::access::AuditAs;
use super::cases::{JointRecord, joint_entry};
use super::records::{Record, record_entry, record_from};
use super::{Session, now_ms};

/// What was released, decrypted for the recipient.
#[derive(Debug)]
pub struct Export {
    /// Whose record.
    pub client: ClientId,
    /// Released to the client themselves or to their guardian.
    pub released_to: Role,
    /// General-record entries, with the fields the recipient may see.
    pub records: Vec<Record>,
    /// Entries of the joint records of the client's couple and family cases.
    pub joint_records: Vec<JointRecord>,
    /// How many entries the policy withheld (each refusal is in the audit log).
    pub withheld: usize,
}

impl Session {
    /// Release the client's own record to them: their general record, the joint records of
    /// their couple and family cases, and their own individual case notes. Never psychotherapy
    /// notes, never another member's notes.
    pub fn export_for_client(&self, client: &ClientId) -> Result<Export> {
        self.export(client, Role::Client)
    }

    /// Release a minor's general record to their guardian, unless the minor consented to their
    /// own treatment, a court directed it, or the guardian agreed to confidentiality.
    pub fn export_for_guardian(&self, client: &ClientId) -> Result<Export> {
        self.export(client, Role::Guardian)
    }

    fn export(&self, client: &ClientId, to: Role) -> Result<Export> {
        let purpose = Purpose::PatientRequest;
        let (facts, audit_as) = self.client_request(client, AuditAction::ExportRelease, purpose)?;
        let (records, cases) = {
            let conn = self.shared.conn();
            (
                rows::records_of(&conn, client)?,
                policy_rows::cases_of(&conn, client)?,
            )
        };
        let release = self.check(
            self.role,
            Access::Release,
            purpose,
            vec![],
            &facts,
            audit_as,
        )?;
        // The recipient's facts: who they are to the client, nothing of the releasing clinician.
        let recipient = Facts {
            now_ms: now_ms(),
            is_subject: to == Role::Client,
            is_guardian_of_minor: to == Role::Guardian && facts.minor.is_some(),
            minor: facts.minor,
            ..Facts::default()
        };
        let mut export = Export {
            client: *client,
            released_to: to,
            records: Vec::new(),
            joint_records: Vec::new(),
            withheld: 0,
        };
        for meta in records {
            let mut facts = recipient.clone();
            if let Some(case) = &meta.case {
                let conn = self.shared.conn();
                let as_client = Some((client, meta.created_at));
                facts.case = self.case_facts(&conn, case, Some(&meta.client), as_client)?;
            }
            let read_as = AuditAs::new(AuditAction::RecordRead)
                .client(client)
                .target(meta.id.as_bytes());
            match self.read_entry(to, &record_entry(&meta), purpose, &facts, read_as) {
                Ok((basis, fields)) => export.records.push(record_from(meta, basis, fields)),
                Err(Error::Denied { .. }) => export.withheld += 1,
                Err(e) => return Err(e),
            }
        }
        for case in cases {
            let joint = policy_rows::joint_records_of(&self.shared.conn(), &case)?;
            for row in joint {
                let as_client = Some((client, row.created_at));
                let case_facts = self.case_facts(&self.shared.conn(), &case, None, as_client)?;
                let facts = Facts {
                    case: case_facts,
                    ..recipient.clone()
                };
                let read_as = AuditAs::new(AuditAction::JointRead)
                    .client(client)
                    .target(row.id.as_bytes());
                let entry = joint_entry(&case, &row.id);
                match self.read_entry(to, &entry, purpose, &facts, read_as) {
                    Ok((basis, fields)) => export.joint_records.push(JointRecord {
                        id: row.id,
                        case,
                        created_at_ms: row.created_at,
                        basis,
                        fields,
                    }),
                    Err(Error::Denied { .. }) => export.withheld += 1,
                    Err(e) => return Err(e),
                }
            }
        }
        let outcome = Outcome::Allowed(release.basis);
        let fields = [to.code()];
        let e = self.entry(
            AuditAction::ExportRelease,
            Some(client),
            None,
            &fields,
            purpose,
            outcome,
        );
        self.shared.audit(&e)?;
        Ok(export)
    }
}
