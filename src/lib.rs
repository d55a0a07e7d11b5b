//! confide: an encrypted, audit-logged clinical-records store for mental-health practices.
//!
//! One SQLite file per practice (a *vault*). Every clinical field is sealed on its own with
//! AES-256-GCM under a per-client data key, bound to where it is stored; psychotherapy notes live
//! in their own tables under their own key; every request is decided by the policy *before* any
//! key is unwrapped; and every read, write, refusal and failure is appended to a hash-chained
//! audit log that [`verify_audit_log`] (and the `audit-verify` tool) checks without a passphrase.
//!
//! ```
//! use confide::{KdfParams, NewClient, Passphrase, Purpose, RecordKind, Role, Value, Vault,
//!               VaultConfig, Date, verify_audit_log};
//! # fn main() -> confide::Result<()> {
//! # let dir = tempfile::tempdir()?;
//! # let path = dir.path().join("practice.vault");
//! // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
//! let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
//! let vault = Vault::create(&path, "admin", &Passphrase::new("admin passphrase"), config)?;
//!
//! let admin = vault.unlock("admin", &Passphrase::new("admin passphrase"))?;
//! admin.add_user("dr.rivera", Role::Clinician, &Passphrase::new("rivera passphrase"))?;
//!
//! let dr = vault.unlock("dr.rivera", &Passphrase::new("rivera passphrase"))?;
//! let client = dr.create_client(
//!     &NewClient { full_name: "Sam Doe".into(), date_of_birth: Date::new(1990, 4, 2)? },
//!     Purpose::Treatment,
//! )?;
//! let dx = dr.create_record(&client, RecordKind::Diagnosis,
//!     &[("code", Value::code("F41.1"))], Purpose::Treatment)?;
//! let record = dr.read_record(&dx, Purpose::Treatment)?;
//! // Shown to the clinician as text that wipes itself when dropped.
//! let code = record.get("code").map(Value::reveal).unwrap_or_default();
//! assert_eq!(code.as_str(), "F41.1");
//!
//! // An administrator has no clinical access: refused, and the refusal is audited.
//! assert!(matches!(admin.read_record(&dx, Purpose::Operations),
//!                  Err(confide::Error::Denied { .. })));
//! assert!(verify_audit_log(&path)?.is_intact());
//! # Ok(())
//! # }
//! ```
//!
//! The public interface is:
//!
//! - [`Vault`], one practice's file (create, open, unlock, back up, restore), and its
//!   [`VaultConfig`];
//! - [`Session`], a logged-in user: every operation on records, notes, cases, consents,
//!   releases, users and keys, each admitted by the vault's gate, decided, audited;
//! - what those operations take and return: [`NewClient`], [`Record`], [`Note`],
//!   [`JointRecord`], [`NewConsent`], [`NewRestriction`], [`DisclosureRequest`], [`ReleasePackage`], [`Export`],
//!   [`AccountingEntry`], and the ids and values they name;
//! - [`verify_audit_log`] and [`read_audit_log`], which need no passphrase, and their reports;
//! - [`decide`], the pure access policy, for an app to preview a decision (a [`Decision`]
//!   grants nothing: only the vault's gate opens a key);
//! - [`Error`], one enum for every failure.
//!
//! Everything else is private, or hidden from these docs where the project's own tests and
//! tools need it.

#![forbid(unsafe_code)]
// Library code answers bad input with a typed error, never a panic. Tests may unwrap.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod audit;
mod clock;
mod codec;
mod crypto;
mod db;
mod disclosure;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod ids;
mod model;
mod policy;
pub mod scope;
mod stored;
#[cfg(feature = "synth")]
#[doc(hidden)]
pub mod synth;
mod value;
mod vault;

// The public interface (see the crate documentation), by concept.
pub use audit::{
    Anchor, AuditAction, AuditEntry, AuditFilter, AuditLog, CLOCK_TOLERANCE_MS, Failure, Finding,
    FindingKind, Outcome, VerifyReport, Warning, WitnessFile,
};
pub use clock::Clock;
#[cfg(feature = "test-clock")]
pub use clock::TestClock;
pub use crypto::envelope::ENVELOPE_OVERHEAD;
pub use crypto::kdf::{KdfLimits, KdfParams};
pub use db::{Durability, FORMAT_VERSION};
pub use disclosure::{
    AccountingEntry, ConsentCopy, ConsultationExtract, DisclosureRequest, Dispute, DisputeRef,
    ErasureAnswer, Manifest, NamedField, Order, OutsideParty, PackageItem, PersonAtRisk,
    Protective, ReleasePackage, ReleasedPart, Retained, WithheldPart,
};
pub use error::{Error, Place, Result};
pub use ids::{
    AmendmentId, CaseId, ClientId, ConsentId, GuardianId, JointRecordId, NoteId, RecordId,
    RestrictionId, UserId, VaultId,
};
pub use model::{
    CaseKind, Category, Compartment, GuardianBasis, Purpose, RecordKind, Role, SecretsPolicy,
};
pub use policy::{
    Access, Basis, Decision, DenyReason, Facts, Grant, LegalBasis, MinorFacts, PracticeOp,
    REDISCLOSURE_NOTICE, Recipient, ReleaseScope, Request, decide,
};
// Policy internals an app never calls: the policy's own tests build them directly.
#[doc(hidden)]
pub use policy::{
    CaseFacts, ConsentFact, DisclosureAsk, DisclosureFacts, DisclosureGrant, FreeText, Limit,
    Scope, decide_disclosure,
};
pub use value::{Date, FieldName, MAX_FIELD_BYTES, Value};
pub use vault::{
    AMENDMENT_DUE_MS, AMENDMENT_EXTENSION_MS, Amendment, AmendmentDecision, AmendmentSummary,
    BackupSummary, ConsentRecipient, ConsentSummary, DEFAULT_IDLE_TIMEOUT, DEFAULT_SEAL_WITHIN,
    Denial, DenialBasis, EntryStatus, EntryVersion, Export, GuardianSummary, JointRecord, KeyStats,
    MAX_BREAK_GLASS_MINUTES, MAX_SEAL_WITHIN, MAX_SEALS_PER_KEY, MIN_PASSPHRASE_CHARS,
    MasterKeyRotation, NarrowedConsent, NewAmendment, NewClient, NewConsent, NewGuardian,
    NewRestriction, Note, Passphrase, Record, RecordSummary, RestoreOptions, RestrictionSummary,
    Rotation, Session, Signature, SignedByUpgrade, Vault, VaultConfig, VerifiedState,
    VerifyOptions, Withheld, audit_log_len, export_anchor, read_audit_log, staff_user_id,
    vault_id_of, verify_audit_log, verify_audit_log_observed, verify_audit_log_with,
};
#[doc(hidden)]
pub use vault::{audit_canonical_bytes, audit_hash};
/// The minimum-necessary field sets of the access matrix.
pub mod fields {
    pub use crate::policy::{
        BILLING_DEMOGRAPHICS, CODES, CONTACT_DEMOGRAPHICS, DATES_OF_SERVICE, PROTECTIVE_MINIMUM,
        SCHEDULING,
    };
}
