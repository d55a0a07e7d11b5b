//! Erasure requests (answered with what must be kept, why and until when), crypto-shredding at
//! the end of retention, and de-identified extracts for consultation.

use std::collections::BTreeMap;

use crate::audit::{AuditAction, Outcome, format_utc};
use crate::db::rows::{self, FieldTable};
use crate::disclosure::{ConsultationExtract, ErasureAnswer, PackageItem, Retained};
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::model::{Category, Purpose, RecordKind};
use crate::policy::Access;
use crate::value::Value;

use super::access::AuditAs;
use super::{Session, now_ms};

const YEAR_MS: i64 = 365 * 24 * 3600 * 1000 + 6 * 3600 * 1000;

/// Field names that identify a person wherever they appear (HIPAA safe harbor,
/// 45 CFR 164.514(b)(2)): dropped from every extract.
const IDENTIFYING_FIELDS: &[&str] = &[
    "full_name",
    "name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "insurance_id",
    "insurance_group",
    "emergency_contact",
    "ssn",
];

/// Replace every occurrence of each identifier in `text`, ignoring case.
fn scrub(text: &str, identifiers: &[String]) -> String {
    let mut out = text.to_owned();
    for id in identifiers {
        let lower = out.to_lowercase();
        if lower.len() != out.len() {
            // Case mapping changed byte lengths: positions would not line up. Withhold the
            // whole value if it mentions the identifier at all.
            if lower.contains(id.as_str()) {
                return "[redacted]".into();
            }
            continue;
        }
        let mut result = String::with_capacity(out.len());
        let mut rest = 0;
        for (at, _) in lower.match_indices(id.as_str()) {
            if at < rest {
                continue;
            }
            result.push_str(&out[rest..at]);
            result.push_str("[redacted]");
            rest = at + id.len();
        }
        result.push_str(&out[rest..]);
        out = result;
    }
    out
}

/// Every way the vault may hold one identifying value, lower-cased, longest first.
fn identifier_forms(v: &Value, into: &mut Vec<String>) {
    match v {
        Value::Date(d) => {
            let (y, m, day) = (d.year(), d.month(), d.day());
            into.push(format!("{y:04}-{m:02}-{day:02}"));
            into.push(format!("{m:02}/{day:02}/{y:04}"));
            into.push(format!("{day:02}/{m:02}/{y:04}"));
            into.push(format!("{m}/{day}/{y}"));
            into.push(format!("{day}.{m}.{y}"));
        }
        other => {
            let text = other.reveal().to_lowercase();
            // Names also appear one part at a time ("Jordan", "Avery").
            for part in text.split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.') {
                if part.chars().count() >= 3 {
                    into.push(part.to_owned());
                }
            }
            if !text.trim().is_empty() {
                into.push(text);
            }
        }
    }
}

impl Session {
    /// Answer a client's request for erasure: what the practice must keep, on which basis, and
    /// until when; from then on [`Session::erase_client`] may destroy their keys.
    pub fn request_erasure(&self, client: &ClientId) -> Result<ErasureAnswer> {
        let purpose = Purpose::PatientRequest;
        let audit_as = AuditAs::new(AuditAction::ErasureRequest).client(client);
        let (exists, facts, last) = {
            let conn = self.shared.conn();
            let exists = rows::client_exists(&conn, client)?;
            let last = if exists {
                rows::last_activity(&conn, client)?
            } else {
                0
            };
            (exists, self.client_facts(&conn, client)?, last)
        };
        if !exists {
            return self.refuse_unknown(audit_as, purpose);
        }
        let grant = self.check(
            self.role,
            Access::Release,
            purpose,
            vec![],
            &facts,
            audit_as,
        )?;
        let answer = self.retention(last);
        let e = self.entry(
            AuditAction::ErasureRequest,
            Some(client),
            None,
            &[],
            purpose,
            Outcome::Allowed(grant.basis),
        );
        self.shared.audit(&e)?;
        Ok(answer)
    }

    fn retention(&self, last: i64) -> ErasureAnswer {
        let years = i64::from(self.shared.config.retention_years);
        let record_until = last.saturating_add(years.saturating_mul(YEAR_MS));
        let six = last.saturating_add(6 * YEAR_MS);
        ErasureAnswer {
            retained: vec![
                Retained {
                    what: "the clinical record: general record, psychotherapy notes, case notes"
                        .into(),
                    basis: "medical-records retention law (GDPR art. 17(3)(c): health care); \
                            the practice's retention period"
                        .into(),
                    until_ms: record_until,
                },
                Retained {
                    what: "the disclosure ledger and the accounting of disclosures".into(),
                    basis: "45 CFR 164.528 (six years); kept after erasure, sealed under the \
                            vault's ledger key"
                        .into(),
                    until_ms: six,
                },
                Retained {
                    what: "the audit log (metadata only, no content)".into(),
                    basis: "45 CFR 164.312(b), 164.316(b)(2) (six years); kept for the vault's \
                            life so the chain stays verifiable"
                        .into(),
                    until_ms: six,
                },
            ],
            erasable_from_ms: record_until,
        }
    }

