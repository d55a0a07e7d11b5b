//! The audit log's rows: append one entry, stream them back for verification and reading.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use crate::audit::{Cell, EntryCells, StoredEntry, chain_hash};
use crate::error::Result;

const COLUMNS: &str = "seq, at, actor, action, client_id, target_id, fields, purpose, outcome, digest, prev_hash, hash";

/// The same columns for a vault older than format 3, which has no digest column (read-only
/// verification never migrates).
const COLUMNS_BEFORE_DIGEST: &str =
    "seq, at, actor, action, client_id, target_id, fields, purpose, outcome, NULL, prev_hash, hash";

fn columns(conn: &Connection) -> Result<&'static str> {
    let has_digest = conn
        .prepare_cached("SELECT 1 FROM pragma_table_info('audit_log') WHERE name = 'digest'")?
        .exists([])?;
    Ok(if has_digest {
        COLUMNS
    } else {
        COLUMNS_BEFORE_DIGEST
    })
}

/// The newest entry's sequence number and hash.
pub(crate) fn head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Chain `cells` (already carrying its sequence number) after `prev_hash` and insert it.
/// Must run inside the caller's write transaction, after reading [`head`] in it.
pub(crate) fn append(conn: &Connection, cells: &EntryCells, prev_hash: &[u8]) -> Result<[u8; 32]> {
    let hash = chain_hash(prev_hash, cells);
    let c = &cells.0;
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT INTO audit_log ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
    ))?;
    stmt.execute(params![
        to_sql(&c[0]),
        to_sql(&c[1]),
        to_sql(&c[2]),
        to_sql(&c[3]),
        to_sql(&c[4]),
        to_sql(&c[5]),
        to_sql(&c[6]),
        to_sql(&c[7]),
        to_sql(&c[8]),
        to_sql(&c[9]),
        prev_hash,
        &hash[..]
    ])?;
    Ok(hash)
}

pub(crate) fn to_sql(c: &Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match c {
        Cell::Null => Value::Null,
        Cell::Integer(i) => Value::Integer(*i),
        Cell::Real(r) => Value::Real(*r),
        // Only the vault writes entries, and it writes valid UTF-8.
        Cell::Text(s) => Value::Text(String::from_utf8_lossy(s).into_owned()),
        Cell::Blob(b) => Value::Blob(b.clone()),
    }
}

pub(crate) fn cell(v: ValueRef<'_>) -> Cell {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Integer(i),
        ValueRef::Real(r) => Cell::Real(r),
        // Text is kept byte for byte: invalid UTF-8 put there by a tamperer hashes as stored.
        ValueRef::Text(t) => Cell::Text(t.to_vec()),
        ValueRef::Blob(b) => Cell::Blob(b.to_vec()),
    }
}

fn bytes(v: ValueRef<'_>) -> Vec<u8> {
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
        _ => Vec::new(),
    }
}

fn stored(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEntry> {
    let mut cells: [Cell; 10] = Default::default();
    for (i, c) in cells.iter_mut().enumerate() {
        *c = cell(r.get_ref(i)?);
    }
    Ok(StoredEntry {
        cells: EntryCells(cells),
        prev_hash: bytes(r.get_ref(10)?),
        hash: bytes(r.get_ref(11)?),
    })
}

/// Set `c` to `v`, reusing its buffer when it already holds text or a blob.
fn set_cell(c: &mut Cell, v: ValueRef<'_>) {
    match (c, v) {
        (Cell::Text(buf), ValueRef::Text(t)) | (Cell::Blob(buf), ValueRef::Blob(t)) => {
            buf.clear();
            buf.extend_from_slice(t);
        }
        (c, v) => *c = cell(v),
    }
}

fn set_bytes(buf: &mut Vec<u8>, v: ValueRef<'_>) {
    buf.clear();
    if let ValueRef::Blob(b) | ValueRef::Text(b) = v {
        buf.extend_from_slice(b);
    }
}

/// Refill `e` from a row of [`COLUMNS`], reusing its buffers.
fn refill(e: &mut StoredEntry, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
    for (i, c) in e.cells.0.iter_mut().enumerate() {
        set_cell(c, r.get_ref(i)?);
    }
    set_bytes(&mut e.prev_hash, r.get_ref(10)?);
    set_bytes(&mut e.hash, r.get_ref(11)?);
    Ok(())
}

/// Feed every entry with `seq >= from`, in order, to `f`. One entry buffer is refilled for
/// each row, so a log of millions of entries is read without an allocation per entry.
pub(crate) fn for_each(
    conn: &Connection,
    from: i64,
    mut f: impl FnMut(&StoredEntry),
) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM audit_log WHERE seq >= ?1 ORDER BY seq",
        columns(conn)?
    ))?;
    let mut rows = stmt.query([from])?;
    let mut e = StoredEntry::default();
    while let Some(r) = rows.next()? {
        refill(&mut e, r)?;
        f(&e);
    }
    Ok(())
}

