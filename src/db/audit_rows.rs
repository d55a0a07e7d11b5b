//! The audit log's rows: append one entry, stream them back for verification and reading.
//!
//! A row is `(seq, entry, hash)` since format 6. A vault older than that, opened read-only
//! (verification never migrates), has a column per part of an entry; its rows are read as
//! their canonical bytes, which is what the format 6 migration stores for them.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::stored::{Cell, EntryCells, StoredCheckpoint, StoredEntry, canonical_bytes};

/// An entry's columns before format 6, in hashed order, then the stored hash.
const COLUMNS: &str =
    "seq, at, actor, action, client_id, target_id, fields, purpose, outcome, digest, hash";

/// The same columns for a vault older than format 3, which has no digest column.
const COLUMNS_BEFORE_DIGEST: &str =
    "seq, at, actor, action, client_id, target_id, fields, purpose, outcome, NULL, hash";

/// How a vault stores its log.
#[derive(Clone, Copy)]
enum Layout {
    /// Format 6 on: one blob per entry.
    Blob,
    /// Before format 6: one column per part (these columns).
    Columns(&'static str),
}

impl Layout {
    fn of(conn: &Connection, table: &str) -> Result<Layout> {
        let has = |column: &str| -> Result<bool> {
            Ok(conn
                .prepare_cached("SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2")?
                .exists([table, column])?)
        };
        Ok(if has("entry")? {
            Layout::Blob
        } else if has("digest")? {
            Layout::Columns(COLUMNS)
        } else {
            Layout::Columns(COLUMNS_BEFORE_DIGEST)
        })
    }

    /// `SELECT <this layout's columns> FROM <table> <rest>`.
    fn select(self, table: &str, rest: &str) -> String {
        let columns = match self {
            Layout::Blob => "seq, entry, hash",
            Layout::Columns(c) => c,
        };
        format!("SELECT {columns} FROM {table} {rest}")
    }

    /// Refill `e` from a row selected by [`Layout::select`], reusing its buffers.
    fn refill(self, e: &mut StoredEntry, r: &rusqlite::Row<'_>) -> rusqlite::Result<()> {
        e.hashed_after_previous_row = false;
        match self {
            Layout::Blob => {
                e.seq = int(r.get_ref(0)?);
                set_bytes(&mut e.entry, r.get_ref(1)?);
                set_bytes(&mut e.hash, r.get_ref(2)?);
            }
            Layout::Columns(_) => {
                let mut cells: [Cell; 10] = Default::default();
                for (i, c) in cells.iter_mut().enumerate() {
                    *c = cell(r.get_ref(i)?);
                }
                e.seq = match cells[0] {
                    Cell::Integer(s) => s,
                    _ => 0,
                };
                e.entry = canonical_bytes(&EntryCells(cells));
                set_bytes(&mut e.hash, r.get_ref(10)?);
            }
        }
        Ok(())
    }

