//! Rows behind the access policy's facts: supervision, minors, cases, consents, break-glass.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, ConsentId, JointRecordId, UserId};
use crate::model::{CaseKind, Category, Purpose, SecretsPolicy};

fn corrupt(what: &str) -> Error {
    Error::Corrupt { what: what.into() }
}

pub(crate) fn set_supervision(
    conn: &Connection,
    supervisor: &UserId,
    supervisee: &UserId,
    training: bool,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO supervision (supervisor_id, supervisee_id, training, since) \
         VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        supervisor.as_bytes(),
        supervisee.as_bytes(),
        training,
        at
    ])?;
    Ok(())
}

pub(crate) fn end_supervision(
    conn: &Connection,
    supervisor: &UserId,
    supervisee: &UserId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM supervision WHERE supervisor_id = ?1 AND supervisee_id = ?2")?
        .execute(params![supervisor.as_bytes(), supervisee.as_bytes()])?
        > 0)
}

/// `supervisor` supervises at least one clinician on `client`'s care team.
pub(crate) fn supervises_care_team(
    conn: &Connection,
    supervisor: &UserId,
    client: &ClientId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM supervision s JOIN care_team c ON c.user_id = s.supervisee_id \
             WHERE s.supervisor_id = ?1 AND c.client_id = ?2",
        )?
        .exists(params![supervisor.as_bytes(), client.as_bytes()])?)
}

/// `supervisor` supervises at least one clinician of `case`.
pub(crate) fn supervises_case_clinician(
    conn: &Connection,
    supervisor: &UserId,
    case: &CaseId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM supervision s JOIN case_clinicians c ON c.user_id = s.supervisee_id \
             WHERE s.supervisor_id = ?1 AND c.case_id = ?2",
        )?
        .exists(params![supervisor.as_bytes(), case.as_bytes()])?)
}

/// `supervisor` supervises `supervisee` in a training programme.
pub(crate) fn training_supervisor(
    conn: &Connection,
    supervisor: &UserId,
    supervisee: &UserId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM supervision WHERE supervisor_id = ?1 AND supervisee_id = ?2 \
             AND training = 1",
        )?
        .exists(params![supervisor.as_bytes(), supervisee.as_bytes()])?)
}

pub(crate) fn set_minor_status(
    conn: &Connection,
    client: &ClientId,
    status: Option<MinorRow>,
    at: i64,
) -> Result<()> {
    match status {
        None => {
            conn.prepare_cached("DELETE FROM minor_status WHERE client_id = ?1")?
                .execute([client.as_bytes()])?;
        }
        Some(m) => {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO minor_status (client_id, consented_to_own_treatment, \
                 court_directed, guardian_agreed_confidential, updated_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![
                client.as_bytes(),
                m.consented_to_own_treatment,
                m.court_directed,
                m.guardian_agreed_confidential,
                at
            ])?;
        }
    }
    Ok(())
}

pub(crate) fn insert_case(
    conn: &Connection,
    case: &CaseId,
    kind: CaseKind,
    secrets: SecretsPolicy,
    at: i64,
    by: &UserId,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO cases (case_id, kind, secrets_policy, created_at, created_by) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        case.as_bytes(),
        kind.code(),
        secrets.code(),
        at,
        by.as_bytes()
    ])?;
    Ok(())
}

/// A case's kind and secrets policy.
pub(crate) fn case(conn: &Connection, case: &CaseId) -> Result<Option<(CaseKind, SecretsPolicy)>> {
    conn.prepare_cached("SELECT kind, secrets_policy FROM cases WHERE case_id = ?1")?
        .query_row([case.as_bytes()], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })
        .optional()?
        .map(|(k, s)| {
            Ok((
                k.parse().map_err(|_| corrupt("case kind"))?,
                s.parse().map_err(|_| corrupt("secrets policy"))?,
            ))
        })
        .transpose()
}

pub(crate) fn add_case_member(
    conn: &Connection,
    case: &CaseId,
    client: &ClientId,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO case_members (case_id, client_id, joined_at) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![case.as_bytes(), client.as_bytes(), at])?;
    Ok(())
}

