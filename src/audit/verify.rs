//! Chain verification, one entry at a time, with no key.
//!
//! The verifier streams entries in sequence order and keeps only the last few hashes, so a log
//! of any length verifies in constant memory. Each entry is hashed after the stored hash of the
//! entry before it. Besides "broken at N" it tries to say *what* broke: an entry whose link names
//! the entry before but whose hash fails was changed; one whose link names a hash no longer there
//! follows a rewritten or deleted entry; one whose hash recomputes under a neighbouring sequence
//! number was moved there; a run of entries all shifted by one means one was inserted or deleted
//! and the rest renumbered.

use std::collections::BTreeMap;

use crate::audit::layout::{EntryView, LINK_LEN, entry_hash};
use crate::audit::ledger::ledger_digest;
use crate::audit::report::{CLOCK_TOLERANCE_MS, Finding, FindingKind, VerifyReport, Warning};
use crate::audit::seal_state::SealState;
use crate::stored::{StoredEntry, StoredLedger};

/// Findings kept in a report; the total is still counted past this.
pub const MAX_FINDINGS: usize = 100;
/// How far either side of its place a moved entry is looked for.
const MOVE_WINDOW: i64 = 8;

#[derive(Clone, Copy, PartialEq, Eq)]
enum RowState {
    Ok,
    Damaged,
    /// Intact, but written under `seq + delta`: part of a renumbered run.
    Shifted(i64),
    /// Its link names no hash seen nearby: its predecessor was rewritten, removed, or is further
    /// on. The next entry tells which.
    Unknown,
}

/// How many recent entries' hashes are kept to find an entry's predecessor out of place.
const RECENT: usize = 2 * MOVE_WINDOW as usize + 1;

struct Prev {
    seq: i64,
    hash: [u8; 32],
    /// The hash it was found to follow, if known.
    follows: Option<[u8; 32]>,
    state: RowState,
    /// Its bytes, kept only while its state is `Unknown`: half of a swapped pair is told by
    /// the next entry.
    entry: Vec<u8>,
    /// For a damaged entry whose predecessor is known: the hash its bytes give, which the next
    /// entry follows when only the stored hash was damaged.
    recomputed: Option<[u8; 32]>,
}

