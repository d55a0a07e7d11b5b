//! Record history (format 10): signing columns of records and notes, which entries are addenda
//! of which, and the superseded envelopes of a draft, kept under `field@write`.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::{ClientId, UserId};
use crate::stored::Cell;

use super::fields::FieldTable;

/// Where an entry stands in its history.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Status {
    /// Written before format 10 (`status` NULL): its meaning depends on its kind.
    #[default]
    Before,
    /// A draft: its fields may be written again (each earlier version is kept). A clinical
    /// entry or a note, and a fact of its client until it is signed.
    Draft,
    /// An administrative entry (format 10 on): never signed, always open to updates.
    Open,
    /// Signed by `by` at `at`: never written again.
    Signed { by: UserId, at: i64 },
}

impl Status {
    /// The stored code (NULL before format 10).
    pub(crate) fn code(self) -> Option<i64> {
        match self {
            Status::Before => None,
            Status::Draft => Some(1),
            Status::Signed { .. } => Some(2),
            Status::Open => Some(3),
        }
    }
}

/// An entry's signing and links, as stored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct History {
    pub status: Status,
    /// A supervisor's co-signature: who, when.
    pub cosigned: Option<(UserId, i64)>,
    /// For an addendum: the entry it corrects.
    pub addendum_of: Option<[u8; 16]>,
    /// For an addendum that carries out an amendment: the request.
    pub amends: Option<[u8; 16]>,
}

fn corrupt(what: &str) -> Error {
    Error::Corrupt { what: what.into() }
}

// The history cells are read leniently: a cell of the wrong type or shape reads as absent,
// and a status that disagrees with its signature reads by its code alone. Every one of them is
// under the entry's MAC, over the cells as stored, which every use checks before trusting the
// row; failing here instead would fail before that check, unaudited, as corruption rather
// than the tampering it is.

fn user(c: &Cell) -> Option<UserId> {
    match c {
        Cell::Blob(b) => UserId::from_slice(b).ok(),
        _ => None,
    }
}

fn time(c: &Cell) -> Option<i64> {
    match c {
        Cell::Integer(i) => Some(*i),
        _ => None,
    }
}

fn id(c: &Cell) -> Option<[u8; 16]> {
    match c {
        Cell::Blob(b) => <[u8; 16]>::try_from(b.as_slice()).ok(),
        _ => None,
    }
}

/// Who and when, if both are there.
fn signature(by: &Cell, at: &Cell) -> Option<(UserId, i64)> {
    Some((user(by)?, time(at)?))
}

impl History {
    /// A new draft.
    pub(crate) fn draft() -> History {
        History {
            status: Status::Draft,
            ..History::default()
        }
    }

    /// A new entry as it starts: a draft if its kind is signed documentation, else open.
    pub(crate) fn new_entry(signed_documentation: bool) -> History {
        History {
            status: if signed_documentation {
                Status::Draft
            } else {
                Status::Open
            },
            ..History::default()
        }
    }

    /// A new addendum of `of`, signed by its author as it is written.
    pub(crate) fn addendum(of: [u8; 16], by: UserId, at: i64, amends: Option<[u8; 16]>) -> History {
        History {
            status: Status::Signed { by, at },
            addendum_of: Some(of),
            amends,
            ..History::default()
        }
    }

    /// The signer and time, for the columns `signed_by` and `signed_at`.
    pub(crate) fn signed(&self) -> Option<(UserId, i64)> {
        match self.status {
            Status::Signed { by, at } => Some((by, at)),
            _ => None,
        }
    }

    /// From the stored cells: status, signed_by, signed_at, cosigned_by, cosigned_at,
    /// addendum_of, amends (the last absent for notes).
    ///
    /// A status the row's other cells contradict (a draft with a signer, a signature without
    /// one) is read by its code, the signature dropped; one that is neither reads as written
    /// before format 10, which for signed documentation means never written again. Either way
    /// the entry's MAC, over the stored cells, fails before the row is acted on.
    pub(crate) fn from_cells(c: &[Cell]) -> Result<History> {
        let get = |i: usize| c.get(i).unwrap_or(&Cell::Null);
        let status = match (get(0), signature(get(1), get(2))) {
            (Cell::Integer(1), _) => Status::Draft,
            (Cell::Integer(3), _) => Status::Open,
            (Cell::Integer(2), Some((by, at))) => Status::Signed { by, at },
            _ => Status::Before,
        };
        Ok(History {
            status,
            cosigned: signature(get(3), get(4)),
            addendum_of: id(get(5)),
            amends: id(get(6)),
        })
    }
}

