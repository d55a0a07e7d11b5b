//! Data keys: wrapped, versioned, one line per (owner, compartment, version), with a count of
//! the values each has sealed.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::OwnerId;
use crate::model::Compartment;

pub(crate) fn insert_data_key(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
    version: u32,
    wrapped: &[u8],
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO data_keys (owner_id, compartment, version, wrapped, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        owner.as_bytes(),
        compartment.code(),
        version,
        wrapped,
        at
    ])?;
    Ok(())
}

/// The newest version of an owner's data key for a compartment, with how many values it has
/// sealed.
pub(crate) fn latest_data_key(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
) -> Result<Option<(u32, u64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT version, sealed FROM data_keys WHERE owner_id = ?1 AND compartment = ?2 \
             ORDER BY version DESC LIMIT 1",
        )?
        .query_row(params![owner.as_bytes(), compartment.code()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Count `n` more values sealed under a data key.
pub(crate) fn count_seals(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
    version: u32,
    n: u64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE data_keys SET sealed = sealed + ?4 \
         WHERE owner_id = ?1 AND compartment = ?2 AND version = ?3",
    )?
    .execute(params![owner.as_bytes(), compartment.code(), version, n])?;
    Ok(())
}

pub(crate) fn data_key(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
    version: u32,
) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT wrapped FROM data_keys \
             WHERE owner_id = ?1 AND compartment = ?2 AND version = ?3",
        )?
        .query_row(
            params![owner.as_bytes(), compartment.code(), version],
            |r| r.get(0),
        )
        .optional()?)
}

/// One stored data key, wrapped.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct StoredDataKey {
    /// The client, case or vault whose key it is.
    pub owner: OwnerId,
    pub compartment: Compartment,
    pub version: u32,
    /// The key, wrapped under the wrap key.
    pub wrapped: Vec<u8>,
}

/// Every data key of the vault.
pub(crate) fn all_data_keys(conn: &Connection) -> Result<Vec<StoredDataKey>> {
    let mut stmt =
        conn.prepare_cached("SELECT owner_id, compartment, version, wrapped FROM data_keys")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, u32>(2)?,
            r.get::<_, Vec<u8>>(3)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (owner, compartment, version, wrapped) = row?;
        let corrupt = |what: &str| Error::Corrupt { what: what.into() };
        let owner = OwnerId::from_slice(&owner)?;
        let compartment = compartment
            .parse()
            .map_err(|_| corrupt("data key compartment"))?;
        out.push(StoredDataKey {
            owner,
            compartment,
            version,
            wrapped,
        });
    }
    Ok(out)
}

/// Replace a data key's wrapped bytes (a master-key rotation re-wraps it).
pub(crate) fn set_data_key_wrap(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
    version: u32,
    wrapped: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE data_keys SET wrapped = ?4 WHERE owner_id = ?1 AND compartment = ?2 AND version = ?3",
    )?
    .execute(params![owner.as_bytes(), compartment.code(), version, wrapped])?;
    Ok(())
}
