//! Audit entries: their actions and outcomes, and the typed parts of a new entry.
//!
//! A new entry is written in the compact layout of [`layout`](super::layout); entries written
//! before format 6 are stored as the canonical bytes of their columns
//! ([`EntryCells`](crate::stored::EntryCells)). Both in `docs/design.md`.

use std::fmt;
use std::str::FromStr;

use ring::digest::SHA256;

use crate::error::{DenyReason, Error, Result};
use crate::ids::{ClientId, UserId, VaultId};
use crate::model::{Basis, LegalBasis, Purpose};

use super::layout::EntryParts;

/// The `prev_hash` of the first entry: SHA-256 of the vault id, so a log cannot be moved
/// between vaults.
pub(crate) fn genesis_hash(vault: &VaultId) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&SHA256, vault.as_bytes()).as_ref());
    out
}

macro_rules! action_codes {
    ($($(#[$doc:meta])* $v:ident => $code:literal),+ $(,)?) => {
        /// What an audit entry records.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum AuditAction { $($(#[$doc])* $v),+ }

        impl AuditAction {
            /// Every action.
            #[cfg(test)]
            pub(crate) const ALL: &'static [AuditAction] = &[$(AuditAction::$v),+];

            /// The stable code stored in the log.
            pub fn code(self) -> &'static str {
                match self { $(AuditAction::$v => $code),+ }
            }
        }

        impl FromStr for AuditAction {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($code => Ok(AuditAction::$v),)+
                    _ => Err(Error::Corrupt { what: "audit action code".into() }),
                }
            }
        }
    };
}

