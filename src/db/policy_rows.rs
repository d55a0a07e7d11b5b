//! Rows behind the access policy's facts: supervision, minors, cases, consents, break-glass.

use std::collections::BTreeSet;

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::amendment_rows::{self, AmendmentRow};
use crate::db::fact_rows::{ScopeKind, ScopeRead, ScopeRow, read_scope};
use crate::db::release_rows::{self, ConsentScopeRow, GuardianRow, RestrictionRow};
use crate::db::rows::{self, AddendumLink};
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
    /// Its scope (format 9); `None` for a consent recorded before.
    pub scope: Option<ConsentScopeRow>,
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

/// A consent's columns, typed.
#[allow(clippy::too_many_arguments)]
fn consent_row(
    client: ClientId,
    id: &[u8],
    (kind, user): (&str, Option<Vec<u8>>),
    categories: &str,
    purpose: &str,
    (start_ms, expires_ms, revoked_ms): (i64, Option<i64>, Option<i64>),
    signed_on: i64,
    recipient_index: Option<Vec<u8>>,
) -> Result<ConsentRow> {
    let recipient = match (kind, user) {
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
        id: ConsentId::from_slice(id)?,
        client,
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
        scope: None,
    })
}

/// Everything the policy reads about one client, from the rows of its scope of facts (read
/// and hashed in one statement, [`read_scope`]): who is on its care team, open break-glass
/// grants, its minor status and its consents (in the order they were recorded).
pub(crate) struct ClientRows {
    pub care_team: Vec<UserId>,
    /// Users holding a grant open at the time asked about.
    pub break_glass: Vec<UserId>,
    pub minor: Option<MinorRow>,
    pub consents: Vec<ConsentRow>,
    pub restrictions: Vec<RestrictionRow>,
    pub guardians: Vec<GuardianRow>,
    /// Which entries are addenda of which, each entry's in order.
    pub addenda: Vec<AddendumLink>,
    /// Its clinical entries and notes not yet signed.
    pub drafts: Vec<[u8; 16]>,
    /// Requests to amend, by id.
    pub amendments: Vec<AmendmentRow>,
}

pub(crate) fn client_rows(
    conn: &Connection,
    client: &ClientId,
    now: i64,
) -> Result<(ScopeRead, ClientRows)> {
    let mut out = ClientRows {
        care_team: Vec::new(),
        break_glass: Vec::new(),
        minor: None,
        consents: Vec::new(),
        restrictions: Vec::new(),
        guardians: Vec::new(),
        addenda: Vec::new(),
        drafts: Vec::new(),
        amendments: Vec::new(),
    };
    let mut scopes = Vec::new();
    let mut order = Vec::new();
    let read = read_scope(conn, ScopeKind::Client, client.as_bytes(), |row| {
        let ScopeRow { tag, row: r } = row;
        match tag {
            0 => {
                if let rusqlite::types::ValueRef::Blob(b) = r.get_ref(4)? {
                    out.drafts = rows::drafts_from(b);
                }
            }
            1 => {
                out.minor = Some(MinorRow {
                    consented_to_own_treatment: r.get(1)?,
                    court_directed: r.get(2)?,
                    guardian_agreed_confidential: r.get(3)?,
                })
            }
            2 => out
                .care_team
                .push(UserId::from_slice(&r.get::<_, Vec<u8>>(1)?)?),
            3 => {
                let user: Option<Vec<u8>> = r.get(3)?;
                let kind: String = r.get(2)?;
                let c = consent_row(
                    *client,
                    &r.get::<_, Vec<u8>>(1)?,
                    (&kind, user),
                    &r.get::<_, String>(4)?,
                    &r.get::<_, String>(5)?,
                    (r.get(6)?, r.get(7)?, r.get(8)?),
                    r.get(9)?,
                    r.get(12)?,
                )?;
                order.push(r.get::<_, i64>(10)?);
                out.consents.push(c);
            }
            5 => scopes.push(release_rows::consent_scope_of(&row)?),
            6 => out.restrictions.push(release_rows::restriction_of(&row)?),
            7 => out.guardians.push(release_rows::guardian_of(&row)?),
            8 => out.addenda.push(rows::addendum_link_of(*client, r)?),
            9 => out.amendments.push(amendment_rows::amendment_of(&row)?),
            4 => {
                let (started, expires, ended): (i64, i64, Option<i64>) =
                    (r.get(3)?, r.get(4)?, r.get(5)?);
                if ended.is_none() && started <= now && expires > now {
                    out.break_glass
                        .push(UserId::from_slice(&r.get::<_, Vec<u8>>(2)?)?);
                }
            }
            _ => {}
        }
        Ok(())
    })?;
    out.addenda.sort_by_key(|a| (a.of, a.ordinal));
    for s in scopes {
        if let Some(c) = out.consents.iter_mut().find(|c| c.id == s.consent) {
            c.scope = Some(s);
        } else {
            return Err(corrupt("consent scope without its consent"));
        }
    }
    // Recorded order: by creation time, then id (the statement orders them by id).
    let mut keyed: Vec<(i64, ConsentRow)> = order.into_iter().zip(out.consents).collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.id.as_bytes().cmp(b.1.id.as_bytes())));
    out.consents = keyed.into_iter().map(|(_, c)| c).collect();
    Ok((read, out))
}

/// Whom of `users` `supervisor` supervises.
pub(crate) fn supervised_among(
    conn: &Connection,
    supervisor: &UserId,
    users: &[UserId],
) -> Result<Vec<UserId>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare_cached(
        "SELECT 1 FROM supervision WHERE supervisor_id = ?1 AND supervisee_id = ?2",
    )?;
    for u in users {
        if stmt.exists(params![supervisor.as_bytes(), u.as_bytes()])? {
            out.push(*u);
        }
    }
    Ok(out)
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

/// Everything the policy reads about one case, from the rows of its scope of facts.
pub(crate) struct CaseRows {
    pub kind: CaseKind,
    pub secrets: SecretsPolicy,
    /// Every member, with when they left (if they did).
    pub members: Vec<(ClientId, Option<i64>)>,
    pub clinicians: Vec<UserId>,
}

/// The rows of `case`'s scope, read and hashed in one statement; `None` for no such case.
pub(crate) fn case_rows(conn: &Connection, case: &CaseId) -> Result<(ScopeRead, Option<CaseRows>)> {
    let mut head = None;
    let mut members = Vec::new();
    let mut clinicians = Vec::new();
    let read = read_scope(conn, ScopeKind::Case, case.as_bytes(), |row| {
        let ScopeRow { tag, row: r } = row;
        match tag {
            0 => {
                let kind: String = r.get(1)?;
                let secrets: String = r.get(2)?;
                head = Some((
                    kind.parse::<CaseKind>().map_err(|_| corrupt("case kind"))?,
                    secrets
                        .parse::<SecretsPolicy>()
                        .map_err(|_| corrupt("secrets policy"))?,
                ));
            }
            1 => members.push((
                ClientId::from_slice(&r.get::<_, Vec<u8>>(1)?)?,
                r.get::<_, Option<i64>>(3)?,
            )),
            2 => clinicians.push(UserId::from_slice(&r.get::<_, Vec<u8>>(1)?)?),
            _ => {}
        }
        Ok(())
    })?;
    let rows = head.map(|(kind, secrets)| CaseRows {
        kind,
        secrets,
        members,
        clinicians,
    });
    Ok((read, rows))
}
