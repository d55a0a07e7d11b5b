//! The rows of each scope of facts, read in one statement and hashed as they are read.
//!
//! A scope is what one MAC covers: a client's facts (its row, minor status, care team,
//! consents and their scopes, break-glass grants, restrictions, guardians, which entries are
//! addenda of which, requests to amend, its drafts), a case's (its row, members, clinicians) or a user's
//! (role, status, who supervises them). One `UNION ALL` statement returns every row of a scope in a
//! fixed order, its first column naming the table; the digest ([`FactsDigest`]) is taken over
//! exactly the stored cells, so the read path (which then checks the scope's MAC) and
//! `audit-verify` (which compares it with the log, without a key) hash the same bytes.

use rusqlite::types::ValueRef;
use rusqlite::{Connection, params};

use crate::error::{Error, Result};
use crate::stored::{CellRef, FactsDigest};

/// The rows of a client's scope that a vault of format 8 has (tags 0 to 4); `$drafts` is the
/// head row's column after its MAC (the client's drafts, from format 10; `NULL` before).
macro_rules! client_scope_v8 {
    ($drafts:literal) => {
        concat!(
            "SELECT 0, created_at, created_by, facts_mac, ",
            $drafts,
            ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL FROM clients WHERE client_id = ?1 ",
            client_scope_v8!()
        )
    };
    () => {
        "UNION ALL SELECT 1, consented_to_own_treatment, court_directed, \
                guardian_agreed_confidential, updated_at, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL FROM minor_status WHERE client_id = ?1 \
         UNION ALL SELECT 2, user_id, relation, since, NULL, NULL, NULL, NULL, NULL, \
                NULL, NULL, NULL, NULL FROM care_team WHERE client_id = ?1 \
         UNION ALL SELECT 3, consent_id, recipient_kind, recipient_user, categories, \
                purpose, start_at, expires_at, revoked_at, signed_on, created_at, \
                created_by, recipient_index FROM consents WHERE client_id = ?1 \
         UNION ALL SELECT 4, grant_id, user_id, started_at, expires_at, ended_at, NULL, \
                NULL, NULL, NULL, NULL, NULL, NULL FROM break_glass WHERE client_id = ?1 "
    };
}

/// The rows of a client's scope that a vault of format 9 has: format 8's, then consents'
/// scopes, restrictions and guardians (tags 5 to 7).
macro_rules! client_scope_v9 {
    ($drafts:literal) => {
        concat!(
            client_scope_v8!($drafts),
            "UNION ALL SELECT 5, consent_id, elements, condition_index, case_id, signed_by, \
                    expiry_event, expiry_event_at, NULL, NULL, NULL, NULL, NULL \
                    FROM consent_scopes WHERE client_id = ?1 \
             UNION ALL SELECT 6, restriction_id, kind, agreed, recipient_index, purposes, \
                    categories, records, recorded_at, recorded_by, lifted_at, lifted_by, NULL \
                    FROM restrictions WHERE client_id = ?1 \
             UNION ALL SELECT 7, guardian_id, basis, may_access, may_authorize, until_at, \
                    recorded_at, recorded_by, ended_at, NULL, NULL, NULL, NULL \
                    FROM guardians WHERE client_id = ?1 "
        )
    };
}

/// A client's scope: format 9's rows with the client's drafts in its head row, then which
/// entries are addenda of which and the client's requests to amend.
///
/// The drafts (the ids of its clinical entries and psychotherapy notes not yet signed, one
/// blob, NULL when there are none) are what keep a signed entry signed: its row rolled back
/// whole to its draft (status, write count and MAC from an older copy, which its own MAC cannot
/// tell from the current one) says it is a draft the client's facts do not list, and is refused
/// before it is read or written. In the head row, not rows of their own: every decision reads
/// this statement, and a table more costs it an index probe.
const CLIENT_SCOPE: &str = concat!(
    client_scope_v9!("drafts"),
    "UNION ALL SELECT 8, addendum_id, of_kind, of_id, ordinal, author_id, added_at, amends, \
            NULL, NULL, NULL, NULL, NULL FROM addenda WHERE client_id = ?1 \
     UNION ALL SELECT 9, request_id, records, received_at, due_at, extended_at, decision, \
            decided_at, decided_by, statement_at, rebuttal_at, recorded_by, NULL \
            FROM amendment_requests WHERE client_id = ?1 \
     ORDER BY 1, 2"
);