action_codes! {
    /// The vault was created.
    VaultCreate => "vault.create",
    /// The vault was opened (target: this opening's instance id).
    VaultOpen => "vault.open",
    /// The vault was closed cleanly (target: the instance id of its opening).
    VaultClose => "vault.close",
    /// A consistent copy of the vault was written (a backup).
    VaultBackup => "vault.backup",
    /// The vault was restored from a backup.
    VaultRestore => "vault.restore",
    /// The audit signing key was made (for a vault older than format 4).
    AuditKeyCreate => "audit.key_create",
    /// A user logged in (or failed to).
    Login => "login",
    /// A user was added.
    UserAdd => "user.add",
    /// A user changed their own passphrase.
    UserPassphraseChange => "user.passphrase_change",
    /// An administrator set a new passphrase for a user (a forgotten one).
    UserPassphraseReset => "user.passphrase_reset",
    /// A user's passphrase was re-wrapped with the vault's stronger KDF costs at login.
    UserKdfUpgrade => "user.kdf_upgrade",
    /// A user was disabled: they can no longer log in.
    UserDisable => "user.disable",
    /// A disabled user was enabled again.
    UserEnable => "user.enable",
    /// A user was removed: their wrap of the master key is deleted.
    UserRemove => "user.remove",
    /// A session was locked by its user: its keys are wiped.
    SessionLock => "session.lock",
    /// A session was idle too long: its keys were wiped (automatic logoff).
    SessionTimeout => "session.timeout",
    /// A client was registered.
    ClientCreate => "client.create",
    /// A client was looked up by name and date of birth.
    ClientFind => "client.find",
    /// A client's record list was read.
    RecordList => "record.list",
    /// A general-record entry was created.
    RecordCreate => "record.create",
    /// A general-record entry was updated.
    RecordUpdate => "record.update",
    /// A general-record entry was read.
    RecordRead => "record.read",
    /// A psychotherapy note was written.
    NoteCreate => "note.create",
    /// A psychotherapy note was read.
    NoteRead => "note.read",
    /// The audit log was read.
    AuditRead => "audit.read",
    /// A clinician was added to a client's care team.
    CareTeamAdd => "care_team.add",
    /// A clinician was removed from a client's care team.
    CareTeamRemove => "care_team.remove",
    /// A supervision relationship was set.
    SupervisionSet => "supervision.set",
    /// A supervision relationship ended.
    SupervisionEnd => "supervision.end",
    /// A client's minor status was set or cleared.
    MinorStatusSet => "client.minor_status",
    /// A couple, family or group case was opened.
    CaseCreate => "case.create",
    /// A member left a case.
    CaseLeave => "case.leave",
    /// A joint-record entry was written.
    JointCreate => "joint.create",
    /// A joint-record entry was read.
    JointRead => "joint.read",
    /// An individual disclosure was brought into the joint record.
    JointShare => "joint.share",
    /// A consent was recorded.
    ConsentRecord => "consent.record",
    /// A consent was revoked.
    ConsentRevoke => "consent.revoke",
    /// Emergency access was opened: flagged for review.
    BreakGlassStart => "break_glass.start",
    /// Emergency access was closed.
    BreakGlassEnd => "break_glass.end",
    /// An export was released to the client or their guardian.
    ExportRelease => "export.release",
    /// Information left the vault: a disclosure, recorded in the ledger.
    DisclosureRelease => "disclosure.release",
    /// The accounting of disclosures was produced.
    AccountingRead => "accounting.read",
    /// A de-identified extract was made for consultation.
    ExtractDeidentified => "extract.deidentified",
    /// The vault authenticated its state as it stood (the first unlock after the upgrade to
    /// format 8): the entry vouches for every scope of facts and every field set then.
    FactsBaseline => "facts.baseline",
    /// The master key was replaced: every data key re-wrapped, the new key sealed to every
    /// user not removed.
    KeysMasterRotate => "keys.master_rotate",
    /// A rotation of a client's data keys began (fields: the compartments).
    KeysRotate => "keys.rotate",
    /// A rotation of a client's data keys ended: the older versions are deleted.
    KeysRotated => "keys.rotated",
    /// A general-record entry was re-encrypted under a new data key.
    RecordRekey => "record.rekey",
    /// A psychotherapy note was re-encrypted under a new data key.
    NoteRekey => "note.rekey",
    /// A consent's sealed details were re-encrypted under a new data key.
    ConsentRekey => "consent.rekey",
    /// A break-glass grant's sealed reason was re-encrypted under a new data key.
    BreakGlassRekey => "break_glass.rekey",
    /// A client asked for erasure; the answer says what is retained.
    ErasureRequest => "erasure.request",
    /// A client's data keys were destroyed at the end of retention.
    ErasureShred => "erasure.shred",
    /// The vault's witness could not be written to (logged once per outage; format 8).
    WitnessUnreachable => "witness.unreachable",
    /// The vault's witness refused a checkpoint (logged once per outage; format 8).
    WitnessRefused => "witness.refused",
    /// The upgrade to format 9 narrowed consents recorded before scopes existed (fields: the
    /// consents whose reach narrowed, by id).
    ConsentScopesMigrate => "consent.scopes_migrate",
    /// The event a consent names as its end was recorded: it ends from now.
    ConsentExpiryEvent => "consent.expiry_event",
    /// A client's restriction request was recorded, agreed or refused (45 CFR 164.522(a)).
    RestrictionRecord => "restriction.record",
    /// An agreed restriction was lifted.
    RestrictionLift => "restriction.lift",
    /// A minor's guardian (personal representative) was recorded, with a custody order's limits.
    GuardianRecord => "guardian.record",
    /// A guardian's authority was ended.
    GuardianEnd => "guardian.end",
    /// A general-record entry was signed by its author: from now on it is never overwritten.
    RecordSign => "record.sign",
    /// A supervisor co-signed a supervisee's signed entry.
    RecordCosign => "record.cosign",
    /// An addendum was added to a signed entry (its own entry, linked to it).
    RecordAddendum => "record.addendum",
    /// A draft psychotherapy note was written again (the earlier version is kept).
    NoteUpdate => "note.update",
    /// A psychotherapy note was signed by its author.
    NoteSign => "note.sign",
    /// A supervisor co-signed a supervisee's signed psychotherapy note.
    NoteCosign => "note.cosign",
    /// An addendum was added to a signed psychotherapy note.
    NoteAddendum => "note.addendum",
    /// The upgrade to format 10 signed the clinical entries and notes written before it
    /// (fields: `records`, `notes`).
    HistorySignedByUpgrade => "history.signed_by_upgrade",
    /// A client's request to amend their record was received (45 CFR 164.526).
    AmendmentRequest => "amendment.request",
    /// The one 30-day extension of an amendment request's deadline was taken.
    AmendmentExtend => "amendment.extend",
    /// An amendment request was accepted: the amendment is linked to every affected entry.
    AmendmentAccept => "amendment.accept",
    /// An amendment request was denied, in writing, with its basis.
    AmendmentDeny => "amendment.deny",
    /// The client filed a statement of disagreement with a denial.
    AmendmentDisagree => "amendment.disagreement",
    /// The practice wrote a rebuttal of a statement of disagreement.
    AmendmentRebut => "amendment.rebuttal",
    /// Amendment requests were listed or read.
    AmendmentRead => "amendment.read",
    /// An amendment request's sealed details were re-encrypted under a new data key.
    AmendmentRekey => "amendment.rekey",
}

