//! The accounting of disclosures (45 CFR 164.528): the releases the rule requires to be listed,
//! read back from the ledger under the vault's ledger key.

use crate::audit::{AuditAction, Outcome, format_utc};
use crate::db::ledger_rows;
use crate::disclosure::{AccountingEntry, OutsideParty};
use crate::error::Result;
use crate::ids::{ClientId, OwnerId};
use crate::model::Purpose;
use crate::policy::Access;

use super::Session;
use super::disclose::ledger_entry;
use super::gate::{Stored, Target};

/// The description of a release made about another member of the client's case: the joint
/// record left, and nothing is said of the other member's own record.
const JOINT_ONLY: &str = "the joint record of a case you are a member of (released with another \
member's information)";

/// Six years: how far back the accounting of disclosures reaches (45 CFR 164.528(a)(1)).
pub(super) const SIX_YEARS_MS: i64 = 6 * 365 * 24 * 3600 * 1000 + 2 * 24 * 3600 * 1000;

impl Session {
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
                    // The ledger's description names what left of the other member's record:
                    // this client is told only that their joint record left.
                    description: if row.about_other {
                        JOINT_ONLY.to_owned()
                    } else {
                        get("description")
                    },
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
