//! What the gate reads before every call of a session: whether its user may still act, and the
//! master key's generation.

use rusqlite::Connection;

use crate::error::Result;
use crate::ids::UserId;

/// Whether a user may act, as `users.disabled` stores it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Standing {
    Active,
    Disabled,
    Removed,
    /// No such row: the user was deleted outside the vault.
    Missing,
}

/// The standing of `user` and the vault's master-key generation, read with the rest of the
/// user's scope of facts so the gate can check their MAC in the same statement.
pub(crate) fn session_scope(
    conn: &Connection,
    user: &UserId,
) -> Result<(Standing, i64, crate::db::fact_rows::ScopeRead)> {
    use crate::db::fact_rows::{ScopeKind, read_scope};
    let mut disabled = None;
    let mut generation = 0;
    let read = read_scope(conn, ScopeKind::User, user.as_bytes(), |r| {
        match r.tag {
            0 => disabled = Some(r.row.get::<_, i64>(3)?),
            9 => generation = r.row.get::<_, i64>(1)?,
            _ => {}
        }
        Ok(())
    })?;
    let standing = match disabled {
        None => Standing::Missing,
        Some(0) => Standing::Active,
        Some(1) => Standing::Disabled,
        Some(_) => Standing::Removed,
    };
    Ok((standing, generation, read))
}
