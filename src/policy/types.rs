//! What the policy reads and answers: requests, facts, grants and refusals.

use std::collections::BTreeSet;

use crate::error::DenyReason;
use crate::ids::{CaseId, UserId};
use crate::model::{Basis, CaseKind, Category, Purpose, Role, SecretsPolicy};
use crate::scope::ReleaseScope;
use crate::value::FieldName;

/// Operations that are not about a client's content.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PracticeOp {
    /// Add or change users.
    ManageUsers,
    /// Back the vault up, or record its restore from a backup.
    Backup,
    /// Re-encrypt a client's fields under new data keys (the content never leaves the vault).
    RotateKeys,
    /// Set or end supervision relationships.
    ManageSupervision,
    /// Read the audit log's metadata.
    ReadAuditLog,
    /// Register a new client (the requester becomes their treating clinician).
    CreateClient,
    /// Look a client up by name and date of birth (answers only with clients the requester
    /// treats).
    FindClient,
}

/// What is asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Access {
    /// A practice operation.
    Practice(PracticeOp),
    /// Read fields of an entry of this category.
    Read(Category),
    /// Write fields of an entry of this category.
    Write(Category),
    /// Change who is on a client's care team, their minor status, or their cases.
    ManageClient,
    /// Record or revoke a client's consent.
    ManageConsent,
    /// Open (or close) emergency access to a client's general record.
    BreakGlass,
    /// Bring an individual-session disclosure into a case's joint record.
    ShareIntoJoint,
    /// Release an export to the client or their guardian (the releasing clinician's check).
    Release,
    /// Make a de-identified extract for consultation outside the care team.
    Deidentify,
    /// Record, answer or read a client's request to amend their record (45 CFR 164.526).
    Amend,
}

/// A request, as the policy sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    /// The requester's role. For an export to a client or guardian, `Client` or `Guardian`.
    pub role: Role,
    /// The requesting user, when a user of the vault (consents name their recipient by id).
    pub requester: Option<UserId>,
    /// What they ask for.
    pub access: Access,
    /// Their stated purpose of use.
    pub purpose: Purpose,
    /// For reads: the fields present; for writes: the fields to be written.
    pub fields: Vec<FieldName>,
}

/// A consent (release of information) as far as the policy needs it: all cleartext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentFact {
    /// Who may receive.
    pub recipient: Recipient,
    /// What may be released.
    pub categories: BTreeSet<Category>,
    /// For what.
    pub purpose: Purpose,
    /// Valid from (unix ms).
    pub start_ms: i64,
    /// Valid until (unix ms, exclusive); `None` until revoked.
    pub expires_ms: Option<i64>,
    /// Revoked at (unix ms); takes effect for every later request.
    pub revoked_ms: Option<i64>,
    /// What within its categories it covers (fields, one condition); `None` for a consent
    /// recorded before format 9, which covers its categories whole.
    pub scope: Option<ReleaseScope>,
    /// The case whose joint content it covers; without one it covers no joint content.
    pub case: Option<CaseId>,
}

/// Who a consent releases to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Recipient {
    /// A user of this vault.
    User(UserId),
    /// The joint record of the client's case (for bringing an individual disclosure into it).
    JointRecord,
    /// Someone outside the practice (details encrypted in the consent).
    Outside,
}

impl ConsentFact {
    /// What it covers: its scope, or its categories whole.
    pub fn covered(&self) -> ReleaseScope {
        match &self.scope {
            Some(s) => s.clone(),
            None => ReleaseScope::categories(&self.categories.iter().copied().collect::<Vec<_>>()),
        }
    }

    /// In force at `now`: started, not expired, not revoked.
    pub fn in_force(&self, now_ms: i64) -> bool {
        self.start_ms <= now_ms
            && self.expires_ms.is_none_or(|e| now_ms < e)
            && self.revoked_ms.is_none_or(|r| now_ms < r)
    }
}

/// A minor's status, which can shut the guardian out (45 CFR 164.502(g)(3)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MinorFacts {
    /// The minor consented to their own treatment, as state law allows.
    pub consented_to_own_treatment: bool,
    /// A court directed the treatment.
    pub court_directed: bool,
    /// The guardian agreed that treatment would be confidential.
    pub guardian_agreed_confidential: bool,
}

impl MinorFacts {
    /// The guardian is not the minor's personal representative for this care.
    pub fn guardian_excluded(&self) -> bool {
        self.consented_to_own_treatment || self.court_directed || self.guardian_agreed_confidential
    }
}

/// Facts about the case an entry belongs to (joint record or individual case notes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CaseFacts {
    /// Couple, family or group.
    pub kind: CaseKind,
    /// The secrets policy chosen at intake.
    pub secrets: SecretsPolicy,
    /// The requester is a clinician of the case.
    pub requester_is_case_clinician: bool,
    /// For a `Client` request: the client is (or was) a member of the case.
    pub requester_is_member: bool,
    /// For individual case notes: the client the notes are about is the requester (`Client`).
    pub requester_is_subject: bool,
}

/// Cleartext facts about the requester's relationships to the target, gathered by the vault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// When the request is made (unix ms).
    pub now_ms: i64,
    /// The requester is on the client's care team.
    pub on_care_team: bool,
    /// The requester supervises a clinician on the client's care team.
    pub supervises_care_team: bool,
    /// The requester wrote the psychotherapy note asked for.
    pub is_note_author: bool,
    /// The requester supervises the note's author in a supervision flagged as training.
    pub training_supervisor_of_author: bool,
    /// For a `Client` request: the client is the subject (self access).
    pub is_subject: bool,
    /// For a `Guardian` request: the client is a minor with a guardian on record.
    pub is_guardian_of_minor: bool,
    /// The minor's status, if the client is a minor.
    pub minor: Option<MinorFacts>,
    /// The requester holds an open break-glass grant for the client.
    pub break_glass_active: bool,
    /// The client's consents that name the requester (or the joint record) as recipient.
    pub consents: Vec<ConsentFact>,
    /// The case, for joint-record and individual-case-note requests.
    pub case: Option<CaseFacts>,
}

/// An allowed request: on which basis, and exactly which of the requested fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grant {
    /// Why.
    pub basis: Basis,
    /// The permitted subset of the request's fields.
    pub fields: BTreeSet<FieldName>,
}

/// The policy's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead, within the grant.
    Allow(Grant),
    /// Refuse, for this reason.
    Deny(DenyReason),
}

impl Decision {
    /// Allowed?
    pub fn is_allow(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }
}
