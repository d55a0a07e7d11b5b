//! Batched reads: many records in one call, each decided on its own, every audit entry (one per
//! record, granted or refused) committed in one transaction before any plaintext is returned.

use std::collections::HashMap;

use crate::audit::{AuditAction, Outcome};
use crate::db::rows;
use crate::error::{Error, Result};
use crate::ids::{ClientId, RecordId};
use crate::model::Purpose;
use crate::policy::{Access, Decision, DenyReason, Facts, Request, decide};
use crate::value::FieldName;

use super::Session;
use super::facts;
use super::records::{Record, record_entry, record_from};

/// One audit entry to append once the batch is decided.
struct Pending {
    client: Option<ClientId>,
    target: RecordId,
    fields: Vec<String>,
    outcome: Outcome,
}

impl Session {
    /// Read many general-record entries in one call (a chart, a report). Each is decided on
    /// its own, exactly as [`Session::read_record`] would, and gets its own audit entry; the
    /// entries are committed together, in one transaction, before anything is returned. A
    /// refusal or an integrity failure of one entry is its own `Err` and hides nothing else.
    pub fn read_records(
        &self,
        records: &[RecordId],
        purpose: Purpose,
    ) -> Result<Vec<Result<Record>>> {
        // One immediate transaction for the whole call: every record is decided and read from
        // one snapshot, no other writer can slip in between the decision and the audit entry,
        // and SQLite takes and releases its locks once instead of once per statement.
        self.ensure_unlocked(AuditAction::RecordRead, purpose)?;
        self.shared.write(|conn| {
            let mut pending = Vec::with_capacity(records.len());
            let mut out = Vec::with_capacity(records.len());
            let mut facts_of: HashMap<ClientId, Facts> = HashMap::new();
            let mut erased_of: HashMap<ClientId, bool> = HashMap::new();
            for id in records {
                let deny = |reason| Pending {
                    client: None,
                    target: *id,
                    fields: Vec::new(),
                    outcome: Outcome::Denied(reason),
                };
                let Some(meta) = rows::record(conn, id)? else {
                    // The same answer as for a record the reader may not know of.
                    pending.push(deny(DenyReason::NoRelationship));
                    out.push(Err(Error::Denied {
                        reason: DenyReason::NoRelationship,
                    }));
                    continue;
                };
                let mut facts = match facts_of.get(&meta.client) {
                    Some(f) => f.clone(),
                    None => {
                        let f = self.client_facts(conn, &meta.client)?;
                        facts_of.insert(meta.client, f.clone());
                        f
                    }
                };
                if let Some(case) = &meta.case {
                    facts.case = self.case_facts(conn, case, Some(&meta.client), None)?;
                }
                let entry = record_entry(&meta);
                // The envelopes come with their names; none is opened before the decision.
                let mut stored = rows::fields(conn, entry.table, &entry.parent)?;
                // Checked whole now, reported after the fields themselves: a damaged envelope
                // is named before a damaged set.
                let recorded = meta.fields_digest.as_deref();
                let whole =
                    facts::check_fields_against(entry.table, &entry.parent, &stored, recorded);
                let names = stored
                    .iter()
                    .map(|f| FieldName::new(&f.field))
                    .collect::<Result<Vec<_>>>()
                    .map_err(|_| Error::Corrupt {
                        what: "stored field name".into(),
                    })?;
                let req = Request {
                    role: self.role,
                    requester: Some(self.user),
                    access: Access::Read(entry.category),
                    purpose,
                    fields: names,
                };
                let grant = match decide(&req, &facts) {
                    Decision::Allow(g) => g,
                    Decision::Deny(reason) => {
                        pending.push(Pending {
                            client: Some(meta.client),
                            ..deny(reason)
                        });
                        out.push(Err(Error::Denied { reason }));
                        continue;
                    }
                };
                // Decided: only now unwrap keys and open the permitted fields.
                stored.retain(|f| grant.fields.iter().any(|g| g.as_str() == f.field));
                let erased = match erased_of.get(&meta.client) {
                    Some(e) => *e,
                    None => {
                        let e = rows::is_erased(conn, &entry.owner)?;
                        erased_of.insert(meta.client, e);
                        e
                    }
                };
                let (table, owner, parent) = (entry.table, &entry.owner, &entry.parent);
                let opened = if erased {
                    // A key another session still caches must not outlive the erasure.
                    Err((String::new(), Error::Erased))
                } else {
                    self.decrypt_fields(conn, table, owner, parent, entry.compartment, &stored)
                        .and_then(|fields| whole.map(|()| fields).map_err(|e| (String::new(), e)))
                };
                match opened {
                    Ok(fields) => {
                        pending.push(Pending {
                            client: Some(meta.client),
                            target: *id,
                            fields: fields.keys().map(|k| k.as_str().to_owned()).collect(),
                            outcome: Outcome::Allowed(grant.basis),
                        });
                        out.push(Ok(record_from(meta, grant.basis, fields)));
                    }
                    Err((field, err)) => {
                        let why = super::access::failure_of(&err);
                        pending.push(Pending {
                            client: Some(meta.client),
                            target: *id,
                            fields: vec![field],
                            outcome: Outcome::Failed(why),
                        });
                        out.push(Err(err));
                    }
                }
            }
            // INVARIANT: every entry is committed with the reads, in this one transaction,
            // before any plaintext leaves.
            let fields: Vec<Vec<&str>> = pending
                .iter()
                .map(|p| p.fields.iter().map(String::as_str).collect())
                .collect();
            let entries: Vec<_> = pending
                .iter()
                .zip(&fields)
                .map(|(p, fields)| {
                    self.entry(
                        AuditAction::RecordRead,
                        p.client.as_ref(),
                        Some(p.target.as_bytes()),
                        fields,
                        purpose,
                        p.outcome,
                    )
                })
                .collect();
            self.shared.audit_all(conn, &entries)?;
            Ok(out)
        })
    }
}
