//! General-record entries: their cleartext metadata.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, RecordId, UserId};
use crate::model::RecordKind;
use crate::stored::Cell;

use super::fields::{ParentAuth, authenticated_head};
use super::history::History;

/// Metadata of a general-record entry (all cleartext: ids, kind, times).
#[derive(Clone, Debug)]
pub(crate) struct RecordRow {
    pub id: RecordId,
    pub client: ClientId,
    pub kind: RecordKind,
    pub created_at: i64,
    pub created_by: UserId,
    pub updated_at: i64,
    /// For individual case notes: the case.
    pub case: Option<CaseId>,
    /// Its signing and links (format 10).
    pub history: History,
    /// Its decision columns as stored, write count and MAC.
    pub auth: ParentAuth,
}

pub(crate) fn insert_record(conn: &Connection, r: &RecordRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO records (record_id, client_id, kind, created_at, created_by, updated_at, \
         case_id, status, signed_by, signed_at, cosigned_by, cosigned_at, addendum_of, amends) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
    )?
    .execute(params![
        r.id.as_bytes(),
        r.client.as_bytes(),
        r.kind.code(),
        r.created_at,
        r.created_by.as_bytes(),
        r.updated_at,
        r.case.as_ref().map(CaseId::as_bytes),
        r.history.status.code(),
        r.history.signed().map(|(by, _)| by.as_bytes().to_vec()),
        r.history.signed().map(|(_, at)| at),
        r.history.cosigned.map(|(by, _)| by.as_bytes().to_vec()),
        r.history.cosigned.map(|(_, at)| at),
        r.history.addendum_of.as_ref().map(|a| &a[..]),
        r.history.amends.as_ref().map(|a| &a[..]),
    ])?;
    Ok(())
}

pub(crate) fn touch_record(conn: &Connection, id: &RecordId, at: i64) -> Result<()> {
    conn.prepare_cached("UPDATE records SET updated_at = ?2 WHERE record_id = ?1")?
        .execute(params![id.as_bytes(), at])?;
    Ok(())
}

const RECORD_COLUMNS: &str = "record_id, client_id, kind, created_at, created_by, updated_at, \
     case_id, write_version, mac, status, signed_by, signed_at, cosigned_by, cosigned_at, \
     addendum_of, amends";

/// A `records` row as stored: id, client, kind, created, creator, updated, case, write count,
/// MAC, then its history columns.
type RawRecord = (
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    Vec<u8>,
    i64,
    Option<Vec<u8>>,
    (i64, Option<Vec<u8>>),
    [Cell; 7],
);

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    let c = |i| r.get_ref(i).map(crate::db::audit_rows::cell);
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        (r.get(7)?, r.get(8)?),
        [c(9)?, c(10)?, c(11)?, c(12)?, c(13)?, c(14)?, c(15)?],
    ))
}

fn record_row(raw: RawRecord) -> Result<RecordRow> {
    let (id, client, kind, created_at, by, updated_at, case, (write_version, mac), hist) = raw;
    let history = History::from_cells(&hist)?;
    // The decision columns exactly as `FieldTable::Records` selects them.
    let [
        status,
        signed_by,
        signed_at,
        cosigned_by,
        cosigned_at,
        addendum_of,
        amends,
    ] = hist;
    let cells = vec![
        Cell::Blob(client.clone()),
        Cell::Text(kind.as_bytes().to_vec()),
        Cell::opt_blob(case.as_deref()),
        status,
        Cell::Blob(by.clone()),
        signed_by,
        signed_at,
        cosigned_by,
        cosigned_at,
        addendum_of,
        amends,
    ];
    let auth = ParentAuth {
        head: authenticated_head(cells, 3),
        write_version,
        mac,
    };
    Ok(RecordRow {
        id: RecordId::from_slice(&id)?,
        client: ClientId::from_slice(&client)?,
        kind: kind.parse().map_err(|_| Error::Corrupt {
            what: "record kind".into(),
        })?,
        created_at,
        created_by: UserId::from_slice(&by)?,
        updated_at,
        case: case.map(|c| CaseId::from_slice(&c)).transpose()?,
        history,
        auth,
    })
}

pub(crate) fn record(conn: &Connection, id: &RecordId) -> Result<Option<RecordRow>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE record_id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id.as_bytes()], record_from_row)
        .optional()?
        .map(record_row)
        .transpose()
}

pub(crate) fn records_of(conn: &Connection, client: &ClientId) -> Result<Vec<RecordRow>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE client_id = ?1 ORDER BY created_at, record_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([client.as_bytes()], record_from_row)?;
    rows.map(|r| record_row(r?)).collect()
}
