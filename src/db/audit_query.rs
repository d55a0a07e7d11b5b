//! Filtered reads of the audit log, for showing entries to a reviewer. Verification streams
//! every row through `audit_rows::for_each` instead.
//!
//! Every statement is static text: the filter's values are bound, never spliced, and an unset
//! criterion binds NULL and matches every row.

use rusqlite::Connection;

use crate::audit::{EntryCells, StoredEntry};
use crate::db::audit_rows::cell;
use crate::error::Result;

/// The hashed columns in table order, with NULL in the digest's place: display needs no digest,
/// and a vault older than format 3 has no such column (a read-only reader never migrates).
const SELECT_MATCHING: &str = "\
    SELECT seq, at, actor, action, client_id, target_id, fields, purpose, outcome, NULL, \
           prev_hash, hash \
    FROM audit_log \
    WHERE (?1 IS NULL OR client_id = ?1) \
      AND (?2 IS NULL OR actor = ?2) \
      AND (?3 IS NULL OR action = ?3) \
      AND (?4 IS NULL OR at >= ?4) \
      AND (?5 IS NULL OR at < ?5) \
      AND (?6 IS NULL OR seq <= ?6) \
    ORDER BY seq";

/// What to select, as stored values. `None` matches every row.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Criteria<'a> {
    pub client: Option<&'a [u8]>,
    pub actor: Option<&'a [u8]>,
    pub action: Option<&'a str>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub before_ms: Option<i64>,
    /// Inclusive.
    pub through_seq: Option<i64>,
}

/// The entries matching `c`, oldest first.
pub(crate) fn matching(conn: &Connection, c: &Criteria<'_>) -> Result<Vec<StoredEntry>> {
    let mut stmt = conn.prepare_cached(SELECT_MATCHING)?;
    let rows = stmt.query_map(
        rusqlite::params![
            c.client,
            c.actor,
            c.action,
            c.from_ms,
            c.before_ms,
            c.through_seq
        ],
        |r| {
            let mut cells: [crate::audit::Cell; 10] = Default::default();
            for (i, slot) in cells.iter_mut().enumerate() {
                *slot = cell(r.get_ref(i)?);
            }
            Ok(StoredEntry {
                cells: EntryCells(cells),
                prev_hash: bytes(r.get_ref(10)?),
                hash: bytes(r.get_ref(11)?),
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn bytes(v: rusqlite::types::ValueRef<'_>) -> Vec<u8> {
    match v {
        rusqlite::types::ValueRef::Blob(b) | rusqlite::types::ValueRef::Text(b) => b.to_vec(),
        _ => Vec::new(),
    }
}

/// Does any entry name this client?
pub(crate) fn names_client(conn: &Connection, client: &[u8]) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM audit_log WHERE client_id = ?1 LIMIT 1")?
        .exists([client])?)
}

/// Does any entry name this user as its actor?
pub(crate) fn names_actor(conn: &Connection, actor: &[u8]) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM audit_log WHERE actor = ?1 LIMIT 1")?
        .exists([actor])?)
}

/// The newest sequence number, or 0 for an empty log: how many entries an intact log holds.
pub(crate) fn max_seq(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM audit_log")?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, actor BLOB, \
             action TEXT NOT NULL, client_id BLOB, target_id BLOB, fields TEXT NOT NULL, \
             purpose TEXT NOT NULL, outcome TEXT NOT NULL, prev_hash BLOB NOT NULL, \
             hash BLOB NOT NULL);",
        )
        .unwrap();
        let rows: [(i64, i64, u8, &str, Option<u8>); 4] = [
            (1, 1_000, 1, "vault.create", None),
            (2, 2_000, 1, "record.read", Some(7)),
            (3, 3_000, 2, "record.read", Some(8)),
            (4, 4_000, 2, "note.read", Some(7)),
        ];
        for (seq, at, actor, action, client) in rows {
            conn.execute(
                "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4, ?5, NULL, '', 'TREAT', 'granted', \
                 zeroblob(32), zeroblob(32))",
                rusqlite::params![
                    seq,
                    at,
                    vec![actor; 16],
                    action,
                    client.map(|c| vec![c; 16])
                ],
            )
            .unwrap();
        }
        conn
    }

    fn seqs(conn: &Connection, c: &Criteria<'_>) -> Vec<i64> {
        matching(conn, c)
            .unwrap()
            .iter()
            .map(|e| match e.cells.0[0] {
                crate::audit::Cell::Integer(s) => s,
                _ => -1,
            })
            .collect()
    }

    #[test]
    fn criteria_combine_and_unset_ones_match_everything() {
        let conn = log();
        assert_eq!(seqs(&conn, &Criteria::default()), [1, 2, 3, 4]);
        let seven = [7u8; 16];
        let two = [2u8; 16];
        let client = Criteria {
            client: Some(&seven),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &client), [2, 4]);
        let actor = Criteria {
            actor: Some(&two),
            action: Some("record.read"),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &actor), [3]);
        let window = Criteria {
            from_ms: Some(2_000),
            before_ms: Some(4_000),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &window), [2, 3]);
        let head = Criteria {
            through_seq: Some(2),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &head), [1, 2]);
        assert!(names_client(&conn, &seven).unwrap());
        assert!(!names_client(&conn, &two).unwrap());
        assert!(names_actor(&conn, &two).unwrap());
        assert_eq!(max_seq(&conn).unwrap(), 4);
    }
}
