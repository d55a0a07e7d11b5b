//! The one error type of the crate.
//!
//! Every message is lowercase, names places by pseudonymous id only, and never carries field
//! values, passphrases or key bytes: an error may end up in a log the practice does not control.

use std::fmt;
use std::path::PathBuf;

/// Everything that can go wrong in confide.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The passphrase did not unlock the user's copy of the master key.
    #[error("wrong passphrase")]
    BadPassphrase,
    /// No user of that name exists in this vault.
    #[error("unknown user")]
    UnknownUser,
    /// The user exists but may not log in.
    #[error("user is disabled")]
    UserDisabled,
    /// The user was removed from the vault.
    #[error("user was removed")]
    UserRemoved,
    /// The session was locked, by its user or after the idle timeout: log in again.
    #[error("session is locked: log in again")]
    SessionLocked,
    /// The vault file does not exist.
    #[error("no vault at {}", path.display())]
    VaultNotFound {
        /// Where the vault was looked for.
        path: PathBuf,
    },
    /// A file exists where a new vault was to be created.
    #[error("a file already exists at {}", path.display())]
    AlreadyExists {
        /// The existing file.
        path: PathBuf,
    },
    /// The file is not a confide vault (not SQLite, or another application's database).
    #[error("not a confide vault")]
    NotAVault,
    /// The vault was written by a newer version of confide.
    #[error("vault format {found} is newer than the supported format {supported}")]
    NewerFormat {
        /// The format version recorded in the file.
        found: u32,
        /// The newest format this build understands.
        supported: u32,
    },
    /// The policy refused the request. The refusal has been audited.
    #[error("access denied: {reason}")]
    Denied {
        /// Why, as a stable code.
        reason: DenyReason,
    },
    /// The entry is signed, and a signed entry is never written again: a correction is an
    /// addendum, its own entry linked to it. The refusal has been audited.
    #[error("the entry is signed and is never overwritten: correct it with {next}")]
    Signed {
        /// The call that adds the correction.
        next: &'static str,
    },
    /// A ciphertext failed authentication: it was changed, moved or swapped.
    /// The failure has been audited.
    #[error("integrity check failed at {place}")]
    Integrity {
        /// Where the envelope was read from.
        place: Place,
    },
    /// A stored value is malformed in a way authentication cannot explain (e.g. a bad row shape).
    #[error("corrupt vault data: {what}")]
    Corrupt {
        /// What was malformed.
        what: String,
    },
    /// No such object, or none the caller may know of.
    #[error("not found: {what}")]
    NotFound {
        /// The kind of object.
        what: &'static str,
    },
    /// The caller passed a value the vault cannot accept.
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// Which input.
        what: &'static str,
        /// Why it was refused.
        reason: String,
    },
    /// Refused before doing it: more work than allowed. Argon2id costs read from the file
    /// above the limits the vault was opened with (`VaultConfig::kdf_limits`; a login so
    /// refused is audited and derives nothing), or a count past its ceiling.
    #[error("refused: more work than allowed ({what})")]
    ExcessiveWork {
        /// Which parameter or count is too large.
        what: &'static str,
    },
    /// The database is locked by another writer and the busy timeout ran out.
    #[error("vault is busy")]
    Busy,
    /// The client's data keys were destroyed at the end of retention: their content is gone.
    #[error("erased: this client's data keys were destroyed at the end of retention")]
    Erased,
    /// Erasure was asked for before the end of retention.
    #[error("retained until {until} ({basis})")]
    Retained {
        /// The end of retention (RFC 3339).
        until: String,
        /// Why it is kept.
        basis: &'static str,
    },
    /// The disk is full; nothing was written.
    #[error("disk full")]
    DiskFull,
    /// The vault's witness could not be written to (a required witness: the operation's own
    /// entries are committed in the vault, but it did not complete).
    #[error("witness at {} unreachable: {reason}", path.display())]
    WitnessUnreachable {
        /// The witness file.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// The vault's witness refused a checkpoint: it does not extend the last one the witness
    /// holds (the vault was rolled back or forked, or the witness is another vault's), or the
    /// witness file is damaged.
    #[error("the witness refused the checkpoint at seq {seq}: {reason}")]
    WitnessRefused {
        /// The sequence number concerned.
        seq: u64,
        /// Why, in words.
        reason: &'static str,
    },
    /// The underlying database failed.
    #[error("storage error: {0}")]
    Storage(String),
    /// An operating-system I/O error.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// The system random source or a cryptographic primitive failed.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
}