/// A written parent: its field table and its id.
pub(super) type WriteKey = (&'static str, Vec<u8>);

/// What one write entry vouches for: its seq, the digest, and whether it is version 2.
pub(super) type Vouched = (i64, Vec<u8>, bool);

/// A scope of facts: its kind (`client`, `case`, `user`) and id.
pub(super) type ScopeKey = (&'static str, Vec<u8>);

/// The latest entry that vouched for each scope of facts, and where authentication began.
#[derive(Default)]
pub(super) struct FactsSeen {
    /// (scope, id) to (seq, digest).
    pub(super) vouched: BTreeMap<ScopeKey, (i64, Vec<u8>)>,
    /// The first entry from which every fact is vouched for.
    pub(super) from: Option<i64>,
    /// Baseline entries: seq and digest.
    pub(super) baselines: Vec<(i64, Vec<u8>)>,
}

/// Streaming chain verifier.
pub(crate) struct Verifier {
    genesis: [u8; 32],
    prev: Option<Prev>,
    /// The hashes of the last [`RECENT`] entries, oldest overwritten first.
    recent: [[u8; 32]; RECENT],
    recent_len: usize,
    recent_next: usize,
    /// A finding that the next entry may still explain: an entry one place early is either the
    /// first of a renumbered run after a deletion, or half of a swapped pair.
    pending: Option<Finding>,
    /// Entries that vouch for a ledger row: seq to (target id, digest).
    vouched: BTreeMap<i64, (Vec<u8>, Vec<u8>)>,
    /// Validly signed checkpoints and the anchor: seq to the hash they vouch for.
    pub(super) sealed: BTreeMap<i64, Vec<u8>>,
    /// Of those, the checkpoints of version 2: seq to the state and time they sign.
    pub(super) seal_states: BTreeMap<i64, (SealState, i64)>,
    /// The anchor's sequence number and hash, when verifying against one.
    pub(super) anchor: Option<(i64, Vec<u8>)>,
    /// Openings of the vault not yet closed: instance id to the seq of its opening.
    pub(super) open: BTreeMap<Vec<u8>, i64>,
    /// The openings in use at the newest backup checkpoint so far: a restore of that backup
    /// ends them.
    pub(super) in_backup: Vec<Vec<u8>>,
    pub(super) last_seq: i64,
    /// The latest write entry of each (field table, parent): its seq and the digest of the
    /// fields it left.
    pub(super) wrote: BTreeMap<WriteKey, Vouched>,
    /// The scopes of facts entries vouch for, and where that began.
    pub(super) facts: FactsSeen,
    /// Parents written by entries older than format 4 (no digest to check them against).
    pub(super) legacy: std::collections::BTreeSet<WriteKey>,
    /// Resumed after a verified point: records written before it are not known to this run.
    pub(super) partial: bool,
    /// Checkpoint rows whose signature does not verify (reported as forged).
    pub(super) forged: std::collections::BTreeSet<i64>,
    /// The seal deadlines (`deadlines.rs`): in force since a sealing opening,
    pub(super) deadlines_in_force: bool,
    /// the oldest entry (seq, time) no checkpoint covers yet,
    pub(super) unsealed_since: Option<(i64, i64)>,
    /// whether that run was reported,
    pub(super) late_reported: bool,
    /// and the sealed closes seen without their checkpoint.
    pub(super) closes_unsealed: Vec<i64>,
    /// With a witness (`witness.rs`): the heads it holds in force, seq to hash,
    pub(super) witnessed: Option<BTreeMap<i64, [u8; 32]>>,
    /// the first and newest of its lines in force,
    pub(super) witness_span: Option<(i64, i64)>,
    /// every sequence number its lines name,
    pub(super) witness_lines: std::collections::BTreeSet<i64>,
    /// where the log forks from it, if it does,
    pub(super) witness_forked: Option<i64>,
    /// and the newest entry saying the witness could not be reached or refused.
    pub(super) witness_trouble: Option<i64>,
    report: VerifyReport,
}

fn hash32(b: &[u8]) -> Option<[u8; 32]> {
    b.try_into().ok()
}

impl Verifier {
    pub(crate) fn new(genesis: [u8; 32]) -> Self {
        Self {
            genesis,
            prev: None,
            recent: [[0; 32]; RECENT],
            recent_len: 0,
            recent_next: 0,
            pending: None,
            vouched: BTreeMap::new(),
            sealed: BTreeMap::new(),
            seal_states: BTreeMap::new(),
            anchor: None,
            open: BTreeMap::new(),
            in_backup: Vec::new(),
            last_seq: 0,
            wrote: BTreeMap::new(),
            facts: Default::default(),
            legacy: std::collections::BTreeSet::new(),
            partial: false,
            forged: std::collections::BTreeSet::new(),
            deadlines_in_force: false,
            unsealed_since: None,
            late_reported: false,
            closes_unsealed: Vec::new(),
            witnessed: None,
            witness_span: None,
            witness_lines: std::collections::BTreeSet::new(),
            witness_forked: None,
            witness_trouble: None,
            report: VerifyReport::default(),
        }
    }

    pub(super) fn report_mut(&mut self) -> &mut VerifyReport {
        &mut self.report
    }

    pub(super) fn report_ref(&self) -> &VerifyReport {
        &self.report
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

    /// Resume after an entry verified earlier (incremental verification): `e` is that entry as
    /// stored now; the caller has checked it still has the hash recorded then.
    pub(crate) fn resume_after(&mut self, seq: i64, e: StoredEntry) {
        self.last_seq = seq;
        self.partial = true;
        self.report.resumed_from = Some(u64::try_from(seq).unwrap_or(0));
        let hash = hash32(&e.hash).unwrap_or([0; 32]);
        self.remember(hash);
        self.prev = Some(Prev {
            seq,
            hash,
            follows: None,
            state: RowState::Ok,
            entry: Vec::new(),
            recomputed: None,
        });
    }

    fn remember(&mut self, hash: [u8; 32]) {
        self.recent[self.recent_next] = hash;
        self.recent_next = (self.recent_next + 1) % RECENT;
        self.recent_len = (self.recent_len + 1).min(RECENT);
    }

    /// Remember `e` as the previous entry, reusing the buffers of the one before.
    fn set_prev(&mut self, seq: i64, e: &StoredEntry, follows: Option<[u8; 32]>, state: RowState) {
        let hash = hash32(&e.hash).unwrap_or([0; 32]);
        self.remember(hash);
        let recomputed = match (state, follows) {
            (RowState::Damaged, Some(f)) => Some(entry_hash(&f, seq, &e.entry)),
            _ => None,
        };
        let p = self.prev.get_or_insert_with(|| Prev {
            seq,
            hash,
            follows,
            state,
            entry: Vec::new(),
            recomputed,
        });
        p.seq = seq;
        p.hash = hash;
        p.follows = follows;
        p.state = state;
        p.recomputed = recomputed;
        p.entry.clear();
        if state == RowState::Unknown {
            p.entry.extend_from_slice(&e.entry);
        }
    }

    /// The hash the entry with this link was written after: the previous entry's, as a rule;
    /// else one of the last few entries' (or the genesis) that the link names. `None` when no
    /// hash seen nearby matches. An entry without a link (written before format 6) is taken to
    /// follow the previous entry.
    fn predecessor(&self, link: Option<&[u8]>) -> Option<[u8; 32]> {
        let expected = self.prev.as_ref().map_or(self.genesis, |p| p.hash);
        let Some(link) = link else {
            return Some(expected);
        };
        if expected.starts_with(link) {
            return Some(expected);
        }
        self.recent[..self.recent_len]
            .iter()
            .chain(std::iter::once(&self.genesis))
            .find(|h| h.starts_with(link))
            .copied()
    }

    /// Check the next entry (entries must come in ascending `seq` order).
    pub(crate) fn push(&mut self, e: &StoredEntry) {
        let seq = e.seq;
        let view = EntryView::parse(&e.entry);
        self.observe(seq, e, view.as_ref());
        let link = view.as_ref().and_then(|v| v.link);
        let follows = if self.follows_recomputed(seq, e, link) {
            self.prev.as_ref().and_then(|p| p.recomputed)
        } else {
            self.predecessor(link)
        };
        let held = self.pending.take();
        if held.is_some() && self.is_swap_partner(seq, e, follows) {
            let first = self.prev.as_ref().map_or(seq - 1, |p| p.seq);
            self.find(first, FindingKind::Moved { holds: seq as u64 });
            self.find(
                seq,
                FindingKind::Moved {
                    holds: first as u64,
                },
            );
            self.set_prev(seq, e, follows, RowState::Damaged);
            return;
        }
        let prev_state = self.prev.as_ref().map_or(RowState::Ok, |p| p.state);
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
        let state = if e.hash.len() != 32 || seq < 1 || view.is_none() {
            self.find(seq, FindingKind::Malformed);
            RowState::Damaged
        } else {
            let after_previous_row = self.prev.as_ref().is_some_and(|p| Some(p.hash) == follows);
            match follows {
                Some(_) if e.hashed_after_previous_row && after_previous_row && !gap => {
                    RowState::Ok
                }
                Some(f) if entry_hash(&f, seq, &e.entry)[..] == e.hash[..] => {
                    if !gap {
                        self.check_link(seq, &f);
                    }
                    RowState::Ok
                }
                Some(f) => self.classify_bad_hash(seq, e, &f),
                None if self.only_link_changed(seq, e) => {
                    self.find(seq, FindingKind::Changed);
                    RowState::Damaged
                }
                None => RowState::Unknown,
            }
        };
        if let Some(p) = held {
            self.settle(p, state == RowState::Shifted(1));
        }
        if state == RowState::Unknown && !gap && prev_state == RowState::Ok {
            self.pending = Some(Finding {
                seq: seq as u64,
                kind: FindingKind::Unlinked,
            });
        }
        // Only an entry found intact in its place says when it was written.
        let dated = view.as_ref().filter(|_| state == RowState::Ok);
        self.observe_deadlines(seq, dated, view.as_ref());
        self.set_prev(seq, e, follows, state);
    }

    /// Report a finding held back for the next entry. An entry that named a hash no longer
    /// there began a run renumbered one place down (an entry was deleted before it) when the
    /// next entry sits one place early, or when a signed checkpoint one place on vouches for its
    /// hash; otherwise the entry before it was rewritten.
    fn settle(&mut self, p: Finding, next_shifted_down: bool) {
        let seq = p.seq as i64;
        let signed_one_on = || {
            let here = self.prev.as_ref().filter(|prev| prev.seq == seq)?;
            Some(self.sealed.get(&(seq + 1))?[..] == here.hash[..])
        };
        if p.kind == FindingKind::Unlinked && (next_shifted_down || signed_one_on() == Some(true)) {
            self.find(seq, FindingKind::Missing { last: p.seq });
        } else {
            self.find(seq, p.kind);
        }
    }

    /// What an entry says besides its place in the chain: its time, seals, writes and releases.
    fn observe(&mut self, seq: i64, e: &StoredEntry, view: Option<&EntryView<'_>>) {
        self.note_range(seq, view.map(|v| v.at_ms));
        self.observe_seals(seq, &e.hash, view);
        let Some(v) = view else {
            return;
        };
        self.observe_writes(seq, v);
        if v.action == b"disclosure.release" {
            if let Some(digest) = v.digest {
                let target = v.target.unwrap_or_default().to_vec();
                self.vouched.insert(seq, (target, digest.to_vec()));
            }
        }
    }

    /// The previous entry was damaged, and this one follows the hash the previous one's bytes
    /// give (only the stored hash was changed, not what it covers).
    fn follows_recomputed(&self, seq: i64, e: &StoredEntry, link: Option<&[u8]>) -> bool {
        let Some(r) = self.prev.as_ref().and_then(|p| p.recomputed) else {
            return false;
        };
        link.is_none_or(|l| r.starts_with(l)) && entry_hash(&r, seq, &e.entry)[..] == e.hash[..]
    }

    /// Only the entry's link was changed: with the previous entry's hash put back in its place,
    /// it hashes to its stored hash.
    fn only_link_changed(&self, seq: i64, e: &StoredEntry) -> bool {
        let before = self.prev.as_ref().map_or(self.genesis, |p| p.hash);
        if e.entry.len() < 1 + LINK_LEN {
            return false;
        }
        let mut mended = e.entry.clone();
        mended[1..1 + LINK_LEN].copy_from_slice(&before[..LINK_LEN]);
        entry_hash(&before, seq, &mended)[..] == e.hash[..]
    }

    /// The previous entry holds entry `seq`, and this one holds entry `seq - 1`.
    fn is_swap_partner(&self, seq: i64, e: &StoredEntry, follows: Option<[u8; 32]>) -> bool {
        let (Some(p), Some(f)) = (&self.prev, follows) else {
            return false;
        };
        if p.seq + 1 != seq || entry_hash(&f, seq - 1, &e.entry)[..] != e.hash[..] {
            return false;
        }
        match p.state {
            // Already seen to hold entry `seq`.
            RowState::Shifted(1) => true,
            // Holds entry `seq` if it was written after this one.
            RowState::Unknown => entry_hash(&e.hash, seq, &p.entry) == p.hash,
            _ => false,
        }
    }

    fn note_range(&mut self, seq: i64, at: Option<i64>) {
        let r = &mut self.report;
        r.entries += 1;
        let s = seq.max(0) as u64; // INVARIANT: clamped to >= 0 before the cast.
        r.seq_range = Some(r.seq_range.map_or((s, s), |(a, _)| (a, s)));
        if let Some(at) = at {
            if let Some((_, last)) = r.time_range {
                if last - at > CLOCK_TOLERANCE_MS {
                    r.warnings.push(Warning::TimeWentBack {
                        seq: s,
                        by_ms: last - at,
                    });
                }
            }
            r.time_range = Some(r.time_range.map_or((at, at), |(a, _)| (a, at)));
        }
    }

    /// The entry follows a known hash but its own hash fails: moved from a nearby position,
    /// part of a renumbered run, or changed.
    fn classify_bad_hash(&mut self, seq: i64, e: &StoredEntry, follows: &[u8; 32]) -> RowState {
        let holds = (seq - MOVE_WINDOW..=seq + MOVE_WINDOW)
            .filter(|&s| s >= 1 && s != seq)
            .find(|&s| entry_hash(follows, s, &e.entry)[..] == e.hash[..]);
        let Some(holds) = holds else {
            self.find(seq, FindingKind::Changed);
            return RowState::Damaged;
        };
        let delta = holds - seq;
        let prev_state = self.prev.as_ref().map_or(RowState::Ok, |p| p.state);
        match (delta, prev_state) {
            // Continuing a run already reported.
            (d, RowState::Shifted(pd)) if d == pd => {}
            // The entry before named a predecessor no longer there, and this one sits one place
            // early: a deletion, reported for the entry before (see `push`).
            (1, RowState::Unknown) => {}
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

    /// The entry is intact and follows `follows`; is that the entry before it?
    fn check_link(&mut self, seq: i64, follows: &[u8; 32]) {
        let Some(p) = &self.prev else {
            if follows != &self.genesis && !self.partial {
                self.find(seq, FindingKind::Unlinked);
            }
            return;
        };
        if follows == &p.hash || p.state != RowState::Ok {
            // Linked, or a consequence of a predecessor already reported.
            return;
        }
        if p.follows.as_ref() == Some(follows) {
            // Both follow the same predecessor: the previous one was slipped in between.
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
            self.settle(p, false);
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
        self.finish_witness();
        self.finish_deadlines(MOVE_WINDOW);
        self.drop_consequences();
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
    use crate::audit::layout::EntryParts;

    const GENESIS: [u8; 32] = [0x42; 32];

    fn bytes(prev: &[u8], seq: i64, what: &str) -> Vec<u8> {
        EntryParts {
            link: prev,
            at_ms: 1000 + seq,
            actor: None,
            client: None,
            target: None,
            digest: None,
            digest_v2: false,
            facts: None,
            action: "record.read",
            purpose: "TREAT",
            outcome: "granted",
            fields: &[what],
        }
        .encode()
    }

    /// Entries written after `prev` as `seq`, `seq + 1`, ...
    fn entries_after(prev: &[u8], first: i64, what: &[&str]) -> Vec<StoredEntry> {
        let mut prev = prev.to_vec();
        what.iter()
            .zip(first..)
            .map(|(w, seq)| {
                let entry = bytes(&prev, seq, w);
                let hash = entry_hash(&prev, seq, &entry).to_vec();
                prev = hash.clone();
                StoredEntry::new(seq, entry, hash)
            })
            .collect()
    }

    /// Mark entries as the reading thread does when it shares the hashing.
    fn marked(mut entries: Vec<StoredEntry>) -> Vec<StoredEntry> {
        for i in 1..entries.len() {
            let prev = entries[i - 1].hash.clone();
            let e = &mut entries[i];
            e.hashed_after_previous_row = entry_hash(&prev, e.seq, &e.entry)[..] == e.hash[..];
        }
        entries
    }

    #[test]
    fn entries_hashed_by_the_reader_give_the_same_findings() {
        type Attack = fn(&mut Vec<StoredEntry>);
        let attacks: [Attack; 5] = [
            |_| {},
            |c| c[4] = edited(&c[4]),
            |c| {
                c[4] = edited(&c[4]);
                c[4].hash = entry_hash(&c[3].hash, 5, &c[4].entry).to_vec();
            },
            |c| {
                c.remove(3);
            },
            |c| {
                c.swap(3, 4);
                c[3].seq = 4;
                c[4].seq = 5;
            },
        ];
        for attack in attacks {
            let mut c = chain(12);
            attack(&mut c);
            let plain = run(c.clone());
            let shared = run(marked(c));
            assert_eq!(plain, shared);
        }
        assert!(
            marked(chain(3))
                .iter()
                .skip(1)
                .all(|e| e.hashed_after_previous_row)
        );
    }

    fn chain(n: i64) -> Vec<StoredEntry> {
        let names: Vec<String> = (1..=n).map(|s| format!("f{s}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        entries_after(&GENESIS, 1, &names)
    }

    fn run(entries: Vec<StoredEntry>) -> VerifyReport {
        let mut v = Verifier::new(GENESIS);
        for e in entries {
            v.push(&e);
        }
        v.finish()
    }

    fn at(seq: u64, kind: FindingKind) -> Finding {
        Finding { seq, kind }
    }

    /// The entry with its time changed (its length and shape kept: the first byte of `at`, right
    /// after the link, keeps its continuation bit).
    fn edited(e: &StoredEntry) -> StoredEntry {
        let mut e = e.clone();
        e.entry[1 + LINK_LEN] ^= 0x02;
        assert!(EntryView::parse(&e.entry).is_some());
        e
    }

    #[test]
    fn intact_chain() {
        let r = run(chain(20));
        assert!(r.is_intact(), "{:?}", r.findings);
        assert_eq!(r.entries, 20);
        assert_eq!(r.seq_range, Some((1, 20)));
        assert_eq!(r.time_range, Some((1001, 1020)));
    }

    #[test]
    fn wrong_genesis_is_unlinked() {
        let mut v = Verifier::new([0; 32]);
        for e in chain(3) {
            v.push(&e);
        }
        assert_eq!(v.finish().findings, vec![at(1, FindingKind::Unlinked)]);
    }

    #[test]
    fn changed_entry() {
        let mut c = chain(10);
        c[4] = edited(&c[4]);
        assert_eq!(run(c).findings, vec![at(5, FindingKind::Changed)]);
    }

    #[test]
    fn a_changed_link_or_stored_hash_is_a_changed_entry_only() {
        let mut c = chain(10);
        c[4].entry[3] ^= 0x10;
        assert_eq!(run(c).findings, vec![at(5, FindingKind::Changed)]);
        for byte in [2, 20] {
            let mut c = chain(10);
            c[4].hash[byte] ^= 0x01;
            assert_eq!(
                run(c).findings,
                vec![at(5, FindingKind::Changed)],
                "byte {byte}"
            );
        }
    }

    #[test]
    fn rewritten_hash_is_unlinked() {
        let mut c = chain(10);
        // Entry 5 rewritten, and its hash recomputed after entry 4.
        c[4] = edited(&c[4]);
        c[4].hash = entry_hash(&c[3].hash, 5, &c[4].entry).to_vec();
        assert_eq!(run(c).findings, vec![at(6, FindingKind::Unlinked)]);
    }

    #[test]
    fn rewritten_last_entry_is_not_seen_without_a_seal() {
        // Nothing follows it: only a signed checkpoint or an anchor protects the tail.
        let mut c = chain(5);
        c[4] = edited(&c[4]);
        c[4].hash = entry_hash(&c[3].hash, 5, &c[4].entry).to_vec();
        assert!(run(c).is_intact());
    }

    #[test]
    fn deleted_entry_is_a_gap() {
        let mut c = chain(10);
        c.remove(3);
        assert_eq!(
            run(c).findings,
            vec![at(4, FindingKind::Missing { last: 4 })]
        );
    }

    #[test]
    fn deleted_and_renumbered() {
        let mut c = chain(10);
        c.remove(3);
        for e in c.iter_mut().skip(3) {
            e.seq -= 1;
        }
        assert_eq!(
            run(c).findings,
            vec![at(4, FindingKind::Missing { last: 4 })]
        );
    }

    #[test]
    fn the_last_entry_renumbered_after_a_deletion_is_told_by_a_checkpoint() {
        let mut c = chain(10);
        c.remove(8);
        c[8].seq = 9;
        // Without a seal, one renumbered entry cannot be told from a rewrite of the one before.
        assert_eq!(run(c.clone()).findings, vec![at(9, FindingKind::Unlinked)]);
        let mut v = Verifier::new(GENESIS);
        v.sealed.insert(10, c[8].hash.clone());
        for e in &c {
            v.push(e);
        }
        let r = v.finish();
        assert_eq!(
            r.findings,
            vec![
                at(9, FindingKind::Missing { last: 9 }),
                at(10, FindingKind::Truncated { last: 9 })
            ]
        );
    }

    #[test]
    fn swapped_entries_are_moved() {
        let mut c = chain(10);
        // Swap the rows of seq 4 and 5, leaving each position's seq number in place.
        c.swap(3, 4);
        c[3].seq = 4;
        c[4].seq = 5;
        assert_eq!(
            run(c).findings,
            vec![
                at(4, FindingKind::Moved { holds: 5 }),
                at(5, FindingKind::Moved { holds: 4 }),
            ]
        );
    }

    #[test]
    fn inserted_with_renumbering() {
        let mut c = chain(10);
        // Forge a well-formed entry 4 that links to 3, then renumber the old 4.. as 5..
        let forged = entries_after(&c[2].hash, 4, &["forged"]).remove(0);
        for e in c.iter_mut().skip(3) {
            e.seq += 1;
        }
        c.insert(3, forged);
        assert_eq!(run(c).findings, vec![at(4, FindingKind::Inserted)]);
    }

    #[test]
    fn a_malformed_row_is_reported_once() {
        let mut c = chain(6);
        c[2].entry.truncate(5);
        assert_eq!(run(c.clone()).findings, vec![at(3, FindingKind::Malformed)]);
        let mut c = chain(6);
        c[2].hash.truncate(31);
        assert_eq!(run(c).findings, vec![at(3, FindingKind::Malformed)]);
    }

    #[test]
    fn an_empty_log_is_a_finding() {
        assert_eq!(run(Vec::new()).findings, vec![at(1, FindingKind::Empty)]);
    }

    #[test]
    fn findings_are_capped_but_counted() {
        let c: Vec<StoredEntry> = chain(300).iter().map(edited).collect();
        let r = run(c);
        assert_eq!(r.findings.len(), MAX_FINDINGS);
        assert_eq!(r.findings_total, 300);
    }
}
