//! Row access for keys, users, clients, care teams, records and notes.
//!
//! Every statement is static SQL with bound parameters, prepared once per connection and
//! cached. Nothing here decides or decrypts: it moves envelopes and metadata.

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, NoteId, RecordId, UserId, VaultId};
use crate::model::{Compartment, RecordKind, Role};

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

pub(crate) fn insert_data_key(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
    version: u32,
    wrapped: &[u8],
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO data_keys (owner_id, compartment, version, wrapped, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![owner, compartment.code(), version, wrapped, at])?;
    Ok(())
}

/// The newest version of an owner's data key for a compartment, with how many values it has
/// sealed.
pub(crate) fn latest_data_key(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
) -> Result<Option<(u32, u64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT version, sealed FROM data_keys WHERE owner_id = ?1 AND compartment = ?2 \
             ORDER BY version DESC LIMIT 1",
        )?
        .query_row(params![owner, compartment.code()], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?)
}

/// Count `n` more values sealed under a data key.
pub(crate) fn count_seals(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
    version: u32,
    n: u64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE data_keys SET sealed = sealed + ?4 \
         WHERE owner_id = ?1 AND compartment = ?2 AND version = ?3",
    )?
    .execute(params![owner, compartment.code(), version, n])?;
    Ok(())
}

pub(crate) fn data_key(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
    version: u32,
) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached(
            "SELECT wrapped FROM data_keys \
             WHERE owner_id = ?1 AND compartment = ?2 AND version = ?3",
        )?
        .query_row(params![owner, compartment.code(), version], |r| r.get(0))
        .optional()?)
}

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

pub(crate) fn client_exists(conn: &Connection, client: &ClientId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM clients WHERE client_id = ?1")?
        .exists([client.as_bytes()])?)
}

/// The client's data keys were destroyed.
pub(crate) fn is_erased(conn: &Connection, owner: &[u8; 16]) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM erasures WHERE client_id = ?1")?
        .exists([owner])?)
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

pub(crate) fn on_care_team(conn: &Connection, client: &ClientId, user: &UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM care_team WHERE client_id = ?1 AND user_id = ?2")?
        .exists(params![client.as_bytes(), user.as_bytes()])?)
}

/// Which field table. Each holds the envelopes of one kind of parent row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FieldTable {
    Records,
    Notes,
    CaseRecords,
    Consents,
    BreakGlass,
    Disclosures,
}

impl FieldTable {
    /// The table name, also bound into each envelope's associated data.
    pub(crate) fn name(self) -> &'static str {
        match self {
            FieldTable::Records => "record_fields",
            FieldTable::Notes => "psychotherapy_note_fields",
            FieldTable::CaseRecords => "case_record_fields",
            FieldTable::Consents => "consent_fields",
            FieldTable::BreakGlass => "break_glass_fields",
            FieldTable::Disclosures => "disclosure_fields",
        }
    }

    /// The tables whose parents' write entries vouch for their fields (the disclosure ledger
    /// has its own digest).
    pub(crate) const VOUCHED: [FieldTable; 5] = [
        FieldTable::Records,
        FieldTable::Notes,
        FieldTable::CaseRecords,
        FieldTable::Consents,
        FieldTable::BreakGlass,
    ];

    /// The table of parent rows that record a digest of their fields (not the ledger, whose
    /// rows have their own).
    fn parent_table(self) -> Option<&'static str> {
        match self {
            FieldTable::Records => Some("records"),
            FieldTable::Notes => Some("psychotherapy_notes"),
            FieldTable::CaseRecords => Some("case_records"),
            FieldTable::Consents => Some("consents"),
            FieldTable::BreakGlass => Some("break_glass"),
            FieldTable::Disclosures => None,
        }
    }

    fn parent_column(self) -> &'static str {
        match self {
            FieldTable::Records | FieldTable::CaseRecords => "record_id",
            FieldTable::Notes => "note_id",
            FieldTable::Consents => "consent_id",
            FieldTable::BreakGlass => "grant_id",
            FieldTable::Disclosures => "disclosure_id",
        }
    }
}

