//! Users: identity, role, status and the material that unlocks their copy of the master key.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::UserId;
use crate::model::Role;

/// A user row: identity, role and the material to unlock their copy of the master key.
pub(crate) struct UserRow {
    pub id: UserId,
    pub name: String,
    pub role: Role,
    pub kdf_salt: Vec<u8>,
    pub kdf: (u32, u32, u32),
    pub wrapped_mk: Vec<u8>,
    pub status: UserStatus,
    /// X25519 public key (none for a user made before format 5 who has not logged in since).
    pub public_key: Option<Vec<u8>>,
    /// Its private half, sealed under the user's KEK.
    pub wrapped_secret: Option<Vec<u8>>,
    /// The master key sealed to `public_key` by a rotation, until the user's next login.
    pub sealed_mk: Option<Vec<u8>>,
}

/// Whether a user may log in. Stored in `users.disabled`: 0, 1 or 2 (a reader that knows only
/// "disabled or not" treats a removed user as disabled).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum UserStatus {
    Active,
    Disabled,
    /// Removed: the wrap of the master key is gone; the row stays so the log can still name
    /// the user.
    Removed,
}

impl UserStatus {
    fn code(self) -> i64 {
        match self {
            UserStatus::Active => 0,
            UserStatus::Disabled => 1,
            UserStatus::Removed => 2,
        }
    }

    fn from_code(c: i64) -> Result<Self> {
        match c {
            0 => Ok(UserStatus::Active),
            1 => Ok(UserStatus::Disabled),
            2 => Ok(UserStatus::Removed),
            _ => Err(Error::Corrupt {
                what: "user status".into(),
            }),
        }
    }
}

/// Replace a user's wrap of the master key, with the salt and KDF costs it was made with.
pub(crate) fn set_user_wrap(
    conn: &Connection,
    id: &UserId,
    salt: &[u8],
    kdf: (u32, u32, u32),
    wrapped_mk: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE users SET kdf_salt = ?2, kdf_m_kib = ?3, kdf_t = ?4, kdf_p = ?5, wrapped_mk = ?6 \
         WHERE user_id = ?1",
    )?
    .execute(params![
        id.as_bytes(),
        salt,
        kdf.0,
        kdf.1,
        kdf.2,
        wrapped_mk
    ])?;
    Ok(())
}

/// Set a user's status; removing also deletes their wrap of the master key.
pub(crate) fn set_user_status(conn: &Connection, id: &UserId, status: UserStatus) -> Result<()> {
    conn.prepare_cached("UPDATE users SET disabled = ?2 WHERE user_id = ?1")?
        .execute(params![id.as_bytes(), status.code()])?;
    if status == UserStatus::Removed {
        conn.prepare_cached(
            "UPDATE users SET wrapped_mk = x'', kdf_salt = x'' WHERE user_id = ?1",
        )?
        .execute([id.as_bytes()])?;
    }
    Ok(())
}

/// Administrators who may still log in.
pub(crate) fn active_admins(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM users WHERE role = ?1 AND disabled = 0")?
        .query_row([Role::Admin.code()], |r| r.get(0))?)
}

pub(crate) fn insert_user(conn: &Connection, u: &UserRow, at: i64) -> Result<()> {
    let n = conn
        .prepare_cached(
            "INSERT INTO users (user_id, name, role, kdf_salt, kdf_m_kib, kdf_t, kdf_p, \
             wrapped_mk, disabled, created_at, public_key, wrapped_secret) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) \
             ON CONFLICT (name) DO NOTHING",
        )?
        .execute(params![
            u.id.as_bytes(),
            u.name,
            u.role.code(),
            u.kdf_salt,
            u.kdf.0,
            u.kdf.1,
            u.kdf.2,
            u.wrapped_mk,
            u.status.code(),
            at,
            u.public_key,
            u.wrapped_secret
        ])?;
    if n == 0 {
        return Err(Error::InvalidInput {
            what: "user name",
            reason: "already taken".into(),
        });
    }
    Ok(())
}

pub(crate) fn user_by_name(conn: &Connection, name: &str) -> Result<Option<UserRow>> {
    conn.prepare_cached(
        "SELECT user_id, name, role, kdf_salt, kdf_m_kib, kdf_t, kdf_p, wrapped_mk, disabled, \
         public_key, wrapped_secret, sealed_mk FROM users WHERE name = ?1",
    )?
    .query_row([name], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            (r.get(4)?, r.get(5)?, r.get(6)?),
            r.get::<_, Vec<u8>>(7)?,
            r.get::<_, i64>(8)?,
            (r.get(9)?, r.get(10)?, r.get(11)?),
        ))
    })
    .optional()?
    .map(
        |(id, name, role, kdf_salt, kdf, wrapped_mk, status, pair)| {
            Ok(UserRow {
                id: UserId::from_slice(&id)?,
                name,
                role: role.parse().map_err(|_| Error::Corrupt {
                    what: "user role".into(),
                })?,
                kdf_salt,
                kdf,
                wrapped_mk,
                status: UserStatus::from_code(status)?,
                public_key: pair.0,
                wrapped_secret: pair.1,
                sealed_mk: pair.2,
            })
        },
    )
    .transpose()
}

/// A user's role, by id.
pub(crate) fn user_role(conn: &Connection, user: &UserId) -> Result<Option<Role>> {
    conn.prepare_cached("SELECT role FROM users WHERE user_id = ?1")?
        .query_row([user.as_bytes()], |r| r.get::<_, String>(0))
        .optional()?
        .map(|r| {
            r.parse().map_err(|_| Error::Corrupt {
                what: "user role".into(),
            })
        })
        .transpose()
}

/// Store a user's key pair (public half, private half sealed under their KEK).
pub(crate) fn set_user_keypair(
    conn: &Connection,
    id: &UserId,
    public: &[u8],
    wrapped_secret: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE users SET public_key = ?2, wrapped_secret = ?3 WHERE user_id = ?1",
    )?
    .execute(params![id.as_bytes(), public, wrapped_secret])?;
    Ok(())
}

/// Set (or clear) the master key sealed to a user by a rotation.
pub(crate) fn set_sealed_mk(conn: &Connection, id: &UserId, sealed: Option<&[u8]>) -> Result<()> {
    conn.prepare_cached("UPDATE users SET sealed_mk = ?2 WHERE user_id = ?1")?
        .execute(params![id.as_bytes(), sealed])?;
    Ok(())
}
