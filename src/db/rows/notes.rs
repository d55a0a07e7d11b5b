//! Psychotherapy notes: their cleartext metadata (separate tables from the general record).

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::audit_rows::cell;
use crate::error::Result;
use crate::ids::{ClientId, NoteId, UserId};
use crate::stored::Cell;

use super::history::History;

/// Metadata of a psychotherapy note.
#[derive(Clone, Debug)]
pub(crate) struct NoteRow {
    pub id: NoteId,
    pub client: ClientId,
    pub author: UserId,
    pub created_at: i64,
    /// Its signing and links (format 10).
    pub history: History,
}

pub(crate) fn insert_note(conn: &Connection, n: &NoteRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO psychotherapy_notes (note_id, client_id, author_id, created_at, updated_at, \
         status, signed_by, signed_at, addendum_of) VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        n.id.as_bytes(),
        n.client.as_bytes(),
        n.author.as_bytes(),
        n.created_at,
        n.history.status.code(),
        n.history.signed().map(|(by, _)| by.as_bytes().to_vec()),
        n.history.signed().map(|(_, at)| at),
        n.history.addendum_of.as_ref().map(|a| &a[..]),
    ])?;
    Ok(())
}

const NOTE_COLUMNS: &str = "note_id, client_id, author_id, created_at, status, signed_by, \
     signed_at, cosigned_by, cosigned_at, addendum_of";

/// A note's row as stored: id, client, author, created, then its history columns.
type RawNote = (Vec<u8>, Vec<u8>, Vec<u8>, i64, Vec<Cell>);

fn note_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawNote> {
    let mut history = Vec::with_capacity(6);
    for i in 4..10 {
        history.push(cell(r.get_ref(i)?));
    }
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, history))
}

fn note_from(raw: RawNote) -> Result<NoteRow> {
    let (id, client, author, created_at, history) = raw;
    Ok(NoteRow {
        id: NoteId::from_slice(&id)?,
        client: ClientId::from_slice(&client)?,
        author: UserId::from_slice(&author)?,
        created_at,
        history: History::from_cells(&history)?,
    })
}

pub(crate) fn note(conn: &Connection, id: &NoteId) -> Result<Option<NoteRow>> {
    let sql = format!("SELECT {NOTE_COLUMNS} FROM psychotherapy_notes WHERE note_id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id.as_bytes()], note_row)
        .optional()?
        .map(note_from)
        .transpose()
}

/// The client's notes, addenda included, oldest first.
pub(crate) fn notes_of(conn: &Connection, client: &ClientId) -> Result<Vec<NoteRow>> {
    let sql = format!(
        "SELECT {NOTE_COLUMNS} FROM psychotherapy_notes WHERE client_id = ?1 \
         ORDER BY created_at, note_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([client.as_bytes()], note_row)?;
    rows.map(|row| note_from(row?)).collect()
}
