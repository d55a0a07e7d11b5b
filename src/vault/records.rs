//! Clients and the general record: register, look up, write and read entries field by field.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;

use crate::audit::{AuditAction, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::policy_rows;
use crate::db::rows::{self, FieldTable, History, RecordRow};
use crate::error::{Error, Result};
use crate::ids::{AmendmentId, CaseId, ClientId, RecordId};
use crate::model::{Compartment, Purpose, RecordKind};
use crate::policy::{Access, Basis, DenyReason, Facts, PracticeOp};
use crate::value::{Date, FieldName, Redacted, Value};

use super::Session;
use super::gate::{Admitted, Ask, AuditAs, ClientHistory, Entry, ReadItem, Stored, Target};
use super::history::{EntryStatus, status_of};

/// A client to register: the identifying fields every client has. `Debug` redacts both.
pub struct NewClient {
    /// Full legal name (stored encrypted; looked up through a blind index).
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: Date,
}

impl fmt::Debug for NewClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewClient")
            .field("full_name", &Redacted)
            .field("date_of_birth", &Redacted)
            .finish()
    }
}

/// A general-record entry, decrypted for its reader.
#[derive(Debug)]
pub struct Record {
    /// The entry.
    pub id: RecordId,
    /// Whose.
    pub client: ClientId,
    /// What kind.
    pub kind: RecordKind,
    /// Created (unix ms).
    pub created_at_ms: i64,
    /// Last written (unix ms).
    pub updated_at_ms: i64,
    /// For individual case notes: the case.
    pub case: Option<CaseId>,
    /// Why the reader was allowed (care team, consent, break-glass, ...).
    pub basis: Basis,
    /// The field values the reader may see (minimum necessary: possibly fewer than stored).
    pub fields: BTreeMap<FieldName, Value>,
    /// Draft, signed (and by whom), or signed by the upgrade that began recording it.
    pub status: EntryStatus,
    /// For an addendum: the entry it corrects (its author is `status`'s signer; its reason is
    /// its field `reason`).
    pub addendum_of: Option<RecordId>,
    /// For an addendum that carries out an accepted amendment: the request.
    pub amends: Option<AmendmentId>,
    /// The entry's addenda the reader may see, oldest first (each with the fields the reader
    /// may see of it; an addendum with none of them is left out).
    pub addenda: Vec<Record>,
}

impl Record {
    /// One field's value.
    pub fn get(&self, field: &str) -> Option<&Value> {
        self.fields
            .iter()
            .find(|(k, _)| k.as_str() == field)
            .map(|(_, v)| v)
    }
}

/// An entry's metadata, without content.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordSummary {
    /// The entry.
    pub id: RecordId,
    /// What kind.
    pub kind: RecordKind,
    /// Created (unix ms).
    pub created_at_ms: i64,
    /// Last written (unix ms).
    pub updated_at_ms: i64,
    /// For individual case notes: the case.
    pub case: Option<CaseId>,
    /// Draft, signed, or signed by the upgrade.
    pub status: EntryStatus,
}

/// Validate caller-supplied field names: well-formed, no duplicates, at least one.
pub(super) fn named_fields<'v>(fields: &'v [(&str, Value)]) -> Result<Vec<(FieldName, &'v Value)>> {
    if fields.is_empty() {
        return Err(Error::InvalidInput {
            what: "fields",
            reason: "at least one field is needed".into(),
        });
    }
    let mut seen = BTreeSet::new();
    fields
        .iter()
        .map(|(name, value)| {
            let name = FieldName::new(name)?;
            if !seen.insert(name.clone()) {
                return Err(Error::InvalidInput {
                    what: "fields",
                    reason: format!("field {name} given twice"),
                });
            }
            Ok((name, value))
        })
        .collect()
}

/// Normalised name and date of birth, the input of the client blind index: trimmed, lower-cased,
/// inner white space collapsed, so "Ada  Lovelace " finds "ada lovelace".
fn name_dob_key(full_name: &str, dob: &Date) -> Vec<u8> {
    let name = full_name
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    format!("{name}\n{dob}").into_bytes()
}

const NAME_DOB_INDEX: &str = "clients.name_dob";

