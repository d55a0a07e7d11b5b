//! Chain verification, one entry at a time, with no key.
//!
//! The verifier streams entries in sequence order and keeps only the previous one, so a log of
//! any length verifies in constant memory. Besides "broken at N" it tries to say *what* broke:
//! an entry whose hash recomputes under a neighbouring sequence number was moved there; a run of
//! entries all shifted by one means one was inserted or deleted and the rest renumbered.

use std::fmt;

use std::collections::BTreeMap;

use crate::audit::entry::{Cell, EntryCells, chain_hash, format_utc};
use crate::audit::ledger::{StoredLedger, ledger_digest};

/// Findings kept in a report; the total is still counted past this.
pub const MAX_FINDINGS: usize = 100;
/// How far either side of its place a moved entry is looked for.
const MOVE_WINDOW: i64 = 8;

/// One stored row of the audit log, as the verifier sees it.
#[derive(Default)]
pub(crate) struct StoredEntry {
    pub cells: EntryCells,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// What is wrong at a sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FindingKind {
    /// The entry's content no longer matches its hash.
    Changed,
    /// Entries from the finding's sequence number through `last` are missing.
    Missing {
        /// Last missing sequence number.
        last: u64,
    },
    /// An entry was inserted here (later entries were renumbered to make room).
    Inserted,
    /// Out of order: this position holds the entry written as sequence number `holds`.
    Moved {
        /// The sequence number the entry was written with.
        holds: u64,
    },
    /// The entry does not name the previous entry's hash: one of the two was rewritten.
    Unlinked,
    /// A row of the wrong shape (e.g. a hash that is not 32 bytes).
    Malformed,
    /// The log has no entries at all; every vault's log begins with its creation.
    Empty,
    /// A disclosure-ledger row no longer matches the digest its release entry vouches for.
    LedgerEdited,
    /// A release entry vouches for a ledger row that is gone.
    LedgerMissing,
    /// A ledger row that no release entry vouches for (added outside the vault).
    LedgerUnlogged,
    /// A checkpoint whose signature does not verify under the vault's audit key.
    CheckpointForged,
    /// The entry a signed checkpoint covers has another hash: the chain was rewritten.
    ChainRewritten,
    /// The log ends before this signed checkpoint (or anchor): its tail was cut or rolled back.
    Truncated {
        /// The last sequence number still in the log.
        last: u64,
    },
    /// The log holds a different entry at the anchored sequence number: a fork.
    Forked,
    /// The vault's audit key is not the one the anchor was signed with.
    KeyReplaced,
    /// A record's stored fields are not what its latest write entry vouches for: changed, or
    /// rolled back to an older envelope.
    RecordChanged {
        /// The record, note, consent or grant.
        id: [u8; 16],
    },
    /// A record a write entry vouches for is gone (deleted outside the vault).
    RecordMissing {
        /// The record, note, consent or grant.
        id: [u8; 16],
    },
    /// Stored fields no write entry vouches for (added outside the vault).
    RecordUnlogged {
        /// The record, note, consent or grant.
        id: [u8; 16],
    },
}

impl FindingKind {
    /// About stored data against the log, rather than the log itself.
    pub fn is_about_data(&self) -> bool {
        matches!(
            self,
            FindingKind::RecordChanged { .. }
                | FindingKind::RecordMissing { .. }
                | FindingKind::RecordUnlogged { .. }
        )
    }

