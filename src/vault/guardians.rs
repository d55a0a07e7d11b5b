//! A minor's guardians: who may act for them as personal representative (45 CFR 164.502(g)),
//! and within what limits.
//!
//! A parent or a court-appointed guardian stands in the minor's place for their health
//! information (164.502(g)(1), (3)), but only as far as the custody order goes: a divorced
//! parent may keep access to the record without the authority to sign for the child, and the
//! order may end on a date (DOMAIN.md L14). Each guardian is recorded with those limits as a
//! fact of the client's scope, so a limit edited in the file fails the next decision that reads
//! it. An export to a guardian and a consent a guardian signs are both decided on it here, once,
//! before anything else about the release.

use crate::audit::{AuditAction, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::release_rows::{self, GuardianRow};
use crate::error::{DenyReason, Error, Result};
use crate::ids::{ClientId, GuardianId};
use crate::model::{GuardianBasis, Purpose};
use crate::policy::{Access, MinorFacts};

use super::Session;
use super::facts::minor_facts;
use super::gate::Target;

/// A guardian to record: the basis of their authority and the limits of the custody order.
///
/// Nothing here names the guardian: the practice's own file of the order does. `Debug` is
/// derived because no field says anything about the client.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewGuardian {
    /// Parent or court-appointed.
    pub basis: GuardianBasis,
    /// The order lets them see the minor's record (exports to them).
    pub may_access: bool,
    /// The order lets them authorize releases for the minor (sign consents).
    pub may_authorize: bool,
    /// The order ends at (unix ms, exclusive); `None` while the client is a minor.
    pub until_ms: Option<i64>,
}

/// A recorded guardian, as listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardianSummary {
    /// The guardian.
    pub id: GuardianId,
    /// Parent or court-appointed.
    pub basis: GuardianBasis,
    /// May see the minor's record.
    pub may_access: bool,
    /// May sign for the minor.
    pub may_authorize: bool,
    /// The order ends at (unix ms, exclusive).
    pub until_ms: Option<i64>,
    /// Recorded at (unix ms).
    pub recorded_ms: i64,
    /// Their authority was ended at (unix ms).
    pub ended_ms: Option<i64>,
}

/// What a guardian asks to do for the minor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Act {
    /// Receive the minor's record (164.502(g)(1) with 164.524).
    Access,
    /// Sign an authorization for the minor, on `signed_on_ms` (164.508(c)(1)(vi)).
    Authorize {
        /// When the form was signed.
        signed_on_ms: i64,
    },
}

/// Whether `guardian` stands for the minor in `act` at `now_ms`: a pure function of the
/// client's scope of facts.
///
/// Not the personal representative (`NotPersonalRepresentative`) unless the client is a minor,
/// the guardian is recorded for this client, not ended, before the order's end (and, for a
/// signature, the form was signed before it too), and the order gives the right the act needs.
/// Then, for this care, no guardian stands for a minor who consented to their own treatment, whose
/// treatment a court directed, or whose guardian agreed to confidentiality (164.502(g)(3)(i)):
/// `MinorProtected`, and only the minor signs.
pub(super) fn standing(
    minor: Option<MinorFacts>,
    guardians: &[GuardianRow],
    guardian: &GuardianId,
    act: Act,
    now_ms: i64,
) -> Result<(), DenyReason> {
    let not_representative = Err(DenyReason::NotPersonalRepresentative);
    // 164.502(g)(3) speaks of unemancipated minors: once the client is not recorded as one,
    // no parent acts for them.
    let Some(minor) = minor else {
        return not_representative;
    };
    let Some(g) = guardians.iter().find(|g| g.id == *guardian) else {
        return not_representative;
    };
    let before_end = |at: i64| g.until_ms.is_none_or(|until| at < until);
    let in_force = g.recorded_at <= now_ms && g.ended_at.is_none() && before_end(now_ms);
    let right = match act {
        Act::Access => g.may_access,
        Act::Authorize { signed_on_ms } => g.may_authorize && before_end(signed_on_ms),
    };
    if !(in_force && right) {
        return not_representative;
    }
    if minor.guardian_excluded() {
        return Err(DenyReason::MinorProtected);
    }
    Ok(())
}

fn validate(g: &NewGuardian, now_ms: i64) -> Result<()> {
    let bad = |reason: &str| Error::InvalidInput {
        what: "guardian",
        reason: reason.into(),
    };
    if !g.may_access && !g.may_authorize {
        return Err(bad("the order gives access, authority to sign, or both"));
    }
    if g.until_ms.is_some_and(|until| until <= now_ms) {
        return Err(bad("the order has ended"));
    }
    Ok(())
}

