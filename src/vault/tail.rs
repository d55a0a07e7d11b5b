//! The newest entries of the audit log, for the practice's administrators and auditors.

use crate::audit::{AuditAction, AuditEntry, Outcome, parse_run};
use crate::db;
use crate::error::Result;
use crate::model::Purpose;
use crate::policy::PracticeOp;

use super::Session;
use super::gate::{AuditAs, Target};

impl Session {
    /// The newest `n` audit entries, oldest first (administrators and auditors). Metadata only.
    pub fn audit_tail(&self, n: u32) -> Result<Vec<AuditEntry>> {
        let action = AuditAction::AuditRead;
        let gate = self.admit(action, Purpose::Operations)?;
        let grant = gate.check_practice(
            PracticeOp::ReadAuditLog,
            AuditAs::new(action),
            Target::Nothing,
        )?;
        let outcome = Outcome::Allowed(grant.basis());
        self.shared
            .audit(&gate.entry(action, None, None, &[], outcome))?;
        let conn = self.shared.conn();
        let stored = db::audit_rows::tail(&conn, n)?;
        let genesis = crate::audit::genesis_hash(&self.shared.vault_id);
        let before = match stored.first() {
            Some(first) => db::audit_rows::hash_before(&conn, first.seq, &genesis)?,
            None => None,
        };
        parse_run(&stored, before.as_deref().unwrap_or(&[0; 32]))
    }
}
