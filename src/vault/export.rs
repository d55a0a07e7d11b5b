//! Exports a clinician releases to the client (right of access, 45 CFR 164.524) or to a minor's
//! guardian. Every entry is decided on its own, as the recipient, by the same policy as every
//! read, so no field leaks through this side door and one withheld entry hides nothing else.
//!
//! A refusal is a refusal: a guardian who is not the minor's personal representative, or a
//! minor whose care the guardian is shut out of, gets `Denied` with that reason and an export
//! entry logged as denied, and so does an export whose every entry was withheld. Only a partial
//! export is `Ok`, and it says what it withheld and why.
//!
//! Records go with their addenda (an accepted amendment is an addendum naming its request), as
//! a read returns them, and the export holds the client's requests to amend with their outcome
//! and texts (164.526): every request for the client's own export, and for a guardian's only the
//! requests whose every entry the guardian received.

use crate::audit::{AuditAction, Outcome};
use std::collections::BTreeSet;

use crate::db::amendment_rows::AmendmentRow;
use crate::db::{policy_rows, rows};
use crate::error::{DenyReason, Error, Result};
use crate::ids::{ClientId, GuardianId, RecordId};
use crate::model::{Purpose, Role};
use crate::policy::{Access, Facts};

use super::Session;
use super::amendments::Amendment;
use super::cases::{JointRecord, joint_entry};
use super::gate::{Ask, AuditAs, ReadItem, Stored, Target, failure_of};
use super::guardians::Act;
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
    /// The client's requests to amend, with their outcome and texts.
    pub amendments: Vec<Amendment>,
    /// The entries the policy withheld, each with its reason (each refusal is in the audit log
    /// too).
    pub withheld: Vec<Withheld>,
}

/// An entry an export withheld, and why: for the releasing clinician. It is not part of what
/// goes to the recipient, whom it would tell what exists (that a Part 2 record exists is itself
/// protected, 42 CFR 2.13(c)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withheld {
    /// The entry's id (hex): a record id, or a joint record's.
    pub id: String,
    /// What kind of entry: a record kind's code, or `joint_record`.
    pub kind: String,
    /// Why the policy withheld it.
    pub reason: DenyReason,
}

impl Session {
    /// Release the client's own record to them: their general record, the joint records of
    /// their couple and family cases, and their own individual case notes. Never psychotherapy
    /// notes, never another member's notes. An export that would withhold every entry is no
    /// release: `Denied`, with the first entry's reason.
    pub fn export_for_client(&self, client: &ClientId) -> Result<Export> {
        self.export(client, None)
    }

    /// Release a minor's general record to `guardian`, one of their recorded guardians whose
    /// custody order gives them access, in force now (45 CFR 164.502(g)); otherwise `Denied`
    /// (`not-personal-representative`). Nothing goes when the minor consented to their own
    /// treatment, a court directed it, or the guardian agreed to confidentiality: `Denied`
    /// (`minor-protected`). Either refusal is audited as a denied export.
    pub fn export_for_guardian(&self, client: &ClientId, guardian: &GuardianId) -> Result<Export> {
        self.export(client, Some(guardian))
    }

