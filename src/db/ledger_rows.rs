//! The disclosure ledger's rows. Append-only: there is an insert and there are reads, nothing
//! else (and the schema's triggers refuse an update or delete from SQL).

use rusqlite::{Connection, params};

use crate::db::audit_rows::{cell, to_sql};
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::model::{LegalBasis, Purpose};
use crate::stored::{Cell, StoredLedger};

/// The ledger's columns, in the order their cells are hashed.
pub(crate) const COLUMNS: &str = "disclosure_id, client_id, case_id, disclosed_at, purpose, \
     legal_basis, categories, consent_id, accountable, released_by, audit_seq";

/// Insert one ledger row given as its cells (in [`COLUMNS`] order), so what is stored is
/// exactly what was hashed.
pub(crate) fn insert(conn: &Connection, cells: &[Cell; 11]) -> Result<()> {
    let values: Vec<rusqlite::types::Value> = cells.iter().map(to_sql).collect();
    conn.prepare_cached(&format!(
        "INSERT INTO disclosures ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
    ))?
    .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// The sealed fields of one disclosure, as hashed: (field, key_version, envelope) by field.
pub(crate) fn field_cells(conn: &Connection, id: &[u8]) -> Result<Vec<[Cell; 3]>> {
    let mut stmt = conn.prepare_cached(
        "SELECT field, key_version, envelope FROM disclosure_fields WHERE disclosure_id = ?1 \
         ORDER BY field",
    )?;
    let mut rows = stmt.query([id])?;
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

fn has_ledger(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'disclosures'",
        )?
        .exists([])?)
}

/// Feed every ledger row to `f` (nothing for a vault older than format 3).
pub(crate) fn for_each_stored(conn: &Connection, mut f: impl FnMut(StoredLedger)) -> Result<()> {
    if !has_ledger(conn)? {
        return Ok(());
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM disclosures ORDER BY audit_seq, disclosure_id"
    ))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let cells = (0..11)
            .map(|i| Ok(cell(r.get_ref(i)?)))
            .collect::<Result<Vec<_>>>()?;
        let id = match &cells[0] {
            Cell::Blob(b) => b.clone(),
            _ => Vec::new(),
        };
        let audit_seq = match cells[10] {
            Cell::Integer(s) => s,
            _ => 0,
        };
        let fields = field_cells(conn, &id)?;
        f(StoredLedger {
            id,
            audit_seq,
            cells,
            fields,
        });
    }
    Ok(())
}

/// A ledger row's cleartext columns, for the accounting.
pub(crate) struct LedgerMeta {
    pub id: [u8; 16],
    pub disclosed_at: i64,
    pub purpose: Purpose,
    pub basis: LegalBasis,
    pub accountable: bool,
    pub audit_seq: i64,
    /// Made about another member of one of the client's cases, carrying the joint record
    /// while the client was a member: the client's information left too.
    pub about_other: bool,
}

/// The client's disclosures since `since_ms`, oldest first: those made about them, and those
/// about another member of a case they belonged to that carried the case's joint record (a
/// release names its case only then; the categories column is not what decides).
pub(crate) fn ledger_of(
    conn: &Connection,
    client: &ClientId,
    since_ms: i64,
) -> Result<Vec<LedgerMeta>> {
    let mut stmt = conn.prepare_cached(
        "SELECT disclosure_id, disclosed_at, purpose, legal_basis, accountable, audit_seq, \
                client_id != ?1 FROM disclosures d \
         WHERE disclosed_at >= ?2 AND (client_id = ?1 OR ( \
             case_id IS NOT NULL \
             AND EXISTS (SELECT 1 FROM case_members m WHERE m.case_id = d.case_id \
                 AND m.client_id = ?1 AND m.joined_at <= d.disclosed_at \
                 AND (m.left_at IS NULL OR m.left_at >= d.disclosed_at)))) \
         ORDER BY disclosed_at, audit_seq",
    )?;
    let rows = stmt.query_map(params![client.as_bytes(), since_ms], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, i64>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, bool>(4)?,
            r.get::<_, i64>(5)?,
            r.get::<_, bool>(6)?,
        ))
    })?;
    let corrupt = |what: &str| Error::Corrupt { what: what.into() };
    rows.map(|row| {
        let (id, disclosed_at, purpose, basis, accountable, audit_seq, about_other) = row?;
        Ok(LedgerMeta {
            id: id.try_into().map_err(|_| corrupt("disclosure id"))?,
            disclosed_at,
            purpose: purpose.parse().map_err(|_| corrupt("disclosure purpose"))?,
            basis: basis.parse().map_err(|_| corrupt("legal basis"))?,
            accountable,
            audit_seq,
            about_other,
        })
    })
    .collect()
}
