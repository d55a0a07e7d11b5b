//! Storage: the only module that runs SQL.

pub(crate) mod audit_rows;
mod conn;
pub(crate) mod ledger_rows;
pub(crate) mod policy_rows;
pub(crate) mod rows;

pub use conn::{Durability, FORMAT_VERSION};
pub(crate) use conn::{cap_size, create, open, open_for_copy, open_read_only};
