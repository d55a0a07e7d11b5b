//! Accepting a request to amend (45 CFR 164.526(c)): the amendment is written as an addendum
//! of every affected entry, linked to the request, and the request is marked accepted, all in
//! one transaction with the entries that vouch for each addendum, the request and the client's
//! facts. The rules are in [`super::amendments`].

use crate::audit::{AuditAction, Outcome};
use crate::db::amendment_rows;
use crate::db::fact_rows::ScopeKind;
use crate::db::rows::{self, FieldTable, History};
use crate::error::{Error, Result};
use crate::ids::{AmendmentId, RecordId};
use crate::model::Purpose;
use crate::policy::Access;
use crate::value::{FieldName, Value};

use super::Session;
use super::amendments::{Found, NOTIFY, amendment_entry, invalid};
use super::gate::{AuditAs, Target};
use super::history::{addendum_fields, status_of};
use super::records::{named_fields, record_entry};

impl Session {
    /// Accept a request (164.526(c)): write `amendment` (the corrected or added fields) as an
    /// addendum of every affected entry, linked to the request, and mark it accepted, with the
    /// persons the client named to be told of it (sealed). One transaction; each addendum is
    /// decided as its writer's addendum of that entry, before any key is touched. Returns the
    /// addenda, in the order the request names the entries.
    ///
    /// Every affected entry must be finished documentation: a draft is corrected by writing it
    /// again ([`Session::update_record`]) and signed before an amendment is linked to it
    /// (`InvalidInput` says so). An administrative entry, which is never signed, takes the
    /// amendment as an addendum all the same.
    pub fn accept_amendment(
        &self,
        request: &AmendmentId,
        amendment: &[(&str, Value)],
        notify: &[&str],
        purpose: Purpose,
    ) -> Result<Vec<RecordId>> {
        let action = AuditAction::AmendmentAccept;
        let gate = self.admit(action, purpose)?;
        if amendment.is_empty() {
            return Err(invalid(
                "the amendment names the fields it corrects or adds",
            ));
        }
        if notify
            .iter()
            .any(|n| n.trim().is_empty() || n.contains('\n'))
        {
            return Err(invalid("each person to notify is named on one line"));
        }
        let reason = Value::text(format!("amendment accepted (request {request})"));
        let all = addendum_fields(&reason, amendment)?;
        let fields = named_fields(&all)?;
        let notified = Value::text(notify.join("\n"));
        let notify_fields: Vec<(&str, Value)> = if notify.is_empty() {
            Vec::new()
        } else {
            vec![(NOTIFY, notified)]
        };
        let notify_named: Vec<(FieldName, &Value)> = notify_fields
            .iter()
            .map(|(n, v)| Ok((FieldName::new(n)?, v)))
            .collect::<Result<_>>()?;
        let Found {
            client,
            facts,
            audit_as,
        } = self.find_amendment(&gate, request, action)?;
        let entry = amendment_entry(&client, request);
        let granted = self.decide_amendment(&gate, &notify_named, &facts, audit_as, entry)?;
        let row = self.amendment_row(&client, request)?;
        if row.accepted.is_some() {
            return Err(invalid("it is decided already"));
        }
        let ids = row
            .records
            .iter()
            .map(|_| RecordId::random(&self.shared.rng))
            .collect::<Result<Vec<_>>>()?;
        // Each addendum decided as its writer's addendum of that entry.
        let mut planned = Vec::with_capacity(ids.len());
        for (of, id) in row.records.iter().zip(&ids) {
            let add_as = AuditAs::new(AuditAction::RecordAddendum)
                .target(id.as_bytes())
                .client(&client);
            let Some((meta, record_facts)) = self.record_facts(of)? else {
                return Err(Error::NotFound { what: "record" });
            };
            if meta.client != client {
                return Err(invalid("an entry it names is not this client's"));
            }
            let mut add_entry = record_entry(&meta);
            add_entry.parent = *id.as_bytes();
            let category = meta.kind.category();
            let names = fields.iter().map(|(n, _)| n.clone()).collect();
            let target = Target::Entry(add_entry);
            let access = Access::Write(category);
            let g = gate.check(self.role, access, names, &record_facts, add_as, target)?;
            planned.push((of, id, add_entry, g));
        }
        let written: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
        self.amendment_write(&gate, audit_as, |tx| {
            self.check_scope_now(tx, ScopeKind::Client, client.as_bytes())?;
            self.check_parent_now(tx, FieldTable::Amendments, request.as_bytes())?;
            let at = self.shared.now_ms();
            for (of, id, add_entry, g) in &planned {
                // As its MAC vouches for it: an addendum is never linked to, nor takes its kind
                // from, an entry someone changed outside the vault.
                self.check_parent_now(tx, FieldTable::Records, of.as_bytes())?;
                let now = rows::record(tx, of)?.ok_or(Error::NotFound { what: "record" })?;
                let signs = now.kind.is_signed_documentation();
                if now.history.addendum_of.is_some() {
                    return Err(invalid("an addendum is amended through its entry"));
                }
                if signs && status_of(&now.history, signs).is_draft() {
                    return Err(invalid(
                        "an affected entry is a draft: correct it with update_record, or sign \
                         it, before the amendment is accepted",
                    ));
                }
                let amends = Some(*request.as_bytes());
                let history = History::addendum(*of.as_bytes(), self.user, at, amends);
                let new = self.new_row(**id, client, now.kind, now.case, at, history);
                rows::insert_record(tx, &new)?;
                rows::insert_addendum_link(
                    tx,
                    &rows::AddendumLink {
                        addendum: *id.as_bytes(),
                        client,
                        of_note: false,
                        of: *of.as_bytes(),
                        ordinal: 0,
                        author: self.user,
                        added_at: at,
                        amends,
                    },
                )?;
                self.seal(tx, g, add_entry, &fields)?;
                let outcome = Outcome::Allowed(g.basis());
                let action = AuditAction::RecordAddendum;
                let e = gate.entry(
                    action,
                    Some(&client),
                    Some(id.as_bytes()),
                    &written,
                    outcome,
                );
                self.audit_fields(tx, &e, FieldTable::Records, id.as_bytes(), scope)?;
            }
            if !amendment_rows::decide(tx, &client, request, true, at, &self.user)? {
                return Err(invalid("it is decided already"));
            }
            self.seal_amendment(
                tx,
                &gate,
                &granted,
                (&client, &entry),
                &notify_named,
                action,
            )
        })?;
        Ok(ids)
    }
}
