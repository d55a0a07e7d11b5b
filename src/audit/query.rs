//! Reading the audit log for review, with no passphrase: metadata only, filtered in SQL, from one
//! read snapshot.
//!
//! Whoever holds the vault file can already read these rows with any SQLite client: they hold
//! pseudonymous ids, action and outcome codes and field names, never a field value. This is the
//! paved path to them, for a compliance reviewer; it says nothing about whether the log is
//! intact, which is [`verify_audit_log`](crate::verify_audit_log)'s job.

use std::path::Path;

use crate::audit::{AuditAction, AuditEntry, EntryView, StoredEntry, genesis_hash};
use crate::db::{self, audit_query, audit_query::Criteria, rows};
use crate::error::{Error, Result};
use crate::ids::{ClientId, UserId, VaultId};
use crate::value::Date;

/// Which entries to read. Every criterion that is set must hold; the default reads every entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only entries about this client.
    pub client: Option<ClientId>,
    /// Only entries by this user.
    pub actor: Option<UserId>,
    /// Only entries recording this action.
    pub action: Option<AuditAction>,
    /// Only entries on or after the start of this day (UTC).
    pub since: Option<Date>,
    /// Only entries on or before the end of this day (UTC).
    pub until: Option<Date>,
    /// Only entries up to this sequence number: e.g. the last one a verification covered.
    pub through_seq: Option<u64>,
}

/// Entries read from a vault's audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditLog {
    /// The vault the log belongs to.
    pub vault: VaultId,
    /// The matching entries, oldest first.
    pub entries: Vec<AuditEntry>,
}

/// Read the entries of a vault's audit log that match `filter`, oldest first. Needs no
/// passphrase and never writes to the file; reads one consistent snapshot.
///
/// A client or actor that no entry of the log names at all is an error
/// ([`Error::NotFound`]), so a mistyped id is not mistaken for "no activity". So is a `since`
/// later than `until` ([`Error::InvalidInput`]).
pub fn read_audit_log(path: impl AsRef<Path>, filter: &AuditFilter) -> Result<AuditLog> {
    let from_ms = filter.since.map(|d| day_start_ms(d, 0)).transpose()?;
    let before_ms = filter.until.map(|d| day_start_ms(d, 1)).transpose()?;
    if let (Some(from), Some(before)) = (from_ms, before_ms) {
        if from >= before {
            return Err(Error::InvalidInput {
                what: "date range",
                reason: "the start is after the end".into(),
            });
        }
    }
    let through_seq = filter
        .through_seq
        .map(|s| i64::try_from(s).unwrap_or(i64::MAX));
    let mut conn = db::open_read_only(path.as_ref())?;
    // Rolled back on drop: a read-only snapshot, so every query sees the same log.
    let tx = conn.transaction()?;
    let vault = rows::vault_id(&tx)?;
    let criteria = Criteria {
        client: filter.client.as_ref().map(|c| &c.as_bytes()[..]),
        actor: filter.actor.as_ref().map(|a| &a.as_bytes()[..]),
        action: filter.action.map(AuditAction::code),
        from_ms,
        before_ms,
        through_seq,
    };
    let found = audit_query::matching(&tx, &criteria, &genesis_hash(&vault))?;
    if filter.client.is_some() && !found.client_named {
        return Err(Error::NotFound {
            what: "client in the audit log",
        });
    }
    if filter.actor.is_some() && !found.actor_named {
        return Err(Error::NotFound {
            what: "user in the audit log",
        });
    }
    let entries = found
        .entries
        .iter()
        .map(|(e, prev)| parse_entry(e, prev))
        .collect::<Result<_>>()?;
    Ok(AuditLog { vault, entries })
}

/// The id of the staff member with this user name, read without a passphrase (user names are
/// staff identities, kept in clear).
pub fn staff_user_id(path: impl AsRef<Path>, name: &str) -> Result<crate::ids::UserId> {
    let conn = db::open_read_only(path.as_ref())?;
    crate::db::rows::user_by_name(&conn, name)?
        .map(|u| u.id)
        .ok_or(Error::NotFound { what: "user" })
}

/// How many entries an intact log of this vault holds (its newest sequence number), read
/// without a passphrase. Cheap: for sizing a progress display before verification, which alone
/// says whether the log really holds them.
pub fn audit_log_len(path: impl AsRef<Path>) -> Result<u64> {
    let conn = db::open_read_only(path.as_ref())?;
    let head = audit_query::max_seq(&conn)?;
    Ok(u64::try_from(head).unwrap_or(0))
}

