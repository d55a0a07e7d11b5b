//! Requests to amend (45 CFR 164.526): the cleartext state of each request, a policy fact of its
//! client (tag 9 of the client's scope, `fact_rows`, authenticated by the scope's MAC). This
//! module writes the rows and types what the scope statement returns; the sealed texts are in
//! `amendment_fields`, written through the gate.

use rusqlite::{Connection, OptionalExtension, params};

use crate::db::fact_rows::ScopeRow;
use crate::error::{Error, Result};
use crate::ids::{AmendmentId, ClientId, RecordId, UserId};

fn corrupt(what: &str) -> Error {
    Error::Corrupt { what: what.into() }
}

/// A request's columns (`amendment_requests`), as its client's scope returns them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct AmendmentRow {
    pub id: AmendmentId,
    /// The disputed entries, in the order the request named them.
    pub records: Vec<RecordId>,
    pub received_at: i64,
    /// 60 days after receipt; 90 once extended.
    pub due_at: i64,
    pub extended_at: Option<i64>,
    /// `Some(true)` accepted, `Some(false)` denied, `None` not yet decided.
    pub accepted: Option<bool>,
    pub decided_at: Option<i64>,
    pub decided_by: Option<UserId>,
    pub statement_at: Option<i64>,
    pub rebuttal_at: Option<i64>,
    pub recorded_by: UserId,
}

fn records_text(records: &[RecordId]) -> String {
    records
        .iter()
        .map(|r| hex::encode(r.as_bytes()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Insert a new, undecided request (its fields are sealed and vouched for after, in the same
/// transaction).
pub(crate) fn insert_amendment(
    conn: &Connection,
    client: &ClientId,
    a: &AmendmentRow,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO amendment_requests (request_id, client_id, records, received_at, due_at, \
         extended_at, decision, decided_at, decided_by, statement_at, rebuttal_at, recorded_by) \
         VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, NULL, NULL, NULL, NULL, ?6)",
    )?
    .execute(params![
        a.id.as_bytes(),
        client.as_bytes(),
        records_text(&a.records),
        a.received_at,
        a.due_at,
        a.recorded_by.as_bytes(),
    ])?;
    Ok(())
}

/// Take the one extension: the new due date. False if the request is not `client`'s, is
/// decided, or was extended already.
pub(crate) fn extend(
    conn: &Connection,
    client: &ClientId,
    id: &AmendmentId,
    at: i64,
    due_at: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE amendment_requests SET extended_at = ?3, due_at = ?4 WHERE request_id = ?1 \
             AND client_id = ?2 AND extended_at IS NULL AND decision IS NULL",
        )?
        .execute(params![id.as_bytes(), client.as_bytes(), at, due_at])?
        > 0)
}

/// Record the decision. False if the request is not `client`'s or is decided already.
pub(crate) fn decide(
    conn: &Connection,
    client: &ClientId,
    id: &AmendmentId,
    accepted: bool,
    at: i64,
    by: &UserId,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE amendment_requests SET decision = ?3, decided_at = ?4, decided_by = ?5 \
             WHERE request_id = ?1 AND client_id = ?2 AND decision IS NULL",
        )?
        .execute(params![
            id.as_bytes(),
            client.as_bytes(),
            if accepted { "accepted" } else { "denied" },
            at,
            by.as_bytes()
        ])?
        > 0)
}

/// Record that the client's statement of disagreement was filed. False unless the request is
/// `client`'s, denied, and has none yet.
pub(crate) fn file_statement(
    conn: &Connection,
    client: &ClientId,
    id: &AmendmentId,
    at: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE amendment_requests SET statement_at = ?3 WHERE request_id = ?1 \
             AND client_id = ?2 AND decision = 'denied' AND statement_at IS NULL",
        )?
        .execute(params![id.as_bytes(), client.as_bytes(), at])?
        > 0)
}

/// Record that the practice's rebuttal was written. False unless the request is `client`'s,
/// has a statement, and no rebuttal yet.
pub(crate) fn rebut(
    conn: &Connection,
    client: &ClientId,
    id: &AmendmentId,
    at: i64,
) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "UPDATE amendment_requests SET rebuttal_at = ?3 WHERE request_id = ?1 \
             AND client_id = ?2 AND statement_at IS NOT NULL AND rebuttal_at IS NULL",
        )?
        .execute(params![id.as_bytes(), client.as_bytes(), at])?
        > 0)
}

/// The client a request names, as stored: unauthenticated, only to find which scope to read
/// (and check) before anything about the request is trusted.
pub(crate) fn amendment_client(conn: &Connection, id: &AmendmentId) -> Result<Option<ClientId>> {
    conn.prepare_cached("SELECT client_id FROM amendment_requests WHERE request_id = ?1")?
        .query_row([id.as_bytes()], |r| r.get::<_, Vec<u8>>(0))
        .optional()?
        .map(|b| ClientId::from_slice(&b))
        .transpose()
}

/// Every client with a request on file, as stored: the candidates a search of deadlines reads
/// (and checks) the scope of.
pub(crate) fn clients_with_amendments(conn: &Connection) -> Result<Vec<ClientId>> {
    let mut stmt = conn
        .prepare_cached("SELECT DISTINCT client_id FROM amendment_requests ORDER BY client_id")?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    rows.map(|b| ClientId::from_slice(&b?)).collect()
}

/// A row of tag 9 of a client's scope.
pub(crate) fn amendment_of(r: &ScopeRow<'_, '_>) -> Result<AmendmentRow> {
    let r = r.row;
    let records: String = r.get(2)?;
    let records = records
        .split(',')
        .filter(|c| !c.is_empty())
        .map(|h| {
            let b = hex::decode(h).map_err(|_| corrupt("amendment record"))?;
            RecordId::from_slice(&b)
        })
        .collect::<Result<_>>()?;
    let decision: Option<String> = r.get(6)?;
    let accepted = match decision.as_deref() {
        None => None,
        Some("accepted") => Some(true),
        Some("denied") => Some(false),
        Some(_) => return Err(corrupt("amendment decision")),
    };
    let decided_by: Option<Vec<u8>> = r.get(8)?;
    Ok(AmendmentRow {
        id: AmendmentId::from_slice(&r.get::<_, Vec<u8>>(1)?)?,
        records,
        received_at: r.get(3)?,
        due_at: r.get(4)?,
        extended_at: r.get(5)?,
        accepted,
        decided_at: r.get(7)?,
        decided_by: decided_by.map(|b| UserId::from_slice(&b)).transpose()?,
        statement_at: r.get(9)?,
        rebuttal_at: r.get(10)?,
        recorded_by: UserId::from_slice(&r.get::<_, Vec<u8>>(11)?)?,
    })
}
