//! Field tables: one sealed envelope per (parent, field), and the digest each parent records
//! of its whole set of fields.

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::audit_rows::cell;
use crate::error::Result;
use crate::stored::Cell;

/// Which field table. Each holds the envelopes of one kind of parent row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldTable {
    Records,
    Notes,
    CaseRecords,
    Consents,
    BreakGlass,
    Disclosures,
    Amendments,
}

impl FieldTable {
    /// The table name, also bound into each envelope's associated data.
    pub(crate) fn name(self) -> &'static str {
        match self {
            FieldTable::Records => "record_fields",
            FieldTable::Notes => "psychotherapy_note_fields",
            FieldTable::CaseRecords => "case_record_fields",
            FieldTable::Consents => "consent_fields",
            FieldTable::BreakGlass => "break_glass_fields",
            FieldTable::Disclosures => "disclosure_fields",
            FieldTable::Amendments => "amendment_fields",
        }
    }

    /// The tables whose parents' write entries vouch for their fields (the disclosure ledger
    /// has its own digest).
    pub(crate) const VOUCHED: [FieldTable; 6] = [
        FieldTable::Records,
        FieldTable::Notes,
        FieldTable::CaseRecords,
        FieldTable::Consents,
        FieldTable::BreakGlass,
        FieldTable::Amendments,
    ];

    /// The table of parent rows that record a digest of their fields (not the ledger, whose
    /// rows have their own).
    fn parent_table(self) -> Option<&'static str> {
        match self {
            FieldTable::Records => Some("records"),
            FieldTable::Notes => Some("psychotherapy_notes"),
            FieldTable::CaseRecords => Some("case_records"),
            FieldTable::Consents => Some("consents"),
            FieldTable::BreakGlass => Some("break_glass"),
            FieldTable::Amendments => Some("amendment_requests"),
            FieldTable::Disclosures => None,
        }
    }

    pub(super) fn parent_column(self) -> &'static str {
        match self {
            FieldTable::Records | FieldTable::CaseRecords => "record_id",
            FieldTable::Notes => "note_id",
            FieldTable::Consents => "consent_id",
            FieldTable::BreakGlass => "grant_id",
            FieldTable::Disclosures => "disclosure_id",
            FieldTable::Amendments => "request_id",
        }
    }
}