/// Where an envelope lives: table, owner, record and field, by pseudonymous id.
///
/// Used in integrity errors so a practice can find the damaged value without seeing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The table the envelope was read from.
    pub table: &'static str,
    /// Owner (client) id, hex.
    pub owner: String,
    /// Record or note id, hex.
    pub record: String,
    /// Field name.
    pub field: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} owner={} record={} field={}",
            self.table, self.owner, self.record, self.field
        )
    }
}

/// Why a request was refused. The code is stored in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenyReason {
    /// The role may never have this (told only to a requester with a relationship to the
    /// client; anyone else gets [`DenyReason::NoRelationship`]).
    RoleNotPermitted,
    /// The stated purpose does not justify this access.
    PurposeNotPermitted,
    /// The requester has no relationship with this client (or the target does not exist: the
    /// two are not told apart). The only reason someone with no relationship is ever given,
    /// whatever they asked for, so that no answer confirms a record exists.
    NoRelationship,
    /// Psychotherapy notes go to their author (and a training supervisor) only.
    NotNoteAuthor,
    /// The consent that would allow this has expired or is not yet in force.
    ConsentNotInForce,
    /// The consent that would allow this was revoked.
    ConsentRevoked,
    /// The minor consented to their own care, a court directed it, or the guardian agreed to
    /// confidentiality: the guardian is shut out.
    MinorProtected,
    /// Break-glass never opens this category.
    BreakGlassExcluded,
    /// One member's individual-session notes never reach another member.
    AnotherMembersNotes,
    /// Members of a group never see the group's shared record or each other.
    GroupPrivacy,
    /// Held in confidence: the disclosing member has not consented to sharing.
    HeldInConfidence,
    /// A field outside the role's minimum-necessary set.
    FieldNotPermitted,
    /// The consent cited is in force but does not name this category, purpose or recipient.
    OutsideConsent,
    /// The person acting for a minor is not their personal representative for this act
    /// (45 CFR 164.502(g)): not recorded as this minor's guardian, ended, past the custody
    /// order's end date, or without the right the order gives for it (access, authorizing).
    NotPersonalRepresentative,
    /// Only an entry's author signs it (and only their supervisor in a training programme
    /// co-signs it).
    NotAuthor,
}

impl DenyReason {
    /// Every reason.
    #[cfg(test)]
    pub(crate) const ALL: &'static [DenyReason] = &[
        DenyReason::RoleNotPermitted,
        DenyReason::PurposeNotPermitted,
        DenyReason::NoRelationship,
        DenyReason::NotNoteAuthor,
        DenyReason::ConsentNotInForce,
        DenyReason::ConsentRevoked,
        DenyReason::MinorProtected,
        DenyReason::BreakGlassExcluded,
        DenyReason::AnotherMembersNotes,
        DenyReason::GroupPrivacy,
        DenyReason::HeldInConfidence,
        DenyReason::FieldNotPermitted,
        DenyReason::OutsideConsent,
        DenyReason::NotPersonalRepresentative,
        DenyReason::NotAuthor,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            DenyReason::RoleNotPermitted => "role-not-permitted",
            DenyReason::PurposeNotPermitted => "purpose-not-permitted",
            DenyReason::NoRelationship => "no-relationship",
            DenyReason::NotNoteAuthor => "not-note-author",
            DenyReason::ConsentNotInForce => "consent-not-in-force",
            DenyReason::ConsentRevoked => "consent-revoked",
            DenyReason::MinorProtected => "minor-protected",
            DenyReason::BreakGlassExcluded => "break-glass-excluded",
            DenyReason::AnotherMembersNotes => "another-members-notes",
            DenyReason::GroupPrivacy => "group-privacy",
            DenyReason::HeldInConfidence => "held-in-confidence",
            DenyReason::FieldNotPermitted => "field-not-permitted",
            DenyReason::OutsideConsent => "outside-consent",
            DenyReason::NotPersonalRepresentative => "not-personal-representative",
            DenyReason::NotAuthor => "not-author",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
