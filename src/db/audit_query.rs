//! Filtered reads of the audit log, for showing entries to a reviewer. Verification streams
//! every row through `audit_rows::for_each_batch` instead.
//!
//! An entry's parts are inside its blob, so filtering reads every row and decides in Rust (the
//! log had no index on its parts before either): about as fast as SQLite's own scan was.

use rusqlite::Connection;

use crate::audit::{EntryView, StoredEntry};
use crate::db::audit_rows;
use crate::error::Result;

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
pub(crate) struct Matches {
    /// The matching entries, oldest first, each with the stored hash of the row before it.
    pub entries: Vec<(StoredEntry, Vec<u8>)>,
    /// Some entry (matching or not) names the criteria's client.
    pub client_named: bool,
    /// Some entry (matching or not) names the criteria's actor.
    pub actor_named: bool,
}

/// The entries matching `c`, and whether the log names its client and actor at all, in one
/// pass (`genesis` is the hash before the first entry).
pub(crate) fn matching(conn: &Connection, c: &Criteria<'_>, genesis: &[u8]) -> Result<Matches> {
    let mut out = Matches::default();
    let mut prev = genesis.to_vec();
    audit_rows::for_each(conn, 1, |e| {
        let view = EntryView::parse(&e.entry);
        if let Some(v) = &view {
            out.client_named |= c.client.is_some() && v.client == c.client;
            out.actor_named |= c.actor.is_some() && v.actor == c.actor;
        }
        if c.matches(e, view.as_ref()) {
            out.entries.push((e.clone(), prev.clone()));
        }
        prev.clear();
        prev.extend_from_slice(&e.hash);
    })?;
    Ok(out)
}

/// The newest sequence number, or 0 for an empty log: how many entries an intact log holds.
pub(crate) fn max_seq(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT coalesce(max(seq), 0) FROM audit_log")?
        .query_row([], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::EntryParts;

    fn log() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE audit_log (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL, \
             hash BLOB NOT NULL);",
        )
        .unwrap();
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
                action,
                purpose: "TREAT",
                outcome: "granted",
                fields: &[],
            }
            .encode();
            prev = audit_rows::append(&conn, seq, &entry, &prev)
                .unwrap()
                .to_vec();
        }
        conn
    }

    fn seqs(conn: &Connection, c: &Criteria<'_>) -> Vec<i64> {
        matching(conn, c, &[0; 32])
            .unwrap()
            .entries
            .iter()
            .map(|(e, _)| e.seq)
            .collect()
    }

    #[test]
    fn criteria_combine_and_unset_ones_match_everything() {
        let conn = log();
        assert_eq!(seqs(&conn, &Criteria::default()), [1, 2, 3, 4]);
        let seven = [7u8; 16];
        let two = [2u8; 16];
        let client = Criteria {
            client: Some(&seven),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &client), [2, 4]);
        let actor = Criteria {
            actor: Some(&two),
            action: Some("record.read"),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &actor), [3]);
        let window = Criteria {
            from_ms: Some(2_000),
            before_ms: Some(4_000),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &window), [2, 3]);
        let head = Criteria {
            through_seq: Some(2),
            ..Criteria::default()
        };
        assert_eq!(seqs(&conn, &head), [1, 2]);
        // Whether the log names a client or actor at all does not depend on the other criteria.
        let named = |client: &[u8], actor: &[u8]| {
            let c = Criteria {
                client: Some(client),
                actor: Some(actor),
                through_seq: Some(1),
                ..Criteria::default()
            };
            let m = matching(&conn, &c, &[0; 32]).unwrap();
            assert!(m.entries.is_empty());
            (m.client_named, m.actor_named)
        };
        assert_eq!(named(&seven, &two), (true, true));
        assert_eq!(named(&two, &seven), (false, false));
        assert_eq!(max_seq(&conn).unwrap(), 4);
        // Each entry comes with the hash of the row before it.
        let all = matching(&conn, &Criteria::default(), &[0; 32])
            .unwrap()
            .entries;
        assert_eq!(all[0].1, vec![0; 32]);
        assert_eq!(all[2].1, all[1].0.hash);
    }
}