/// One parent's stored fields as hashed cells (field, key_version, envelope), by field name.
pub(crate) fn field_cells(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<Vec<[Cell; 3]>> {
    let sql = format!(
        "SELECT field, key_version, envelope FROM {} WHERE {} = ?1 ORDER BY field",
        table.name(),
        table.parent_column()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([parent])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push([
            cell(r.get_ref(0)?),
            cell(r.get_ref(1)?),
            cell(r.get_ref(2)?),
        ]);
    }
    Ok(out)
}

/// Feed every parent of `table` with its stored fields (as cells, by name) to `f`. Nothing for
/// a table an older vault does not have.
pub(crate) fn for_each_parent(
    conn: &Connection,
    table: FieldTable,
    mut f: impl FnMut(Vec<u8>, Vec<[Cell; 3]>),
) -> Result<()> {
    let exists = conn
        .prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
        .exists([table.name()])?;
    if !exists {
        return Ok(());
    }
    let sql = format!(
        "SELECT {p}, field, key_version, envelope FROM {t} ORDER BY {p}, field",
        p = table.parent_column(),
        t = table.name()
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut current: Option<(Vec<u8>, Vec<[Cell; 3]>)> = None;
    while let Some(r) = rows.next()? {
        let parent = match r.get_ref(0)? {
            rusqlite::types::ValueRef::Blob(b) => b.to_vec(),
            _ => Vec::new(),
        };
        let cells = [
            cell(r.get_ref(1)?),
            cell(r.get_ref(2)?),
            cell(r.get_ref(3)?),
        ];
        match &mut current {
            Some((p, fields)) if *p == parent => fields.push(cells),
            _ => {
                if let Some((p, fields)) = current.take() {
                    f(p, fields);
                }
                current = Some((parent, vec![cells]));
            }
        }
    }
    if let Some((p, fields)) = current {
        f(p, fields);
    }
    Ok(())
}

/// A stored field: name, key version, envelope.
pub(crate) struct FieldRow {
    pub field: String,
    pub key_version: u32,
    pub envelope: Vec<u8>,
}

pub(crate) fn upsert_field(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    row: &FieldRow,
) -> Result<()> {
    let sql = format!(
        "INSERT OR REPLACE INTO {} ({}, field, key_version, envelope) VALUES (?1, ?2, ?3, ?4)",
        table.name(),
        table.parent_column()
    );
    conn.prepare_cached(&sql)?.execute(params![
        parent,
        row.field,
        row.key_version,
        row.envelope
    ])?;
    Ok(())
}

/// Every stored field of `parent`, in name order.
pub(crate) fn fields(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<Vec<FieldRow>> {
    let sql = format!(
        "SELECT field, key_version, envelope FROM {} WHERE {} = ?1 ORDER BY field",
        table.name(),
        table.parent_column()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([parent], |r| {
        Ok(FieldRow {
            field: r.get(0)?,
            key_version: r.get(1)?,
            envelope: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What authenticates a parent row and its fields: the columns a decision reads from it
/// (`head`), how many times its fields were written, and its stored MAC.
#[derive(Clone, Debug, Default)]
pub(crate) struct ParentAuth {
    pub head: Vec<Cell>,
    pub write_version: i64,
    pub mac: Option<Vec<u8>>,
}

impl FieldTable {
    /// The parent's columns a decision reads, then `write_version` and `mac`. Records and
    /// notes select their history columns (format 10) after the others, starting with
    /// `status`: see [`FieldTable::head_len`].
    fn head_sql(self) -> Option<&'static str> {
        Some(match self {
            FieldTable::Records => {
                "SELECT client_id, kind, case_id, status, created_by, signed_by, signed_at, \
                 cosigned_by, cosigned_at, addendum_of, amends, write_version, mac FROM records \
                 WHERE record_id = ?1"
            }
            FieldTable::Notes => {
                "SELECT client_id, author_id, status, signed_by, signed_at, cosigned_by, \
                 cosigned_at, addendum_of, write_version, mac FROM psychotherapy_notes \
                 WHERE note_id = ?1"
            }
            FieldTable::CaseRecords => {
                "SELECT case_id, write_version, mac FROM case_records WHERE record_id = ?1"
            }
            FieldTable::Consents => {
                "SELECT client_id, write_version, mac FROM consents WHERE consent_id = ?1"
            }
            FieldTable::BreakGlass => {
                "SELECT client_id, user_id, write_version, mac FROM break_glass \
                 WHERE grant_id = ?1"
            }
            FieldTable::Amendments => {
                "SELECT client_id, write_version, mac FROM amendment_requests \
                 WHERE request_id = ?1"
            }
            FieldTable::Disclosures => return None,
        })
    }

    /// How many head columns [`FieldTable::head_sql`] selects before `write_version`, and
    /// how many of them a row written before format 10 is authenticated by. A record or note
    /// whose `status` (the first column after those) is NULL was written before: its head is
    /// the older columns only, as its MAC and its log entries cover them. A status set on such
    /// a row, or cleared on a newer one, changes the head and fails the MAC.
    pub(crate) fn head_len(self) -> (usize, usize) {
        match self {
            FieldTable::Records => (11, 3),
            FieldTable::Notes => (8, 2),
            FieldTable::BreakGlass => (2, 2),
            FieldTable::CaseRecords | FieldTable::Consents | FieldTable::Amendments => (1, 1),
            FieldTable::Disclosures => (0, 0),
        }
    }

    /// The parents' head columns, for every parent of the table.
    fn all_heads_sql(self) -> Option<String> {
        let one = self.head_sql()?;
        let (columns, rest) = one.split_once(" FROM ")?;
        let table = rest.split_whitespace().next()?;
        Some(format!("{columns}, {} FROM {table}", self.parent_column()))
    }
}

/// The head of a parent as authenticated: every selected column, or for a row written before
/// format 10 (its `status`, at `older`, is NULL) the older columns only.
pub(crate) fn authenticated_head(mut cells: Vec<Cell>, older: usize) -> Vec<Cell> {
    if matches!(cells.get(older), Some(Cell::Null)) {
        cells.truncate(older);
    }
    cells
}

fn parent_auth_of(
    r: &rusqlite::Row<'_>,
    (head, older): (usize, usize),
) -> rusqlite::Result<ParentAuth> {
    let mut cells = Vec::with_capacity(head);
    for i in 0..head {
        cells.push(cell(r.get_ref(i)?));
    }
    Ok(ParentAuth {
        head: authenticated_head(cells, older),
        write_version: r.get(head)?,
        mac: r.get(head + 1)?,
    })
}

/// The authenticating columns of `parent`, if it exists.
pub(crate) fn parent_auth(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<Option<ParentAuth>> {
    let Some(sql) = table.head_sql() else {
        return Ok(None);
    };
    let head = table.head_len();
    Ok(conn
        .prepare_cached(sql)?
        .query_row([parent], |r| parent_auth_of(r, head))
        .optional()?)
}

/// Every parent of `table` with its authenticating columns (a vault of format 8 or later; one
/// older than format 10, read for verification without migrating it, has only the older
/// columns, and no table of amendment requests).
pub(crate) fn for_each_parent_auth(
    conn: &Connection,
    table: FieldTable,
    mut f: impl FnMut(Vec<u8>, ParentAuth),
) -> Result<()> {
    let (Some(sql), Some(parents)) = (table.all_heads_sql(), table.parent_table()) else {
        return Ok(());
    };
    let columns = conn
        .prepare_cached("SELECT name FROM pragma_table_info(?1)")?
        .query_map([parents], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    if columns.is_empty() {
        return Ok(());
    }
    let (mut head, older) = table.head_len();
    let sql = if head > older && !columns.iter().any(|c| c == "status") {
        // Before format 10: the older head columns, then write_version, mac and the id.
        let (select, rest) = sql.split_once(" FROM ").unwrap_or((&sql, ""));
        let picked: Vec<&str> = select
            .trim_start_matches("SELECT ")
            .split(", ")
            .enumerate()
            .filter(|(i, _)| *i < older || *i >= head)
            .map(|(_, c)| c)
            .collect();
        head = older;
        format!("SELECT {} FROM {rest}", picked.join(", "))
    } else {
        sql
    };
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let auth = parent_auth_of(r, (head, older))?;
        let id = match r.get_ref(head + 2)? {
            rusqlite::types::ValueRef::Blob(b) => b.to_vec(),
            _ => Vec::new(),
        };
        f(id, auth);
    }
    Ok(())
}

/// Count one more write of `parent`'s fields; returns the new count.
pub(crate) fn bump_write_version(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<i64> {
    let Some(parents) = table.parent_table() else {
        return Ok(0);
    };
    let sql = format!(
        "UPDATE {parents} SET write_version = write_version + 1 WHERE {} = ?1 \
         RETURNING write_version",
        table.parent_column()
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([parent], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Store `parent`'s field-set digest and the MAC over it.
pub(crate) fn set_parent_mac(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    digest: &[u8],
    mac: &[u8],
) -> Result<()> {
    let Some(parents) = table.parent_table() else {
        return Ok(());
    };
    let sql = format!(
        "UPDATE {parents} SET fields_digest = ?2, mac = ?3 WHERE {} = ?1",
        table.parent_column()
    );
    conn.prepare_cached(&sql)?
        .execute(params![parent, digest, mac])?;
    Ok(())
}