impl AuditAction {
    /// Actions added after layout version 4 froze its table of codes: written as text.
    #[cfg(test)]
    pub(crate) const AFTER_V4: &'static [AuditAction] = &[
        AuditAction::WitnessUnreachable,
        AuditAction::WitnessRefused,
        AuditAction::ConsentScopesMigrate,
        AuditAction::ConsentExpiryEvent,
        AuditAction::RestrictionRecord,
        AuditAction::RestrictionLift,
        AuditAction::GuardianRecord,
        AuditAction::GuardianEnd,
        AuditAction::RecordSign,
        AuditAction::RecordCosign,
        AuditAction::RecordAddendum,
        AuditAction::NoteUpdate,
        AuditAction::NoteSign,
        AuditAction::NoteCosign,
        AuditAction::NoteAddendum,
        AuditAction::HistorySignedByUpgrade,
        AuditAction::AmendmentRequest,
        AuditAction::AmendmentExtend,
        AuditAction::AmendmentAccept,
        AuditAction::AmendmentDeny,
        AuditAction::AmendmentDisagree,
        AuditAction::AmendmentRebut,
        AuditAction::AmendmentRead,
        AuditAction::AmendmentRekey,
    ];
}

impl fmt::Display for AuditAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Why an operation failed, when it was neither granted nor refused by policy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Failure {
    /// Wrong passphrase.
    BadPassphrase,
    /// Unknown user name.
    UnknownUser,
    /// Disabled user.
    UserDisabled,
    /// Removed user.
    UserRemoved,
    /// The session was locked or timed out.
    SessionLocked,
    /// A ciphertext failed authentication.
    Integrity,
    /// The target does not exist.
    NotFound,
    /// The client's data keys were destroyed at the end of retention.
    Erased,
    /// Erasure asked for before the end of retention.
    RetentionNotOver,
    /// The stored Argon2id costs exceed the limits the vault was opened with: nothing derived.
    ExcessiveWork,
    /// A signed entry was asked to be written again.
    Signed,
}

impl Failure {
    /// Every failure.
    #[cfg(test)]
    pub(crate) const ALL: &'static [Failure] = &[
        Failure::BadPassphrase,
        Failure::UnknownUser,
        Failure::UserDisabled,
        Failure::UserRemoved,
        Failure::SessionLocked,
        Failure::Integrity,
        Failure::NotFound,
        Failure::Erased,
        Failure::RetentionNotOver,
        Failure::ExcessiveWork,
        Failure::Signed,
    ];

    fn code(self) -> &'static str {
        match self {
            Failure::BadPassphrase => "bad-passphrase",
            Failure::UnknownUser => "unknown-user",
            Failure::UserDisabled => "user-disabled",
            Failure::UserRemoved => "user-removed",
            Failure::SessionLocked => "session-locked",
            Failure::Integrity => "integrity",
            Failure::NotFound => "not-found",
            Failure::Erased => "erased",
            Failure::RetentionNotOver => "retention-not-over",
            Failure::ExcessiveWork => "excessive-work",
            Failure::Signed => "signed",
        }
    }
}

/// How an audited operation ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Done (an operation the policy does not decide: login, vault creation).
    Granted,
    /// Allowed by the policy on this basis, and done.
    Allowed(Basis),
    /// Released outside the vault on this legal basis.
    Released(LegalBasis),
    /// Refused by the policy.
    Denied(DenyReason),
    /// Failed.
    Failed(Failure),
}