/// Mark a member as having left (separation); they keep the joint record made while a member.
pub(crate) fn leave_case(
    conn: &Connection,
    case: &CaseId,
    client: &ClientId,
    at: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE case_members SET left_at = ?3 WHERE case_id = ?1 AND client_id = ?2 \
             AND left_at IS NULL",
        )?
        .execute(params![case.as_bytes(), client.as_bytes(), at])?
        > 0)
}

/// `client` is or was a member of `case`.
pub(crate) fn is_case_member(conn: &Connection, case: &CaseId, client: &ClientId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM case_members WHERE case_id = ?1 AND client_id = ?2")?
        .exists(params![case.as_bytes(), client.as_bytes()])?)
}

/// `client`'s membership of `case`: `None` if never a member, else when they left (if they did).
pub(crate) fn membership(
    conn: &Connection,
    case: &CaseId,
    client: &ClientId,
) -> Result<Option<Option<i64>>> {
    Ok(conn
        .prepare_cached("SELECT left_at FROM case_members WHERE case_id = ?1 AND client_id = ?2")?
        .query_row(params![case.as_bytes(), client.as_bytes()], |r| r.get(0))
        .optional()?)
}

/// Every client who is or was a member of `case`.
pub(crate) fn members_of(conn: &Connection, case: &CaseId) -> Result<Vec<ClientId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT client_id FROM case_members WHERE case_id = ?1 ORDER BY joined_at, client_id",
    )?;
    let rows = stmt.query_map([case.as_bytes()], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|b| ClientId::from_slice(&b?)).collect()
}

/// The cases `client` is or was a member of.
pub(crate) fn cases_of(conn: &Connection, client: &ClientId) -> Result<Vec<CaseId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT case_id FROM case_members WHERE client_id = ?1 ORDER BY joined_at, case_id",
    )?;
    let rows = stmt.query_map([client.as_bytes()], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|b| CaseId::from_slice(&b?)).collect()
}

pub(crate) fn add_case_clinician(
    conn: &Connection,
    case: &CaseId,
    user: &UserId,
    at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO case_clinicians (case_id, user_id, since) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![case.as_bytes(), user.as_bytes(), at])?;
    Ok(())
}

pub(crate) fn is_case_clinician(conn: &Connection, case: &CaseId, user: &UserId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM case_clinicians WHERE case_id = ?1 AND user_id = ?2")?
        .exists(params![case.as_bytes(), user.as_bytes()])?)
}

/// Metadata of a joint-record entry.
#[derive(Clone, Debug)]
pub(crate) struct JointRow {
    pub id: JointRecordId,
    pub case: CaseId,
    pub created_at: i64,
    pub created_by: UserId,
    pub updated_at: i64,
}

pub(crate) fn insert_joint_record(
    conn: &Connection,
    r: &JointRow,
    shared_from: Option<&[u8; 16]>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO case_records (record_id, case_id, created_at, created_by, updated_at, \
         shared_from) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        r.id.as_bytes(),
        r.case.as_bytes(),
        r.created_at,
        r.created_by.as_bytes(),
        r.updated_at,
        shared_from
    ])?;
    Ok(())
}

/// A `case_records` row as stored: id, case, created, creator, updated.
type RawJoint = (Vec<u8>, Vec<u8>, i64, Vec<u8>, i64);

fn joint_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawJoint> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_joint(raw: RawJoint) -> Result<JointRow> {
    let (id, case, created_at, by, updated_at) = raw;
    Ok(JointRow {
        id: JointRecordId::from_slice(&id)?,
        case: CaseId::from_slice(&case)?,
        created_at,
        created_by: UserId::from_slice(&by)?,
        updated_at,
    })
}

