//! Reading the audit log for review, with no passphrase: which entries a filter selects, and
//! their stored rows as typed entries. Pure: the vault's `read_audit_log` feeds this the rows of
//! one read snapshot.
//!
//! Whoever holds the vault file can already read these rows with any SQLite client: they hold
//! pseudonymous ids, action and outcome codes and field names, never a field value. This is the
//! paved path to them, for a compliance reviewer; it says nothing about whether the log is
//! intact, which is [`verify_audit_log`](crate::verify_audit_log)'s job.
//!
//! An entry's parts are inside its blob, so filtering reads every row and decides in Rust (the
//! log had no index on its parts before either): about as fast as SQLite's own scan was.

use crate::audit::{AuditAction, AuditEntry, EntryView, StoredEntry};
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

impl AuditFilter {
    /// The filter as stored values to match; a `since` later than `until` is refused
    /// ([`Error::InvalidInput`]).
    pub(crate) fn criteria(&self) -> Result<Criteria<'_>> {
        let from_ms = self.since.map(|d| day_start_ms(d, 0)).transpose()?;
        let before_ms = self.until.map(|d| day_start_ms(d, 1)).transpose()?;
        if let (Some(from), Some(before)) = (from_ms, before_ms) {
            if from >= before {
                return Err(Error::InvalidInput {
                    what: "date range",
                    reason: "the start is after the end".into(),
                });
            }
        }
        Ok(Criteria {
            client: self.client.as_ref().map(|c| &c.as_bytes()[..]),
            actor: self.actor.as_ref().map(|a| &a.as_bytes()[..]),
            action: self.action.map(AuditAction::code),
            from_ms,
            before_ms,
            through_seq: self
                .through_seq
                .map(|s| i64::try_from(s).unwrap_or(i64::MAX)),
        })
    }
}

/// What to select, as stored values. `None` matches every row.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Criteria<'a> {
    pub client: Option<&'a [u8]>,
    pub actor: Option<&'a [u8]>,
    pub action: Option<&'a str>,
    /// Unix milliseconds, inclusive.
    pub from_ms: Option<i64>,
    /// Unix milliseconds, exclusive.
    pub before_ms: Option<i64>,
    /// Inclusive.
    pub through_seq: Option<i64>,
}

impl Criteria<'_> {
    /// Does this entry (`view`, its parsed parts, if it parses) match? An entry that does not
    /// parse matches only when nothing is asked of its parts, so a corrupt row is shown (as an
    /// error) rather than silently skipped.
    fn matches(&self, e: &StoredEntry, view: Option<&EntryView<'_>>) -> bool {
        if self.through_seq.is_some_and(|t| e.seq > t) {
            return false;
        }
        let Some(v) = view else {
            return self.client.is_none()
                && self.actor.is_none()
                && self.action.is_none()
                && self.from_ms.is_none()
                && self.before_ms.is_none();
        };
        self.client.is_none_or(|c| v.client == Some(c))
            && self.actor.is_none_or(|a| v.actor == Some(a))
            && self.action.is_none_or(|a| v.action == a.as_bytes())
            && self.from_ms.is_none_or(|t| v.at_ms >= t)
            && self.before_ms.is_none_or(|t| v.at_ms < t)
    }
}

/// What one pass over the log found for some criteria.
#[derive(Default)]
struct Matches {
    /// The matching entries, oldest first, each with the stored hash of the row before it.
    pub entries: Vec<(StoredEntry, Vec<u8>)>,
    /// Some entry (matching or not) names the criteria's client.
    pub client_named: bool,
    /// Some entry (matching or not) names the criteria's actor.
    pub actor_named: bool,
}

/// One pass over the log for some criteria: fed every stored row in order, it keeps the
/// matching ones and notes whether any row names the criteria's client and actor.
pub(crate) struct Matcher<'a> {
    criteria: Criteria<'a>,
    /// The stored hash of the row fed last (at first, the hash before the first entry).
    prev: Vec<u8>,
    found: Matches,
}

impl<'a> Matcher<'a> {
    /// A pass over a log whose first entry is chained after `genesis`.
    pub(crate) fn new(criteria: Criteria<'a>, genesis: &[u8]) -> Self {
        Matcher {
            criteria,
            prev: genesis.to_vec(),
            found: Matches::default(),
        }
    }

    /// The next stored row of the log.
    pub(crate) fn push(&mut self, e: &StoredEntry) {
        let c = &self.criteria;
        let view = EntryView::parse(&e.entry);
        if let Some(v) = &view {
            self.found.client_named |= c.client.is_some() && v.client == c.client;
            self.found.actor_named |= c.actor.is_some() && v.actor == c.actor;
        }
        if c.matches(e, view.as_ref()) {
            self.found.entries.push((e.clone(), self.prev.clone()));
        }
        self.prev.clear();
        self.prev.extend_from_slice(&e.hash);
    }

