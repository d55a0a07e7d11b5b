//! The hash-chained audit log: entries, their canonical bytes, and verification.
//!
//! `hash = SHA-256("confide/audit/v1" ‖ previous hash ‖ seq ‖ entry)` over each row's stored
//! entry bytes ([`layout`]), with the genesis "previous hash" `SHA-256(vault id)`. Verification
//! needs no key: it is shared by the vault and the `audit-verify` binary.

mod compact;
mod deadlines;
mod entry;
mod layout;
mod ledger;
mod query;
mod report;
mod seal_state;
mod seals;
mod state;
mod verify;
mod witness;

pub use entry::{AuditAction, AuditEntry, Failure, Outcome};
pub(crate) use entry::{NewEntry, Vouch, format_utc, genesis_hash};
// Stored values and rows, named here too for the vault, which hashes and checks them.
pub(crate) use crate::stored::{Cell, StoredEntry};
pub(crate) use deadlines::{CHECKPOINTED, MAX_SEAL_WITHIN_MS, SEALING};
#[cfg(test)]
pub(crate) use layout::EntryParts;
pub(crate) use layout::{EntryView, entry_hash};
pub(crate) use ledger::{fields_digest_v2, fields_digest_v2_of, ledger_digest};
pub use query::{AuditFilter, AuditLog};
pub(crate) use query::{Matcher, parse_run};
pub use report::{CLOCK_TOLERANCE_MS, Finding, FindingKind, VerifyReport, Warning};
pub(crate) use seal_state::SealState;
pub use seals::Anchor;
pub(crate) use seals::checkpoint_verifies;
pub(crate) use state::StoredHead;
pub(crate) use verify::Verifier;
pub use witness::WitnessFile;
pub(crate) use witness::{
    Event as WitnessEvent, MAX_LINE as MAX_WITNESS_LINE, WitnessLine, extends,
};