/// One parent's stored fields as hashed cells (field, key_version, envelope), by field name.
pub(crate) fn field_cells(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<Vec<[crate::stored::Cell; 3]>> {
    use crate::db::audit_rows::cell;
    let sql = format!(
        "SELECT field, key_version, envelope FROM {} WHERE {} = ?1 ORDER BY field",
        table.name(),
        table.parent_column()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([parent])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push([
            cell(r.get_ref(0)?),
            cell(r.get_ref(1)?),
            cell(r.get_ref(2)?),
        ]);
    }
    Ok(out)
}

/// Feed every parent of `table` with its stored fields (as cells, by name) to `f`. Nothing for
/// a table an older vault does not have.
pub(crate) fn for_each_parent(
    conn: &Connection,
    table: FieldTable,
    mut f: impl FnMut(Vec<u8>, Vec<[crate::stored::Cell; 3]>),
) -> Result<()> {
    use crate::db::audit_rows::cell;
    let exists = conn
        .prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")?
        .exists([table.name()])?;
    if !exists {
        return Ok(());
    }
    let sql = format!(
        "SELECT {p}, field, key_version, envelope FROM {t} ORDER BY {p}, field",
        p = table.parent_column(),
        t = table.name()
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut current: Option<(Vec<u8>, Vec<[crate::stored::Cell; 3]>)> = None;
    while let Some(r) = rows.next()? {
        let parent = match r.get_ref(0)? {
            rusqlite::types::ValueRef::Blob(b) => b.to_vec(),
            _ => Vec::new(),
        };
        let cells = [
            cell(r.get_ref(1)?),
            cell(r.get_ref(2)?),
            cell(r.get_ref(3)?),
        ];
        match &mut current {
            Some((p, fields)) if *p == parent => fields.push(cells),
            _ => {
                if let Some((p, fields)) = current.take() {
                    f(p, fields);
                }
                current = Some((parent, vec![cells]));
            }
        }
    }
    if let Some((p, fields)) = current {
        f(p, fields);
    }
    Ok(())
}

/// A stored field: name, key version, envelope.
pub(crate) struct FieldRow {
    pub field: String,
    pub key_version: u32,
    pub envelope: Vec<u8>,
}

pub(crate) fn upsert_field(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    row: &FieldRow,
) -> Result<()> {
    let sql = format!(
        "INSERT OR REPLACE INTO {} ({}, field, key_version, envelope) VALUES (?1, ?2, ?3, ?4)",
        table.name(),
        table.parent_column()
    );
    conn.prepare_cached(&sql)?.execute(params![
        parent,
        row.field,
        row.key_version,
        row.envelope
    ])?;
    Ok(())
}

/// Record the digest of `parent`'s complete set of fields (what its write entry vouches for).
pub(crate) fn set_fields_digest(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    digest: &[u8],
) -> Result<()> {
    let Some(parents) = table.parent_table() else {
        return Ok(());
    };
    let sql = format!(
        "UPDATE {parents} SET fields_digest = ?2 WHERE {} = ?1",
        table.parent_column()
    );
    conn.prepare_cached(&sql)?
        .execute(params![parent, digest])?;
    Ok(())
}

/// The digest `parent` recorded of its fields, if it has one yet.
pub(crate) fn recorded_fields_digest(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<Option<Vec<u8>>> {
    // Whole statements, not formatted ones: this runs on every read.
    let sql = match table {
        FieldTable::Records => "SELECT fields_digest FROM records WHERE record_id = ?1",
        FieldTable::Notes => "SELECT fields_digest FROM psychotherapy_notes WHERE note_id = ?1",
        FieldTable::CaseRecords => "SELECT fields_digest FROM case_records WHERE record_id = ?1",
        FieldTable::Consents => "SELECT fields_digest FROM consents WHERE consent_id = ?1",
        FieldTable::BreakGlass => "SELECT fields_digest FROM break_glass WHERE grant_id = ?1",
        FieldTable::Disclosures => return Ok(None),
    };
    Ok(conn
        .prepare_cached(sql)?
        .query_row([parent], |r| r.get::<_, Option<Vec<u8>>>(0))
        .optional()?
        .flatten())
}

/// Every stored field of `parent`, in name order.
pub(crate) fn fields(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
) -> Result<Vec<FieldRow>> {
    let sql = format!(
        "SELECT field, key_version, envelope FROM {} WHERE {} = ?1 ORDER BY field",
        table.name(),
        table.parent_column()
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([parent], |r| {
        Ok(FieldRow {
            field: r.get(0)?,
            key_version: r.get(1)?,
            envelope: r.get(2)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Metadata of a general-record entry (all cleartext: ids, kind, times).
#[derive(Clone, Debug)]
pub(crate) struct RecordRow {
    pub id: RecordId,
    pub client: ClientId,
    pub kind: RecordKind,
    pub created_at: i64,
    pub created_by: UserId,
    pub updated_at: i64,
    /// For individual case notes: the case.
    pub case: Option<CaseId>,
    /// The digest of its whole set of fields (none before its first write in format 5).
    pub fields_digest: Option<Vec<u8>>,
}

pub(crate) fn insert_record(conn: &Connection, r: &RecordRow) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO records (record_id, client_id, kind, created_at, created_by, updated_at, \
         case_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.id.as_bytes(),
        r.client.as_bytes(),
        r.kind.code(),
        r.created_at,
        r.created_by.as_bytes(),
        r.updated_at,
        r.case.as_ref().map(CaseId::as_bytes)
    ])?;
    Ok(())
}

pub(crate) fn touch_record(conn: &Connection, id: &RecordId, at: i64) -> Result<()> {
    conn.prepare_cached("UPDATE records SET updated_at = ?2 WHERE record_id = ?1")?
        .execute(params![id.as_bytes(), at])?;
    Ok(())
}

const RECORD_COLUMNS: &str =
    "record_id, client_id, kind, created_at, created_by, updated_at, case_id, fields_digest";

/// A `records` row as stored: id, client, kind, created, creator, updated, case, digest.
type RawRecord = (
    Vec<u8>,
    Vec<u8>,
    String,
    i64,
    Vec<u8>,
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
);

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawRecord> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn record_row(raw: RawRecord) -> Result<RecordRow> {
    let (id, client, kind, created_at, by, updated_at, case, fields_digest) = raw;
    Ok(RecordRow {
        id: RecordId::from_slice(&id)?,
        client: ClientId::from_slice(&client)?,
        kind: kind.parse().map_err(|_| Error::Corrupt {
            what: "record kind".into(),
        })?,
        created_at,
        created_by: UserId::from_slice(&by)?,
        updated_at,
        case: case.map(|c| CaseId::from_slice(&c)).transpose()?,
        fields_digest,
    })
}

pub(crate) fn record(conn: &Connection, id: &RecordId) -> Result<Option<RecordRow>> {
    let sql = format!("SELECT {RECORD_COLUMNS} FROM records WHERE record_id = ?1");
    conn.prepare_cached(&sql)?
        .query_row([id.as_bytes()], record_from_row)
        .optional()?
        .map(record_row)
        .transpose()
}

pub(crate) fn records_of(conn: &Connection, client: &ClientId) -> Result<Vec<RecordRow>> {
    let sql = format!(
        "SELECT {RECORD_COLUMNS} FROM records WHERE client_id = ?1 ORDER BY created_at, record_id"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([client.as_bytes()], record_from_row)?;
    rows.map(|r| record_row(r?)).collect()
}

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

/// A parent of fields: its table, id, the compartment its fields are sealed in, and the oldest
/// key version any of them names.
pub(crate) type OwnedParent = (FieldTable, [u8; 16], Compartment, u32);

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
            with_versions.push((table, parent, compartment, v));
        }
    }
    Ok(with_versions)
}

/// The unfinished rotation of (owner, compartment), if any: the version it moves to.
pub(crate) fn open_rotation(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
) -> Result<Option<u32>> {
    Ok(conn
        .prepare_cached(
            "SELECT to_version FROM key_rotations \
             WHERE owner_id = ?1 AND compartment = ?2 AND finished_at IS NULL",
        )?
        .query_row(params![owner, compartment.code()], |r| r.get(0))
        .optional()?)
}

pub(crate) fn start_rotation(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
    to_version: u32,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO key_rotations (owner_id, compartment, to_version, started_at) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![owner, compartment.code(), to_version, at])?;
    Ok(())
}

/// End a rotation: delete every older version of the key (nothing names them any more).
pub(crate) fn finish_rotation(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
    to_version: u32,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM data_keys WHERE owner_id = ?1 AND compartment = ?2 AND version < ?3",
    )?
    .execute(params![owner, compartment.code(), to_version])?;
    conn.prepare_cached(
        "UPDATE key_rotations SET finished_at = ?4 \
         WHERE owner_id = ?1 AND compartment = ?2 AND to_version = ?3",
    )?
    .execute(params![owner, compartment.code(), to_version, at])?;
    Ok(())
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

/// A user a master-key rotation must reach: id, name, public key (if they have one yet).
pub(crate) type RotationUser = (UserId, String, Option<Vec<u8>>);

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
        out.push((UserId::from_slice(&id)?, name, public));
    }
    Ok(out)
}

/// One stored data key: (owner, compartment, version, wrapped bytes).
pub(crate) type StoredDataKey = ([u8; 16], Compartment, u32, Vec<u8>);

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
        let owner: [u8; 16] = owner
            .as_slice()
            .try_into()
            .map_err(|_| corrupt("data key owner"))?;
        let compartment = compartment
            .parse()
            .map_err(|_| corrupt("data key compartment"))?;
        out.push((owner, compartment, version, wrapped));
    }
    Ok(out)
}

/// Replace a data key's wrapped bytes (a master-key rotation re-wraps it).
pub(crate) fn set_data_key_wrap(
    conn: &Connection,
    owner: &[u8; 16],
    compartment: Compartment,
    version: u32,
    wrapped: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE data_keys SET wrapped = ?4 WHERE owner_id = ?1 AND compartment = ?2 AND version = ?3",
    )?
    .execute(params![owner, compartment.code(), version, wrapped])?;
    Ok(())
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