    fn export(&self, client: &ClientId, guardian: Option<&GuardianId>) -> Result<Export> {
        let purpose = Purpose::PatientRequest;
        let to = match guardian {
            Some(_) => Role::Guardian,
            None => Role::Client,
        };
        let gate = self.admit(AuditAction::ExportRelease, purpose)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::ExportRelease)?;
        // A guardian's export names the guardian as its target, granted or refused.
        let audit_as = match guardian {
            Some(g) => audit_as.target(g.as_bytes()),
            None => audit_as,
        };
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
        // Decided after the releasing clinician's check, so one who may not release learns
        // nothing of the client's guardians.
        if let Some(g) = guardian {
            if let Err(reason) = self.guardian_standing(client, g, Act::Access)? {
                return gate.refuse(audit_as, reason);
            }
        }
        // An entry never leaves without its corrections: a linked addendum gone from the file
        // fails the export.
        let present: BTreeSet<[u8; 16]> = records.iter().map(|r| *r.id.as_bytes()).collect();
        let linked =
            self.check_addenda_present(&self.shared.conn(), client, false, |a| present.contains(a));
        if let Err(e) = linked {
            return gate.fail(audit_as, &[], failure_of(&e), e);
        }
        // The recipient's facts: who they are to the client, nothing of the releasing clinician.
        let recipient = Facts {
            now_ms: self.shared.now_ms(),
            is_subject: guardian.is_none(),
            // INVARIANT: a guardian reaches here only as the minor's personal representative.
            is_guardian_of_minor: guardian.is_some(),
            minor: facts.minor,
            ..Facts::default()
        };
        let mut export = Export {
            client: *client,
            released_to: to,
            records: Vec::new(),
            joint_records: Vec::new(),
            amendments: Vec::new(),
            withheld: Vec::new(),
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
                self.check_draft_now(tx, client, meta.id.as_bytes(), &meta.history)?;
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
                (Err(Error::Denied { reason }), joint) => {
                    let (id, kind) = match joint {
                        Some((_, row)) => (row.id.to_string(), "joint_record".to_owned()),
                        None => match metas.next() {
                            Some(meta) => (meta.id.to_string(), meta.kind.code().to_owned()),
                            None => continue,
                        },
                    };
                    export.withheld.push(Withheld { id, kind, reason });
                }
                (Err(e), _) => return Err(e),
            }
        }
        // Everything withheld is nothing released: refused, with the first entry's reason.
        if export.records.is_empty() && export.joint_records.is_empty() {
            if let Some(first) = export.withheld.first() {
                return gate.refuse(audit_as, first.reason);
            }
        }
        export.records = with_addenda(std::mem::take(&mut export.records));
        // The requests to amend, opened under a grant reaching the client's keys, each read
        // audited with the export.
        let received: BTreeSet<RecordId> = export
            .records
            .iter()
            .flat_map(|r| std::iter::once(r.id).chain(r.addenda.iter().map(|a| a.id)))
            .collect();
        let keys = Target::Owners(vec![client.into()]);
        let opening = gate.check(self.role, Access::Release, vec![], &facts, audit_as, keys)?;
        let own = guardian.is_none();
        let opened = self.shared.write(|tx| {
            let which = |r: &AmendmentRow| own || r.records.iter().all(|x| received.contains(x));
            Ok(match self.open_amendments(tx, &opening, client, which) {
                Ok(found) => {
                    let outcome = Outcome::Allowed(opening.basis());
                    for a in &found {
                        let target = Some(a.summary.id.as_bytes());
                        let action = AuditAction::AmendmentRead;
                        let e = gate.entry(action, Some(client), target, &[], outcome);
                        self.shared.audit_in(tx, &e)?;
                    }
                    Ok(found)
                }
                Err(failed) => Err(failed),
            })
        })?;
        export.amendments = match opened {
            Ok(found) => found,
            Err((field, e)) => return gate.fail(audit_as, &[field.as_str()], failure_of(&e), e),
        };
        let outcome = Outcome::Allowed(release.basis());
        let fields = [to.code()];
        let e = self.entry(
            AuditAction::ExportRelease,
            Some(client),
            audit_as.target,
            &fields,
            purpose,
            outcome,
        );
        self.shared.audit(&e)?;
        Ok(export)
    }
}

/// Each addendum under the entry it corrects, oldest first, as a read returns them; one whose
/// entry was withheld stays on its own, naming it.
fn with_addenda(records: Vec<Record>) -> Vec<Record> {
    let (addenda, mut entries): (Vec<Record>, Vec<Record>) =
        records.into_iter().partition(|r| r.addendum_of.is_some());
    for a in addenda {
        match entries.iter_mut().find(|e| Some(e.id) == a.addendum_of) {
            Some(entry) => entry.addenda.push(a),
            None => entries.push(a),
        }
    }
    for e in &mut entries {
        e.addenda.sort_by_key(|a| (a.created_at_ms, a.id));
    }
    entries
}