    fn stored(self, r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredEntry> {
        let mut e = StoredEntry::default();
        self.refill(&mut e, r)?;
        Ok(e)
    }
}

/// The newest entry's sequence number and hash.
pub(crate) fn head(conn: &Connection) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The newest sequence number, or 0 for an empty log: how many entries an intact log holds.
pub(crate) fn max_seq(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM audit_log")?
        .query_row([], |r| r.get(0))?)
}

/// The hash of the entry before `seq`: the stored hash at `seq - 1`, or `genesis` for the
/// first entry. `None` when the log lacks that row.
pub(crate) fn hash_before(conn: &Connection, seq: i64, genesis: &[u8]) -> Result<Option<Vec<u8>>> {
    if seq <= 1 {
        return Ok(Some(genesis.to_vec()));
    }
    Ok(conn
        .prepare_cached("SELECT hash FROM audit_log WHERE seq = ?1")?
        .query_row([seq - 1], |r| Ok(bytes(r.get_ref(0)?)))
        .optional()?)
}

/// Store `entry` (its bytes) at `seq` with its `hash` (chained after the hash of the row
/// before, which the caller computed). Must run inside the caller's write transaction, after
/// reading [`head`] in it.
pub(crate) fn append(conn: &Connection, seq: i64, entry: &[u8], hash: &[u8; 32]) -> Result<()> {
    conn.prepare_cached("INSERT INTO audit_log (seq, entry, hash) VALUES (?1, ?2, ?3)")?
        .execute(params![seq, entry, &hash[..]])?;
    Ok(())
}

/// Move the rows of a log older than format 6 (renamed `audit_log_v5` by the migration) into
/// the new table: each entry's canonical bytes become its blob, its hash stays. Runs inside the
/// migration's transaction.
pub(crate) fn move_rows_before_format_6(tx: &Connection) -> Result<()> {
    if !has_table(tx, "audit_log_v5")? {
        return Ok(());
    }
    let layout = Layout::of(tx, "audit_log_v5")?;
    {
        let mut read = tx.prepare(&layout.select("audit_log_v5", "ORDER BY seq"))?;
        let mut write =
            tx.prepare("INSERT INTO audit_log (seq, entry, hash) VALUES (?1, ?2, ?3)")?;
        let mut rows = read.query([])?;
        let mut e = StoredEntry::default();
        while let Some(r) = rows.next()? {
            layout.refill(&mut e, r)?;
            write.execute(params![e.seq, e.entry, e.hash])?;
        }
    }
    tx.execute_batch("DROP TABLE audit_log_v5")?;
    Ok(())
}

pub(crate) fn to_sql(c: &Cell) -> rusqlite::types::Value {
    use rusqlite::types::Value;
    match c {
        Cell::Null => Value::Null,
        Cell::Integer(i) => Value::Integer(*i),
        Cell::Real(r) => Value::Real(*r),
        // Only the vault writes these rows, and it writes valid UTF-8.
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

fn int(v: ValueRef<'_>) -> i64 {
    match v {
        ValueRef::Integer(i) => i,
        _ => 0,
    }
}

fn bytes(v: ValueRef<'_>) -> Vec<u8> {
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => b.to_vec(),
        _ => Vec::new(),
    }
}

fn set_bytes(buf: &mut Vec<u8>, v: ValueRef<'_>) {
    buf.clear();
    if let ValueRef::Blob(b) | ValueRef::Text(b) = v {
        buf.extend_from_slice(b);
    }
}

/// Feed every entry with `seq >= from`, in order, to `f`. One entry buffer is refilled for
/// each row, so a log of millions of entries is read without an allocation per entry.
pub(crate) fn for_each(
    conn: &Connection,
    from: i64,
    mut f: impl FnMut(&StoredEntry),
) -> Result<()> {
    let layout = Layout::of(conn, "audit_log")?;
    let mut stmt = conn.prepare(&layout.select("audit_log", "WHERE seq >= ?1 ORDER BY seq"))?;
    let mut rows = stmt.query([from])?;
    let mut e = StoredEntry::default();
    while let Some(r) = rows.next()? {
        layout.refill(&mut e, r)?;
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

    /// The same, to annotate before handing the batch on.
    pub(crate) fn entries_mut(&mut self) -> &mut [StoredEntry] {
        &mut self.entries[..self.len]
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
    let layout = Layout::of(conn, "audit_log")?;
    let mut stmt = conn.prepare(&layout.select("audit_log", "WHERE seq >= ?1 ORDER BY seq"))?;
    let mut rows = stmt.query([from])?;
    let mut batch = empty();
    batch.len = 0;
    while let Some(r) = rows.next()? {
        if batch.len == batch.entries.len() {
            batch.entries.push(StoredEntry::default());
        }
        layout.refill(&mut batch.entries[batch.len], r)?;
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
    let layout = Layout::of(conn, "audit_log")?;
    let sql = layout.select("audit_log", "WHERE seq = ?1");
    Ok(conn
        .prepare(&sql)?
        .query_row([seq], |r| layout.stored(r))
        .optional()?)
}

/// The last `n` entries, oldest first.
pub(crate) fn tail(conn: &Connection, n: u32) -> Result<Vec<StoredEntry>> {
    let layout = Layout::of(conn, "audit_log")?;
    let sql = layout.select(
        "(SELECT * FROM audit_log ORDER BY seq DESC LIMIT ?1)",
        "ORDER BY seq",
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([n], |r| layout.stored(r))?;
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

/// Store a checkpoint (inside the caller's transaction). A second checkpoint of the same entry
/// is ignored: one entry has one checkpoint.
pub(crate) fn insert_checkpoint(conn: &Connection, c: &StoredCheckpoint) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO audit_checkpoints (seq, entry_hash, signature, at, state) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![c.seq, c.hash, c.signature, c.at, c.state])?;
    Ok(())
}

/// Every checkpoint, in sequence order (none for a vault older than format 4; no state for one
/// older than format 8, which verification reads without migrating).
pub(crate) fn checkpoints(conn: &Connection) -> Result<Vec<StoredCheckpoint>> {
    checkpoints_where(conn, "", [])
}

/// The checkpoints of version 2 (with a state) after `seq`, in sequence order: what a witness
/// has yet to hold.
pub(crate) fn checkpoints_with_state_after(
    conn: &Connection,
    seq: i64,
) -> Result<Vec<StoredCheckpoint>> {
    checkpoints_where(conn, "WHERE seq > ?1 AND state IS NOT NULL", [seq])
}

/// The newest checkpoint, if any.
pub(crate) fn newest_checkpoint(conn: &Connection) -> Result<Option<StoredCheckpoint>> {
    Ok(checkpoints_where(conn, "ORDER BY seq DESC LIMIT 1", [])?.pop())
}

fn checkpoints_where<P: rusqlite::Params>(
    conn: &Connection,
    rest: &str,
    params: P,
) -> Result<Vec<StoredCheckpoint>> {
    if !has_table(conn, "audit_checkpoints")? {
        return Ok(Vec::new());
    }
    let has_state = conn
        .prepare_cached(
            "SELECT 1 FROM pragma_table_info('audit_checkpoints') WHERE name = 'state'",
        )?
        .exists([])?;
    let state = if has_state { "state" } else { "NULL" };
    // The caller's clause orders or filters; the outer query always returns them by seq.
    let sql = format!(
        "SELECT * FROM (SELECT seq, entry_hash, signature, at, {state} FROM audit_checkpoints \
         {rest}) ORDER BY seq"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params, |r| {
        Ok(StoredCheckpoint {
            seq: r.get(0)?,
            hash: bytes(r.get_ref(1)?),
            signature: bytes(r.get_ref(2)?),
            at: int(r.get_ref(3)?),
            state: match r.get_ref(4)? {
                ValueRef::Integer(i) => Some(i),
                _ => None,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
