//! The gate: the only code that turns a decision into access, and the only code that can unwrap
//! a data key or open a field.
//!
//! The vault's central promise is an order: check the session, decide, audit, and only then open
//! keys. Here it is a property of the types, not of review:
//!
//! 1. Every public call of a [`Session`] that touches the vault begins with
//!    [`Session::admit`]: the session checks (locked, idle timeout, master key rotated under it,
//!    user disabled or removed) happen there, once, and a failure is audited. What it hands back,
//!    an [`Admitted`], is the only thing that can ask the policy.
//! 2. [`Admitted`]'s decision methods ask [`decide`](crate::policy::decide) (a pure function an
//!    app may also call, to grey out a button: a [`Decision`](crate::policy::Decision) grants
//!    nothing). A refusal is audited and returned as [`Error::Denied`]; a yes becomes a
//!    [`Granted`]: the capability for one [`Target`], with the permitted fields and the basis.
//! 3. Sealing a field, opening one, making or unwrapping a data key, and touching the master
//!    key all take a `Granted`, and check that it covers what they are asked to touch.
//!    `Granted` has no public constructor: only this module makes one, and only from a yes.
//! 4. The one read path, [`Admitted::read_in`], decides every entry asked for, opens what each
//!    decision permits and appends one audit entry per entry, all in one transaction committed
//!    before any plaintext is returned. A single read is a batch of one. Releases (exports,
//!    disclosures, the de-identified extract) and key rotation open fields through
//!    [`Session::open`] under the `Granted` of their own decision, and append their entry in
//!    the same way before they return.
//!
//! Nothing outside this module unwraps a data key, opens or seals an envelope, or reads the
//! data-key rows (`tests/gate.rs` scans for it); the master key reaches an operation only
//! inside `with_master_key`, under a grant that reaches it (managing users, rotating it).

mod decide;
mod facts;
mod keys;
mod read;
mod session;
mod state;

use crate::audit::{AuditAction, Failure};
use crate::db::rows::FieldTable;
use crate::error::Error;
use crate::ids::{ClientId, OwnerId};
use crate::model::{Category, Compartment, Purpose};
use crate::policy::{Basis, PracticeOp};
use crate::value::FieldName;

pub(in crate::vault) use facts::ClientHistory;
pub(in crate::vault) use read::{Ask, ReadItem, Stored};
pub use session::{KeyStats, Session};
pub(in crate::vault) use state::{check_login, seal_first_user};

/// How a request is recorded in the audit log: action, client, target.
#[derive(Clone, Copy)]
pub(in crate::vault) struct AuditAs<'a> {
    pub action: AuditAction,
    pub client: Option<&'a ClientId>,
    pub target: Option<&'a [u8; 16]>,
}

impl<'a> AuditAs<'a> {
    pub(in crate::vault) fn new(action: AuditAction) -> Self {
        Self {
            action,
            client: None,
            target: None,
        }
    }

    pub(in crate::vault) fn client(mut self, client: &'a ClientId) -> Self {
        self.client = Some(client);
        self
    }

    pub(in crate::vault) fn target(mut self, target: &'a [u8; 16]) -> Self {
        self.target = Some(target);
        self
    }
}

/// One stored entry with fields: where its envelopes are and what the policy calls it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(in crate::vault) struct Entry {
    pub table: FieldTable,
    /// The client, case or vault whose data key seals it.
    pub owner: OwnerId,
    /// The record, note, consent or grant id.
    pub parent: [u8; 16],
    pub compartment: Compartment,
    /// What the policy calls it; `None` for the parents that are not entries of a record (a
    /// consent's description, a break-glass reason, a ledger row), which no read decides on.
    pub category: Option<Category>,
}

/// What a [`Granted`] reaches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(in crate::vault) enum Target {
    /// The permitted fields of one entry: a read or a write decided field by field.
    Entry(Entry),
    /// Every entry of these owners (a client, a case, the vault's own ledger): a release
    /// decided as a whole, whose caller may only narrow it, or a rotation of a client's keys.
    Owners(Vec<OwnerId>),
    /// The master key itself: managing users and rotating the master key.
    MasterKey,
    /// No key at all: a change of cleartext facts, a listing, a lookup by blind index.
    Nothing,
}

/// The capability to touch what one decision allowed, and nothing else.
///
/// Made only by [`Admitted`]'s decision methods, from the policy's yes (its constructor is
/// private to the gate), and required by every function that seals, opens or unwraps. It does
/// not outlive the call that asked for it: it is neither `Clone` nor stored.
#[derive(Debug)]
pub(in crate::vault) struct Granted {
    basis: Basis,
    target: Target,
    /// The permitted fields, for a [`Target::Entry`].
    fields: Vec<FieldName>,
}

impl Granted {
    /// Only the gate's decisions make one.
    fn new(basis: Basis, target: Target, fields: Vec<FieldName>) -> Self {
        Self {
            basis,
            target,
            fields,
        }
    }

    /// Why the policy allowed it.
    pub(in crate::vault) fn basis(&self) -> Basis {
        self.basis
    }

    /// Whether this grant reaches `entry` at all.
    fn covers(&self, entry: &Entry) -> bool {
        match &self.target {
            Target::Entry(e) => e == entry,
            Target::Owners(owners) => owners.contains(&entry.owner),
            Target::MasterKey | Target::Nothing => false,
        }
    }

    /// Whether this grant permits the field `name` of `entry`.
    fn permits(&self, entry: &Entry, name: &str) -> bool {
        self.covers(entry)
            && match self.target {
                Target::Entry(_) => self.fields.iter().any(|f| f.as_str() == name),
                _ => true,
            }
    }

    /// Whether this grant reaches the keys of `owner` (sealing, opening, new versions).
    fn reaches_owner(&self, owner: &OwnerId) -> bool {
        match &self.target {
            Target::Entry(e) => &e.owner == owner,
            Target::Owners(owners) => owners.contains(owner),
            Target::MasterKey | Target::Nothing => false,
        }
    }
}

/// A session that passed the gate's checks for one call: the only thing that can ask the
/// policy for a [`Granted`]. Made by [`Session::admit`] alone.
///
/// When it goes, at the end of the call, a scope of facts that failed its MAC while the call
/// gathered facts for a decision is audited (`failed:integrity`, under the call's action): the
/// check fails inside transactions and under the connection's lock, where an entry could not be
/// appended, or would be rolled back with the rest.
pub(in crate::vault) struct Admitted<'s> {
    session: &'s Session,
    action: AuditAction,
    purpose: Purpose,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.session.audit_failed_scope(self.action, self.purpose);
    }
}

/// The refusal a grant that does not cover its use gets: a bug in an operation, failed closed.
fn outside_grant() -> Error {
    Error::Denied {
        reason: crate::policy::DenyReason::FieldNotPermitted,
    }
}

/// The practice operations whose grant reaches the master key.
fn reaches_master_key(op: PracticeOp) -> bool {
    matches!(op, PracticeOp::ManageUsers | PracticeOp::RotateKeys)
}

/// How a failed read or write of fields is recorded.
pub(in crate::vault) fn failure_of(err: &Error) -> Failure {
    match err {
        Error::Erased => Failure::Erased,
        Error::SessionLocked => Failure::SessionLocked,
        Error::Signed { .. } => Failure::Signed,
        _ => Failure::Integrity,
    }
}