impl Outcome {
    /// The stable code stored in the log: `granted`, `denied:<reason>`, `failed:<what>`.
    pub fn code(self) -> String {
        match self {
            Outcome::Granted => "granted".into(),
            Outcome::Allowed(b) => format!("granted:{}", b.code()),
            Outcome::Released(b) => format!("granted:{}", b.code()),
            Outcome::Denied(r) => format!("denied:{}", r.code()),
            Outcome::Failed(f) => format!("failed:{}", f.code()),
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.code())
    }
}

/// One entry of the audit log, as read back: metadata only, never a field value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditEntry {
    /// Sequence number, from 1, without gaps.
    pub seq: u64,
    /// When, in unix milliseconds (UTC).
    pub at_ms: i64,
    /// Who; `None` for a login attempt by an unknown name.
    pub actor: Option<UserId>,
    /// What (stable code, see [`AuditAction`]).
    pub action: String,
    /// Which client, if any.
    pub client: Option<ClientId>,
    /// Which record or note, as hex, if any.
    pub target: Option<String>,
    /// Field names touched.
    pub fields: Vec<String>,
    /// Purpose of use (HL7 code).
    pub purpose: String,
    /// Outcome code (see [`Outcome::code`]).
    pub outcome: String,
    /// The stored hash of the row before this one in the log (for the first entry, SHA-256 of
    /// the vault id): what this entry's hash was computed after, in an intact log.
    pub prev_hash: [u8; 32],
    /// This entry's hash.
    pub hash: [u8; 32],
}

impl AuditEntry {
    /// Flagged for review: emergency (break-glass) access.
    pub fn is_flagged(&self) -> bool {
        self.action.starts_with("break_glass.") || self.outcome.ends_with(":break-glass")
    }

    /// The time as an RFC 3339 UTC timestamp.
    pub fn time_utc(&self) -> String {
        format_utc(self.at_ms)
    }
}

/// Format unix milliseconds as RFC 3339 UTC, or the raw number if out of range.
pub(crate) fn format_utc(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| format!("{ms}ms"))
}

/// Typed parts of a new entry, before sequencing.
#[derive(Clone, Copy)]
pub(crate) struct NewEntry<'a> {
    pub actor: Option<&'a UserId>,
    pub action: AuditAction,
    pub client: Option<&'a ClientId>,
    pub target: Option<&'a [u8; 16]>,
    pub fields: &'a [&'a str],
    pub purpose: Option<Purpose>,
    pub outcome: Outcome,
}

/// What an entry vouches for besides itself: the stored state it leaves behind, as digests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Vouch {
    /// A ledger row's digest, or a parent's field set ([`fields_digest`](super::fields_digest)
    /// or, when `digest_v2`, [`fields_digest_v2`](super::ledger::fields_digest_v2)).
    pub digest: Option<[u8; 32]>,
    pub digest_v2: bool,
    /// The digest of the scope of facts the action changed.
    pub facts: Option<[u8; 32]>,
}

impl NewEntry<'_> {
    /// The stored bytes of this entry (layout version 4), written after the entry whose hash
    /// is `prev_hash`, at `at_ms`, vouching for what `vouch` names.
    pub(crate) fn encode(&self, prev_hash: &[u8], at_ms: i64, vouch: &Vouch) -> Vec<u8> {
        let outcome = self.outcome.code();
        EntryParts {
            link: prev_hash,
            at_ms,
            actor: self.actor.map(UserId::as_bytes),
            client: self.client.map(ClientId::as_bytes),
            target: self.target,
            digest: vouch.digest.as_ref(),
            digest_v2: vouch.digest_v2,
            facts: vouch.facts.as_ref(),
            action: self.action.code(),
            purpose: self.purpose.map_or("", |p| p.code()),
            outcome: &outcome,
            fields: self.fields,
        }
        .encode()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcome_codes() {
        assert_eq!(Outcome::Granted.code(), "granted");
        assert_eq!(
            Outcome::Denied(DenyReason::NoRelationship).code(),
            "denied:no-relationship"
        );
        assert_eq!(
            Outcome::Allowed(Basis::BreakGlass).code(),
            "granted:break-glass"
        );
        assert_eq!(
            Outcome::Failed(Failure::Integrity).code(),
            "failed:integrity"
        );
        assert_eq!(
            "note.read".parse::<AuditAction>().unwrap(),
            AuditAction::NoteRead
        );
    }
}
