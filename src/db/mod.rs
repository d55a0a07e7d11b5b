//! Storage: the only module that runs SQL.

pub(crate) mod amendment_rows;
pub(crate) mod audit_rows;
mod conn;
pub(crate) mod fact_rows;
pub(crate) mod ledger_rows;
pub(crate) mod policy_rows;
pub(crate) mod release_rows;
pub(crate) mod rows;
pub(crate) mod session_rows;
mod tx;

pub use conn::{Durability, FORMAT_VERSION};
pub(crate) use conn::{
    cap_size, checkpoint_wal, create, open, open_for_copy, open_read_only, sync_wal,
};
pub(crate) use tx::{
    Conn, begin_immediate, commit, in_savepoint, in_transaction, rollback, vacuum_into,
};
