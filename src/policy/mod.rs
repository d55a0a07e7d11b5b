//! The access policy: a pure function from a request and the facts about it to a decision.
//!
//! No I/O happens here. The vault gathers the facts from cleartext metadata, asks
//! [`decide`], audits the answer and only then unwraps any data key (DESIGN.md invariant 3).
//! The role × category matrix is data, in `matrix.rs`.

mod decide;
mod disclosure;
mod matrix;
mod types;

// Plain-data vocabulary that lower floors (error, audit, db) use as well: defined there, named
// here too so `policy::X` reads as the policy's own.
pub use crate::error::DenyReason;
pub use crate::model::{Basis, LegalBasis};
pub use decide::decide;
pub(crate) use disclosure::may_release;
pub use disclosure::{
    DisclosureAsk, DisclosureFacts, DisclosureGrant, FreeText, Limit, PROTECTIVE_MINIMUM,
    REDISCLOSURE_NOTICE, decide_disclosure,
};
pub use matrix::{
    BILLING_DEMOGRAPHICS, CODES, CONTACT_DEMOGRAPHICS, DATES_OF_SERVICE, SCHEDULING, Scope,
};

pub use crate::scope::{Condition, ReleaseScope};
pub use types::{
    Access, CaseFacts, ConsentFact, Decision, Facts, Grant, MinorFacts, PracticeOp, Recipient,
    Request,
};
