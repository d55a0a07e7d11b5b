//! Key rotation: what a client's rotation must re-encrypt, its progress, and the users a
//! master-key rotation must reach.

use rusqlite::{Connection, OptionalExtension, params};

use super::fields::FieldTable;
use super::records::records_of;
use crate::error::{Error, Result};
use crate::ids::{ClientId, OwnerId, UserId};
use crate::model::Compartment;

/// A parent of fields under its owner's keys, as a rotation sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OwnedParent {
    /// The table its fields are in.
    pub table: FieldTable,
    /// The record, note, consent or grant.
    pub parent: [u8; 16],
    /// The compartment its fields are sealed in.
    pub compartment: Compartment,
    /// The oldest key version any of its fields names.
    pub oldest_version: u32,
}

/// Every parent of fields owned by `client` under the client's own keys (general record,
/// psychotherapy notes, consents, break-glass grants), with the compartment its fields are
/// sealed in and the oldest key version any of its fields names.
pub(crate) fn owned_parents(conn: &Connection, client: &ClientId) -> Result<Vec<OwnedParent>> {
    let mut out = Vec::new();
    for r in records_of(conn, client)? {
        out.push((FieldTable::Records, *r.id.as_bytes(), r.kind.compartment()));
    }
    for (table, sql, compartment) in [
        (
            FieldTable::Notes,
            "SELECT note_id FROM psychotherapy_notes WHERE client_id = ?1",
            Compartment::PsychotherapyNotes,
        ),
        (
            FieldTable::Consents,
            "SELECT consent_id FROM consents WHERE client_id = ?1",
            Compartment::General,
        ),
        (
            FieldTable::BreakGlass,
            "SELECT grant_id FROM break_glass WHERE client_id = ?1",
            Compartment::General,
        ),
        (
            FieldTable::Amendments,
            "SELECT request_id FROM amendment_requests WHERE client_id = ?1",
            Compartment::General,
        ),
    ] {
        let mut stmt = conn.prepare_cached(sql)?;
        let ids = stmt.query_map([client.as_bytes()], |r| r.get::<_, Vec<u8>>(0))?;
        for id in ids {
            let id: [u8; 16] = id?.as_slice().try_into().map_err(|_| Error::Corrupt {
                what: "parent id".into(),
            })?;
            out.push((table, id, compartment));
        }
    }
    let mut with_versions = Vec::with_capacity(out.len());
    for (table, parent, compartment) in out {
        let sql = format!(
            "SELECT min(key_version) FROM {} WHERE {} = ?1",
            table.name(),
            table.parent_column()
        );
        let oldest: Option<u32> = conn
            .prepare_cached(&sql)?
            .query_row([&parent[..]], |r| r.get(0))?;
        if let Some(v) = oldest {
            with_versions.push(OwnedParent {
                table,
                parent,
                compartment,
                oldest_version: v,
            });
        }
    }
    Ok(with_versions)
}

/// The unfinished rotation of (owner, compartment), if any: the version it moves to.
pub(crate) fn open_rotation(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
) -> Result<Option<u32>> {
    Ok(conn
        .prepare_cached(
            "SELECT to_version FROM key_rotations \
             WHERE owner_id = ?1 AND compartment = ?2 AND finished_at IS NULL",
        )?
        .query_row(params![owner.as_bytes(), compartment.code()], |r| r.get(0))
        .optional()?)
}

pub(crate) fn start_rotation(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
    to_version: u32,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO key_rotations (owner_id, compartment, to_version, started_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        owner.as_bytes(),
        compartment.code(),
        to_version,
        at
    ])?;
    Ok(())
}

/// End a rotation: delete every older version of the key (nothing names them any more).
pub(crate) fn finish_rotation(
    conn: &Connection,
    owner: &OwnerId,
    compartment: Compartment,
    to_version: u32,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM data_keys WHERE owner_id = ?1 AND compartment = ?2 AND version < ?3",
    )?
    .execute(params![owner.as_bytes(), compartment.code(), to_version])?;
    conn.prepare_cached(
        "UPDATE key_rotations SET finished_at = ?4 \
         WHERE owner_id = ?1 AND compartment = ?2 AND to_version = ?3",
    )?
    .execute(params![
        owner.as_bytes(),
        compartment.code(),
        to_version,
        at
    ])?;
    Ok(())
}

/// A user a master-key rotation must reach.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RotationUser {
    pub id: UserId,
    pub name: String,
    /// Their X25519 public key, once they have one (made at their first login since format 5).
    pub public_key: Option<Vec<u8>>,
}

/// Every user a master-key rotation must reach. Removed users are not.
pub(crate) fn rotation_users(conn: &Connection) -> Result<Vec<RotationUser>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id, name, public_key FROM users WHERE disabled != 2 ORDER BY name",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, String>(1)?, r.get(2)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, name, public) = row?;
        out.push(RotationUser {
            id: UserId::from_slice(&id)?,
            name,
            public_key: public,
        });
    }
    Ok(out)
}
