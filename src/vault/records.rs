//! Clients and the general record: register, look up, write and read entries field by field.

use std::collections::{BTreeMap, BTreeSet};

use crate::audit::{AuditAction, Failure, Outcome};
use crate::db::rows::{self, FieldTable, RecordRow};
use crate::error::{Error, Result};
use crate::ids::{ClientId, RecordId};
use crate::model::{Compartment, Purpose, RecordKind};
use crate::policy::{Access, Facts};
use crate::value::{Date, FieldName, Value};

use super::Session;
use super::now_ms;

/// A client to register: the identifying fields every client has.
#[derive(Debug)]
pub struct NewClient {
    /// Full legal name (stored encrypted; looked up through a blind index).
    pub full_name: String,
    /// Date of birth.
    pub date_of_birth: Date,
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
    /// The field values.
    pub fields: BTreeMap<FieldName, Value>,
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
        if client.full_name.trim().is_empty() {
            return Err(Error::InvalidInput {
                what: "client name",
                reason: "empty".into(),
            });
        }
        let audit_as = (AuditAction::ClientCreate, None, None);
        self.check(Access::CreateClient, purpose, Facts::default(), audit_as)?;
        let id = ClientId::random(&self.shared.rng)?;
        let record = RecordId::random(&self.shared.rng)?;
        let index = self.blind.index(
            NAME_DOB_INDEX,
            &name_dob_key(&client.full_name, &client.date_of_birth),
        );
        let values = [
            ("full_name", Value::text(client.full_name.clone())),
            ("date_of_birth", Value::Date(client.date_of_birth)),
        ];
        let fields = named_fields(&values)?;
        self.shared.write(|tx| {
            let at = now_ms();
            rows::insert_client(tx, &id, &index, at, &self.user)?;
            rows::add_to_care_team(tx, &id, &self.user, "treating", at)?;
            rows::insert_record(
                tx,
                &RecordRow {
                    id: record,
                    client: id,
                    kind: RecordKind::Demographics,
                    created_at: at,
                    created_by: self.user,
                    updated_at: at,
                },
            )?;
            self.seal_fields(
                tx,
                FieldTable::Records,
                &id,
                record.as_bytes(),
                Compartment::General,
                &fields,
            )?;
            self.shared.audit_in(
                tx,
                &self.entry(
                    AuditAction::ClientCreate,
                    Some(&id),
                    Some(record.as_bytes()),
                    &["full_name", "date_of_birth"],
                    purpose,
                    Outcome::Granted,
                ),
            )
        })?;
        Ok(id)
    }

    /// Find clients by exact name and date of birth (normalised as in `docs/design.md`).
    ///
    /// Only clients the caller treats are returned, so the answer for a client the caller has no
    /// relationship with is the same as for one that does not exist.
    pub fn find_client(
        &self,
        full_name: &str,
        date_of_birth: &Date,
        purpose: Purpose,
    ) -> Result<Vec<ClientId>> {
        let audit_as = (AuditAction::ClientFind, None, None);
        self.check(Access::FindClient, purpose, Facts::default(), audit_as)?;
        let index = self
            .blind
            .index(NAME_DOB_INDEX, &name_dob_key(full_name, date_of_birth));
        let found = {
            let conn = self.shared.conn();
            let mut mine = Vec::new();
            for id in rows::clients_by_index(&conn, &index)? {
                if rows::on_care_team(&conn, &id, &self.user)? {
                    mine.push(id);
                }
            }
            mine
        };
        let single = (found.len() == 1).then(|| found[0]);
        self.shared.audit(&self.entry(
            AuditAction::ClientFind,
            single.as_ref(),
            None,
            &[],
            purpose,
            Outcome::Granted,
        ))?;
        Ok(found)
    }

    /// The client's general-record entries (metadata only).
    pub fn list_records(&self, client: &ClientId, purpose: Purpose) -> Result<Vec<RecordSummary>> {
        let facts = self.facts(&self.shared.conn(), client)?;
        let audit_as = (AuditAction::RecordList, Some(client), None);
        self.check(Access::ListRecords, purpose, facts, audit_as)?;
        let list = rows::records_of(&self.shared.conn(), client)?;
        self.shared.audit(&self.entry(
            AuditAction::RecordList,
            Some(client),
            None,
            &[],
            purpose,
            Outcome::Granted,
        ))?;
        Ok(list
            .into_iter()
            .map(|r| RecordSummary {
                id: r.id,
                kind: r.kind,
                created_at_ms: r.created_at,
                updated_at_ms: r.updated_at,
            })
            .collect())
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
        let named = named_fields(fields)?;
        let facts = self.facts(&self.shared.conn(), client)?;
        let audit_as = (AuditAction::RecordCreate, Some(client), None);
        self.check(Access::WriteRecord(kind), purpose, facts, audit_as)?;
        let id = RecordId::random(&self.shared.rng)?;
        let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        self.shared.write(|tx| {
            let at = now_ms();
            rows::insert_record(
                tx,
                &RecordRow {
                    id,
                    client: *client,
                    kind,
                    created_at: at,
                    created_by: self.user,
                    updated_at: at,
                },
            )?;
            let table = FieldTable::Records;
            self.seal_fields(
                tx,
                table,
                client,
                id.as_bytes(),
                Compartment::General,
                &named,
            )?;
            self.shared.audit_in(
                tx,
                &self.entry(
                    AuditAction::RecordCreate,
                    Some(client),
                    Some(id.as_bytes()),
                    &names,
                    purpose,
                    Outcome::Granted,
                ),
            )
        })?;
        Ok(id)
    }

    /// Replace or add fields of an existing entry.
    pub fn update_record(
        &self,
        record: &RecordId,
        fields: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<()> {
        let named = named_fields(fields)?;
        let names: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        let meta = self.record_meta(record, AuditAction::RecordUpdate, purpose)?;
        let client = meta.client;
        let facts = self.facts(&self.shared.conn(), &client)?;
        let audit_as = (
            AuditAction::RecordUpdate,
            Some(&client),
            Some(record.as_bytes()),
        );
        self.check(Access::WriteRecord(meta.kind), purpose, facts, audit_as)?;
        self.shared.write(|tx| {
            let table = FieldTable::Records;
            let compartment = Compartment::General;
            self.seal_fields(tx, table, &client, record.as_bytes(), compartment, &named)?;
            rows::touch_record(tx, record, now_ms())?;
            self.shared.audit_in(
                tx,
                &self.entry(
                    AuditAction::RecordUpdate,
                    Some(&client),
                    Some(record.as_bytes()),
                    &names,
                    purpose,
                    Outcome::Granted,
                ),
            )
        })?;
        Ok(())
    }

    /// Read one general-record entry. Its audit entry is committed before the plaintext is
    /// returned; an envelope that fails to authenticate is audited and reported by place.
    pub fn read_record(&self, record: &RecordId, purpose: Purpose) -> Result<Record> {
        let meta = self.record_meta(record, AuditAction::RecordRead, purpose)?;
        let client = meta.client;
        let target = Some(record.as_bytes());
        let stored = {
            let conn = self.shared.conn();
            let facts = self.facts(&conn, &client)?;
            drop(conn);
            let audit_as = (AuditAction::RecordRead, Some(&client), target);
            self.check(Access::ReadRecord(meta.kind), purpose, facts, audit_as)?;
            rows::fields(&self.shared.conn(), FieldTable::Records, record.as_bytes())?
        };
        let opened = {
            let conn = self.shared.conn();
            let table = FieldTable::Records;
            self.open_fields(
                &conn,
                table,
                &client,
                record.as_bytes(),
                Compartment::General,
                &stored,
            )
        };
        let fields = match opened {
            Ok(f) => f,
            Err((field, err)) => {
                let audit_as = (AuditAction::RecordRead, Some(&client), target);
                return self.fail(audit_as, &[&field], purpose, Failure::Integrity, err);
            }
        };
        let names: Vec<&str> = fields.keys().map(FieldName::as_str).collect();
        self.shared.audit(&self.entry(
            AuditAction::RecordRead,
            Some(&client),
            target,
            &names,
            purpose,
            Outcome::Granted,
        ))?;
        Ok(Record {
            id: *record,
            client,
            kind: meta.kind,
            created_at_ms: meta.created_at,
            updated_at_ms: meta.updated_at,
            fields,
        })
    }

    /// A record's metadata, or an audited not-found.
    fn record_meta(
        &self,
        record: &RecordId,
        action: AuditAction,
        purpose: Purpose,
    ) -> Result<RecordRow> {
        let meta = rows::record(&self.shared.conn(), record)?;
        match meta {
            Some(m) => Ok(m),
            None => self.fail(
                (action, None, Some(record.as_bytes())),
                &[],
                purpose,
                Failure::NotFound,
                Error::NotFound { what: "record" },
            ),
        }
    }
}