impl Session {
    /// Register a client. The caller becomes their treating clinician; the name and date of
    /// birth are stored as the client's demographics entry and in a blind index for lookup.
    pub fn create_client(&self, client: &NewClient, purpose: Purpose) -> Result<ClientId> {
        let action = AuditAction::ClientCreate;
        let gate = self.admit(action, purpose)?;
        let id = ClientId::random(&self.shared.rng)?;
        let record = RecordId::random(&self.shared.rng)?;
        let entry = Entry {
            table: FieldTable::Records,
            owner: (&id).into(),
            parent: *record.as_bytes(),
            compartment: Compartment::General,
            category: Some(RecordKind::Demographics.category()),
        };
        let values = [
            ("full_name", Value::text(client.full_name.clone())),
            ("date_of_birth", Value::Date(client.date_of_birth)),
        ];
        let fields = named_fields(&values)?;
        let granted = gate.check_practice_fields(
            PracticeOp::CreateClient,
            fields.iter().map(|(n, _)| n.clone()).collect(),
            AuditAs::new(action),
            Target::Entry(entry),
        )?;
        let index = self.blind_index(
            &gate,
            NAME_DOB_INDEX,
            &name_dob_key(&client.full_name, &client.date_of_birth),
        )?;
        let audit_as = AuditAs::new(action);
        gate.write_audited(audit_as, |tx| {
            let at = self.shared.now_ms();
            rows::insert_client(tx, &id, &index, at, &self.user)?;
            rows::add_to_care_team(tx, &id, &self.user, "treating", at)?;
            rows::insert_record(
                tx,
                &self.new_row(
                    record,
                    id,
                    RecordKind::Demographics,
                    None,
                    at,
                    History::new_entry(false),
                ),
            )?;
            self.seal(tx, &granted, &entry, &fields)?;
            let e = gate.entry(
                action,
                Some(&id),
                Some(record.as_bytes()),
                &["full_name", "date_of_birth"],
                Outcome::Allowed(granted.basis()),
            );
            let scope = Some((ScopeKind::Client, &id.as_bytes()[..]));
            self.audit_fields(tx, &e, FieldTable::Records, record.as_bytes(), scope)
        })?;
        Ok(id)
    }

    pub(super) fn new_row(
        &self,
        id: RecordId,
        client: ClientId,
        kind: RecordKind,
        case: Option<CaseId>,
        at: i64,
        history: History,
    ) -> RecordRow {
        RecordRow {
            id,
            client,
            kind,
            created_at: at,
            created_by: self.user,
            updated_at: at,
            case,
            history,
            // Set with the first write entry, in the same transaction.
            auth: rows::ParentAuth::default(),
        }
    }

    /// Find clients by exact name and date of birth (normalised as in `docs/design.md`).
    ///
    /// A clinician finds only clients they treat or supervise, so the answer for a client they
    /// have no relationship with is the same as for one that does not exist. The front desk
    /// and billing find any client of the practice.
    pub fn find_client(
        &self,
        full_name: &str,
        date_of_birth: &Date,
        purpose: Purpose,
    ) -> Result<Vec<ClientId>> {
        let action = AuditAction::ClientFind;
        let gate = self.admit(action, purpose)?;
        let grant = gate.check_practice(
            PracticeOp::FindClient,
            AuditAs::new(action),
            Target::Nothing,
        )?;
        let key = name_dob_key(full_name, date_of_birth);
        let index = self.blind_index(&gate, NAME_DOB_INDEX, &key)?;
        let found = {
            let conn = self.shared.conn();
            let mut visible = Vec::new();
            for id in rows::clients_by_index(&conn, &index)? {
                let related = grant.basis() != Basis::CareTeam
                    || rows::on_care_team(&conn, &id, &self.user)?
                    || policy_rows::supervises_care_team(&conn, &self.user, &id)?;
                if related {
                    visible.push(id);
                }
            }
            visible
        };
        let single = (found.len() == 1).then(|| found[0]);
        let outcome = Outcome::Allowed(grant.basis());
        self.shared
            .audit(&gate.entry(action, single.as_ref(), None, &[], outcome))?;
        Ok(found)
    }

