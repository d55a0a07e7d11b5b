//! Releases outside the vault.
//!
//! A release is decided by [`decide_disclosure`](crate::policy::decide_disclosure) before any
//! key is unwrapped, bounded by what its basis names: the authorization's scope, the order's
//! data elements, the minimum necessary for payment, or the protective minimum plus fields
//! named with their reasons. The request can only narrow that. Agreed restrictions bind it.
//! Only the permitted fields are decrypted; the ledger row and the audit entry that vouches for
//! it (by digest) commit in one transaction before the package is returned. A denied amendment
//! the client disagreed with travels with every release of an entry it disputes.

use std::collections::BTreeSet;

use crate::audit::{AuditAction, Cell, Outcome, format_utc, ledger_digest};
use crate::db::rows::FieldTable;
use crate::db::{ledger_rows, policy_rows};
use crate::disclosure::{DisclosureRequest, DisputeRef, Manifest, OutsideParty, ReleasePackage};
use crate::error::{DenyReason, Error, Result};
use crate::ids::{ClientId, ConsentId, OwnerId, RecordId};
use crate::model::{Category, Compartment};
use crate::policy::{
    DisclosureAsk, DisclosureFacts, LegalBasis, REDISCLOSURE_NOTICE, Recipient, ReleaseScope,
};
use crate::value::{FieldName, Value};

use super::Session;
use super::consents::{CONDITION_INDEX, RECIPIENT_INDEX, condition_key, recipient_key};
use super::facts::ConsentRow;
use super::gate::{Admitted, Entry, Target, failure_of};
use super::package::{self, Contents};
use super::restrictions;

/// Where a disclosure's ledger fields are: under the vault's own ledger key.
pub(super) fn ledger_entry(vault: &OwnerId, id: &[u8; 16]) -> Entry {
    Entry {
        table: FieldTable::Disclosures,
        owner: *vault,
        parent: *id,
        compartment: Compartment::Ledger,
        category: None,
    }
}

fn invalid(reason: &str) -> Error {
    Error::InvalidInput {
        what: "disclosure request",
        reason: reason.into(),
    }
}

/// Duty to warn and abuse reports: a person at risk, the threat, the minimum.
fn protective_basis(basis: LegalBasis) -> bool {
    matches!(
        basis,
        LegalBasis::DutyToWarn | LegalBasis::ChildAbuseReport | LegalBasis::ElderAbuseReport
    )
}

fn validate(req: &DisclosureRequest) -> Result<()> {
    if req.categories.is_empty() {
        return Err(invalid("name at least one category"));
    }
    if req.recipient.name.trim().is_empty() {
        return Err(invalid("the recipient needs a name"));
    }
    if req.basis.needs_consent() != req.consent.is_some() {
        return Err(invalid(
            "an authorization cites its consent; other bases cite none",
        ));
    }
    let on_order = matches!(req.basis, LegalBasis::CourtOrder | LegalBasis::Subpoena);
    if on_order && req.reference.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(invalid("an order or subpoena needs its reference"));
    }
    if on_order != req.order.is_some() {
        return Err(invalid(
            "an order or subpoena names what it covers, and only they do",
        ));
    }
    if let Some(order) = &req.order {
        if order.issuer.trim().is_empty() || order.names.is_empty() {
            return Err(invalid("an order names its issuer and what it covers"));
        }
        let mut named = order.names.category_set();
        if req.basis == LegalBasis::Subpoena {
            // What the law never lets a subpoena reach may be left out of its release (and
            // asking for it is refused): the rest of what it names can still go.
            named.remove(&Category::PsychotherapyNotes);
            named.remove(&Category::SubstanceUse);
        }
        let asked: BTreeSet<Category> = req.categories.iter().copied().collect();
        let narrowed = req.narrow.as_ref().map(|n| order.names.intersect(n));
        // Asking for more than the order names is the policy's refusal; asking for less is
        // an error here.
        let within = asked.is_subset(&named);
        let kept = |n: &ReleaseScope| named.iter().all(|c| n.part(*c) == order.names.part(*c));
        if within && (asked != named || narrowed.is_some_and(|n| !kept(&n))) {
            // The package holds exactly what the order names: leaving part out is not a
            // narrower release but a different one.
            return Err(invalid("the request would drop something the order names"));
        }
    }
    if protective_basis(req.basis) != req.protective.is_some() {
        return Err(invalid(
            "a duty-to-warn or abuse report names the person at risk and the threat, and only it",
        ));
    }
    if let Some(p) = &req.protective {
        if p.at_risk.name.trim().is_empty() || p.threat.trim().is_empty() {
            return Err(invalid("name the person at risk and the threat"));
        }
        if p.named.iter().any(|n| n.reason.trim().is_empty()) {
            return Err(invalid("each field beyond the minimum needs its reason"));
        }
        let named: BTreeSet<Category> = p.named.iter().map(|n| n.category).collect();
        if req
            .categories
            .iter()
            .any(|c| *c != Category::Demographics && !named.contains(c))
        {
            return Err(invalid(
                "on a protective basis, name each field beyond name and contact, with its reason",
            ));
        }
    }
    if req.categories.contains(&Category::JointRecord) != req.case.is_some() {
        return Err(invalid(
            "joint-record content names its case, and only then",
        ));
    }
    Ok(())
}

