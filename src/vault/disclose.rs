//! Releases outside the vault and the accounting of disclosures.
//!
//! A release is decided by [`decide_disclosure`] before any key is unwrapped; only the permitted
//! fields are decrypted; the ledger row and the audit entry that vouches for it (by digest)
//! commit in one transaction before the package is returned.

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::{AuditAction, Cell, Outcome, format_utc, ledger_digest};
use crate::db::rows::{self, FieldTable};
use crate::db::{ledger_rows, policy_rows};
use crate::disclosure::{
    AccountingEntry, ConsentCopy, DisclosureRequest, Manifest, Narrow, OutsideParty, PackageItem,
    ReleasePackage,
};
use crate::error::{Error, Result};
use crate::ids::{ClientId, ConsentId, OwnerId};
use crate::model::{Category, Compartment, Purpose, RecordKind};
use crate::policy::{
    Access, ConsentFact, DisclosureAsk, DisclosureFacts, LegalBasis, REDISCLOSURE_NOTICE,
    Recipient, Scope,
};
use crate::value::{FieldName, Value};

use super::Session;
use super::cases::joint_entry;
use super::gate::{Admitted, Entry, Granted, Stored, Target, failure_of};
use super::notes::note_entry;
use super::records::record_entry;

/// Where a disclosure's ledger fields are: under the vault's own ledger key.
fn ledger_entry(vault: &OwnerId, id: &[u8; 16]) -> Entry {
    Entry {
        table: FieldTable::Disclosures,
        owner: *vault,
        parent: *id,
        compartment: Compartment::Ledger,
        category: None,
    }
}

/// Six years: how far back the accounting of disclosures reaches (45 CFR 164.528(a)(1)).
pub(super) const SIX_YEARS_MS: i64 = 6 * 365 * 24 * 3600 * 1000 + 2 * 24 * 3600 * 1000;

fn invalid(reason: &str) -> Error {
    Error::InvalidInput {
        what: "disclosure request",
        reason: reason.into(),
    }
}

/// The fields a narrower scope keeps of a category, or `None` to drop the category.
fn narrow_scope(narrow: Option<&Narrow>, category: Category) -> Option<Scope> {
    match (narrow, category) {
        (None, _) => Some(Scope::All),
        (Some(Narrow::AttendanceOnly), Category::Appointments) => {
            Some(Scope::Only(&["date", "status"]))
        }
        (Some(Narrow::DatesOfServiceAndFees), Category::Appointments) => {
            Some(Scope::Only(&["date", "service_code"]))
        }
        (Some(Narrow::DatesOfServiceAndFees), Category::Billing) => {
            Some(Scope::Only(&["date", "service_code", "fee"]))
        }
        (Some(Narrow::Condition(_)), Category::DiagnosisCodes) => Some(Scope::All),
        _ => None,
    }
}

