//! Care teams: which clinicians treat which client.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::ids::{ClientId, UserId};

pub(crate) fn add_to_care_team(
    conn: &Connection,
    client: &ClientId,
    user: &UserId,
    relation: &str,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO care_team (client_id, user_id, relation, since) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![client.as_bytes(), user.as_bytes(), relation, at])?;
    Ok(())
}

pub(crate) fn remove_from_care_team(
    conn: &Connection,
    client: &ClientId,
    user: &UserId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM care_team WHERE client_id = ?1 AND user_id = ?2")?
        .execute(params![client.as_bytes(), user.as_bytes()])?
        > 0)
}

pub(crate) fn on_care_team(conn: &Connection, client: &ClientId, user: &UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM care_team WHERE client_id = ?1 AND user_id = ?2")?
        .exists(params![client.as_bytes(), user.as_bytes()])?)
}
