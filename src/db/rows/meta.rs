//! The vault's own rows: its identity, the keys kept across master-key rotations, and the
//! master key's generation.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::VaultId;

/// The vault's identity.
pub(crate) fn insert_vault_meta(
    conn: &Connection,
    vault: &VaultId,
    format: u32,
    at: i64,
) -> Result<()> {
    conn.execute(
        "INSERT INTO vault_meta (id, vault_id, format_version, created_at) VALUES (1, ?1, ?2, ?3)",
        params![vault.as_bytes(), format, at],
    )?;
    Ok(())
}

pub(crate) fn vault_id(conn: &Connection) -> Result<VaultId> {
    let b: Vec<u8> = conn
        .query_row("SELECT vault_id FROM vault_meta WHERE id = 1", [], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or(Error::NotAVault)?;
    VaultId::from_slice(&b)
}

/// A key kept across master-key rotations, wrapped under the wrap key.
pub(crate) fn vault_key(conn: &Connection, name: &str) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT wrapped FROM vault_keys WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?)
}

pub(crate) fn put_vault_key(conn: &Connection, name: &str, wrapped: &[u8]) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO vault_keys (name, wrapped) VALUES (?1, ?2)")?
        .execute(params![name, wrapped])?;
    Ok(())
}

/// The master key's generation (see schema 0005).
pub(crate) fn mk_generation(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT mk_generation FROM vault_meta WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

pub(crate) fn bump_mk_generation(conn: &Connection) -> Result<()> {
    conn.prepare_cached("UPDATE vault_meta SET mk_generation = mk_generation + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}
