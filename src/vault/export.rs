//! Exports a clinician releases to the client (right of access, 45 CFR 164.524) or to a minor's
//! guardian. Every entry is decided on its own, as the recipient, by the same policy as every
//! read, so no field leaks through this side door and one withheld entry hides nothing else.

use crate::audit::{AuditAction, Outcome};
use crate::db::{policy_rows, rows};
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::model::{Purpose, Role};
use crate::policy::{Access, Facts};

use super::Session;
use super::cases::{JointRecord, joint_entry};
use super::gate::{Ask, AuditAs, ReadItem, Stored, Target};
use super::records::{Record, record_entry, record_from};

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
        let gate = self.admit(AuditAction::ExportRelease, purpose)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::ExportRelease)?;
        let (records, cases) = {
            let conn = self.shared.conn();
            (
                rows::records_of(&conn, client)?,
                policy_rows::cases_of(&conn, client)?,
            )
        };
        let release = gate.check(
            self.role,
            Access::Release,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        // The recipient's facts: who they are to the client, nothing of the releasing clinician.
        let recipient = Facts {
            now_ms: self.shared.now_ms(),
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
        // Every entry decided on its own, as the recipient, in one transaction with its audit
        // entry: a refusal withholds that entry and hides nothing else.
        let read = self.shared.write(|tx| {
            let mut asks = Vec::new();
            let mut found = Vec::new();
            for meta in &records {
                let mut facts = recipient.clone();
                if let Some(case) = &meta.case {
                    let as_client = Some((client, meta.created_at));
                    facts.case = self.case_facts(tx, case, Some(&meta.client), as_client)?;
                }
                let read_as = AuditAs::new(AuditAction::RecordRead)
                    .client(client)
                    .target(meta.id.as_bytes());
                let stored = Stored::load(tx, record_entry(meta), None)?;
                asks.push(Ask::Read(ReadItem {
                    role: to,
                    stored,
                    facts,
                    audit_as: read_as,
                }));
                found.push(None);
            }
            for case in &cases {
                for row in policy_rows::joint_records_of(tx, case)? {
                    let as_client = Some((client, row.created_at));
                    let facts = Facts {
                        case: self.case_facts(tx, case, None, as_client)?,
                        ..recipient.clone()
                    };
                    let stored = Stored::load(tx, joint_entry(case, &row.id), None)?;
                    found.push(Some((*case, row)));
                    asks.push(Ask::Read(ReadItem {
                        role: to,
                        stored,
                        facts,
                        audit_as: AuditAs::new(AuditAction::JointRead).client(client),
                    }));
                }
            }
            // The joint entries' targets, borrowed from what was found.
            let asks = asks
                .into_iter()
                .zip(&found)
                .map(|(ask, joint)| match (ask, joint) {
                    (Ask::Read(mut item), Some((_, row))) => {
                        item.audit_as = item.audit_as.target(row.id.as_bytes());
                        Ask::Read(item)
                    }
                    (ask, _) => ask,
                })
                .collect();
            Ok((gate.read_in(tx, asks)?, found))
        })?;
        let (results, found) = read;
        let mut metas = records.into_iter();
        for (result, joint) in results.into_iter().zip(found) {
            match (result, joint) {
                (Ok((basis, fields)), None) => {
                    if let Some(meta) = metas.next() {
                        export.records.push(record_from(meta, basis, fields));
                    }
                }
                (Ok((basis, fields)), Some((case, row))) => {
                    export.joint_records.push(JointRecord {
                        id: row.id,
                        case,
                        created_at_ms: row.created_at,
                        basis,
                        fields,
                    })
                }
                (Err(Error::Denied { .. }), joint) => {
                    if joint.is_none() {
                        metas.next();
                    }
                    export.withheld += 1;
                }
                (Err(e), _) => return Err(e),
            }
        }
        let outcome = Outcome::Allowed(release.basis());
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