/// Unix milliseconds at the start (00:00 UTC) of `date` plus `days`.
fn day_start_ms(date: Date, days: i64) -> Result<i64> {
    let bad = || Error::InvalidInput {
        what: "date",
        reason: "out of range".into(),
    };
    let month = time::Month::try_from(date.month()).map_err(|_| bad())?;
    let day = time::Date::from_calendar_date(i32::from(date.year()), month, date.day())
        .map_err(|_| bad())?;
    let start = day
        .midnight()
        .assume_utc()
        .checked_add(time::Duration::days(days))
        .ok_or_else(bad)?;
    Ok(start.unix_timestamp() * 1000)
}

/// A stored row as a typed entry, with the stored hash of the row before it. Rows are only
/// parsed for display; verification hashes the stored bytes as they are.
pub(crate) fn parse_entry(e: &StoredEntry, prev_hash: &[u8]) -> Result<AuditEntry> {
    let corrupt = || Error::Corrupt {
        what: "audit row".into(),
    };
    let v = EntryView::parse(&e.entry).ok_or_else(corrupt)?;
    let text = |b: &[u8]| String::from_utf8(b.to_vec()).map_err(|_| corrupt());
    let fields = v.fields.text().ok_or_else(corrupt)?;
    Ok(AuditEntry {
        seq: u64::try_from(e.seq).map_err(|_| corrupt())?,
        at_ms: v.at_ms,
        actor: v.actor.map(UserId::from_slice).transpose()?,
        action: text(v.action)?,
        client: v.client.map(ClientId::from_slice).transpose()?,
        target: v.target.map(hex::encode),
        fields: fields
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        purpose: text(v.purpose)?,
        outcome: text(v.outcome)?,
        prev_hash: prev_hash.try_into().map_err(|_| corrupt())?,
        hash: e.hash.as_slice().try_into().map_err(|_| corrupt())?,
    })
}

/// Consecutive stored rows as typed entries; `before` is the stored hash of the row before the
/// first.
pub(crate) fn parse_run(rows: &[StoredEntry], before: &[u8]) -> Result<Vec<AuditEntry>> {
    let mut prev = before;
    let mut out = Vec::with_capacity(rows.len());
    for e in rows {
        out.push(parse_entry(e, prev)?);
        prev = &e.hash;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stored::{Cell, EntryCells, canonical_bytes};

    #[test]
    fn days_are_utc_and_until_covers_its_whole_day() {
        let d = Date::new(2024, 2, 29).unwrap();
        assert_eq!(day_start_ms(d, 0).unwrap(), 1_709_164_800_000);
        assert_eq!(day_start_ms(d, 1).unwrap(), 1_709_251_200_000);
        let last = Date::new(9999, 12, 31).unwrap();
        assert!(
            day_start_ms(last, 1).is_err(),
            "an error, not an overflow panic"
        );
    }

    #[test]
    fn a_reversed_range_is_refused_before_the_file_is_opened() {
        let filter = AuditFilter {
            since: Some(Date::new(2024, 3, 2).unwrap()),
            until: Some(Date::new(2024, 3, 1).unwrap()),
            ..AuditFilter::default()
        };
        assert!(matches!(
            read_audit_log("/nonexistent/vault", &filter),
            Err(Error::InvalidInput {
                what: "date range",
                ..
            })
        ));
    }

    #[test]
    fn a_row_of_the_wrong_shape_is_corrupt_not_a_panic() {
        let mut cells: [Cell; 10] = Default::default();
        cells[0] = Cell::Integer(1);
        cells[1] = Cell::Integer(0);
        cells[2] = Cell::Blob(vec![1; 3]);
        let legacy = StoredEntry::new(1, canonical_bytes(&EntryCells(cells)), vec![0; 32]);
        assert!(matches!(
            parse_entry(&legacy, &[0; 32]),
            Err(Error::Corrupt { .. })
        ));
        let short = StoredEntry::new(1, vec![3, 0, 0], vec![0; 32]);
        assert!(matches!(
            parse_entry(&short, &[0; 32]),
            Err(Error::Corrupt { .. })
        ));
    }
}