pub(crate) fn joint_record(conn: &Connection, id: &JointRecordId) -> Result<Option<JointRow>> {
    conn.prepare_cached(
        "SELECT record_id, case_id, created_at, created_by, updated_at FROM case_records \
         WHERE record_id = ?1",
    )?
    .query_row([id.as_bytes()], joint_row)
    .optional()?
    .map(to_joint)
    .transpose()
}

pub(crate) fn joint_records_of(conn: &Connection, case: &CaseId) -> Result<Vec<JointRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT record_id, case_id, created_at, created_by, updated_at FROM case_records \
         WHERE case_id = ?1 ORDER BY created_at, record_id",
    )?;
    let rows = stmt.query_map([case.as_bytes()], joint_row)?;
    rows.map(|r| to_joint(r?)).collect()
}

/// Who a consent releases to, as stored (`recipient_kind`, `recipient_user`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RecipientRow {
    User(UserId),
    JointRecord,
    Outside,
}

/// A consent's cleartext columns.
pub(crate) struct ConsentRow {
    pub id: ConsentId,
    pub client: ClientId,
    pub recipient: RecipientRow,
    pub categories: BTreeSet<Category>,
    pub purpose: Purpose,
    /// Unix ms.
    pub start_ms: i64,
    pub expires_ms: Option<i64>,
    pub revoked_ms: Option<i64>,
    pub signed_on: i64,
    /// Blind index of an outside recipient's name and organisation.
    pub recipient_index: Option<Vec<u8>>,
}

/// A minor's status columns (`minor_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct MinorRow {
    pub consented_to_own_treatment: bool,
    pub court_directed: bool,
    pub guardian_agreed_confidential: bool,
}

pub(crate) fn insert_consent(
    conn: &Connection,
    c: &ConsentRow,
    at: i64,
    by: &UserId,
) -> Result<()> {
    let (kind, user) = match &c.recipient {
        RecipientRow::User(u) => ("user", Some(u.as_bytes())),
        RecipientRow::JointRecord => ("joint_record", None),
        RecipientRow::Outside => ("outside", None),
    };
    let categories: Vec<&str> = c.categories.iter().map(|c| c.code()).collect();
    conn.prepare_cached(
        "INSERT INTO consents (consent_id, client_id, recipient_kind, recipient_user, \
         categories, purpose, start_at, expires_at, revoked_at, signed_on, created_at, created_by, \
         recipient_index) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        c.id.as_bytes(),
        c.client.as_bytes(),
        kind,
        user,
        categories.join(","),
        c.purpose.code(),
        c.start_ms,
        c.expires_ms,
        c.signed_on,
        at,
        by.as_bytes(),
        c.recipient_index
    ])?;
    Ok(())
}

pub(crate) fn revoke_consent(conn: &Connection, id: &ConsentId, at: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE consents SET revoked_at = ?2 WHERE consent_id = ?1 AND revoked_at IS NULL",
        )?
        .execute(params![id.as_bytes(), at])?
        > 0)
}

/// The client a consent belongs to.
pub(crate) fn consent_client(conn: &Connection, id: &ConsentId) -> Result<Option<ClientId>> {
    conn.prepare_cached("SELECT client_id FROM consents WHERE consent_id = ?1")?
        .query_row([id.as_bytes()], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
        .map(|b| ClientId::from_slice(&b))
        .transpose()
}

/// Every consent of `client`, in force or not (the policy judges them against the time).
pub(crate) fn consents_of(conn: &Connection, client: &ClientId) -> Result<Vec<ConsentRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT consent_id, recipient_kind, recipient_user, categories, purpose, start_at, \
         expires_at, revoked_at, signed_on, recipient_index FROM consents WHERE client_id = ?1 \
         ORDER BY created_at, consent_id",
    )?;
    let rows = stmt.query_map([client.as_bytes()], |r| {
        Ok((
            r.get::<_, Vec<u8>>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            (
                r.get::<_, i64>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, Option<i64>>(7)?,
            ),
            r.get::<_, i64>(8)?,
            r.get::<_, Option<Vec<u8>>>(9)?,
        ))
    })?;
    rows.map(|row| {
        let (id, kind, user, categories, purpose, times, signed_on, recipient_index) = row?;
        let (start_ms, expires_ms, revoked_ms) = times;
        let recipient = match (kind.as_str(), user) {
            ("user", Some(u)) => RecipientRow::User(UserId::from_slice(&u)?),
            ("joint_record", None) => RecipientRow::JointRecord,
            ("outside", None) => RecipientRow::Outside,
            _ => return Err(corrupt("consent recipient")),
        };
        let categories = categories
            .split(',')
            .map(|c| {
                c.parse::<Category>()
                    .map_err(|_| corrupt("consent category"))
            })
            .collect::<Result<BTreeSet<_>>>()?;
        Ok(ConsentRow {
            id: ConsentId::from_slice(&id)?,
            client: *client,
            recipient,
            categories,
            purpose: purpose
                .parse::<Purpose>()
                .map_err(|_| corrupt("consent purpose"))?,
            start_ms,
            expires_ms,
            revoked_ms,
            signed_on,
            recipient_index,
        })
    })
    .collect()
}