fn parent_table(table: FieldTable) -> Result<(&'static str, &'static str)> {
    match table {
        FieldTable::Records => Ok(("records", "record_id")),
        FieldTable::Notes => Ok(("psychotherapy_notes", "note_id")),
        _ => Err(corrupt("entry with a history")),
    }
}

/// Mark `parent` (a record or note) signed by `by` at `at`.
pub(crate) fn set_signed(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    by: &UserId,
    at: i64,
) -> Result<()> {
    let (t, key) = parent_table(table)?;
    let sql = format!("UPDATE {t} SET status = 2, signed_by = ?2, signed_at = ?3 WHERE {key} = ?1");
    conn.prepare_cached(&sql)?
        .execute(params![parent, by.as_bytes(), at])?;
    Ok(())
}

/// Add the co-signature of `by` to `parent`.
pub(crate) fn set_cosigned(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    by: &UserId,
    at: i64,
) -> Result<()> {
    let (t, key) = parent_table(table)?;
    let sql = format!("UPDATE {t} SET cosigned_by = ?2, cosigned_at = ?3 WHERE {key} = ?1");
    conn.prepare_cached(&sql)?
        .execute(params![parent, by.as_bytes(), at])?;
    Ok(())
}

/// Which entry an addendum belongs to: a row of the client's scope of facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AddendumLink {
    pub addendum: [u8; 16],
    pub client: ClientId,
    /// Whether it is a psychotherapy note's (`note`) or a record's (`record`).
    pub of_note: bool,
    pub of: [u8; 16],
    /// Its place among the entry's addenda, from 1 (set when it is linked).
    pub ordinal: i64,
    pub author: UserId,
    pub added_at: i64,
    pub amends: Option<[u8; 16]>,
}

/// A link as the client's scope statement returns it (tag 8: addendum, kind, entry, ordinal,
/// author, time, amendment).
pub(crate) fn addendum_link_of(client: ClientId, r: &rusqlite::Row<'_>) -> Result<AddendumLink> {
    let blob = |i| -> Result<Cell> { Ok(crate::db::audit_rows::cell(r.get_ref(i)?)) };
    let kind: String = r.get(2)?;
    Ok(AddendumLink {
        addendum: id(&blob(1)?).ok_or_else(|| corrupt("addendum"))?,
        client,
        of_note: match kind.as_str() {
            "note" => true,
            "record" => false,
            _ => return Err(corrupt("addendum kind")),
        },
        of: id(&blob(3)?).ok_or_else(|| corrupt("addendum"))?,
        ordinal: r.get(4)?,
        author: UserId::from_slice(&r.get::<_, Vec<u8>>(5)?)?,
        added_at: r.get(6)?,
        amends: id(&blob(7)?),
    })
}

/// Link an addendum after the entry's others (its `ordinal` is set here, not taken).
pub(crate) fn insert_addendum_link(conn: &Connection, a: &AddendumLink) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO addenda (addendum_id, client_id, of_kind, of_id, ordinal, author_id, \
         added_at, amends) VALUES (?1, ?2, ?3, ?4, \
         (SELECT coalesce(max(ordinal), 0) + 1 FROM addenda WHERE of_id = ?4), ?5, ?6, ?7)",
    )?
    .execute(params![
        &a.addendum[..],
        a.client.as_bytes(),
        if a.of_note { "note" } else { "record" },
        &a.of[..],
        a.author.as_bytes(),
        a.added_at,
        a.amends.as_ref().map(|x| &x[..]),
    ])?;
    Ok(())
}

/// The addenda of `of`, oldest first. Read after the client's scope was checked in the same
/// transaction, so these rows are the ones its MAC covers.
pub(crate) fn addenda_of(conn: &Connection, of: &[u8; 16]) -> Result<Vec<AddendumLink>> {
    let mut stmt = conn.prepare_cached(
        "SELECT addendum_id, client_id, of_kind, author_id, added_at, amends, ordinal \
         FROM addenda WHERE of_id = ?1 ORDER BY ordinal",
    )?;
    let rows = stmt.query_map([&of[..]], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, i64>(4)?,
            r.get::<_, Option<Vec<u8>>>(5)?,
            r.get::<_, i64>(6)?,
        ))
    })?;
    rows.map(|row| {
        let (addendum, client, kind, author, added_at, amends, ordinal) = row?;
        Ok(AddendumLink {
            addendum: id(&Cell::Blob(addendum)).ok_or_else(|| corrupt("addendum"))?,
            client: ClientId::from_slice(&client)?,
            of_note: kind == "note",
            of: *of,
            ordinal,
            author: UserId::from_slice(&author)?,
            added_at,
            amends: amends.and_then(|a| id(&Cell::Blob(a))),
        })
    })
    .collect()
}