/// A client's scope in a vault of format 9, which `audit-verify` reads without migrating it.
const CLIENT_SCOPE_V9: &str = concat!(client_scope_v9!("NULL"), "ORDER BY 1, 2");

/// A client's scope in a vault of format 8.
const CLIENT_SCOPE_V8: &str = concat!(client_scope_v8!("NULL"), "ORDER BY 1, 2");

/// Which scope of facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum ScopeKind {
    Client,
    Case,
    User,
}

impl ScopeKind {
    pub(crate) const ALL: [ScopeKind; 3] = [ScopeKind::Client, ScopeKind::Case, ScopeKind::User];

    /// The name bound into the digest and the MAC, and kept in `facts_baseline`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            ScopeKind::Client => "client",
            ScopeKind::Case => "case",
            ScopeKind::User => "user",
        }
    }

    /// The tables of the scope, by the tag the statement gives their rows, with the number of
    /// hashed cells after the tag.
    fn tables(self) -> &'static [(&'static str, usize)] {
        match self {
            ScopeKind::Client => &[
                ("clients", 2),
                ("minor_status", 4),
                ("care_team", 3),
                ("consents", 12),
                ("break_glass", 5),
                ("consent_scopes", 7),
                ("restrictions", 11),
                ("guardians", 8),
                ("addenda", 7),
                ("amendment_requests", 11),
            ],
            ScopeKind::Case => &[("cases", 4), ("case_members", 3), ("case_clinicians", 2)],
            ScopeKind::User => &[("users", 4), ("supervision", 3)],
        }
    }

    /// Every row of one scope (`?1`), tagged by table, in a fixed order. The head row (tag 0)
    /// carries the stored MAC after its hashed cells; a user's scope also returns the master-key
    /// generation (tag 9, not hashed), which the gate reads with it.
    fn statement(self) -> &'static str {
        match self {
            ScopeKind::Client => CLIENT_SCOPE,
            ScopeKind::Case => {
                "SELECT 0, kind, secrets_policy, created_at, created_by, facts_mac \
                 FROM cases WHERE case_id = ?1 \
                 UNION ALL SELECT 1, client_id, joined_at, left_at, NULL, NULL \
                        FROM case_members WHERE case_id = ?1 \
                 UNION ALL SELECT 2, user_id, since, NULL, NULL, NULL \
                        FROM case_clinicians WHERE case_id = ?1 \
                 ORDER BY 1, 2"
            }
            ScopeKind::User => {
                "SELECT 0, name, role, disabled, created_at, facts_mac FROM users \
                        WHERE user_id = ?1 \
                 UNION ALL SELECT 1, supervisor_id, training, since, NULL, NULL \
                        FROM supervision WHERE supervisee_id = ?1 \
                 UNION ALL SELECT 9, mk_generation, NULL, NULL, NULL, NULL FROM vault_meta \
                        WHERE id = 1 \
                 ORDER BY 1, 2"
            }
        }
    }

    /// The table holding the scope's head rows and its key column.
    fn head(self) -> (&'static str, &'static str) {
        match self {
            ScopeKind::Client => ("clients", "client_id"),
            ScopeKind::Case => ("cases", "case_id"),
            ScopeKind::User => ("users", "user_id"),
        }
    }
}