    /// The client's general-record entries this user may read (metadata only). Each entry is
    /// decided on its own, so one sensitive entry never hides the ordinary ones.
    pub fn list_records(&self, client: &ClientId, purpose: Purpose) -> Result<Vec<RecordSummary>> {
        let action = AuditAction::RecordList;
        let gate = self.admit(action, purpose)?;
        let audit_as = AuditAs::new(action).client(client);
        let (facts, list) = {
            let conn = self.shared.conn();
            (
                self.client_facts(&conn, client)?,
                rows::records_of(&conn, client)?,
            )
        };
        let mut visible = Vec::new();
        let mut basis = None;
        // Addenda are listed with the entry they correct, not on their own.
        for r in list.into_iter().filter(|r| r.history.addendum_of.is_none()) {
            let mut facts = facts.clone();
            if let Some(case) = &r.case {
                facts.case = self.case_facts(&self.shared.conn(), case, Some(&r.client), None)?;
            }
            if let Some(b) = gate.preview(Access::Read(r.kind.category()), &facts) {
                basis.get_or_insert(b);
                visible.push(RecordSummary {
                    id: r.id,
                    kind: r.kind,
                    created_at_ms: r.created_at,
                    updated_at_ms: r.updated_at,
                    case: r.case,
                    status: status_of(&r.history, r.kind.is_signed_documentation()),
                });
            }
        }
        let Some(basis) = basis else {
            // Nothing visible: the same refusal whether the client exists or not.
            return gate.refuse(audit_as, DenyReason::NoRelationship);
        };
        let outcome = Outcome::Allowed(basis);
        self.shared
            .audit(&gate.entry(action, Some(client), None, &[], outcome))?;
        Ok(visible)
    }