    /// A stable code for machine-readable reports.
    pub fn code(&self) -> &'static str {
        match self {
            FindingKind::Changed => "changed",
            FindingKind::Missing { .. } => "missing",
            FindingKind::Inserted => "inserted",
            FindingKind::Moved { .. } => "out-of-order",
            FindingKind::Unlinked => "unlinked",
            FindingKind::Malformed => "malformed",
            FindingKind::Empty => "empty",
            FindingKind::LedgerEdited => "ledger-edited",
            FindingKind::LedgerMissing => "ledger-missing",
            FindingKind::LedgerUnlogged => "ledger-unlogged",
            FindingKind::CheckpointForged => "checkpoint-forged",
            FindingKind::ChainRewritten => "chain-rewritten",
            FindingKind::Truncated { .. } => "truncated",
            FindingKind::Forked => "forked",
            FindingKind::KeyReplaced => "key-replaced",
            FindingKind::RecordChanged { .. } => "record-changed",
            FindingKind::RecordMissing { .. } => "record-missing",
            FindingKind::RecordUnlogged { .. } => "record-unlogged",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindingKind::Changed => f.write_str("entry changed (its hash no longer matches)"),
            FindingKind::Missing { last } => write!(f, "entries missing through seq {last}"),
            FindingKind::Inserted => f.write_str("entry inserted (later entries renumbered)"),
            FindingKind::Moved { holds } => {
                write!(f, "out of order: holds the entry written as seq {holds}")
            }
            FindingKind::Unlinked => {
                f.write_str("does not link to the previous entry (an entry was rewritten)")
            }
            FindingKind::Malformed => f.write_str("malformed row"),
            FindingKind::Empty => {
                f.write_str("the log is empty (every vault's log starts at its creation)")
            }
            FindingKind::LedgerEdited => f.write_str(
                "disclosure-ledger row changed (no longer what its release entry vouches for)",
            ),
            FindingKind::LedgerMissing => {
                f.write_str("disclosure-ledger row missing (its release entry is still in the log)")
            }
            FindingKind::LedgerUnlogged => {
                f.write_str("disclosure-ledger row that no release entry vouches for")
            }
            FindingKind::CheckpointForged => {
                f.write_str("checkpoint forged (its signature does not verify)")
            }
            FindingKind::ChainRewritten => {
                f.write_str("chain rewritten after a signed checkpoint (the signed hash differs)")
            }
            FindingKind::Truncated { last } => write!(
                f,
                "log truncated or rolled back: it ends at seq {last}, before this signed head"
            ),
            FindingKind::Forked => f.write_str("forked: a different entry at the anchored seq"),
            FindingKind::KeyReplaced => {
                f.write_str("the audit key differs from the one the anchor was signed with")
            }
            FindingKind::RecordChanged { id } => write!(
                f,
                "record {} changed or rolled back (not what its latest write entry vouches for)",
                hex::encode(id)
            ),
            FindingKind::RecordMissing { id } => write!(
                f,
                "record {} missing (its write entry is still in the log)",
                hex::encode(id)
            ),
            FindingKind::RecordUnlogged { id } => write!(
                f,
                "record {} stored with no write entry vouching for it",
                hex::encode(id)
            ),
        }
    }
}

/// A problem found in the log, at the sequence number where it is seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Where.
    pub seq: u64,
    /// What.
    pub kind: FindingKind,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "seq {}: {}", self.seq, self.kind)
    }
}

/// The result of verifying a vault's audit log.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Entries read.
    pub entries: u64,
    /// First and last sequence numbers read.
    pub seq_range: Option<(u64, u64)>,
    /// First and last entry times (unix ms).
    pub time_range: Option<(i64, i64)>,
    /// The findings, in sequence order, at most 100 (the rest are only counted).
    pub findings: Vec<Finding>,
    /// How many findings there were in all.
    pub findings_total: u64,
    /// Signed checkpoints checked.
    pub checkpoints_checked: u64,
    /// The newest signed checkpoint.
    pub last_checkpoint: Option<u64>,
    /// Not tampering, but worth knowing (unclean shutdowns, an unsigned tail).
    pub warnings: Vec<Warning>,
    /// The newest signed checkpoint within the verified log, with its entry hash: where the
    /// next incremental verification may resume.
    pub resume_point: Option<(u64, [u8; 32])>,
    /// This run resumed after an earlier verified point and checked only what came after.
    pub resumed_from: Option<u64>,
}

/// Something a reader of the log should know that is not tampering.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Warning {
    /// The vault opened at `opened` was never closed cleanly: a crash or power loss.
    UncleanShutdown {
        /// Where it was opened.
        opened: u64,
    },
    /// Entries after the last signed checkpoint: not protected against truncation until the
    /// next checkpoint (or an anchor).
    UnsignedTail {
        /// How many.
        entries: u64,
    },
}

