//! Rows that bound releases: consents' scopes, restrictions and guardians. All are policy facts
//! of one client, read with its scope of facts (`fact_rows`, tags 5 to 7) and authenticated by
//! its MAC; this module writes them and types what the scope statement returns.

use std::collections::BTreeSet;

use rusqlite::{Connection, params};

use crate::db::fact_rows::ScopeRow;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, ConsentId, GuardianId, RecordId, RestrictionId, UserId};
use crate::model::{Category, Purpose};

fn corrupt(what: &str) -> Error {
    Error::Corrupt { what: what.into() }
}

/// A consent's scope columns (`consent_scopes`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ConsentScopeRow {
    pub consent: ConsentId,
    /// `category:*` or `category:field|field`, `;`-separated.
    pub elements: String,
    pub condition_index: Option<Vec<u8>>,
    pub case: Option<CaseId>,
    pub signed_by: Option<GuardianId>,
    pub expiry_event: bool,
    pub expiry_event_at: Option<i64>,
}

pub(crate) fn insert_consent_scope(
    conn: &Connection,
    client: &ClientId,
    s: &ConsentScopeRow,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO consent_scopes (consent_id, client_id, elements, condition_index, case_id, \
         signed_by, expiry_event, expiry_event_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
    )?
    .execute(params![
        s.consent.as_bytes(),
        client.as_bytes(),
        s.elements,
        s.condition_index,
        s.case.as_ref().map(|c| &c.as_bytes()[..]),
        s.signed_by.as_ref().map(|g| &g.as_bytes()[..]),
        s.expiry_event,
    ])?;
    Ok(())
}

/// Record that the event a consent names as its end happened at `at`. False if the consent
/// names no event, or it was recorded already.
pub(crate) fn set_expiry_event(conn: &Connection, consent: &ConsentId, at: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE consent_scopes SET expiry_event_at = ?2 WHERE consent_id = ?1 \
             AND expiry_event = 1 AND expiry_event_at IS NULL",
        )?
        .execute(params![consent.as_bytes(), at])?
        > 0)
}

/// A restriction's columns (`restrictions`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RestrictionRow {
    pub id: RestrictionId,
    pub self_pay: bool,
    pub agreed: bool,
    pub recipient_index: Option<Vec<u8>>,
    pub purposes: BTreeSet<Purpose>,
    pub categories: BTreeSet<Category>,
    pub records: BTreeSet<RecordId>,
    pub recorded_at: i64,
    pub lifted_at: Option<i64>,
}

fn hex_id(id: &RecordId) -> String {
    hex::encode(id.as_bytes())
}

pub(crate) fn insert_restriction(
    conn: &Connection,
    client: &ClientId,
    r: &RestrictionRow,
    by: &UserId,
) -> Result<()> {
    let join = |v: Vec<String>| v.join(",");
    conn.prepare_cached(
        "INSERT INTO restrictions (restriction_id, client_id, kind, agreed, recipient_index, \
         purposes, categories, records, recorded_at, recorded_by, lifted_at, lifted_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL, NULL)",
    )?
    .execute(params![
        r.id.as_bytes(),
        client.as_bytes(),
        if r.self_pay { "self_pay" } else { "other" },
        r.agreed,
        r.recipient_index,
        join(r.purposes.iter().map(|p| p.code().to_owned()).collect()),
        join(r.categories.iter().map(|c| c.code().to_owned()).collect()),
        join(r.records.iter().map(hex_id).collect()),
        r.recorded_at,
        by.as_bytes(),
    ])?;
    Ok(())
}

/// Lift an agreed restriction. False if it is not one of `client`'s, or was lifted already.
pub(crate) fn lift_restriction(
    conn: &Connection,
    client: &ClientId,
    id: &RestrictionId,
    at: i64,
    by: &UserId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE restrictions SET lifted_at = ?3, lifted_by = ?4 WHERE restriction_id = ?1 \
             AND client_id = ?2 AND lifted_at IS NULL",
        )?
        .execute(params![id.as_bytes(), client.as_bytes(), at, by.as_bytes()])?
        > 0)
}

/// A guardian's columns (`guardians`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GuardianRow {
    pub id: GuardianId,
    /// `parent` or `court_appointed`.
    pub basis: String,
    pub may_access: bool,
    pub may_authorize: bool,
    pub until_ms: Option<i64>,
    pub recorded_at: i64,
    pub ended_at: Option<i64>,
}

pub(crate) fn insert_guardian(
    conn: &Connection,
    client: &ClientId,
    g: &GuardianRow,
    by: &UserId,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO guardians (guardian_id, client_id, basis, may_access, may_authorize, \
         until_at, recorded_at, recorded_by, ended_at) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL)",
    )?
    .execute(params![
        g.id.as_bytes(),
        client.as_bytes(),
        g.basis,
        g.may_access,
        g.may_authorize,
        g.until_ms,
        g.recorded_at,
        by.as_bytes(),
    ])?;
    Ok(())
}

