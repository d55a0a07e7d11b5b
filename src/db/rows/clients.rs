//! Clients: their rows, blind-index lookup, activity and crypto-shredding.

use rusqlite::{Connection, params};

use crate::error::Result;
use crate::ids::{ClientId, OwnerId, UserId};

pub(crate) fn insert_client(
    conn: &Connection,
    id: &ClientId,
    index: &[u8],
    at: i64,
    by: &UserId,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO clients (client_id, name_dob_index, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![id.as_bytes(), index, at, by.as_bytes()])?;
    Ok(())
}

pub(crate) fn clients_by_index(conn: &Connection, index: &[u8]) -> Result<Vec<ClientId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_id FROM clients WHERE name_dob_index = ?1 ORDER BY created_at",
    )?;
    let rows = stmt.query_map([index], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|b| ClientId::from_slice(&b?)).collect()
}

pub(crate) fn client_exists(conn: &Connection, client: &ClientId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM clients WHERE client_id = ?1")?
        .exists([client.as_bytes()])?)
}

/// The client's data keys were destroyed.
pub(crate) fn is_erased(conn: &Connection, owner: &OwnerId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM erasures WHERE client_id = ?1")?
        .exists([owner.as_bytes()])?)
}

/// The client's last activity: their newest entry, note or disclosure (unix ms).
pub(crate) fn last_activity(conn: &Connection, client: &ClientId) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT max(t) FROM ( \
               SELECT created_at AS t FROM clients WHERE client_id = ?1 \
               UNION ALL SELECT updated_at FROM records WHERE client_id = ?1 \
               UNION ALL SELECT updated_at FROM psychotherapy_notes WHERE client_id = ?1 \
               UNION ALL SELECT disclosed_at FROM disclosures WHERE client_id = ?1)",
        )?
        .query_row([client.as_bytes()], |r| r.get::<_, Option<i64>>(0))?
        .unwrap_or(0))
}

/// Destroy every data key of `owner` (crypto-shredding) and record it.
pub(crate) fn shred(conn: &Connection, client: &ClientId, at: i64, by: &UserId) -> Result<usize> {
    let n = conn
        .prepare_cached("DELETE FROM data_keys WHERE owner_id = ?1")?
        .execute([client.as_bytes()])?;
    // The blind index goes too: an erased client is no longer found by name.
    conn.prepare_cached("UPDATE clients SET name_dob_index = x'' WHERE client_id = ?1")?
        .execute([client.as_bytes()])?;
    conn.prepare_cached(
        "INSERT OR IGNORE INTO erasures (client_id, erased_at, erased_by) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![client.as_bytes(), at, by.as_bytes()])?;
    Ok(n)
}
