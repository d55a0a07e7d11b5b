//! Erasure requests (answered with what must be kept, why and until when) and crypto-shredding
//! at the end of retention.

use crate::audit::{AuditAction, Failure, Outcome, format_utc};
use crate::db::rows;
use crate::disclosure::{ErasureAnswer, Retained};
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::model::Purpose;
use crate::policy::Access;

use super::Session;
use super::gate::Target;

const YEAR_MS: i64 = 365 * 24 * 3600 * 1000 + 6 * 3600 * 1000;

impl Session {
    /// Answer a client's request for erasure: what the practice must keep, on which basis, and
    /// until when; from then on [`Session::erase_client`] may destroy their keys.
    pub fn request_erasure(&self, client: &ClientId) -> Result<ErasureAnswer> {
        let purpose = Purpose::PatientRequest;
        let gate = self.admit(AuditAction::ErasureRequest, purpose)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::ErasureRequest)?;
        let last = rows::last_activity(&self.shared.conn(), client)?;
        let grant = gate.check(
            self.role,
            Access::Release,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let answer = self.retention(last);
        let e = self.entry(
            AuditAction::ErasureRequest,
            Some(client),
            None,
            &[],
            purpose,
            Outcome::Allowed(grant.basis()),
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
        let gate = self.admit(AuditAction::ErasureShred, purpose)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::ErasureShred)?;
        let last = rows::last_activity(&self.shared.conn(), client)?;
        let grant = gate.check(
            self.role,
            Access::ManageClient,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let until = self.retention(last).erasable_from_ms;
        if self.shared.now_ms() < until {
            let err = Error::Retained {
                until: format_utc(until),
                basis: "the practice's retention period",
            };
            return gate.fail(audit_as, &[], Failure::RetentionNotOver, err);
        }
        let e = self.entry(
            AuditAction::ErasureShred,
            Some(client),
            None,
            &[],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.shared.write_audited(&e, |tx| {
            rows::shred(tx, client, self.shared.now_ms(), &self.user)?;
            Ok(())
        })?;
        self.forget_keys(&client.into());
        // Move the freed pages out of the WAL so the destroyed keys do not linger there;
        // secure_delete has already zeroed them in the pages themselves.
        crate::db::checkpoint_wal(&self.shared.conn())?;
        Ok(())
    }
}