/// Entries read in one go, their buffers kept for the next batch.
#[derive(Default)]
pub(crate) struct EntryBatch {
    entries: Vec<StoredEntry>,
    len: usize,
}

impl EntryBatch {
    /// The entries this batch holds now.
    pub(crate) fn entries(&self) -> &[StoredEntry] {
        &self.entries[..self.len]
    }
}

/// Every entry with `seq >= from`, in order, in batches of up to `size`: each batch comes from
/// `empty` (a fresh one, or one whose buffers are to be reused), is filled, and is handed to
/// `full`, which returns false to stop early. For a reading thread feeding a verifying one.
pub(crate) fn for_each_batch(
    conn: &Connection,
    from: i64,
    size: usize,
    mut empty: impl FnMut() -> EntryBatch,
    mut full: impl FnMut(EntryBatch) -> bool,
) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {} FROM audit_log WHERE seq >= ?1 ORDER BY seq",
        columns(conn)?
    ))?;
    let mut rows = stmt.query([from])?;
    let mut batch = empty();
    batch.len = 0;
    while let Some(r) = rows.next()? {
        if batch.len == batch.entries.len() {
            batch.entries.push(StoredEntry::default());
        }
        refill(&mut batch.entries[batch.len], r)?;
        batch.len += 1;
        if batch.len == size {
            if !full(batch) {
                return Ok(());
            }
            batch = empty();
            batch.len = 0;
        }
    }
    if batch.len > 0 {
        full(batch);
    }
    Ok(())
}

/// The entry at `seq`, if the log holds one.
pub(crate) fn entry_at(conn: &Connection, seq: i64) -> Result<Option<StoredEntry>> {
    let sql = format!("SELECT {} FROM audit_log WHERE seq = ?1", columns(conn)?);
    Ok(conn.prepare(&sql)?.query_row([seq], stored).optional()?)
}

/// The last `n` entries, oldest first.
pub(crate) fn tail(conn: &Connection, n: u32) -> Result<Vec<StoredEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {} FROM (SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?1) ORDER BY seq",
        columns(conn)?
    ))?;
    let rows = stmt.query_map([n], stored)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn has_table(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
        .exists([name])?)
}

/// Store the audit signing key (once per vault).
pub(crate) fn insert_audit_key(
    conn: &Connection,
    public: &[u8],
    wrapped: &[u8],
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_key (id, public_key, wrapped_key, created_at) VALUES (1, ?1, ?2, ?3)",
    )?
    .execute(rusqlite::params![public, wrapped, at])?;
    Ok(())
}

/// The audit key's (public half, sealed private half), if the vault has one.
pub(crate) fn audit_key(conn: &Connection) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
    if !has_table(conn, "audit_key")? {
        return Ok(None);
    }
    Ok(conn
        .prepare_cached("SELECT public_key, wrapped_key FROM audit_key WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Replace the sealed private half of the audit key (a master-key rotation re-seals it).
pub(crate) fn set_audit_key_wrap(conn: &Connection, wrapped: &[u8]) -> Result<()> {
    conn.prepare_cached("UPDATE audit_key SET wrapped_key = ?1 WHERE id = 1")?
        .execute([wrapped])?;
    Ok(())
}

pub(crate) fn insert_checkpoint(
    conn: &Connection,
    seq: i64,
    hash: &[u8],
    signature: &[u8],
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO audit_checkpoints (seq, entry_hash, signature, at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(rusqlite::params![seq, hash, signature, at])?;
    Ok(())
}

/// One stored checkpoint: (seq, entry hash, signature, time).
pub(crate) type StoredCheckpoint = (i64, Vec<u8>, Vec<u8>, i64);

/// Every checkpoint, in sequence order (none for a vault older than format 4).
pub(crate) fn checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>> {
    if !has_table(conn, "audit_checkpoints")? {
        return Ok(Vec::new());
    }
    let mut stmt =
        conn.prepare("SELECT seq, entry_hash, signature, at FROM audit_checkpoints ORDER BY seq")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get(0)?,
            bytes(r.get_ref(1)?),
            bytes(r.get_ref(2)?),
            r.get(3)?,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