impl Warning {
    /// A stable code for machine-readable reports.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::UncleanShutdown { .. } => "unclean-shutdown",
            Warning::UnsignedTail { .. } => "unsigned-tail",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Warning::UncleanShutdown { opened } => write!(
                f,
                "unclean shutdown: the vault opened at seq {opened} was not closed (a crash, a \
                 power loss, or still in use)"
            ),
            Warning::UnsignedTail { entries } => write!(
                f,
                "{entries} entries after the last signed checkpoint (not yet sealed)"
            ),
        }
    }
}

impl VerifyReport {
    /// No finding.
    pub fn is_intact(&self) -> bool {
        self.findings_total == 0
    }

    /// The first finding, if any.
    pub fn first_break(&self) -> Option<&Finding> {
        self.findings.first()
    }

    /// First and last entry times as RFC 3339 text.
    pub fn time_range_utc(&self) -> Option<(String, String)> {
        self.time_range.map(|(a, b)| (format_utc(a), format_utc(b)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowState {
    Ok,
    Damaged,
    /// Intact, but written under `seq + delta`: part of a renumbered run.
    Shifted(i64),
}

struct Prev {
    seq: i64,
    hash: Vec<u8>,
    prev_hash: Vec<u8>,
    state: RowState,
}

/// A written parent: its field table and its id.
pub(super) type WriteKey = (&'static str, Vec<u8>);

/// Streaming chain verifier.
pub(crate) struct Verifier {
    genesis: [u8; 32],
    prev: Option<Prev>,
    /// A finding that the next entry may still explain: an entry one place early is either the
    /// first of a renumbered run after a deletion, or half of a swapped pair.
    pending: Option<Finding>,
    /// Entries that vouch for a ledger row: seq to (target id, digest).
    vouched: BTreeMap<i64, (Vec<u8>, Vec<u8>)>,
    /// Validly signed checkpoints and the anchor: seq to the hash they vouch for.
    pub(super) sealed: BTreeMap<i64, Vec<u8>>,
    /// The anchor's sequence number and hash, when verifying against one.
    pub(super) anchor: Option<(i64, Vec<u8>)>,
    /// Openings of the vault not yet closed: instance id to the seq of its opening.
    pub(super) open: BTreeMap<Vec<u8>, i64>,
    pub(super) last_seq: i64,
    /// The latest write entry of each (field table, parent): its seq and the digest of the
    /// fields it left.
    pub(super) wrote: BTreeMap<WriteKey, (i64, Vec<u8>)>,
    /// Parents written by entries older than format 4 (no digest to check them against).
    pub(super) legacy: std::collections::BTreeSet<WriteKey>,
    /// Resumed after a verified point: records written before it are not known to this run.
    pub(super) partial: bool,
    report: VerifyReport,
}

impl Verifier {
    pub(crate) fn new(genesis: [u8; 32]) -> Self {
        Self {
            genesis,
            prev: None,
            pending: None,
            vouched: BTreeMap::new(),
            sealed: BTreeMap::new(),
            anchor: None,
            open: BTreeMap::new(),
            last_seq: 0,
            wrote: BTreeMap::new(),
            legacy: std::collections::BTreeSet::new(),
            partial: false,
            report: VerifyReport::default(),
        }
    }

    pub(super) fn report_mut(&mut self) -> &mut VerifyReport {
        &mut self.report
    }

    pub(super) fn find(&mut self, seq: i64, kind: FindingKind) {
        self.report.findings_total += 1;
        if self.report.findings.len() < MAX_FINDINGS {
            self.report.findings.push(Finding {
                seq: seq.max(0) as u64, // INVARIANT: clamped to >= 0 before the cast.
                kind,
            });
        }
    }

    /// Check the next entry (entries must come in ascending `seq` order).
    /// Resume after an entry verified earlier (incremental verification): `e` is that entry as
    /// stored now; the caller has checked it still has the hash recorded then.
    pub(crate) fn resume_after(&mut self, seq: i64, e: StoredEntry) {
        self.last_seq = seq;
        self.partial = true;
        self.report.resumed_from = Some(u64::try_from(seq).unwrap_or(0));
        self.prev = Some(Prev {
            seq,
            hash: e.hash,
            prev_hash: e.prev_hash,
            state: RowState::Ok,
        });
    }

    /// Remember `e` as the previous entry, reusing the buffers of the one before.
    fn set_prev(&mut self, seq: i64, e: &StoredEntry, state: RowState) {
        match &mut self.prev {
            Some(p) => {
                p.seq = seq;
                p.hash.clear();
                p.hash.extend_from_slice(&e.hash);
                p.prev_hash.clear();
                p.prev_hash.extend_from_slice(&e.prev_hash);
                p.state = state;
            }
            None => {
                self.prev = Some(Prev {
                    seq,
                    hash: e.hash.clone(),
                    prev_hash: e.prev_hash.clone(),
                    state,
                })
            }
        }
    }

    pub(crate) fn push(&mut self, e: &StoredEntry) {
        let seq = match e.cells.0[0] {
            Cell::Integer(s) => s,
            _ => 0,
        };
        self.note_range(seq, &e.cells);
        self.observe_seals(seq, e);
        self.observe_writes(seq, e);
        let releases = matches!(&e.cells.0[3], Cell::Text(a) if a == b"disclosure.release");
        if let Some(digest) = e.cells.digest().filter(|_| releases) {
            let target = match &e.cells.0[5] {
                Cell::Blob(t) => t.clone(),
                _ => Vec::new(),
            };
            self.vouched.insert(seq, (target, digest.to_vec()));
        }
        if let Some(p) = self.pending.take() {
            if self.is_swap_partner(seq, e) {
                self.find(p.seq as i64, FindingKind::Moved { holds: p.seq + 1 });
                self.find(
                    seq,
                    FindingKind::Moved {
                        holds: (seq - 1) as u64,
                    },
                );
                self.set_prev(seq, e, RowState::Damaged);
                return;
            }
            self.find(p.seq as i64, p.kind);
        }
        let expected = self.prev.as_ref().map_or(1, |p| p.seq + 1);
        let gap = seq > expected;
        if gap {
            self.find(
                expected,
                FindingKind::Missing {
                    last: (seq - 1) as u64,
                },
            );
        }
        let state = if e.hash.len() != 32 || e.prev_hash.len() != 32 || seq < 1 {
            self.find(seq, FindingKind::Malformed);
            RowState::Damaged
        } else if chain_hash(&e.prev_hash, &e.cells)[..] != e.hash[..] {
            self.classify_bad_hash(seq, e)
        } else {
            if !gap {
                self.check_link(seq, &e.prev_hash);
            }
            RowState::Ok
        };
        self.set_prev(seq, e, state);
    }

    /// The previous entry holds entry `seq`, and this one holds entry `seq - 1`.
    fn is_swap_partner(&self, seq: i64, e: &StoredEntry) -> bool {
        self.prev.as_ref().is_some_and(|p| p.seq + 1 == seq)
            && chain_hash(&e.prev_hash, &e.cells.with_seq(seq - 1))[..] == e.hash[..]
    }

    fn note_range(&mut self, seq: i64, cells: &EntryCells) {
        let r = &mut self.report;
        r.entries += 1;
        let s = seq.max(0) as u64; // INVARIANT: clamped to >= 0 before the cast.
        r.seq_range = Some(r.seq_range.map_or((s, s), |(a, _)| (a, s)));
        if let Cell::Integer(at) = cells.0[1] {
            r.time_range = Some(r.time_range.map_or((at, at), |(a, _)| (a, at)));
        }
    }

    /// The entry's own hash fails: moved from a nearby position, part of a renumbered run, or
    /// changed.
    fn classify_bad_hash(&mut self, seq: i64, e: &StoredEntry) -> RowState {
        let holds = (seq - MOVE_WINDOW..=seq + MOVE_WINDOW)
            .filter(|&s| s >= 1 && s != seq)
            .find(|&s| chain_hash(&e.prev_hash, &e.cells.with_seq(s))[..] == e.hash[..]);
        let Some(holds) = holds else {
            self.find(seq, FindingKind::Changed);
            return RowState::Damaged;
        };
        let delta = holds - seq;
        let prev_state = self.prev.as_ref().map_or(RowState::Ok, |p| p.state);
        match (delta, prev_state) {
            // Continuing a run already reported.
            (d, RowState::Shifted(pd)) if d == pd => {}
            // Everything from here on sits one place late: the previous entry was inserted.
            (-1, RowState::Ok) => {
                let at = self.prev.as_ref().map_or(seq, |p| p.seq);
                self.find(at, FindingKind::Inserted);
            }
            // Everything from here on sits one place early: an entry was deleted here.
            // Or the first of a swapped pair: the next entry tells.
            (1, RowState::Ok) => {
                self.pending = Some(Finding {
                    seq: seq as u64,
                    kind: FindingKind::Missing { last: seq as u64 },
                });
            }
            _ => self.find(
                seq,
                FindingKind::Moved {
                    holds: holds as u64,
                },
            ),
        }
        RowState::Shifted(delta)
    }

    /// The entry is intact; does it name its predecessor?
    fn check_link(&mut self, seq: i64, prev_hash: &[u8]) {
        let Some(p) = &self.prev else {
            if prev_hash != self.genesis {
                self.find(seq, FindingKind::Unlinked);
            }
            return;
        };
        if prev_hash == p.hash.as_slice() || p.state != RowState::Ok {
            // Linked, or a consequence of a predecessor already reported.
            return;
        }
        if prev_hash == p.prev_hash.as_slice() {
            // Both name the same predecessor: the previous one was slipped in between.
            let at = p.seq;
            self.find(at, FindingKind::Inserted);
        } else {
            self.find(seq, FindingKind::Unlinked);
        }
    }

    /// Check one disclosure-ledger row against the entry that vouches for it. Call after every
    /// entry has been pushed.
    pub(crate) fn check_ledger(&mut self, row: StoredLedger) {
        let verified_before = self.report.resumed_from.map_or(0, |s| s as i64);
        if row.audit_seq <= verified_before {
            // Checked by the run that verified up to there.
            return;
        }
        let digest = ledger_digest(&row.cells, &row.fields);
        match self.vouched.remove(&row.audit_seq) {
            None => self.find(row.audit_seq, FindingKind::LedgerUnlogged),
            Some((target, vouched)) if target != row.id || vouched[..] != digest[..] => {
                self.find(row.audit_seq, FindingKind::LedgerEdited)
            }
            Some(_) => {}
        }
    }

    pub(crate) fn finish(mut self) -> VerifyReport {
        if let Some(p) = self.pending.take() {
            self.find(p.seq as i64, p.kind);
        }
        if self.report.entries == 0 && !self.partial {
            self.find(1, FindingKind::Empty);
        }
        let missing: Vec<i64> = self.vouched.keys().copied().collect();
        for seq in missing {
            self.find(seq, FindingKind::LedgerMissing);
        }
        self.finish_writes();
        self.finish_seals();
        // The log's own findings first, in sequence order; what they imply for the data after.
        self.report
            .findings
            .sort_by_key(|f| (f.kind.is_about_data(), f.seq));
        self.report
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GENESIS: [u8; 32] = [0x42; 32];

    fn cells(seq: i64, what: &str) -> EntryCells {
        EntryCells([
            Cell::Integer(seq),
            Cell::Integer(1000 + seq),
            Cell::Null,
            Cell::Text("record.read".into()),
            Cell::Null,
            Cell::Null,
            Cell::Text(what.as_bytes().to_vec()),
            Cell::Text("TREAT".into()),
            Cell::Text("granted".into()),
            Cell::Null,
        ])
    }

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_vec();
        (1..=n)
            .map(|s| {
                let c = cells(s, &format!("f{s}"));
                let h = chain_hash(&prev, &c).to_vec();
                let e = StoredEntry {
                    cells: c,
                    prev_hash: prev.clone(),
                    hash: h.clone(),
                };
                prev = h;
                e
            })
            .collect()
    }

    fn run(entries: Vec<StoredEntry>) -> VerifyReport {
        let mut v = Verifier::new(GENESIS);
        for e in entries {
            v.push(&e);
        }
        v.finish()
    }

    fn firsts(r: &VerifyReport) -> Vec<Finding> {
        r.findings.clone()
    }

    #[test]
    fn intact_chain() {
        let r = run(chain(20));
        assert!(r.is_intact());
        assert_eq!(r.entries, 20);
        assert_eq!(r.seq_range, Some((1, 20)));
    }

    #[test]
    fn wrong_genesis_is_unlinked() {
        let mut v = Verifier::new([0; 32]);
        for e in chain(3) {
            v.push(&e);
        }
        assert_eq!(
            v.finish().findings,
            vec![Finding {
                seq: 1,
                kind: FindingKind::Unlinked
            }]
        );
    }

    #[test]
    fn changed_entry() {
        let mut c = chain(10);
        c[4].cells.0[8] = Cell::Text("denied:x".into());
        let r = run(c);
        assert_eq!(
            firsts(&r),
            vec![Finding {
                seq: 5,
                kind: FindingKind::Changed
            }]
        );
    }

    #[test]
    fn rewritten_hash_is_unlinked() {
        let mut c = chain(10);
        c[4].cells.0[8] = Cell::Text("denied:x".into());
        c[4].hash = chain_hash(&c[4].prev_hash, &c[4].cells).to_vec();
        let r = run(c);
        assert_eq!(
            firsts(&r),
            vec![Finding {
                seq: 6,
                kind: FindingKind::Unlinked
            }]
        );
    }

    #[test]
    fn deleted_entry_is_a_gap() {
        let mut c = chain(10);
        c.remove(3);
        assert_eq!(
            firsts(&run(c)),
            vec![Finding {
                seq: 4,
                kind: FindingKind::Missing { last: 4 }
            }]
        );
    }

    #[test]
    fn deleted_and_renumbered() {
        let mut c = chain(10);
        c.remove(3);
        for e in c.iter_mut().skip(3) {
            if let Cell::Integer(s) = e.cells.0[0] {
                e.cells.0[0] = Cell::Integer(s - 1);
            }
        }
        assert_eq!(
            firsts(&run(c)),
            vec![Finding {
                seq: 4,
                kind: FindingKind::Missing { last: 4 }
            }]
        );
    }

    #[test]
    fn swapped_entries_are_moved() {
        let mut c = chain(10);
        // Swap the rows of seq 4 and 5, leaving each position's seq number in place.
        c.swap(3, 4);
        c[3].cells.0[0] = Cell::Integer(4);
        c[4].cells.0[0] = Cell::Integer(5);
        let r = run(c);
        assert_eq!(
            firsts(&r),
            vec![
                Finding {
                    seq: 4,
                    kind: FindingKind::Moved { holds: 5 }
                },
                Finding {
                    seq: 5,
                    kind: FindingKind::Moved { holds: 4 }
                },
            ]
        );
    }

    #[test]
    fn inserted_with_renumbering() {
        let mut c = chain(10);
        // Forge a well-formed entry 4 that links to 3, then renumber the old 4.. as 5..
        let forged_cells = cells(4, "forged");
        let forged = StoredEntry {
            hash: chain_hash(&c[2].hash, &forged_cells).to_vec(),
            prev_hash: c[2].hash.clone(),
            cells: forged_cells,
        };
        for e in c.iter_mut().skip(3) {
            if let Cell::Integer(s) = e.cells.0[0] {
                e.cells.0[0] = Cell::Integer(s + 1);
            }
        }
        c.insert(3, forged);
        assert_eq!(
            firsts(&run(c)),
            vec![Finding {
                seq: 4,
                kind: FindingKind::Inserted
            }]
        );
    }

    #[test]
    fn an_empty_log_is_a_finding() {
        let r = run(Vec::new());
        assert_eq!(
            firsts(&r),
            vec![Finding {
                seq: 1,
                kind: FindingKind::Empty
            }]
        );
    }

    #[test]
    fn findings_are_capped_but_counted() {
        let mut c = chain(300);
        for e in &mut c {
            e.cells.0[7] = Cell::Text("HPAYMT".into());
        }
        let r = run(c);
        assert_eq!(r.findings.len(), MAX_FINDINGS);
        assert_eq!(r.findings_total, 300);
    }
}
