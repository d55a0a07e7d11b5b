//! The access policy: a pure function from a request and the facts about it to a decision.
//!
//! No I/O happens here. The vault gathers the facts from cleartext metadata, asks
//! [`decide`], audits the answer and only then unwraps any data key (DESIGN.md invariant 3).
//! The role × category matrix is data, in `matrix.rs`.

mod decide;
mod disclosure;
mod matrix;
mod types;

pub use decide::decide;
pub use disclosure::{
    DisclosureAsk, DisclosureFacts, DisclosureGrant, LegalBasis, REDISCLOSURE_NOTICE,
    decide_disclosure,
};
pub use matrix::{
    BILLING_DEMOGRAPHICS, CODES, CONTACT_DEMOGRAPHICS, DATES_OF_SERVICE, SCHEDULING, Scope,
};

pub use types::{
    Access, Basis, CaseFacts, ConsentFact, Decision, DenyReason, Facts, Grant, MinorFacts,
    PracticeOp, Recipient, Request,
};
