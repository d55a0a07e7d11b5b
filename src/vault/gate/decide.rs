//! Decisions: the only code that asks the policy, audits its refusals, and turns its yes into a
//! [`Granted`].

use crate::db::Conn;
use crate::db::fact_rows::ScopeKind;

use crate::audit::{AuditAction, Failure, Outcome};
use crate::crypto::kdf::derive_kek;
use crate::db::rows as users;
use crate::error::{Error, Result};
use crate::model::Role;
use crate::policy::{
    Access, Basis, Decision, DenyReason, DisclosureAsk, DisclosureFacts, DisclosureGrant, Facts,
    PracticeOp, Request, decide, decide_disclosure, may_release,
};
use crate::value::FieldName;

use super::{Admitted, AuditAs, Granted, Session, Target, reaches_master_key};
use crate::vault::{Passphrase, mk_aad};

impl<'s> Admitted<'s> {
    /// The session that was admitted.
    pub(in crate::vault) fn session(&self) -> &'s Session {
        self.session
    }

    /// Ask the policy for `access` to `target` as `role`, asking for `fields`. A refusal is
    /// audited (committed) and returned as [`Error::Denied`]; no key is touched for it. A yes is
    /// the capability for `target` and the permitted subset of `fields`.
    pub(in crate::vault) fn check(
        &self,
        role: Role,
        access: Access,
        fields: Vec<FieldName>,
        facts: &Facts,
        audit_as: AuditAs<'_>,
        target: Target,
    ) -> Result<Granted> {
        match self.grant(role, access, fields, facts, target) {
            Ok(granted) => Ok(granted),
            Err(reason) => self.refuse(audit_as, reason),
        }
    }

    /// [`Admitted::check`] without auditing a refusal, for a read path that appends every
    /// entry of a batch itself.
    pub(super) fn grant(
        &self,
        role: Role,
        access: Access,
        fields: Vec<FieldName>,
        facts: &Facts,
        target: Target,
    ) -> Result<Granted, DenyReason> {
        if !target_fits(access, &target) {
            // A bug in an operation, failed closed.
            return Err(DenyReason::FieldNotPermitted);
        }
        let req = Request {
            role,
            requester: Some(self.session.user),
            access,
            purpose: self.purpose,
            fields,
        };
        match decide(&req, facts) {
            Decision::Allow(grant) => Ok(Granted::new(
                grant.basis,
                target,
                grant.fields.into_iter().collect(),
            )),
            Decision::Deny(reason) => Err(reason),
        }
    }

    /// The policy's answer for `access` as this session's role, without auditing it or granting
    /// anything: what a listing shows (its one entry is appended by its caller).
    pub(in crate::vault) fn preview(&self, access: Access, facts: &Facts) -> Option<Basis> {
        let req = Request {
            role: self.session.role,
            requester: Some(self.session.user),
            access,
            purpose: self.purpose,
            fields: Vec::new(),
        };
        match decide(&req, facts) {
            Decision::Allow(grant) => Some(grant.basis),
            Decision::Deny(_) => None,
        }
    }

    /// A practice operation (no client involved), reaching `target`.
    pub(in crate::vault) fn check_practice(
        &self,
        op: PracticeOp,
        audit_as: AuditAs<'_>,
        target: Target,
    ) -> Result<Granted> {
        self.check_practice_fields(op, Vec::new(), audit_as, target)
    }

    /// A practice operation that writes `fields` of `target` (a new client's demographics).
    pub(in crate::vault) fn check_practice_fields(
        &self,
        op: PracticeOp,
        fields: Vec<FieldName>,
        audit_as: AuditAs<'_>,
        target: Target,
    ) -> Result<Granted> {
        let facts = Facts {
            now_ms: self.session.shared.now_ms(),
            ..Facts::default()
        };
        let access = Access::Practice(op);
        let role = self.session.role;
        self.check(role, access, fields, &facts, audit_as, target)
    }

    /// Ask the disclosure policy for a release reaching `target`. A refusal is audited and
    /// returned as [`Error::Denied`]. A release's basis is its legal basis, which its caller
    /// records; the grant's own basis is the releaser's role.
    pub(in crate::vault) fn check_disclosure(
        &self,
        ask: &DisclosureAsk,
        facts: &DisclosureFacts,
        audit_as: AuditAs<'_>,
        target: Target,
    ) -> Result<(DisclosureGrant, Granted)> {
        match decide_disclosure(ask, facts) {
            Ok(grant) => Ok((grant, Granted::new(Basis::Role, target, Vec::new()))),
            Err(reason) => self.refuse(audit_as, reason),
        }
    }

    /// Whether this session's user may release `ask` for a client they are (or are not) on the
    /// care team of, asked before a release reads anything of the client's (its cited
    /// consent): someone with no relationship to the client is refused `no-relationship`, as
    /// for a client that does not exist. A refusal is audited.
    pub(in crate::vault) fn check_releaser(
        &self,
        ask: &DisclosureAsk,
        releaser_on_care_team: bool,
        audit_as: AuditAs<'_>,
    ) -> Result<()> {
        match may_release(ask, releaser_on_care_team) {
            Ok(()) => Ok(()),
            Err(reason) => self.refuse(audit_as, reason),
        }
    }

    /// The user's own account: the master key, to wrap it under a new passphrase of theirs.
    /// Every user may, once `current` proves it is theirs (the session alone does not: one left
    /// open on a desk cannot take the account over). A wrong passphrase is audited.
    pub(in crate::vault) fn own_account(&self, current: &Passphrase) -> Result<Granted> {
        let session = self.session;
        let row = users::user_by_name(&session.shared.conn(), session.user_name())?
            .ok_or(Error::UnknownUser)?;
        let own = AuditAs::new(AuditAction::UserPassphraseChange).target(session.user.as_bytes());
        // The row may have been edited since the login checked it: checked again, before work.
        let params = match session.shared.config.kdf_limits_in_force().admit(row.kdf) {
            Ok(params) => params,
            Err(err @ Error::ExcessiveWork { .. }) => {
                return self.fail(own, &[], Failure::ExcessiveWork, err);
            }
            Err(err) => return Err(err),
        };
        let kek = derive_kek(current.bytes(), &row.kdf_salt, params)?;
        let aad = mk_aad(&session.shared.vault_id, &session.user);
        if kek.unwrap(&row.wrapped_mk, &aad).is_err() {
            return self.fail(own, &[], Failure::BadPassphrase, Error::BadPassphrase);
        }
        Ok(Granted::new(
            Basis::SelfAccess,
            Target::MasterKey,
            Vec::new(),
        ))
    }

    /// Decide `access` for a change of cleartext facts in `scope`; if allowed, run `op` and
    /// append the audit entry `audit_as` describes, vouching for the scope as `op` left it, in
    /// one transaction. A refusal is audited.
    pub(in crate::vault) fn change(
        &self,
        access: Access,
        facts: &Facts,
        audit_as: AuditAs<'_>,
        scope: (ScopeKind, &[u8]),
        op: impl FnOnce(&Conn) -> Result<()>,
    ) -> Result<()> {
        let role = self.session.role;
        let grant = self.check(role, access, vec![], facts, audit_as, Target::Nothing)?;
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Allowed(grant.basis());
        let e = self
            .session
            .entry(action, client, target, &[], self.purpose, outcome);
        self.session.write_scope(&e, scope.0, scope.1, op)?;
        Ok(())
    }

    /// Audit a refusal and return it.
    pub(in crate::vault) fn refuse<T>(
        &self,
        audit_as: AuditAs<'_>,
        reason: DenyReason,
    ) -> Result<T> {
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Denied(reason);
        let e = self
            .session
            .entry(action, client, target, &[], self.purpose, outcome);
        self.session.shared.audit(&e)?;
        Err(Error::Denied { reason })
    }

    /// The answer for a target that does not exist. It is the same refusal a user gets for a
    /// client they have no relationship with, so errors are no existence oracle; the audit
    /// entry records it like any refusal.
    pub(in crate::vault) fn refuse_unknown<T>(&self, audit_as: AuditAs<'_>) -> Result<T> {
        self.refuse(audit_as, DenyReason::NoRelationship)
    }

    /// Run `write` (one transaction). If it stopped because the master key was rotated by
    /// another process meanwhile (seen inside, where an audit entry would be rolled back with
    /// the rest), record the refusal after the rollback.
    pub(in crate::vault) fn write_audited<T>(
        &self,
        audit_as: AuditAs<'_>,
        write: impl FnOnce(&Conn) -> Result<T>,
    ) -> Result<T> {
        match self.session.shared.write(write) {
            Err(e @ Error::SessionLocked) => self.fail(audit_as, &[], Failure::SessionLocked, e),
            other => other,
        }
    }

    /// Audit a failure (integrity, erasure, a lock seen mid-operation) and return `err`.
    pub(in crate::vault) fn fail<T>(
        &self,
        audit_as: AuditAs<'_>,
        fields: &[&str],
        why: Failure,
        err: Error,
    ) -> Result<T> {
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = Outcome::Failed(why);
        let e = self
            .session
            .entry(action, client, target, fields, self.purpose, outcome);
        self.session.shared.audit(&e)?;
        Err(err)
    }

    /// An audit entry by the admitted session's user, with this call's purpose.
    pub(in crate::vault) fn entry<'a>(
        &'a self,
        action: AuditAction,
        client: Option<&'a crate::ids::ClientId>,
        target: Option<&'a [u8; 16]>,
        fields: &'a [&'a str],
        outcome: Outcome,
    ) -> crate::audit::NewEntry<'a> {
        self.session
            .entry(action, client, target, fields, self.purpose, outcome)
    }
}

/// Whether a decision about `access` may reach `target`: the master key only through the
/// practice operations that manage it, an entry only through a read or write of its category.
fn target_fits(access: Access, target: &Target) -> bool {
    match target {
        Target::MasterKey => matches!(access, Access::Practice(op) if reaches_master_key(op)),
        Target::Entry(e) => match access {
            Access::Read(c) | Access::Write(c) => e.category == Some(c),
            _ => true,
        },
        Target::Owners(_) | Target::Nothing => true,
    }
}