/// One row of a scope: its table's tag and the row, for typed reading.
pub(crate) struct ScopeRow<'r, 's> {
    pub tag: usize,
    pub row: &'r rusqlite::Row<'s>,
}

/// What reading a scope found, besides its typed rows.
pub(crate) struct ScopeRead {
    /// Whether the head row exists.
    pub exists: bool,
    /// The digest of every hashed cell of the scope.
    pub digest: [u8; 32],
    /// The MAC the head row stores, if any.
    pub mac: Option<Vec<u8>>,
}

pub(crate) fn cell_ref(v: ValueRef<'_>) -> CellRef<'_> {
    match v {
        ValueRef::Null => CellRef::Null,
        ValueRef::Integer(i) => CellRef::Integer(i),
        ValueRef::Real(r) => CellRef::Real(r),
        ValueRef::Text(t) => CellRef::Text(t),
        ValueRef::Blob(b) => CellRef::Blob(b),
    }
}

/// Read every row of scope (`kind`, `id`), hashing each and handing it to `each` for typed
/// reading.
pub(crate) fn read_scope(
    conn: &Connection,
    kind: ScopeKind,
    id: &[u8],
    mut each: impl FnMut(ScopeRow<'_, '_>) -> Result<()>,
) -> Result<ScopeRead> {
    let tables = kind.tables();
    let mut digest = FactsDigest::new(kind.name(), id);
    let mut exists = false;
    let mut mac = None;
    let mut stmt = match conn.prepare_cached(kind.statement()) {
        Ok(stmt) => stmt,
        // A vault of an older format, opened read-only for verification: it has no rows of
        // the later tables, so its scope is the rows it has.
        Err(e) if kind == ScopeKind::Client && missing_table(&e) => {
            match conn.prepare_cached(CLIENT_SCOPE_V9) {
                Ok(stmt) => stmt,
                Err(e) if missing_table(&e) => conn.prepare_cached(CLIENT_SCOPE_V8)?,
                Err(e) => return Err(e.into()),
            }
        }
        Err(e) => return Err(e.into()),
    };
    let mut rows = stmt.query([id])?;
    while let Some(row) = rows.next()? {
        let tag = usize::try_from(row.get::<_, i64>(0)?).unwrap_or(usize::MAX);
        if let Some(&(table, cells)) = tables.get(tag) {
            // A client's drafts follow the MAC in its head row, one more cell when there are
            // any: a client without drafts hashes as it did before format 10.
            let drafts = match (kind, tag, row.get_ref(cells + 2)) {
                (ScopeKind::Client, 0, Ok(ValueRef::Null)) => None,
                (ScopeKind::Client, 0, Ok(v)) => Some(v),
                _ => None,
            };
            digest.row(table, cells + usize::from(drafts.is_some()));
            for i in 1..=cells {
                digest.cell(cell_ref(row.get_ref(i)?));
            }
            if let Some(v) = drafts {
                digest.cell(cell_ref(v));
            }
            if tag == 0 {
                exists = true;
                mac = match row.get_ref(cells + 1)? {
                    ValueRef::Blob(b) => Some(b.to_vec()),
                    _ => None,
                };
            }
        }
        each(ScopeRow { tag, row })?;
    }
    Ok(ScopeRead {
        exists,
        digest: digest.finish(),
        mac,
    })
}

fn missing_table(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqlInputError { msg, .. } if msg.starts_with("no such table"))
        || e.to_string().starts_with("no such table")
}

/// The digest of scope (`kind`, `id`) as stored, and whether its head row exists.
pub(crate) fn scope_digest(conn: &Connection, kind: ScopeKind, id: &[u8]) -> Result<ScopeRead> {
    read_scope(conn, kind, id, |_| Ok(()))
}