pub(crate) fn insert_break_glass(
    conn: &Connection,
    grant: &[u8; 16],
    user: &UserId,
    client: &ClientId,
    started_at: i64,
    expires_at: i64,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO break_glass (grant_id, user_id, client_id, started_at, expires_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        grant,
        user.as_bytes(),
        client.as_bytes(),
        started_at,
        expires_at
    ])?;
    Ok(())
}

/// Close every open grant of `user` for `client`. Returns how many were open.
pub(crate) fn end_break_glass(
    conn: &Connection,
    user: &UserId,
    client: &ClientId,
    at: i64,
) -> Result<usize> {
    Ok(conn
        .prepare_cached(
            "UPDATE break_glass SET ended_at = ?3 WHERE user_id = ?1 AND client_id = ?2 \
             AND ended_at IS NULL AND expires_at > ?3",
        )?
        .execute(params![user.as_bytes(), client.as_bytes(), at])?)
}

/// The cleartext facts a decision about `user` and `client` needs, in one query: on the care
/// team, supervising it, holding an open break-glass grant, whether the client has consents at
/// all, and the minor status.
pub(crate) struct Relationship {
    pub on_care_team: bool,
    pub supervises_care_team: bool,
    pub break_glass_active: bool,
    pub has_consents: bool,
    pub minor: Option<MinorRow>,
}

pub(crate) fn relationship(
    conn: &Connection,
    client: &ClientId,
    user: &UserId,
    now: i64,
) -> Result<Relationship> {
    Ok(conn
        .prepare_cached(
            "SELECT \
               EXISTS (SELECT 1 FROM care_team WHERE client_id = ?1 AND user_id = ?2), \
               EXISTS (SELECT 1 FROM supervision s JOIN care_team c \
                       ON c.user_id = s.supervisee_id \
                       WHERE s.supervisor_id = ?2 AND c.client_id = ?1), \
               EXISTS (SELECT 1 FROM break_glass WHERE user_id = ?2 AND client_id = ?1 \
                       AND ended_at IS NULL AND started_at <= ?3 AND expires_at > ?3), \
               EXISTS (SELECT 1 FROM consents WHERE client_id = ?1), \
               m.consented_to_own_treatment, m.court_directed, m.guardian_agreed_confidential \
             FROM (SELECT 1) LEFT JOIN minor_status m ON m.client_id = ?1",
        )?
        .query_row(params![client.as_bytes(), user.as_bytes(), now], |r| {
            let minor = match (r.get(4)?, r.get(5)?, r.get(6)?) {
                (Some(a), Some(b), Some(c)) => Some(MinorRow {
                    consented_to_own_treatment: a,
                    court_directed: b,
                    guardian_agreed_confidential: c,
                }),
                _ => None,
            };
            Ok(Relationship {
                on_care_team: r.get(0)?,
                supervises_care_team: r.get(1)?,
                break_glass_active: r.get(2)?,
                has_consents: r.get(3)?,
                minor,
            })
        })?)
}