/// End a guardian's authority. False if it is not one of `client`'s, or ended already.
pub(crate) fn end_guardian(
    conn: &Connection,
    client: &ClientId,
    id: &GuardianId,
    at: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE guardians SET ended_at = ?3 WHERE guardian_id = ?1 AND client_id = ?2 \
             AND ended_at IS NULL",
        )?
        .execute(params![id.as_bytes(), client.as_bytes(), at])?
        > 0)
}

fn opt_id<T>(b: Option<Vec<u8>>, from: impl Fn(&[u8]) -> Result<T>) -> Result<Option<T>> {
    b.map(|b| from(&b)).transpose()
}

fn codes<T: std::str::FromStr + Ord>(text: &str, what: &str) -> Result<BTreeSet<T>> {
    text.split(',')
        .filter(|c| !c.is_empty())
        .map(|c| c.parse::<T>().map_err(|_| corrupt(what)))
        .collect()
}

/// A row of tag 5 of a client's scope.
pub(crate) fn consent_scope_of(r: &ScopeRow<'_, '_>) -> Result<ConsentScopeRow> {
    let r = r.row;
    Ok(ConsentScopeRow {
        consent: ConsentId::from_slice(&r.get::<_, Vec<u8>>(1)?)?,
        elements: r.get(2)?,
        condition_index: r.get(3)?,
        case: opt_id(r.get(4)?, CaseId::from_slice)?,
        signed_by: opt_id(r.get(5)?, GuardianId::from_slice)?,
        expiry_event: r.get(6)?,
        expiry_event_at: r.get(7)?,
    })
}

/// A row of tag 6 of a client's scope.
pub(crate) fn restriction_of(r: &ScopeRow<'_, '_>) -> Result<RestrictionRow> {
    let r = r.row;
    let kind: String = r.get(2)?;
    let records: String = r.get(7)?;
    let records = records
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|h| {
            let b = hex::decode(h).map_err(|_| corrupt("restriction record"))?;
            RecordId::from_slice(&b)
        })
        .collect::<Result<_>>()?;
    Ok(RestrictionRow {
        id: RestrictionId::from_slice(&r.get::<_, Vec<u8>>(1)?)?,
        self_pay: match kind.as_str() {
            "self_pay" => true,
            "other" => false,
            _ => return Err(corrupt("restriction kind")),
        },
        agreed: r.get(3)?,
        recipient_index: r.get(4)?,
        purposes: codes(&r.get::<_, String>(5)?, "restriction purpose")?,
        categories: codes(&r.get::<_, String>(6)?, "restriction category")?,
        records,
        recorded_at: r.get(8)?,
        lifted_at: r.get(10)?,
    })
}

/// A row of tag 7 of a client's scope.
pub(crate) fn guardian_of(r: &ScopeRow<'_, '_>) -> Result<GuardianRow> {
    let r = r.row;
    Ok(GuardianRow {
        id: GuardianId::from_slice(&r.get::<_, Vec<u8>>(1)?)?,
        basis: r.get(2)?,
        may_access: r.get(3)?,
        may_authorize: r.get(4)?,
        until_ms: r.get(5)?,
        recorded_at: r.get(6)?,
        ended_at: r.get(8)?,
    })
}

/// A consent the upgrade to format 9 narrowed, and the audit entry that listed it (once logged).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NarrowedRow {
    pub consent: ConsentId,
    pub client: ClientId,
    pub audit_seq: Option<i64>,
}

/// Every consent the upgrade to format 9 narrowed.
pub(crate) fn narrowed_consents(conn: &Connection) -> Result<Vec<NarrowedRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT consent_id, client_id, audit_seq FROM narrowed_consents ORDER BY consent_id",
    )?;
    let mut rows = stmt.query([])?;
    let mut out = Vec::new();
    while let Some(r) = rows.next()? {
        out.push(NarrowedRow {
            consent: ConsentId::from_slice(&r.get::<_, Vec<u8>>(0)?)?,
            client: ClientId::from_slice(&r.get::<_, Vec<u8>>(1)?)?,
            audit_seq: r.get(2)?,
        });
    }
    Ok(out)
}

/// Note the entry that listed a narrowed consent.
pub(crate) fn set_narrowed_logged(conn: &Connection, consent: &ConsentId, seq: i64) -> Result<()> {
    conn.prepare_cached("UPDATE narrowed_consents SET audit_seq = ?2 WHERE consent_id = ?1")?
        .execute(params![consent.as_bytes(), seq])?;
    Ok(())
}
