//! Relationships the policy reads: care teams, supervision, minors, and break-glass grants.
//! Every change is an audited write.

use crate::audit::{AuditAction, Failure, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::policy_rows;
use crate::db::rows::{self, FieldTable};
use crate::error::{Error, Result};
use crate::ids::{ClientId, UserId};
use crate::model::{Compartment, Purpose, Role};
use crate::policy::{Access, MinorFacts, PracticeOp};
use crate::value::{FieldName, Value};

use super::gate::{AuditAs, Entry, Target};
use super::{Session, facts};

/// Longest emergency access one grant may open, in minutes.
pub const MAX_BREAK_GLASS_MINUTES: u32 = 240;

impl Session {
    /// The id of the staff member with this user name (a staff directory: no client data).
    pub fn user_id_of(&self, name: &str) -> Result<UserId> {
        // The directory serves care-team and supervision assignments; a session refused here
        // is recorded under the first.
        self.admit(AuditAction::CareTeamAdd, Purpose::Operations)?;
        let row = rows::user_by_name(&self.shared.conn(), name)?;
        row.map(|r| r.id).ok_or(Error::NotFound { what: "user" })
    }

    /// Put a clinician or supervisor on a client's care team (a treating clinician, or an
    /// administrator for operations).
    pub fn assign_care_team(
        &self,
        client: &ClientId,
        user: &UserId,
        purpose: Purpose,
    ) -> Result<()> {
        let gate = self.admit(AuditAction::CareTeamAdd, purpose)?;
        let audit_as = AuditAs::new(AuditAction::CareTeamAdd)
            .client(client)
            .target(user.as_bytes());
        let (facts, audit_as) = gate.client_request_as(client, audit_as)?;
        let grant = gate.check(
            self.role,
            Access::ManageClient,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let role = {
            let conn = self.shared.conn();
            // The role as the vault wrote it: a role edited in the file does not join a team.
            if let Err(e) = self.check_scope_now(&conn, ScopeKind::User, user.as_bytes()) {
                drop(conn);
                return gate.fail(audit_as, &[], Failure::Integrity, e);
            }
            rows::user_role(&conn, user)?
        };
        if !matches!(role, Some(Role::Clinician | Role::Supervisor)) {
            return Err(Error::InvalidInput {
                what: "care team member",
                reason: "only clinicians and supervisors join a care team".into(),
            });
        }
        let e = self.entry(
            AuditAction::CareTeamAdd,
            Some(client),
            Some(user.as_bytes()),
            &[],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.write_scope(&e, ScopeKind::Client, client.as_bytes(), |tx| {
            rows::add_to_care_team(tx, client, user, "treating", self.shared.now_ms())?;
            Ok(())
        })?;
        Ok(())
    }

    /// Take a clinician off a client's care team. Their next request about the client is refused.
    pub fn remove_from_care_team(
        &self,
        client: &ClientId,
        user: &UserId,
        purpose: Purpose,
    ) -> Result<()> {
        let gate = self.admit(AuditAction::CareTeamRemove, purpose)?;
        let audit_as = AuditAs::new(AuditAction::CareTeamRemove)
            .client(client)
            .target(user.as_bytes());
        let (facts, audit_as) = gate.client_request_as(client, audit_as)?;
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        gate.change(Access::ManageClient, &facts, audit_as, scope, |tx| {
            rows::remove_from_care_team(tx, client, user)?;
            Ok(())
        })?;
        Ok(())
    }

    /// Record that `supervisor` supervises `supervisee`; `training` marks a supervision inside a
    /// training programme, the only one that may see psychotherapy notes (administrators).
    pub fn set_supervision(
        &self,
        supervisor: &UserId,
        supervisee: &UserId,
        training: bool,
    ) -> Result<()> {
        let purpose = Purpose::Operations;
        let gate = self.admit(AuditAction::SupervisionSet, purpose)?;
        let audit_as = AuditAs::new(AuditAction::SupervisionSet).target(supervisee.as_bytes());
        let grant =
            gate.check_practice(PracticeOp::ManageSupervision, audit_as, Target::Nothing)?;
        let conn_roles = {
            let conn = self.shared.conn();
            for u in [supervisor, supervisee] {
                if let Err(e) = self.check_scope_now(&conn, ScopeKind::User, u.as_bytes()) {
                    drop(conn);
                    return gate.fail(audit_as, &[], Failure::Integrity, e);
                }
            }
            (
                rows::user_role(&conn, supervisor)?,
                rows::user_role(&conn, supervisee)?,
            )
        };
        if !matches!(conn_roles, (Some(Role::Supervisor), Some(Role::Clinician))) {
            return Err(Error::InvalidInput {
                what: "supervision",
                reason: "a supervisor supervises a clinician".into(),
            });
        }
        let fields = [if training { "training" } else { "" }];
        let e = self.entry(
            AuditAction::SupervisionSet,
            None,
            Some(supervisee.as_bytes()),
            &fields,
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.write_scope(&e, ScopeKind::User, supervisee.as_bytes(), |tx| {
            policy_rows::set_supervision(
                tx,
                supervisor,
                supervisee,
                training,
                self.shared.now_ms(),
            )?;
            Ok(())
        })?;
        Ok(())
    }

    /// End a supervision relationship (administrators).
    pub fn end_supervision(&self, supervisor: &UserId, supervisee: &UserId) -> Result<()> {
        let purpose = Purpose::Operations;
        let gate = self.admit(AuditAction::SupervisionEnd, purpose)?;
        let audit_as = AuditAs::new(AuditAction::SupervisionEnd).target(supervisee.as_bytes());
        let grant =
            gate.check_practice(PracticeOp::ManageSupervision, audit_as, Target::Nothing)?;
        let e = self.entry(
            AuditAction::SupervisionEnd,
            None,
            Some(supervisee.as_bytes()),
            &[],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.write_scope(&e, ScopeKind::User, supervisee.as_bytes(), |tx| {
            policy_rows::end_supervision(tx, supervisor, supervisee)?;
            Ok(())
        })?;
        Ok(())
    }

    /// Record that `client` is a minor with a guardian on record, and whether the guardian is
    /// shut out of this care (45 CFR 164.502(g)(3)); `None` when the client is not a minor.
    pub fn set_minor_status(
        &self,
        client: &ClientId,
        status: Option<MinorFacts>,
        purpose: Purpose,
    ) -> Result<()> {
        let gate = self.admit(AuditAction::MinorStatusSet, purpose)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::MinorStatusSet)?;
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        gate.change(Access::ManageClient, &facts, audit_as, scope, |tx| {
            facts::set_minor_status(tx, client, status, self.shared.now_ms())?;
            Ok(())
        })?;
        Ok(())
    }

    /// Open emergency access to one client's general record for `minutes` (at most
    /// [`MAX_BREAK_GLASS_MINUTES`]), with a stated reason. Any clinician may; the start, every
    /// read (purpose `ETREAT`) and the end are audited and flagged for review. Psychotherapy
    /// notes, substance-use records and case content stay closed.
    pub fn break_glass(&self, client: &ClientId, reason: &str, minutes: u32) -> Result<()> {
        let purpose = Purpose::EmergencyTreatment;
        let gate = self.admit(AuditAction::BreakGlassStart, purpose)?;
        if reason.trim().is_empty() {
            return Err(Error::InvalidInput {
                what: "break-glass reason",
                reason: "a reason is required".into(),
            });
        }
        if minutes == 0 || minutes > MAX_BREAK_GLASS_MINUTES {
            return Err(Error::InvalidInput {
                what: "break-glass duration",
                reason: format!("1 to {MAX_BREAK_GLASS_MINUTES} minutes"),
            });
        }
        let (facts, audit_as) = gate.client_request(client, AuditAction::BreakGlassStart)?;
        let grant_id: [u8; 16] = self.shared.random_bytes()?;
        let reason = Value::text(reason);
        let field = FieldName::new("reason")?;
        let entry = Entry {
            table: FieldTable::BreakGlass,
            owner: client.into(),
            parent: grant_id,
            compartment: Compartment::General,
            category: None,
        };
        let grant = gate.check(
            self.role,
            Access::BreakGlass,
            vec![field.clone()],
            &facts,
            audit_as,
            Target::Entry(entry),
        )?;
        gate.write_audited(audit_as, |tx| {
            let now = self.shared.now_ms();
            let until = now + i64::from(minutes) * 60_000;
            policy_rows::insert_break_glass(tx, &grant_id, &self.user, client, now, until)?;
            let table = FieldTable::BreakGlass;
            let fields = [(field.clone(), &reason)];
            self.seal(tx, &grant, &entry, &fields)?;
            let e = self.entry(
                AuditAction::BreakGlassStart,
                Some(client),
                Some(&grant_id),
                &["reason"],
                purpose,
                Outcome::Allowed(grant.basis()),
            );
            let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
            self.audit_fields(tx, &e, table, &grant_id, scope)
        })?;
        Ok(())
    }

    /// Close this user's emergency access to `client` before it expires.
    pub fn end_break_glass(&self, client: &ClientId) -> Result<()> {
        let gate = self.admit(AuditAction::BreakGlassEnd, Purpose::EmergencyTreatment)?;
        let (facts, audit_as) = gate.client_request(client, AuditAction::BreakGlassEnd)?;
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        gate.change(Access::BreakGlass, &facts, audit_as, scope, |tx| {
            policy_rows::end_break_glass(tx, &self.user, client, self.shared.now_ms())?;
            Ok(())
        })?;
        Ok(())
    }
}