/// The ids of every scope of `kind` (its head rows).
pub(crate) fn scope_ids(conn: &Connection, kind: ScopeKind) -> Result<Vec<Vec<u8>>> {
    let (table, key) = kind.head();
    let mut stmt = conn.prepare(&format!("SELECT {key} FROM {table} ORDER BY {key}"))?;
    let rows = stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Store the MAC of scope (`kind`, `id`) in its head row.
pub(crate) fn set_scope_mac(
    conn: &Connection,
    kind: ScopeKind,
    id: &[u8],
    mac: &[u8],
) -> Result<()> {
    let sql = match kind {
        ScopeKind::Client => "UPDATE clients SET facts_mac = ?2 WHERE client_id = ?1",
        ScopeKind::Case => "UPDATE cases SET facts_mac = ?2 WHERE case_id = ?1",
        ScopeKind::User => "UPDATE users SET facts_mac = ?2 WHERE user_id = ?1",
    };
    let n = conn.prepare_cached(sql)?.execute(params![id, mac])?;
    if n == 1 {
        Ok(())
    } else {
        Err(Error::NotFound {
            what: "scope of facts",
        })
    }
}

/// Whether any fact already carries a MAC: a vault that has one was authenticated before.
pub(crate) fn any_fact_mac(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM users WHERE facts_mac IS NOT NULL) \
                 OR EXISTS (SELECT 1 FROM clients WHERE facts_mac IS NOT NULL) \
                 OR EXISTS (SELECT 1 FROM records WHERE mac IS NOT NULL)",
        )?
        .query_row([], |r| r.get(0))?)
}

/// The sequence number of the baseline entry, once the vault has authenticated its state.
pub(crate) fn baseline_seq(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT facts_baseline FROM vault_meta WHERE id = 1")?
        .query_row([], |r| r.get(0))?)
}

pub(crate) fn set_baseline_seq(conn: &Connection, seq: i64) -> Result<()> {
    conn.prepare_cached("UPDATE vault_meta SET facts_baseline = ?1 WHERE id = 1")?
        .execute([seq])?;
    Ok(())
}

/// Record what the baseline vouches for at (`kind`, `id`).
pub(crate) fn insert_baseline(
    conn: &Connection,
    kind: &str,
    id: &[u8],
    digest: &[u8],
) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO facts_baseline (kind, id, digest) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![kind, id, digest])?;
    Ok(())
}

/// Whether the vault is of format 8 or later (has the columns scopes are read from).
pub(crate) fn has_fact_macs(conn: &Connection) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'facts_baseline'",
        )?
        .exists([])?)
}

/// A row of `facts_baseline`: kind, id, digest.
pub(crate) type BaselineRow = (String, Vec<u8>, Vec<u8>);

/// Every row of `facts_baseline`, in key order, and the digest of the whole table (what the
/// baseline entry vouches for). Empty for a vault older than format 8.
pub(crate) fn baseline(conn: &Connection) -> Result<(Vec<BaselineRow>, [u8; 32])> {
    let mut digest = FactsDigest::new("baseline", &[]);
    let mut out = Vec::new();
    if has_fact_macs(conn)? {
        let mut stmt =
            conn.prepare("SELECT kind, id, digest FROM facts_baseline ORDER BY kind, id")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            digest.row("facts_baseline", 3);
            for i in 0..3 {
                digest.cell(cell_ref(r.get_ref(i)?));
            }
            let text = match r.get_ref(0)? {
                ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
                _ => String::new(),
            };
            let blob = |i| -> rusqlite::Result<Vec<u8>> {
                Ok(match r.get_ref(i)? {
                    ValueRef::Blob(b) => b.to_vec(),
                    _ => Vec::new(),
                })
            };
            out.push((text, blob(1)?, blob(2)?));
        }
    }
    Ok((out, digest.finish()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_statement_has_a_table_for_each_tag() {
        for kind in ScopeKind::ALL {
            let unions = kind.statement().matches("SELECT").count();
            let tags = kind.tables().len() + usize::from(kind == ScopeKind::User);
            assert_eq!(unions, tags, "{kind:?}");
        }
    }
}
