//! Transactions, and the storage's errors in the vault's terms.
//!
//! The vault works through [`Conn`], a connection or the transaction open on it, and never runs
//! a statement itself: beginning, committing and rolling back, savepoints, copies and WAL
//! checkpoints are functions here.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// The connection, or the transaction open on it, that the vault passes to `db/`.
pub(crate) type Conn = Connection;

/// Run a statement without parameters or rows, prepared once per connection.
fn run(conn: &Connection, sql: &str) -> Result<()> {
    conn.prepare_cached(sql)?.execute([])?;
    Ok(())
}

/// Begin a write transaction, taking the write lock now.
pub(crate) fn begin_immediate(conn: &Connection) -> Result<()> {
    run(conn, "BEGIN IMMEDIATE")
}

/// Commit the open transaction.
pub(crate) fn commit(conn: &Connection) -> Result<()> {
    run(conn, "COMMIT")
}

/// Roll the open transaction back, if there still is one (best effort: a failure leaves SQLite
/// to roll it back when the connection closes).
pub(crate) fn rollback(conn: &Connection) {
    if !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
}

/// Whether a transaction is open on `conn` (SQLite ends one itself on a full disk or an I/O
/// error).
pub(crate) fn in_transaction(conn: &Connection) -> bool {
    !conn.is_autocommit()
}

/// Run `f` in a savepoint of the open transaction: kept if it succeeds, undone alone if it
/// fails. The flag is false when the transaction can no longer be trusted (the savepoint could
/// not be released, or undone).
pub(crate) fn in_savepoint<T>(
    conn: &mut Connection,
    f: impl FnOnce(&Connection) -> Result<T>,
) -> (Result<T>, bool) {
    match conn.savepoint() {
        Err(e) => (Err(Error::from(e)), true),
        Ok(mut sp) => match f(&sp) {
            Ok(value) => match sp.commit() {
                Ok(()) => (Ok(value), true),
                Err(e) => (Err(Error::from(e)), false),
            },
            Err(e) => {
                let clean = sp.rollback().is_ok() && sp.commit().is_ok();
                (Err(e), clean)
            }
        },
    }
}

/// Copy the database, consistent and compacted, to a new file at `target`.
pub(crate) fn vacuum_into(conn: &Connection, target: &str) -> Result<()> {
    conn.execute("VACUUM INTO ?1", [target])?;
    Ok(())
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode;
        match &e {
            // The vault's own statements name only tables and columns its schema has: one that
            // is missing was damaged.
            rusqlite::Error::SqlInputError { msg, .. }
                if msg.starts_with("no such column") || msg.starts_with("no such table") =>
            {
                Error::Corrupt {
                    what: "vault schema".into(),
                }
            }
            rusqlite::Error::SqliteFailure(_, Some(msg))
                if msg.starts_with("no such column") || msg.starts_with("no such table") =>
            {
                Error::Corrupt {
                    what: "vault schema".into(),
                }
            }
            rusqlite::Error::SqliteFailure(f, _) => match f.code {
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => Error::Busy,
                ErrorCode::DiskFull => Error::DiskFull,
                ErrorCode::NotADatabase => Error::NotAVault,
                ErrorCode::DatabaseCorrupt => Error::Corrupt {
                    what: "database file".into(),
                },
                // The SQLite message names the failing constraint or step, never a bound value.
                _ => Error::Storage(f.to_string()),
            },
            rusqlite::Error::QueryReturnedNoRows => Error::NotFound { what: "row" },
            // Conversion errors name a column type, not its content.
            rusqlite::Error::FromSqlConversionFailure(..)
            | rusqlite::Error::InvalidColumnType(..)
            | rusqlite::Error::IntegralValueOutOfRange(..) => Error::Corrupt {
                what: "column of unexpected type".into(),
            },
            // Other variants describe API misuse; their text holds no bound values.
            _ => Error::Storage(e.to_string()),
        }
    }
}