    /// Write a new general-record entry for `client`. The entry and its audit entry commit in
    /// one transaction.
    pub fn create_record(
        &self,
        client: &ClientId,
        kind: RecordKind,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<RecordId> {
        let gate = self.admit(AuditAction::RecordCreate, purpose)?;
        if kind == RecordKind::CaseNote {
            return Err(Error::InvalidInput {
                what: "record kind",
                reason: "individual case notes are written with write_case_note".into(),
            });
        }
        self.create_entry(&gate, client, kind, None, fields)
    }

    pub(super) fn create_entry(
        &self,
        gate: &Admitted<'_>,
        client: &ClientId,
        kind: RecordKind,
        case: Option<CaseId>,
        fields: &[(&str, Value)],
    ) -> Result<RecordId> {
        let named = named_fields(fields)?;
        let id = RecordId::random(&self.shared.rng)?;
        let audit_as = AuditAs::new(AuditAction::RecordCreate)
            .client(client)
            .target(id.as_bytes());
        gate.known_client(client, audit_as)?;
        let facts = {
            let conn = self.shared.conn();
            let mut facts = self.client_facts(&conn, client)?;
            if let Some(case) = &case {
                facts.case = self.case_facts(&conn, case, Some(client), None)?;
            }
            facts
        };
        let entry = Entry {
            table: FieldTable::Records,
            owner: client.into(),
            parent: *id.as_bytes(),
            compartment: kind.compartment(),
            category: Some(kind.category()),
        };
        // A clinical entry starts as a draft, and a client's drafts are facts of the client:
        // its entry vouches for them as the new draft left them (every new entry does, so the
        // log says which entries change a client's facts by their action alone).
        let signs = kind.is_signed_documentation();
        let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
        gate.write_entry_in(&entry, &facts, &named, audit_as, scope, |tx, at| {
            let row = self.new_row(id, *client, kind, case, at, History::new_entry(signs));
            rows::insert_record(tx, &row)?;
            if signs {
                rows::add_draft(tx, client, id.as_bytes())?;
            }
            Ok(())
        })?;
        Ok(id)
    }

    /// Replace or add fields of a draft entry (or an administrative one). The values replaced
    /// are kept as the entry's earlier versions ([`Session::record_versions`]). A signed
    /// entry is never overwritten: this fails with [`Error::Signed`] (audited), and the
    /// correction is an addendum ([`Session::add_addendum`]).
    pub fn update_record(
        &self,
        record: &RecordId,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<()> {
        let gate = self.admit(AuditAction::RecordUpdate, purpose)?;
        let named = named_fields(fields)?;
        let audit_as = AuditAs::new(AuditAction::RecordUpdate).target(record.as_bytes());
        let Some((meta, facts)) = self.record_facts(record)? else {
            return gate.refuse_unknown(audit_as);
        };
        let audit_as = audit_as.client(&meta.client);
        let entry = record_entry(&meta);
        gate.write_entry(&entry, &facts, &named, audit_as, |tx, at| {
            // As the transaction holds it, after the decision: a requester the policy refuses
            // does not learn whether the entry is signed.
            let now = rows::record(tx, record)?.ok_or(Error::NotFound { what: "record" })?;
            let status = status_of(&now.history, now.kind.is_signed_documentation());
            let next = "Session::add_addendum";
            self.supersede(
                tx,
                FieldTable::Records,
                record.as_bytes(),
                status,
                &named,
                next,
            )?;
            rows::touch_record(tx, record, at)
        })?;
        Ok(())
    }

    /// Read one general-record entry: the fields this user may see. Its audit entry is
    /// committed before the plaintext is returned; an envelope that fails to authenticate is
    /// audited and reported by place.
    ///
    /// ```
    /// use confide::{Date, Error, KdfParams, NewClient, Passphrase, Purpose, RecordKind, Role,
    ///               Value, Vault, VaultConfig};
    /// # fn main() -> confide::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
    /// let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
    /// let path = dir.path().join("practice.vault");
    /// let vault = Vault::create(&path, "admin", &Passphrase::new("admin passphrase"), config)?;
    /// let admin = vault.unlock("admin", &Passphrase::new("admin passphrase"))?;
    /// admin.add_user("dr.rivera", Role::Clinician, &Passphrase::new("rivera passphrase"))?;
    /// admin.add_user("dr.chen", Role::Clinician, &Passphrase::new("chen passphrase!"))?;
    /// let rivera = vault.unlock("dr.rivera", &Passphrase::new("rivera passphrase"))?;
    /// let chen = vault.unlock("dr.chen", &Passphrase::new("chen passphrase!"))?;
    /// let t = Purpose::Treatment;
    /// let sam = NewClient { full_name: "Sam Doe".into(), date_of_birth: Date::new(1990, 4, 2)? };
    /// let client = rivera.create_client(&sam, t)?;
    /// let dx = rivera.create_record(&client, RecordKind::Diagnosis,
    ///                               &[("code", Value::code("F41.1"))], t)?;
    ///
    /// // The treating clinician reads it, on the ground of treating Sam.
    /// let record = rivera.read_record(&dx, t)?;
    /// assert_eq!((record.client, record.kind), (client, RecordKind::Diagnosis));
    /// assert_eq!(record.basis, confide::Basis::CareTeam);
    /// assert_eq!(record.get("code"), Some(&Value::code("F41.1")));
    ///
    /// // Another clinician of the practice, who does not treat Sam, is refused.
    /// let refused = chen.read_record(&dx, t);
    /// assert!(matches!(refused,
    ///                  Err(Error::Denied { reason: confide::DenyReason::NoRelationship })));
    ///
    /// // Both reads were audited, the refusal too.
    /// let reads = confide::AuditFilter {
    ///     action: Some(confide::AuditAction::RecordRead),
    ///     ..confide::AuditFilter::default()
    /// };
    /// let outcomes: Vec<String> = confide::read_audit_log(&path, &reads)?
    ///     .entries.into_iter().map(|e| e.outcome).collect();
    /// assert_eq!(outcomes, ["granted:care-team", "denied:no-relationship"]);
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_record(&self, record: &RecordId, purpose: Purpose) -> Result<Record> {
        // A batch of one: decided, read and audited in one transaction.
        self.read_records(std::slice::from_ref(record), purpose)?
            .pop()
            // INVARIANT: read_records gives exactly one result per id asked for.
            .ok_or(Error::NotFound { what: "record" })?
    }

    /// Read many general-record entries in one call (a chart, a report). Each is decided on
    /// its own, exactly as [`Session::read_record`] would, and gets its own audit entry; the
    /// entries are committed together, in one transaction, before anything is returned. A
    /// refusal or an integrity failure of one entry is its own `Err` and hides nothing else.
    ///
    /// ```
    /// use confide::{Date, Error, KdfParams, NewClient, Passphrase, Purpose, RecordKind, Role,
    ///               Value, Vault, VaultConfig};
    /// # fn main() -> confide::Result<()> {
    /// let dir = tempfile::tempdir()?;
    /// // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
    /// let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
    /// let path = dir.path().join("practice.vault");
    /// let vault = Vault::create(&path, "admin", &Passphrase::new("admin passphrase"), config)?;
    /// let admin = vault.unlock("admin", &Passphrase::new("admin passphrase"))?;
    /// admin.add_user("dr.rivera", Role::Clinician, &Passphrase::new("rivera passphrase"))?;
    /// admin.add_user("dr.chen", Role::Clinician, &Passphrase::new("chen passphrase!"))?;
    /// let rivera = vault.unlock("dr.rivera", &Passphrase::new("rivera passphrase"))?;
    /// let chen = vault.unlock("dr.chen", &Passphrase::new("chen passphrase!"))?;
    /// let t = Purpose::Treatment;
    /// let sam = NewClient { full_name: "Sam Doe".into(), date_of_birth: Date::new(1990, 4, 2)? };
    /// let sam = rivera.create_client(&sam, t)?;
    /// let dx = rivera.create_record(&sam, RecordKind::Diagnosis,
    ///                               &[("code", Value::code("F41.1"))], t)?;
    /// let plan = rivera.create_record(&sam, RecordKind::TreatmentPlan,
    ///                                 &[("goals", Value::text("CBT, 12 sessions"))], t)?;
    /// // A client of dr.chen's, whom dr.rivera does not treat.
    /// let ada = NewClient { full_name: "Ada Roe".into(), date_of_birth: Date::new(1985, 1, 9)? };
    /// let ada = chen.create_client(&ada, t)?;
    /// let ada_dx = chen.create_record(&ada, RecordKind::Diagnosis,
    ///                                 &[("code", Value::code("F32.1"))], t)?;
    ///
    /// // One result per id, in order: the refusal of Ada's entry hides nothing of Sam's.
    /// let chart = rivera.read_records(&[dx, plan, ada_dx], t)?;
    /// assert_eq!(chart.len(), 3);
    /// assert_eq!(chart[0].as_ref().map(|r| r.id).ok(), Some(dx));
    /// assert_eq!(chart[1].as_ref().ok().and_then(|r| r.get("goals")),
    ///            Some(&Value::text("CBT, 12 sessions")));
    /// assert!(matches!(chart[2], Err(Error::Denied { .. })));
    ///
    /// // And one audit entry per id.
    /// let reads = confide::AuditFilter {
    ///     action: Some(confide::AuditAction::RecordRead),
    ///     ..confide::AuditFilter::default()
    /// };
    /// assert_eq!(confide::read_audit_log(&path, &reads)?.entries.len(), 3);
    /// # Ok(())
    /// # }
    /// ```
    pub fn read_records(
        &self,
        records: &[RecordId],
        purpose: Purpose,
    ) -> Result<Vec<Result<Record>>> {
        let gate = self.admit(AuditAction::RecordRead, purpose)?;
        // One immediate transaction for the whole call: every record is decided and read from
        // one snapshot, no other writer can slip in between the decision and the audit entry,
        // and SQLite takes and releases its locks once instead of once per statement.
        self.shared.write(|tx| {
            let mut metas = Vec::with_capacity(records.len());
            let mut facts_for = Vec::with_capacity(records.len());
            let mut facts_of: HashMap<ClientId, (Facts, ClientHistory)> = HashMap::new();
            // Each entry's addenda (by the index of the entry), and links whose addendum is gone.
            let mut addenda: Vec<(usize, RecordRow)> = Vec::new();
            let mut lost: Vec<(usize, [u8; 16])> = Vec::new();
            for (i, id) in records.iter().enumerate() {
                let Some(meta) = rows::record(tx, id)? else {
                    metas.push(None);
                    facts_for.push(None);
                    continue;
                };
                let (facts, history) = match facts_of.entry(meta.client) {
                    std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                    std::collections::hash_map::Entry::Vacant(v) => {
                        v.insert(self.client_facts_and_history(tx, &meta.client)?)
                    }
                };
                self.check_draft(&meta.client, id.as_bytes(), &meta.history, history)?;
                let links = &history.addenda;
                let mut facts = facts.clone();
                if let Some(case) = &meta.case {
                    facts.case = self.case_facts(tx, case, Some(&meta.client), None)?;
                }
                // The links are facts of the client, checked with them in this snapshot.
                let of_this = links
                    .iter()
                    .filter(|l| l.of == *id.as_bytes() && !l.of_note);
                for link in of_this {
                    match rows::record(tx, &RecordId::from_bytes(link.addendum))? {
                        // Its own MAC, over its `addendum_of`, is checked as it is opened.
                        Some(a) if a.client == meta.client => addenda.push((i, a)),
                        _ => lost.push((i, link.addendum)),
                    }
                }
                metas.push(Some(meta));
                facts_for.push(Some(facts));
            }
            let mut asks = Vec::with_capacity(records.len());
            for ((id, meta), facts) in records.iter().zip(&metas).zip(&facts_for) {
                let read_as = AuditAs::new(AuditAction::RecordRead).target(id.as_bytes());
                let (Some(meta), Some(facts)) = (meta, facts) else {
                    asks.push(Ask::Unknown(read_as));
                    continue;
                };
                asks.push(Ask::Read(ReadItem {
                    role: self.role,
                    stored: Stored::load(tx, record_entry(meta), Some(&meta.auth))?,
                    facts: facts.clone(),
                    audit_as: read_as.client(&meta.client),
                }));
            }
            let read = gate.read_in(tx, asks)?;
            // The addenda are opened only with their entry: an entry refused or failed is not
            // read on through its corrections.
            addenda.retain(|(i, _)| read[*i].is_ok() && facts_for[*i].is_some());
            let mut asks = Vec::with_capacity(addenda.len());
            for (i, a) in &addenda {
                let Some(facts) = facts_for[*i].clone() else {
                    continue;
                };
                asks.push(Ask::Read(ReadItem {
                    role: self.role,
                    stored: Stored::load(tx, record_entry(a), Some(&a.auth))?,
                    facts,
                    audit_as: AuditAs::new(AuditAction::RecordRead)
                        .target(a.id.as_bytes())
                        .client(&a.client),
                }));
            }
            let of_addenda = if asks.is_empty() {
                Vec::new()
            } else {
                gate.read_in(tx, asks)?
            };
            let mut out: Vec<Result<Record>> = read
                .into_iter()
                .zip(metas)
                .map(|(result, meta)| {
                    let (basis, fields) = result?;
                    // INVARIANT: only an entry that exists (a meta) can be read.
                    let meta = meta.ok_or(Error::NotFound { what: "record" })?;
                    Ok(record_from(meta, basis, fields))
                })
                .collect();
            for ((i, a), result) in addenda.into_iter().zip(of_addenda) {
                match (result, &mut out[i]) {
                    (Ok((basis, fields)), Ok(record)) if !fields.is_empty() => {
                        record.addenda.push(record_from(a, basis, fields));
                    }
                    // Minimum necessary: an addendum the reader may see nothing of is left out.
                    (Ok(_) | Err(Error::Denied { .. }), _) => {}
                    // A damaged addendum fails its entry: it is never shown uncorrected.
                    (Err(e), slot @ Ok(_)) => *slot = Err(e),
                    (Err(_), Err(_)) => {}
                }
            }
            for (i, addendum) in lost {
                let place = crate::error::Place {
                    table: "addenda",
                    owner: "-".into(),
                    record: hex::encode(addendum),
                    field: "(the addendum)".into(),
                };
                let failed = Outcome::Failed(crate::audit::Failure::Integrity);
                let client = out[i].as_ref().ok().map(|r| r.client);
                let e = gate.entry(
                    AuditAction::RecordRead,
                    client.as_ref(),
                    Some(&addendum),
                    &[],
                    failed,
                );
                self.shared.audit_in(tx, &e)?;
                out[i] = Err(Error::Integrity { place });
            }
            Ok(out)
        })
    }

    /// A record's metadata and the facts about it, or `None` if there is no such record.
    pub(super) fn record_facts(&self, record: &RecordId) -> Result<Option<(RecordRow, Facts)>> {
        let conn = self.shared.conn();
        let Some(meta) = rows::record(&conn, record)? else {
            return Ok(None);
        };
        let (mut facts, history) = self.client_facts_and_history(&conn, &meta.client)?;
        self.check_draft(&meta.client, record.as_bytes(), &meta.history, &history)?;
        if let Some(case) = &meta.case {
            facts.case = self.case_facts(&conn, case, Some(&meta.client), None)?;
        }
        Ok(Some((meta, facts)))
    }
}

/// Where a general-record entry's envelopes are.
pub(super) fn record_entry(meta: &RecordRow) -> Entry {
    Entry {
        table: FieldTable::Records,
        owner: (&meta.client).into(),
        parent: *meta.id.as_bytes(),
        compartment: meta.kind.compartment(),
        category: Some(meta.kind.category()),
    }
}

pub(super) fn record_from(
    meta: RecordRow,
    basis: Basis,
    fields: BTreeMap<FieldName, Value>,
) -> Record {
    Record {
        id: meta.id,
        client: meta.client,
        kind: meta.kind,
        created_at_ms: meta.created_at,
        updated_at_ms: meta.updated_at,
        case: meta.case,
        basis,
        fields,
        status: status_of(&meta.history, meta.kind.is_signed_documentation()),
        addendum_of: meta.history.addendum_of.map(RecordId::from_bytes),
        amends: meta.history.amends.map(AmendmentId::from_bytes),
        addenda: Vec::new(),
    }
}
