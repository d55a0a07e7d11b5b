//! The access policy: a pure function from a request and the facts about it to a decision.
//!
//! No I/O happens here. The vault gathers the facts from cleartext metadata, asks
//! [`decide`], audits the answer and only then unwraps any data key (DESIGN.md invariant 3).

mod decide;

pub use decide::{Access, Decision, DenyReason, Facts, Request, decide};
