//! What the gate reads before every call of a session: whether its user may still act, and the
//! master key's generation.

use rusqlite::{Connection, OptionalExtension};

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

/// The standing of `user` and the vault's master-key generation, in one statement.
pub(crate) fn session_state(conn: &Connection, user: &UserId) -> Result<(Standing, i64)> {
    let (disabled, generation) = conn
        .prepare_cached(
            "SELECT (SELECT disabled FROM users WHERE user_id = ?1), mk_generation \
             FROM vault_meta WHERE id = 1",
        )?
        .query_row([user.as_bytes()], |r| {
            Ok((r.get::<_, Option<i64>>(0)?, r.get::<_, i64>(1)?))
        })
        .optional()?
        .unwrap_or((None, 0));
    let standing = match disabled {
        None => Standing::Missing,
        Some(0) => Standing::Active,
        // 1 is disabled; any other value is treated as the stricter of the two.
        Some(1) => Standing::Disabled,
        Some(_) => Standing::Removed,
    };
    Ok((standing, generation))
}