    /// At the end of retention, destroy the client's data keys (crypto-shredding): their content
    /// can never be read again. The audit log and the disclosure ledger stay, and verify.
    pub fn erase_client(&self, client: &ClientId, purpose: Purpose) -> Result<()> {
        let audit_as = AuditAs::new(AuditAction::ErasureShred).client(client);
        let (exists, facts, last) = {
            let conn = self.shared.conn();
            let exists = rows::client_exists(&conn, client)?;
            let last = if exists {
                rows::last_activity(&conn, client)?
            } else {
                0
            };
            (exists, self.client_facts(&conn, client)?, last)
        };
        if !exists {
            return self.refuse_unknown(audit_as, purpose);
        }
        let grant = self.check(
            self.role,
            Access::ManageClient,
            purpose,
            vec![],
            &facts,
            audit_as,
        )?;
        let until = self.retention(last).erasable_from_ms;
        if now_ms() < until {
            return Err(Error::Retained {
                until: format_utc(until),
                basis: "the practice's retention period",
            });
        }
        self.shared.write(|tx| {
            rows::shred(tx, client, now_ms(), &self.user)?;
            let e = self.entry(
                AuditAction::ErasureShred,
                Some(client),
                None,
                &[],
                purpose,
                Outcome::Allowed(grant.basis),
            );
            self.shared.audit_in(tx, &e)
        })?;
        self.forget_keys(client.as_bytes());
        // Move the freed pages out of the WAL so the destroyed keys do not linger there;
        // secure_delete has already zeroed them in the pages themselves.
        self.shared
            .conn()
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// A de-identified extract of the client's record for peer consultation or supervision
    /// outside the care team (45 CFR 164.514(b)): no name, contact, date of birth or other
    /// identifier the vault holds for the client; a fresh pseudonym; dates reduced to the year.
    /// Psychotherapy notes, substance-use records and case content are left out. Needs no
    /// consent; audited.
    pub fn consultation_extract(&self, client: &ClientId) -> Result<ConsultationExtract> {
        let purpose = Purpose::Treatment;
        let audit_as = AuditAs::new(AuditAction::ExtractDeidentified).client(client);
        let (exists, facts, records) = {
            let conn = self.shared.conn();
            (
                rows::client_exists(&conn, client)?,
                self.client_facts(&conn, client)?,
                rows::records_of(&conn, client)?,
            )
        };
        if !exists {
            return self.refuse_unknown(audit_as, purpose);
        }
        let grant = self.check(
            self.role,
            Access::Deidentify,
            purpose,
            vec![],
            &facts,
            audit_as,
        )?;
        let mut identifiers = vec![client.to_string()];
        let mut opened = Vec::new();
        {
            let conn = self.shared.conn();
            for meta in records {
                let table = FieldTable::Records;
                let stored = rows::fields(&conn, table, meta.id.as_bytes())?;
                let (owner, parent) = (client.as_bytes(), meta.id.as_bytes());
                let fields = self
                    .open_fields(
                        &conn,
                        table,
                        owner,
                        parent,
                        meta.kind.compartment(),
                        &stored,
                    )
                    .map_err(|(_, e)| e)?;
                if meta.kind == RecordKind::Demographics {
                    fields
                        .values()
                        .for_each(|v| identifier_forms(v, &mut identifiers));
                } else {
                    opened.push((meta, fields));
                }
            }
        }
        identifiers.sort_by_key(|s| std::cmp::Reverse(s.len()));
        identifiers.dedup();
        let keep = [
            Category::Appointments,
            Category::DiagnosisCodes,
            Category::TreatmentPlan,
            Category::ProgressNotes,
        ];
        let items = opened
            .into_iter()
            .filter(|(meta, _)| keep.contains(&meta.kind.category()))
            .map(|(meta, fields)| PackageItem {
                id: format!("item-{}", &meta.id.to_string()[..8]),
                category: meta.kind.category().code().into(),
                kind: meta.kind.code().into(),
                written: format_utc(meta.created_at)[..4].to_owned(),
                fields: fields
                    .iter()
                    .filter(|(k, _)| !IDENTIFYING_FIELDS.contains(&k.as_str()))
                    .map(|(k, v)| {
                        let text = match v {
                            Value::Date(d) => d.year().to_string(),
                            other => scrub(&other.reveal(), &identifiers),
                        };
                        (k.as_str().to_owned(), text)
                    })
                    .collect::<BTreeMap<_, _>>(),
            })
            .collect();
        let pseudonym: [u8; 4] = self.shared.random_bytes()?;
        let e = self.entry(
            AuditAction::ExtractDeidentified,
            Some(client),
            None,
            &[],
            purpose,
            Outcome::Allowed(grant.basis),
        );
        self.shared.audit(&e)?;
        Ok(ConsultationExtract {
            pseudonym: format!("consult-{}", hex::encode(pseudonym)),
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Date;

    #[test]
    fn scrub_replaces_every_case() {
        let ids = vec!["jordan avery".to_owned(), "jordan".to_owned()];
        assert_eq!(
            scrub("Jordan Avery said JORDAN was tired", &ids),
            "[redacted] said [redacted] was tired"
        );
        assert_eq!(scrub("nothing here", &ids), "nothing here");
    }

    #[test]
    fn dates_have_many_forms() {
        let mut forms = Vec::new();
        identifier_forms(&Value::Date(Date::new(1987, 5, 3).unwrap()), &mut forms);
        assert!(forms.contains(&"1987-05-03".to_owned()));
        assert!(forms.contains(&"5/3/1987".to_owned()));
    }
}