fn summary(r: GuardianRow) -> Result<GuardianSummary> {
    let basis = r.basis.parse().map_err(|_| Error::Corrupt {
        what: "guardian basis".into(),
    })?;
    Ok(GuardianSummary {
        id: r.id,
        basis,
        may_access: r.may_access,
        may_authorize: r.may_authorize,
        until_ms: r.until_ms,
        recorded_ms: r.recorded_at,
        ended_ms: r.ended_at,
    })
}

impl Session {
    /// Record a guardian of a minor client, with the custody order's limits (a treating
    /// clinician, for treatment). The client must be recorded as a minor
    /// ([`Session::set_minor_status`]); the guardian is named by the id returned.
    pub fn record_guardian(
        &self,
        client: &ClientId,
        guardian: &NewGuardian,
        purpose: Purpose,
    ) -> Result<GuardianId> {
        let action = AuditAction::GuardianRecord;
        let gate = self.admit(action, purpose)?;
        let now = self.shared.now_ms();
        validate(guardian, now)?;
        let id = GuardianId::random(&self.shared.rng)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let audit_as = audit_as.target(id.as_bytes());
        let row = GuardianRow {
            id,
            basis: guardian.basis.code().to_owned(),
            may_access: guardian.may_access,
            may_authorize: guardian.may_authorize,
            until_ms: guardian.until_ms,
            recorded_at: now,
            ended_at: None,
        };
        let minor = facts.minor.is_some();
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        // Whether the client is a minor is told only to whoever may manage their consents: it
        // is checked after the decision, and the refusal rolls the entry back with the row.
        gate.change(Access::ManageConsent, &facts, audit_as, scope, |tx| {
            if !minor {
                return Err(Error::InvalidInput {
                    what: "guardian",
                    reason: "the client is not recorded as a minor".into(),
                });
            }
            release_rows::insert_guardian(tx, client, &row, &self.user)
        })?;
        Ok(id)
    }

    /// End a guardian's authority: the order ended or was replaced, the client came of age, or
    /// the clinician decided not to treat them as the minor's representative (164.502(g)(5)).
    /// Exports and signatures refuse them from now on; what they signed before stays signed.
    pub fn end_guardian(
        &self,
        client: &ClientId,
        guardian: &GuardianId,
        purpose: Purpose,
    ) -> Result<()> {
        let action = AuditAction::GuardianEnd;
        let gate = self.admit(action, purpose)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let audit_as = audit_as.target(guardian.as_bytes());
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        gate.change(Access::ManageConsent, &facts, audit_as, scope, |tx| {
            if release_rows::end_guardian(tx, client, guardian, self.shared.now_ms())? {
                Ok(())
            } else {
                Err(Error::InvalidInput {
                    what: "guardian",
                    reason: "not a guardian of this client, or ended already".into(),
                })
            }
        })
    }