impl Session {
    /// The consent `id`, if it is `client`'s, and whether it names `recipient`.
    fn consent_of(
        &self,
        gate: &Admitted<'_>,
        client: &ClientId,
        id: &ConsentId,
        recipient: &OutsideParty,
    ) -> Result<(ConsentRow, bool)> {
        let rows = self.consents_of(&self.shared.conn(), client)?;
        let row = rows
            .into_iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| invalid("the consent is not one of this client's"))?;
        let key = recipient_key(&recipient.name, &recipient.organisation);
        let index = self.blind_index(gate, RECIPIENT_INDEX, &key)?;
        let names = row.recipient_index.as_deref() == Some(&index[..]);
        Ok((row, names))
    }

    /// Every member of the case has an authorization in force for this release of the joint
    /// record, naming this recipient and covering this case's joint content: one member's
    /// consent to their lawyer does not let the joint record go to someone only the other
    /// member named.
    fn every_member_authorized(
        &self,
        req: &DisclosureRequest,
        index: &[u8],
        now: i64,
    ) -> Result<bool> {
        let Some(case) = &req.case else {
            return Ok(true);
        };
        let conn = self.shared.conn();
        let members = policy_rows::members_of(&conn, case)?;
        if !members.contains(&req.client) {
            return Ok(false);
        }
        for member in members {
            let ok = self.consents_of(&conn, &member)?.iter().any(|c| {
                c.fact.in_force(now)
                    && c.fact.recipient == Recipient::Outside
                    && c.fact.purpose == req.purpose
                    && c.fact.covered().part(Category::JointRecord).is_some()
                    && (c.fact.scope.is_none() || c.fact.case.as_ref() == Some(case))
                    && c.recipient_index.as_deref() == Some(index)
            });
            if !ok {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Release information outside the vault. The policy decides first; the package holds only
    /// the permitted fields; the ledger row and its audit entry commit before it is returned.
    ///
    /// A release under the client's authorization: the consent names the recipient, the
    /// categories and the purpose, and the request cites it.
    ///
    /// ```
    /// use confide::{Category, ConsentRecipient, Date, DisclosureRequest, Error, KdfParams,
    ///               LegalBasis, NewClient, NewConsent, OutsideParty, Passphrase, Purpose,
    ///               RecordKind, Role, Value, Vault, VaultConfig};
    /// # fn main() -> confide::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
    /// let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
    /// let path = dir.path().join("practice.vault");
    /// let vault = Vault::create(&path, "admin", &Passphrase::new("admin passphrase"), config)?;
    /// let admin = vault.unlock("admin", &Passphrase::new("admin passphrase"))?;
    /// admin.add_user("dr.rivera", Role::Clinician, &Passphrase::new("rivera passphrase"))?;
    /// let dr = vault.unlock("dr.rivera", &Passphrase::new("rivera passphrase"))?;
    /// let t = Purpose::Treatment;
    /// let sam = NewClient { full_name: "Sam Doe".into(), date_of_birth: Date::new(1990, 4, 2)? };
    /// let client = dr.create_client(&sam, t)?;
    /// dr.create_record(&client, RecordKind::Diagnosis, &[("code", Value::code("F41.1"))], t)?;
    /// dr.create_record(&client, RecordKind::ProgressNote,
    ///                  &[("summary", Value::text("Talked about work"))], t)?;
    ///
    /// // Sam authorizes the release of their diagnosis codes, and nothing else, to a psychiatrist.
    /// let to = OutsideParty {
    ///     name: "Dr. Lee".into(),
    ///     organisation: "Riverside Psychiatry".into(),
    ///     address: "400 River Road".into(),
    /// };
    /// let now_ms = std::time::SystemTime::now()
    ///     .duration_since(std::time::UNIX_EPOCH)
    ///     .map_or(0, |d| d.as_millis() as i64);
    /// let consent = dr.record_consent(&client, &NewConsent {
    ///     recipient: ConsentRecipient::Outside {
    ///         name: to.name.clone(),
    ///         organisation: to.organisation.clone(),
    ///         address: to.address.clone(),
    ///     },
    ///     categories: vec![Category::DiagnosisCodes],
    ///     purpose: t,
    ///     start_ms: now_ms - 60_000,
    ///     expires_ms: None,
    ///     signed_on_ms: now_ms - 60_000,
    ///     description: "Diagnoses, for a medication consultation".into(),
    ///     scope: None,
    ///     case: None,
    ///     expiry_event: None,
    ///     signed_by: None,
    /// }, t)?;
    ///
    /// let request = DisclosureRequest {
    ///     client,
    ///     case: None,
    ///     recipient: to,
    ///     purpose: t,
    ///     basis: LegalBasis::Authorization,
    ///     consent: Some(consent),
    ///     reference: None,
    ///     order: None,
    ///     categories: vec![Category::DiagnosisCodes],
    ///     narrow: None,
    ///     protective: None,
    ///     description: "Diagnoses for Dr. Lee".into(),
    /// };
    /// let package = dr.disclose(&request)?;
    /// assert_eq!(package.manifest.legal_basis, "authorization");
    /// assert_eq!(package.manifest.entries, 1);
    /// assert_eq!(package.items[0].category, "diagnosis_codes");
    /// assert_eq!(package.items[0].fields["code"], "F41.1");
    /// // The progress note is not in it, not even in part.
    /// assert!(!package.to_json().contains("Talked about work"));
    /// // The manifest says which fields left, under which limit.
    /// assert_eq!(package.manifest.released[0].fields, ["code"]);
    /// assert_eq!(package.manifest.released[0].limit, "authorization-scope");
    ///
    /// // Asking for more than the consent names is refused, whole.
    /// let more = DisclosureRequest {
    ///     categories: vec![Category::DiagnosisCodes, Category::ProgressNotes],
    ///     ..request
    /// };
    /// assert!(matches!(dr.disclose(&more), Err(Error::Denied { .. })));
    /// # Ok(())
    /// # }
    /// ```
    pub fn disclose(&self, req: &DisclosureRequest) -> Result<ReleasePackage> {
        let action = AuditAction::DisclosureRelease;
        let gate = self.admit(action, req.purpose)?;
        validate(req)?;
        let client = &req.client;
        let (client_facts, audit_as) = gate.client_request(client, action)?;
        let now = client_facts.now_ms;
        // Conditions are compared by their keyed index, as consents store them.
        let index = |s: &ReleaseScope| {
            s.indexed(|code| self.blind_index(&gate, CONDITION_INDEX, &condition_key(code)))
        };
        let ask = DisclosureAsk {
            role: self.role,
            basis: req.basis,
            purpose: req.purpose,
            categories: req.categories.iter().copied().collect(),
            case: req.case,
            narrow: req.narrow.as_ref().map(index).transpose()?,
            order: req.order.as_ref().map(|o| index(&o.names)).transpose()?,
            wider: req
                .protective
                .iter()
                .flat_map(|p| p.named.iter().map(|n| (n.category, n.field.clone())))
                .collect(),
        };
        // Before the cited consent is looked up: its answer ("not one of this client's") would
        // otherwise tell someone with no relationship that the client exists.
        gate.check_releaser(&ask, client_facts.on_care_team, audit_as)?;
        if let Some(case) = &req.case {
            // The joint record of a case the client is not in is never part of their release,
            // whatever the basis: the case's facts are checked against their MAC first.
            let conn = self.shared.conn();
            let known = self.case_facts(&conn, case, None, None)?.is_some();
            let member = known && policy_rows::members_of(&conn, case)?.contains(client);
            drop(conn);
            if !member {
                return gate.refuse(audit_as, DenyReason::NoRelationship);
            }
        }
        let key = recipient_key(&req.recipient.name, &req.recipient.organisation);
        let recipient_index = self.blind_index(&gate, RECIPIENT_INDEX, &key)?;
        let cited = req
            .consent
            .map(|id| self.consent_of(&gate, client, &id, &req.recipient))
            .transpose()?;
        let consent = cited.as_ref().map(|(row, _)| row.fact.clone());
        let facts = DisclosureFacts {
            now_ms: now,
            releaser_on_care_team: client_facts.on_care_team,
            recipient_named_in_consent: cited.as_ref().is_some_and(|(_, names)| *names),
            consent: consent.clone(),
            every_member_authorized: self.every_member_authorized(req, &recipient_index, now)?,
        };
        let vault = OwnerId::from(&self.shared.vault_id);
        // The client's entries, the case's joint record, and the ledger the release is kept in.
        let mut owners = vec![client.into(), vault];
        owners.extend(req.case.as_ref().map(OwnerId::from));
        let (grant, granted) =
            gate.check_disclosure(&ask, &facts, audit_as, Target::Owners(owners))?;
        // Agreed restrictions that bind this release (164.522(a)).
        let bindings = {
            let rows = self.client_rows(&self.shared.conn(), client)?;
            restrictions::binding(
                &rows.restrictions,
                &recipient_index,
                req.purpose,
                req.basis,
                now,
            )
        };
        // Decided: now, and only now, decrypt what may leave.
        let contents = Contents {
            client,
            case: req.case.as_ref(),
            grant: &grant,
            bindings: &bindings,
        };
        let gathered = match self.gather(&gate, &granted, &contents) {
            Ok(g) => g,
            // Damaged or erased: audited. (A storage failure could not be audited either.)
            Err((field, err @ (Error::Integrity { .. } | Error::Erased))) => {
                let why = failure_of(&err);
                return gate.fail(audit_as, &[&field], why, err);
            }
            Err((_, err)) => return Err(err),
        };
        let items = gathered.items;
        // 164.526(d)(5): a denied amendment the client disagreed with goes with every release of
        // an entry it disputes, and an addendum is part of the entry it corrects.
        let carried: BTreeSet<RecordId> = items
            .iter()
            .flat_map(|i| std::iter::once(&i.id).chain(i.addendum_of.as_ref()))
            .filter_map(|id| id.parse().ok())
            .collect();
        let disputes = match self.disputes(&granted, client, &carried) {
            Ok(d) => d,
            Err((field, err @ (Error::Integrity { .. } | Error::Erased))) => {
                let why = failure_of(&err);
                return gate.fail(audit_as, &[&field], why, err);
            }
            Err((_, err)) => return Err(err),
        };
        let dispute_refs: Vec<DisputeRef> = disputes
            .iter()
            .map(|d| DisputeRef {
                request: d.request.clone(),
                records: d
                    .records
                    .iter()
                    .filter(|r| r.parse().is_ok_and(|r: RecordId| carried.contains(&r)))
                    .cloned()
                    .collect(),
            })
            .collect();
        let released_parts = package::released_parts(&grant, &items);
        let id: [u8; 16] = self.shared.random_bytes()?;
        let released: BTreeSet<&str> = items
            .iter()
            .flat_map(|i| i.fields.keys().map(String::as_str))
            .collect();
        let released: Vec<&str> = released.into_iter().collect();
        let categories: BTreeSet<&str> = items.iter().map(|i| i.category.as_str()).collect();
        let limits: Vec<String> = released_parts
            .iter()
            .map(|p| format!("{} [{}]: {}", p.category, p.limit, p.fields.join(", ")))
            .collect();
        let summary = format!(
            "{} ({} entries: {}){}{}{}",
            categories.iter().copied().collect::<Vec<_>>().join(", "),
            items.len(),
            limits.join("; "),
            if gathered.withheld.is_empty() {
                String::new()
            } else {
                format!("; {} withheld", gathered.withheld.len())
            },
            if disputes.is_empty() {
                String::new()
            } else {
                format!("; {} disputed by the client", disputes.len())
            },
            if req.description.trim().is_empty() {
                String::new()
            } else {
                format!("; {}", req.description.trim())
            }
        );
        let mut ledger_fields = vec![
            ("description", Value::text(summary)),
            (
                "recipient_address",
                Value::text(req.recipient.address.clone()),
            ),
            ("recipient_name", Value::text(req.recipient.name.clone())),
            (
                "recipient_organisation",
                Value::text(req.recipient.organisation.clone()),
            ),
            (
                "reference",
                Value::text(req.reference.clone().unwrap_or_default()),
            ),
        ];
        if let Some(order) = &req.order {
            ledger_fields.push(("order_issuer", Value::text(order.issuer.clone())));
        }
        if let Some(p) = &req.protective {
            ledger_fields.push(("at_risk_contact", Value::text(p.at_risk.contact.clone())));
            ledger_fields.push(("at_risk_name", Value::text(p.at_risk.name.clone())));
            ledger_fields.push(("threat", Value::text(p.threat.clone())));
        }
        let named: Vec<(FieldName, &Value)> = ledger_fields
            .iter()
            .map(|(n, v)| Ok((FieldName::new(n)?, v)))
            .collect::<Result<_>>()?;
        // What was released, after any narrower scope and any restriction: not merely what
        // was asked for, nor a category a restriction kept back whole.
        let category_codes: Vec<&str> = grant
            .scope
            .category_set()
            .iter()
            .map(|c| c.code())
            .filter(|c| categories.contains(c))
            .collect();
        let seq = gate.write_audited(audit_as, |tx| {
            let entry = self.entry(
                AuditAction::DisclosureRelease,
                Some(client),
                Some(&id),
                &released,
                req.purpose,
                Outcome::Released(req.basis),
            );
            self.shared.audit_vouching(tx, &entry, |seq| {
                let cells = [
                    Cell::Blob(id.to_vec()),
                    Cell::Blob(client.as_bytes().to_vec()),
                    Cell::opt_blob(req.case.as_ref().map(|c| &c.as_bytes()[..])),
                    Cell::Integer(now),
                    Cell::Text(req.purpose.code().into()),
                    Cell::Text(req.basis.code().into()),
                    Cell::Text(category_codes.join(",").into()),
                    Cell::opt_blob(req.consent.as_ref().map(|c| &c.as_bytes()[..])),
                    Cell::Integer(i64::from(grant.accountable)),
                    Cell::Blob(self.user.as_bytes().to_vec()),
                    Cell::Integer(seq),
                ];
                ledger_rows::insert(tx, &cells)?;
                self.seal(tx, &granted, &ledger_entry(&vault, &id), &named)?;
                let fields = ledger_rows::field_cells(tx, &id)?;
                Ok(Some(ledger_digest(&cells, &fields)))
            })
        })?;
        let consent_copy = match (&consent, grant.redisclosure_notice) {
            (Some(c), true) => Some(self.consent_copy(&granted, client, req.consent, c)?),
            _ => None,
        };
        Ok(ReleasePackage {
            manifest: Manifest {
                disclosure_id: hex::encode(id),
                client: client.to_string(),
                recipient: req.recipient.clone(),
                purpose: req.purpose.code().into(),
                legal_basis: req.basis.code().into(),
                reference: req.reference.clone(),
                categories: categories.iter().map(|c| c.to_string()).collect(),
                entries: items.len(),
                released_at: format_utc(now),
                released_by: self.user_name().to_owned(),
                audit_seq: seq,
                released: released_parts,
                withheld: gathered.withheld,
                authorization_scope: consent.as_ref().map(|c| c.covered().describe()),
                order: req
                    .order
                    .as_ref()
                    .map(|o| (o.issuer.clone(), format_utc(o.issued_on_ms))),
                at_risk: req.protective.as_ref().map(|p| p.at_risk.clone()),
                threat: req.protective.as_ref().map(|p| p.threat.clone()),
                named: req
                    .protective
                    .as_ref()
                    .map(|p| p.named.clone())
                    .unwrap_or_default(),
                disputes: dispute_refs,
            },
            items,
            redisclosure_notice: grant
                .redisclosure_notice
                .then(|| REDISCLOSURE_NOTICE.to_owned()),
            consent_copy,
            disputes,
        })
    }
}