    /// What the pass found, unfinished.
    #[cfg(test)]
    fn matches(&self) -> &Matches {
        &self.found
    }

    /// The matching entries of `vault`'s log, typed. A client or actor that no entry of the log
    /// names at all is an error ([`Error::NotFound`]), so a mistyped id is not mistaken for "no
    /// activity".
    pub(crate) fn finish(self, vault: VaultId) -> Result<AuditLog> {
        if self.criteria.client.is_some() && !self.found.client_named {
            return Err(Error::NotFound {
                what: "client in the audit log",
            });
        }
        if self.criteria.actor.is_some() && !self.found.actor_named {
            return Err(Error::NotFound {
                what: "user in the audit log",
            });
        }
        let entries = self
            .found
            .entries
            .iter()
            .map(|(e, prev)| parse_entry(e, prev))
            .collect::<Result<_>>()?;
        Ok(AuditLog { vault, entries })
    }
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
    use crate::audit::{EntryParts, entry_hash};
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
    fn a_reversed_range_is_refused() {
        let filter = AuditFilter {
            since: Some(Date::new(2024, 3, 2).unwrap()),
            until: Some(Date::new(2024, 3, 1).unwrap()),
            ..AuditFilter::default()
        };
        assert!(matches!(
            filter.criteria(),
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

    fn log() -> Vec<StoredEntry> {
        let mut log = Vec::new();
        let rows: [(i64, i64, u8, &str, Option<u8>); 4] = [
            (1, 1_000, 1, "vault.create", None),
            (2, 2_000, 1, "record.read", Some(7)),
            (3, 3_000, 2, "record.read", Some(8)),
            (4, 4_000, 2, "note.read", Some(7)),
        ];
        let mut prev = vec![0u8; 32];
        for (seq, at, actor, action, client) in rows {
            let client = client.map(|c| [c; 16]);
            let entry = EntryParts {
                link: &prev,
                at_ms: at,
                actor: Some(&[actor; 16]),
                client: client.as_ref(),
                target: None,
                digest: None,
                digest_v2: false,
                facts: None,
                action,
                purpose: "TREAT",
                outcome: "granted",
                fields: &[],
            }
            .encode();
            let hash = entry_hash(&prev, seq, &entry).to_vec();
            log.push(StoredEntry::new(seq, entry, hash.clone()));
            prev = hash;
        }
        log
    }

    fn matching<'a>(log: &[StoredEntry], c: &Criteria<'a>, genesis: &[u8]) -> Matcher<'a> {
        let mut m = Matcher::new(*c, genesis);
        for e in log {
            m.push(e);
        }
        m
    }

    fn seqs(log: &[StoredEntry], c: &Criteria<'_>) -> Vec<i64> {
        matching(log, c, &[0; 32])
            .matches()
            .entries
            .iter()
            .map(|(e, _)| e.seq)
            .collect()
    }

    #[test]
    fn criteria_combine_and_unset_ones_match_everything() {
        let conn = log();
        let conn = &conn[..];
        assert_eq!(seqs(conn, &Criteria::default()), [1, 2, 3, 4]);
        let seven = [7u8; 16];
        let two = [2u8; 16];
        let client = Criteria {
            client: Some(&seven),
            ..Criteria::default()
        };
        assert_eq!(seqs(conn, &client), [2, 4]);
        let actor = Criteria {
            actor: Some(&two),
            action: Some("record.read"),
            ..Criteria::default()
        };
        assert_eq!(seqs(conn, &actor), [3]);
        let window = Criteria {
            from_ms: Some(2_000),
            before_ms: Some(4_000),
            ..Criteria::default()
        };
        assert_eq!(seqs(conn, &window), [2, 3]);
        let head = Criteria {
            through_seq: Some(2),
            ..Criteria::default()
        };
        assert_eq!(seqs(conn, &head), [1, 2]);
        // Whether the log names a client or actor at all does not depend on the other criteria.
        let named = |client: &[u8], actor: &[u8]| {
            let c = Criteria {
                client: Some(client),
                actor: Some(actor),
                through_seq: Some(1),
                ..Criteria::default()
            };
            let m = matching(conn, &c, &[0; 32]);
            let m = m.matches();
            assert!(m.entries.is_empty());
            (m.client_named, m.actor_named)
        };
        assert_eq!(named(&seven, &two), (true, true));
        assert_eq!(named(&two, &seven), (false, false));
        // Each entry comes with the hash of the row before it.
        let all = matching(conn, &Criteria::default(), &[0; 32])
            .matches()
            .entries
            .clone();
        assert_eq!(all[0].1, vec![0; 32]);
        assert_eq!(all[2].1, all[1].0.hash);
    }
}