    /// The client's guardians, ended ones included (a treating clinician; one audit entry).
    pub fn list_guardians(
        &self,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<GuardianSummary>> {
        let action = AuditAction::RecordList;
        let gate = self.admit(action, purpose)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let grant = gate.check(
            self.role,
            Access::ManageConsent,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let rows = self.client_rows(&self.shared.conn(), client)?;
        let outcome = Outcome::Allowed(grant.basis());
        let e = gate.entry(action, Some(client), None, &["guardians"], outcome);
        self.shared.audit(&e)?;
        rows.guardians.into_iter().map(summary).collect()
    }

    /// [`standing`] of `guardian` for `client` now, from the client's scope of facts (its MAC
    /// checked): `Err` only when the facts cannot be read.
    pub(super) fn guardian_standing(
        &self,
        client: &ClientId,
        guardian: &GuardianId,
        act: Act,
    ) -> Result<Result<(), DenyReason>> {
        let rows = self.client_rows(&self.shared.conn(), client)?;
        let minor = rows.minor.map(minor_facts);
        let now = self.shared.now_ms();
        Ok(standing(minor, &rows.guardians, guardian, act, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000;

    fn id(n: u8) -> GuardianId {
        GuardianId::from_slice(&[n; 16]).unwrap()
    }

    fn row(n: u8, may_access: bool, may_authorize: bool) -> GuardianRow {
        GuardianRow {
            id: id(n),
            basis: "parent".into(),
            may_access,
            may_authorize,
            until_ms: None,
            recorded_at: 0,
            ended_at: None,
        }
    }

    const SIGN: Act = Act::Authorize { signed_on_ms: NOW };
    const NPR: Result<(), DenyReason> = Err(DenyReason::NotPersonalRepresentative);

    #[test]
    fn the_custody_order_decides_access_and_signature_apart() {
        let minor = Some(MinorFacts::default());
        // The custodial parent both sees and signs; the other parent only sees.
        let rows = [row(1, true, true), row(2, true, false)];
        assert_eq!(standing(minor, &rows, &id(1), Act::Access, NOW), Ok(()));
        assert_eq!(standing(minor, &rows, &id(1), SIGN, NOW), Ok(()));
        assert_eq!(standing(minor, &rows, &id(2), Act::Access, NOW), Ok(()));
        assert_eq!(standing(minor, &rows, &id(2), SIGN, NOW), NPR);
        // A guardian who may sign but not see gets no export.
        let signs_only = [row(3, false, true)];
        assert_eq!(standing(minor, &signs_only, &id(3), Act::Access, NOW), NPR);
        assert_eq!(standing(minor, &signs_only, &id(3), SIGN, NOW), Ok(()));
        // Not this minor's guardian.
        assert_eq!(standing(minor, &rows, &id(9), Act::Access, NOW), NPR);
    }

    #[test]
    fn an_order_stops_at_its_end_and_an_ended_guardian_at_once() {
        let minor = Some(MinorFacts::default());
        let mut g = row(1, true, true);
        g.until_ms = Some(NOW + 1);
        let rows = [g.clone()];
        assert_eq!(standing(minor, &rows, &id(1), Act::Access, NOW), Ok(()));
        // Exclusive end.
        assert_eq!(standing(minor, &rows, &id(1), Act::Access, NOW + 1), NPR);
        assert_eq!(standing(minor, &rows, &id(1), SIGN, NOW + 1), NPR);
        // A form signed after the order ended is no signature, even recorded in time.
        let late = Act::Authorize {
            signed_on_ms: NOW + 1,
        };
        assert_eq!(standing(minor, &rows, &id(1), late, NOW), NPR);
        g.until_ms = None;
        g.ended_at = Some(NOW);
        assert_eq!(standing(minor, &[g], &id(1), Act::Access, NOW), NPR);
        // Recorded later than the request (a clock moved back) is not yet in force.
        let mut future = row(2, true, true);
        future.recorded_at = NOW + 5;
        assert_eq!(standing(minor, &[future], &id(2), Act::Access, NOW), NPR);
    }

    #[test]
    fn a_protected_minor_has_no_representative_and_an_adult_none_at_all() {
        let rows = [row(1, true, true)];
        let protected = [
            MinorFacts {
                consented_to_own_treatment: true,
                ..MinorFacts::default()
            },
            MinorFacts {
                court_directed: true,
                ..MinorFacts::default()
            },
            MinorFacts {
                guardian_agreed_confidential: true,
                ..MinorFacts::default()
            },
        ];
        for m in protected {
            let protected = Err(DenyReason::MinorProtected);
            assert_eq!(
                standing(Some(m), &rows, &id(1), Act::Access, NOW),
                protected
            );
            assert_eq!(standing(Some(m), &rows, &id(1), SIGN, NOW), protected);
            // One who is not a representative at all is told so first.
            assert_eq!(standing(Some(m), &rows, &id(9), Act::Access, NOW), NPR);
        }
        assert_eq!(standing(None, &rows, &id(1), Act::Access, NOW), NPR);
    }

    #[test]
    fn an_order_gives_at_least_one_right_and_has_not_ended() {
        let g = NewGuardian {
            basis: GuardianBasis::Parent,
            may_access: false,
            may_authorize: false,
            until_ms: None,
        };
        assert!(matches!(validate(&g, NOW), Err(Error::InvalidInput { .. })));
        let g = NewGuardian {
            may_access: true,
            until_ms: Some(NOW),
            ..g
        };
        assert!(matches!(validate(&g, NOW), Err(Error::InvalidInput { .. })));
        let g = NewGuardian {
            until_ms: Some(NOW + 1),
            ..g
        };
        assert!(validate(&g, NOW).is_ok());
    }

    #[test]
    fn a_basis_edited_to_an_unknown_code_is_corrupt() {
        let mut r = row(1, true, false);
        assert_eq!(summary(r.clone()).unwrap().basis, GuardianBasis::Parent);
        r.basis = "uncle".into();
        assert!(matches!(summary(r), Err(Error::Corrupt { .. })));
    }
}