/// A diagnosis entry about the named condition.
fn about_condition(fields: &BTreeMap<FieldName, Value>, code: &str) -> bool {
    fields.values().any(|v| match v {
        Value::Code(c) => c == code,
        Value::Codes(cs) => cs.iter().any(|c| c == code),
        _ => false,
    })
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
    let needs_reference = matches!(req.basis, LegalBasis::CourtOrder | LegalBasis::Subpoena);
    if needs_reference && req.reference.as_deref().is_none_or(|r| r.trim().is_empty()) {
        return Err(invalid("an order or subpoena needs its reference"));
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
    ) -> Result<(ConsentFact, bool)> {
        let rows = self.consents_of(&self.shared.conn(), client)?;
        let row = rows
            .into_iter()
            .find(|c| c.id == *id)
            .ok_or_else(|| invalid("the consent is not one of this client's"))?;
        let key = super::consents::recipient_key(&recipient.name, &recipient.organisation);
        let index = self.blind_index(gate, super::consents::RECIPIENT_INDEX, &key)?;
        let names = row.recipient_index.as_deref() == Some(&index[..]);
        Ok((row.fact, names))
    }

    /// Every member of the case has an authorization in force for this release of the joint
    /// record, naming this recipient: one member's consent to a lawyer does not let the joint
    /// record go to someone only the other member named.
    fn every_member_authorized(
        &self,
        gate: &Admitted<'_>,
        req: &DisclosureRequest,
        now: i64,
    ) -> Result<bool> {
        let Some(case) = &req.case else {
            return Ok(true);
        };
        let key = super::consents::recipient_key(&req.recipient.name, &req.recipient.organisation);
        let index = self.blind_index(gate, super::consents::RECIPIENT_INDEX, &key)?;
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
                    && c.fact.categories.contains(&Category::JointRecord)
                    && c.recipient_index.as_deref() == Some(&index[..])
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
    ///     order_names: Vec::new(),
    ///     categories: vec![Category::DiagnosisCodes],
    ///     narrow: None,
    ///     description: "Diagnoses for Dr. Lee".into(),
    /// };
    /// let package = dr.disclose(&request)?;
    /// assert_eq!(package.manifest.legal_basis, "authorization");
    /// assert_eq!(package.manifest.entries, 1);
    /// assert_eq!(package.items[0].category, "diagnosis_codes");
    /// assert_eq!(package.items[0].fields["code"], "F41.1");
    /// // The progress note is not in it, not even in part.
    /// assert!(!package.to_json().contains("Talked about work"));
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
        let on_care_team = client_facts.on_care_team;
        let ask = DisclosureAsk {
            role: self.role,
            basis: req.basis,
            purpose: req.purpose,
            categories: req.categories.iter().copied().collect(),
            order_names: req.order_names.iter().copied().collect(),
        };
        // Before the cited consent is looked up: its answer ("not one of this client's") would
        // otherwise tell someone with no relationship that the client exists.
        gate.check_releaser(&ask, on_care_team, audit_as)?;
        let cited = req
            .consent
            .map(|id| self.consent_of(&gate, client, &id, &req.recipient))
            .transpose()?;
        let consent = cited.as_ref().map(|(fact, _)| fact.clone());
        let facts = DisclosureFacts {
            now_ms: now,
            releaser_on_care_team: on_care_team,
            recipient_named_in_consent: cited.as_ref().is_some_and(|(_, names)| *names),
            consent: consent.clone(),
            every_member_authorized: self.every_member_authorized(&gate, req, now)?,
        };
        let vault = OwnerId::from(&self.shared.vault_id);
        // The client's entries, the case's joint record, and the ledger the release is kept in.
        let mut owners = vec![client.into(), vault];
        owners.extend(req.case.as_ref().map(OwnerId::from));
        let (grant, granted) =
            gate.check_disclosure(&ask, &facts, audit_as, Target::Owners(owners))?;
        // Decided: now, and only now, decrypt what may leave.
        let mut scopes = BTreeMap::new();
        for (c, s) in &grant.scopes {
            if let Some(n) = narrow_scope(req.narrow.as_ref(), *c) {
                scopes.insert(*c, (*s, n));
            }
        }
        let items = match self.gather(&granted, req, &scopes) {
            Ok(items) => items,
            // Damaged or erased: audited. (A storage failure could not be audited either.)
            Err((field, err @ (Error::Integrity { .. } | Error::Erased))) => {
                let why = failure_of(&err);
                return gate.fail(audit_as, &[&field], why, err);
            }
            Err((_, err)) => return Err(err),
        };
        let id: [u8; 16] = self.shared.random_bytes()?;
        let released: BTreeSet<&str> = items
            .iter()
            .flat_map(|i| i.fields.keys().map(String::as_str))
            .collect();
        let released: Vec<&str> = released.into_iter().collect();
        let categories: BTreeSet<&str> = items.iter().map(|i| i.category.as_str()).collect();
        let summary = format!(
            "{} ({} entries: {}){}",
            categories.iter().copied().collect::<Vec<_>>().join(", "),
            items.len(),
            released.join(", "),
            if req.description.trim().is_empty() {
                String::new()
            } else {
                format!("; {}", req.description.trim())
            }
        );
        let ledger_fields = [
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
        let named: Vec<(FieldName, &Value)> = ledger_fields
            .iter()
            .map(|(n, v)| Ok((FieldName::new(n)?, v)))
            .collect::<Result<_>>()?;
        // What was released, after any narrower scope: not merely what was asked for.
        let category_codes: Vec<&str> = scopes.keys().map(|c| c.code()).collect();
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
            },
            items,
            redisclosure_notice: grant
                .redisclosure_notice
                .then(|| REDISCLOSURE_NOTICE.to_owned()),
            consent_copy,
        })
    }

    /// Decrypt the permitted entries. On an integrity failure, the field that failed.
    fn gather(
        &self,
        granted: &Granted,
        req: &DisclosureRequest,
        scopes: &BTreeMap<Category, (Scope, Scope)>,
    ) -> Result<Vec<PackageItem>, (String, Error)> {
        let plain = |e: Error| (String::new(), e);
        let conn = self.shared.conn();
        let mut items = Vec::new();
        let keep = |category: Category| {
            move |field: &str| {
                scopes
                    .get(&category)
                    .is_some_and(|(legal, narrow)| legal.includes(field) && narrow.includes(field))
            }
        };
        let mut push = |id: String,
                        category: Category,
                        kind: &str,
                        at: i64,
                        fields: BTreeMap<FieldName, Value>| {
            items.push(PackageItem {
                id,
                category: category.code().into(),
                kind: kind.into(),
                written: format_utc(at),
                fields: fields
                    .iter()
                    .map(|(k, v)| (k.as_str().to_owned(), v.reveal_plain()))
                    .collect(),
            });
        };
        let open = |entry: Entry, category: Category| {
            let stored = Stored::load(&conn, entry, None).map_err(plain)?;
            self.open(&conn, granted, stored, keep(category))
        };
        for meta in rows::records_of(&conn, &req.client).map_err(plain)? {
            let category = meta.kind.category();
            if !scopes.contains_key(&category) {
                continue;
            }
            let fields = open(record_entry(&meta), category)?;
            if let Some(Narrow::Condition(code)) = &req.narrow {
                if meta.kind != RecordKind::Diagnosis || !about_condition(&fields, code) {
                    continue;
                }
            }
            push(
                meta.id.to_string(),
                category,
                meta.kind.code(),
                meta.updated_at,
                fields,
            );
        }
        if scopes.contains_key(&Category::PsychotherapyNotes) {
            for note in rows::notes_of(&conn, &req.client).map_err(plain)? {
                let cat = Category::PsychotherapyNotes;
                let fields = open(note_entry(&req.client, &note.id), cat)?;
                push(
                    note.id.to_string(),
                    cat,
                    "psychotherapy_note",
                    note.created_at,
                    fields,
                );
            }
        }
        if let (Some(case), true) = (&req.case, scopes.contains_key(&Category::JointRecord)) {
            for row in policy_rows::joint_records_of(&conn, case).map_err(plain)? {
                let fields = open(joint_entry(case, &row.id), Category::JointRecord)?;
                push(
                    row.id.to_string(),
                    Category::JointRecord,
                    "joint_record",
                    row.created_at,
                    fields,
                );
            }
        }
        Ok(items)
    }

    /// A copy of the consent a Part 2 release relies on, with its sealed description.
    fn consent_copy(
        &self,
        granted: &Granted,
        client: &ClientId,
        id: Option<ConsentId>,
        fact: &ConsentFact,
    ) -> Result<ConsentCopy> {
        let id = id.ok_or(Error::NotFound { what: "consent" })?;
        let conn = self.shared.conn();
        let signed_on = self
            .consents_of(&conn, client)?
            .into_iter()
            .find(|c| c.id == id)
            .map_or(0, |c| c.signed_on);
        let entry = Entry {
            table: FieldTable::Consents,
            owner: client.into(),
            parent: *id.as_bytes(),
            compartment: Compartment::General,
            category: None,
        };
        let stored = Stored::load(&conn, entry, None)?;
        let fields = self
            .open(&conn, granted, stored, |f| f == "description")
            .map_err(|(_, e)| e)?;
        Ok(ConsentCopy {
            id: id.to_string(),
            categories: fact
                .categories
                .iter()
                .map(|c| c.code().to_owned())
                .collect(),
            purpose: fact.purpose.code().into(),
            signed_on: format_utc(signed_on),
            expires: fact.expires_ms.map(format_utc),
            description: fields
                .values()
                .map(Value::reveal_plain)
                .collect::<Vec<_>>()
                .join(""),
        })
    }

    /// The client's accounting of disclosures (45 CFR 164.528): every release the rule requires
    /// to be listed (duty to warn, abuse reports, court orders, subpoenas, emergencies), over the
    /// last six years or since `since_ms`. Releases for treatment, payment, operations, to the
    /// client or under their authorization are excluded, as the rule allows. For the client's
    /// treating clinician, at the client's request.
    pub fn accounting(
        &self,
        client: &ClientId,
        since_ms: Option<i64>,
    ) -> Result<Vec<AccountingEntry>> {
        let purpose = Purpose::PatientRequest;
        let gate = self.admit(AuditAction::AccountingRead, purpose)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::AccountingRead)?;
        let vault = OwnerId::from(&self.shared.vault_id);
        let ledger = Target::Owners(vec![vault]);
        let grant = gate.check(self.role, Access::Release, vec![], &facts, audit_as, ledger)?;
        let since = since_ms.unwrap_or(self.shared.now_ms() - SIX_YEARS_MS);
        let mut out = Vec::new();
        {
            let conn = self.shared.conn();
            for row in ledger_rows::ledger_of(&conn, client, since)? {
                if !row.accountable {
                    continue;
                }
                let stored = Stored::load(&conn, ledger_entry(&vault, &row.id), None)?;
                let fields = match self.open(&conn, &grant, stored, |_| true) {
                    Ok(f) => f,
                    Err((field, err)) => {
                        drop(conn);
                        let fail = crate::audit::Failure::Integrity;
                        return gate.fail(audit_as, &[&field], fail, err);
                    }
                };
                let get = |name: &str| {
                    fields
                        .iter()
                        .find(|(k, _)| k.as_str() == name)
                        .map(|(_, v)| v.reveal_plain())
                        .unwrap_or_default()
                };
                out.push(AccountingEntry {
                    disclosed_at_ms: row.disclosed_at,
                    disclosed_at: format_utc(row.disclosed_at),
                    recipient: OutsideParty {
                        name: get("recipient_name"),
                        organisation: get("recipient_organisation"),
                        address: get("recipient_address"),
                    },
                    description: get("description"),
                    purpose: row.purpose.code().into(),
                    legal_basis: row.basis.code().into(),
                    audit_seq: u64::try_from(row.audit_seq).unwrap_or(0),
                });
            }
        }
        let e = self.entry(
            AuditAction::AccountingRead,
            Some(client),
            None,
            &[
                "recipient_name",
                "recipient_organisation",
                "recipient_address",
                "description",
            ],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.shared.audit(&e)?;
        Ok(out)
    }
}
