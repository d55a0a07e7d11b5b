//! Psychotherapy notes: their cleartext metadata (separate tables from the general record).

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::Result;
use crate::ids::{ClientId, NoteId, UserId};

/// Metadata of a psychotherapy note.
#[derive(Clone, Debug)]
pub(crate) struct NoteRow {
    pub id: NoteId,
    pub client: ClientId,
    pub author: UserId,
    pub created_at: i64,
}

pub(crate) fn insert_note(conn: &Connection, n: &NoteRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO psychotherapy_notes (note_id, client_id, author_id, created_at, updated_at) \
         VALUES (?1, ?2, ?3, ?4, ?4)",
    )?
    .execute(params![
        n.id.as_bytes(),
        n.client.as_bytes(),
        n.author.as_bytes(),
        n.created_at
    ])?;
    Ok(())
}

pub(crate) fn note(conn: &Connection, id: &NoteId) -> Result<Option<NoteRow>> {
    conn.prepare_cached(
        "SELECT note_id, client_id, author_id, created_at FROM psychotherapy_notes \
         WHERE note_id = ?1",
    )?
    .query_row([id.as_bytes()], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Vec<u8>>(2)?,
            r.get::<_, i64>(3)?,
        ))
    })
    .optional()?
    .map(|(id, client, author, created_at)| {
        Ok(NoteRow {
            id: NoteId::from_slice(&id)?,
            client: ClientId::from_slice(&client)?,
            author: UserId::from_slice(&author)?,
            created_at,
        })
    })
    .transpose()
}

pub(crate) fn notes_of(conn: &Connection, client: &ClientId) -> Result<Vec<NoteRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT note_id, author_id, created_at FROM psychotherapy_notes WHERE client_id = ?1 \
         ORDER BY created_at, note_id",
    )?;
    let rows = stmt.query_map([client.as_bytes()], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, i64>(2)?,
        ))
    })?;
    rows.map(|row| {
        let (id, author, created_at) = row?;
        Ok(NoteRow {
            id: NoteId::from_slice(&id)?,
            client: *client,
            author: UserId::from_slice(&author)?,
            created_at,
        })
    })
    .collect()
}
