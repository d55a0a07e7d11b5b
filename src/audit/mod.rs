//! The hash-chained audit log: entries, their canonical bytes, and verification.
//!
//! `entry_hash = SHA-256("confide/audit/v1" ‖ prev_hash ‖ canonical_bytes(entry))`, with the
//! genesis `prev_hash = SHA-256(vault id)`. Verification needs no key: it is shared by the
//! vault and the `audit-verify` binary.

mod entry;
mod ledger;
mod query;
mod seals;
mod state;
mod verify;

pub use entry::{AuditAction, AuditEntry, Failure, Outcome};
pub(crate) use entry::{
    Cell, EntryCells, NewEntry, canonical_bytes, chain_hash, format_utc, genesis_hash,
    hash_canonical,
};
pub(crate) use ledger::{StoredLedger, fields_digest, fields_digest_of, ledger_digest};
pub(crate) use query::parse_entry;
pub use query::{AuditFilter, AuditLog, audit_log_len, read_audit_log, staff_user_id};
pub use seals::Anchor;
pub use verify::{Finding, FindingKind, VerifyReport, Warning};
pub(crate) use verify::{StoredEntry, Verifier};