/// The separator between a field's name and the write a superseded envelope of it was sealed
/// in: `summary@3`. A field name never holds it.
pub(crate) const VERSION_MARK: char = '@';

/// The write a field envelope claims (version 2 envelopes; 0 for version 1).
pub(crate) fn claimed_write(envelope: &[u8]) -> u64 {
    match envelope {
        [2, w @ ..] if w.len() >= 8 => {
            let mut b = [0u8; 8];
            b.copy_from_slice(&w[..8]);
            u64::from_be_bytes(b)
        }
        _ => 0,
    }
}

/// Split a stored field name into its name and, for a superseded envelope, its write.
pub(crate) fn split_version(stored: &str) -> (&str, Option<u64>) {
    match stored.split_once(VERSION_MARK) {
        Some((name, w)) => (name, w.parse().ok().or(Some(u64::MAX))),
        None => (stored, None),
    }
}

/// Keep the current envelope of `field` of `parent`, if any, as a superseded version
/// (`field@write`) before it is written again.
pub(crate) fn supersede(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    field: &str,
) -> Result<()> {
    let sql = format!(
        "SELECT envelope FROM {} WHERE {} = ?1 AND field = ?2",
        table.name(),
        table.parent_column()
    );
    let Some(envelope) = conn
        .prepare_cached(&sql)?
        .query_row(params![parent, field], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
    else {
        return Ok(());
    };
    let kept = format!("{field}{VERSION_MARK}{}", claimed_write(&envelope));
    let sql = format!(
        "UPDATE {} SET field = ?3 WHERE {} = ?1 AND field = ?2",
        table.name(),
        table.parent_column()
    );
    conn.prepare_cached(&sql)?
        .execute(params![parent, field, kept])?;
    Ok(())
}

/// What the upgrade to format 10 signed: (clinical entries, psychotherapy notes, the entry
/// that says so once logged). `None` for a vault that had nothing to sign.
pub(crate) fn signed_by_upgrade(conn: &Connection) -> Result<Option<(i64, i64, Option<i64>)>> {
    Ok(conn
        .prepare_cached("SELECT records, notes, audit_seq FROM signed_by_upgrade WHERE id = 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

/// Note the entry that says what the upgrade signed.
pub(crate) fn set_signed_by_upgrade_logged(conn: &Connection, seq: i64) -> Result<()> {
    conn.prepare_cached("UPDATE signed_by_upgrade SET audit_seq = ?1 WHERE id = 1")?
        .execute([seq])?;
    Ok(())
}

/// A client's drafts from their stored blob: ids of 16 bytes, end to end. Read leniently (a
/// stray tail is dropped): the client's MAC, over the blob as stored, decides.
pub(crate) fn drafts_from(blob: &[u8]) -> Vec<[u8; 16]> {
    blob.chunks_exact(16)
        .filter_map(|c| <[u8; 16]>::try_from(c).ok())
        .collect()
}

fn drafts_of(conn: &Connection, client: &ClientId) -> Result<Vec<[u8; 16]>> {
    let blob: Option<Vec<u8>> = conn
        .prepare_cached("SELECT drafts FROM clients WHERE client_id = ?1")?
        .query_row([client.as_bytes()], |r| r.get(0))
        .optional()?
        .flatten();
    Ok(blob.map(|b| drafts_from(&b)).unwrap_or_default())
}

fn set_drafts(conn: &Connection, client: &ClientId, drafts: &[[u8; 16]]) -> Result<()> {
    let blob = (!drafts.is_empty()).then(|| drafts.concat());
    conn.prepare_cached("UPDATE clients SET drafts = ?2 WHERE client_id = ?1")?
        .execute(params![client.as_bytes(), blob])?;
    Ok(())
}

/// Count `entry` among `client`'s drafts (a new clinical entry or note).
pub(crate) fn add_draft(conn: &Connection, client: &ClientId, entry: &[u8; 16]) -> Result<()> {
    let mut drafts = drafts_of(conn, client)?;
    if !drafts.contains(entry) {
        drafts.push(*entry);
        drafts.sort_unstable();
    }
    set_drafts(conn, client, &drafts)
}

/// `entry` is signed: no longer one of `client`'s drafts.
pub(crate) fn remove_draft(conn: &Connection, client: &ClientId, entry: &[u8; 16]) -> Result<()> {
    let mut drafts = drafts_of(conn, client)?;
    drafts.retain(|d| d != entry);
    set_drafts(conn, client, &drafts)
}
