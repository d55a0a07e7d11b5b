//! Data against log: every write entry vouches for the complete stored state of what it wrote
//! (a digest of its envelopes, never the values), and since format 8 every change of a fact
//! vouches for the whole scope of facts it changed. After the chain, every stored record and
//! every scope (a client's, a case's, a user's facts) must be exactly what its latest entry
//! vouches for, so a record deleted from the file, a field rolled back to an older ciphertext, a
//! consent added, a role changed or a care-team row copied outside the vault is reported without
//! a key. (Checking only the log's hashes, and not the data, would miss all of them.)
//!
//! A vault upgraded to format 8 authenticates its state at its first unlock: the baseline entry
//! vouches (through `facts_baseline`, whose digest it carries) for every scope and record as it
//! stood then. From the baseline on, or from a new vault's first entry, a scope no entry vouches
//! for was added outside the vault. Before it there is nothing to hold the facts to.

use crate::audit::layout::EntryView;
use crate::audit::ledger::{fields_digest, fields_digest_v2};
use crate::audit::report::FindingKind;
use crate::audit::verify::Verifier;
use crate::stored::Cell;

/// The field table a granted write action leaves its fields in.
fn table_of(action: &[u8]) -> Option<&'static str> {
    Some(match action {
        b"record.create" | b"record.update" | b"record.rekey" | b"client.create"
        | b"record.sign" | b"record.cosign" | b"record.addendum" => "record_fields",
        b"note.create" | b"note.rekey" | b"note.update" | b"note.sign" | b"note.cosign"
        | b"note.addendum" => "psychotherapy_note_fields",
        b"amendment.request"
        | b"amendment.extend"
        | b"amendment.accept"
        | b"amendment.deny"
        | b"amendment.disagreement"
        | b"amendment.rebuttal"
        | b"amendment.rekey" => "amendment_fields",
        b"joint.create" | b"joint.share" => "case_record_fields",
        b"consent.record" | b"consent.rekey" => "consent_fields",
        b"break_glass.start" | b"break_glass.rekey" => "break_glass_fields",
        _ => return None,
    })
}

/// The scope of facts a granted action changes, and whether the entry names it as its client
/// (else as its target).
fn scope_of(action: &[u8]) -> Option<(&'static str, bool)> {
    Some(match action {
        b"client.create"
        | b"care_team.add"
        | b"care_team.remove"
        | b"client.minor_status"
        | b"consent.record"
        | b"consent.revoke"
        | b"break_glass.start"
        | b"break_glass.end"
        | b"consent.expiry_event"
        | b"restriction.record"
        | b"restriction.lift"
        | b"guardian.record"
        | b"guardian.end"
        | b"record.addendum"
        | b"note.addendum"
        | b"record.sign"
        | b"note.sign"
        | b"record.create"
        | b"note.create"
        | b"amendment.request"
        | b"amendment.extend"
        | b"amendment.accept"
        | b"amendment.deny"
        | b"amendment.disagreement"
        | b"amendment.rebuttal" => ("client", true),
        b"case.create" | b"case.leave" => ("case", false),
        b"user.add" | b"user.disable" | b"user.enable" | b"user.remove" | b"supervision.set"
        | b"supervision.end" => ("user", false),
        _ => return None,
    })
}

/// The scope names `facts_baseline` uses (the field tables are the other kinds it holds).
const SCOPES: [&str; 3] = ["client", "case", "user"];

fn id16(b: &[u8]) -> [u8; 16] {
    b.try_into().unwrap_or([0; 16])
}

/// A parent row's decision columns and write count, as stored (see `ParentAuth` in `db`).
pub(crate) struct StoredHead {
    pub head: Vec<Cell>,
    pub write_version: i64,
}

impl Verifier {
    pub(super) fn observe_writes(&mut self, seq: i64, v: &EntryView<'_>) {
        if !v.outcome.starts_with(b"granted") {
            return;
        }
        if v.action == b"facts.baseline" {
            let digest = v.digest.unwrap_or_default().to_vec();
            self.facts.baselines.push((seq, digest));
            self.facts.from.get_or_insert(seq);
        }
        if let (Some((scope, by_client)), Some(d)) = (scope_of(v.action), v.facts) {
            let id = if by_client { v.client } else { v.target };
            if let Some(id) = id {
                self.facts.from.get_or_insert(seq);
                self.facts
                    .vouched
                    .insert((scope, id.to_vec()), (seq, d.to_vec()));
            }
        }
        let (Some(table), Some(target)) = (table_of(v.action), v.target) else {
            return;
        };
        let key = (table, target.to_vec());
        match v.digest {
            Some(d) => {
                self.legacy.remove(&key);
                self.wrote.insert(key, (seq, d.to_vec(), v.digest_v2));
            }
            None => {
                self.wrote.remove(&key);
                self.legacy.insert(key);
            }
        }
    }

    /// Take in the baseline's table (`facts_baseline`, and the digest of the whole of it): each
    /// row counts as vouched for at the baseline, unless a later entry vouched again. Call after
    /// every entry has been pushed and before checking data.
    pub(crate) fn take_baseline(
        &mut self,
        rows: Vec<(String, Vec<u8>, Vec<u8>)>,
        digest: [u8; 32],
    ) {
        let baselines = std::mem::take(&mut self.facts.baselines);
        let from = self.facts.from;
        for (i, (seq, vouched)) in baselines.iter().enumerate() {
            if i > 0 || from.is_some_and(|f| f < *seq) {
                // A vault authenticates its state once: at its first unlock after the upgrade,
                // or from its creation (then its first entry vouches for facts and it has no
                // baseline). Another baseline vouches for whatever was in the file when the
                // marker was removed.
                self.find(*seq, FindingKind::BaselineRepeated);
            }
            if vouched[..] != digest[..] {
                self.find(*seq, FindingKind::BaselineChanged);
            }
        }
        let Some(&(at, _)) = baselines.last() else {
            return;
        };
        for (kind, id, d) in rows {
            if let Some(scope) = SCOPES.iter().find(|s| **s == kind) {
                let key = (*scope, id);
                if self.facts.vouched.get(&key).is_none_or(|(s, _)| *s < at) {
                    self.facts.vouched.insert(key, (at, d));
                }
            } else if let Some(table) = [
                "record_fields",
                "psychotherapy_note_fields",
                "case_record_fields",
                "consent_fields",
                "break_glass_fields",
                "amendment_fields",
            ]
            .into_iter()
            .find(|t| *t == kind)
            {
                let key = (table, id);
                if self.wrote.get(&key).is_none_or(|(s, _, _)| *s < at) {
                    self.legacy.remove(&key);
                    self.wrote.insert(key, (at, d, true));
                }
            }
        }
    }

    /// Check one stored parent's fields (and, for an entry of version 2, its decision columns
    /// and write count) against its latest write entry. Call after every entry has been pushed.
    pub(crate) fn check_fields(
        &mut self,
        table: &'static str,
        parent: Vec<u8>,
        fields: &[[Cell; 3]],
        head: Option<&StoredHead>,
    ) {
        let id = id16(&parent);
        let key = (table, parent);
        match self.wrote.remove(&key) {
            Some((seq, vouched, v2)) => {
                let digest = match (v2, head) {
                    (false, _) => Some(fields_digest(table, &key.1, fields)),
                    (true, Some(h)) => Some(fields_digest_v2(
                        table,
                        &key.1,
                        &h.head,
                        h.write_version,
                        fields,
                    )),
                    // Fields whose parent row is gone.
                    (true, None) => None,
                };
                if digest.is_none_or(|d| vouched[..] != d[..]) {
                    self.find(seq, FindingKind::RecordChanged { id });
                }
            }
            None if self.legacy.contains(&key) || self.partial => {}
            // No entry to name: reported at the end of the log.
            None => self.find(self.last_seq, FindingKind::RecordUnlogged { id }),
        }
    }

    /// Check one stored scope of facts (`scope` is "client", "case" or "user") against the
    /// latest entry that vouched for it. Call after [`Verifier::take_baseline`].
    pub(crate) fn check_scope(&mut self, scope: &'static str, id: Vec<u8>, digest: &[u8; 32]) {
        if self.facts.from.is_none() {
            // Not authenticated yet (an upgraded vault before its first unlock).
            return;
        }
        let short = id16(&id);
        match self.facts.vouched.remove(&(scope, id)) {
            Some((seq, vouched)) => {
                if vouched[..] != digest[..] {
                    self.find(seq, FindingKind::FactsChanged { scope, id: short });
                }
            }
            None if self.partial => {}
            None => self.find(
                self.last_seq,
                FindingKind::FactsUnlogged { scope, id: short },
            ),
        }
    }

    /// Write entries whose record was never found, and scopes whose head row is gone.
    pub(super) fn finish_writes(&mut self) {
        let missing: Vec<(i64, [u8; 16])> = std::mem::take(&mut self.wrote)
            .into_iter()
            .map(|((_, parent), (seq, _, _))| (seq, id16(&parent)))
            .collect();
        for (seq, id) in missing {
            self.find(seq, FindingKind::RecordMissing { id });
        }
        let gone: Vec<(i64, &'static str, [u8; 16])> = std::mem::take(&mut self.facts.vouched)
            .into_iter()
            .map(|((scope, id), (seq, _))| (seq, scope, id16(&id)))
            .collect();
        if self.facts.from.is_some() {
            for (seq, scope, id) in gone {
                self.find(seq, FindingKind::FactsMissing { scope, id });
            }
        }
    }

    /// Data findings that only repeat what a finding about the log already says: the data an
    /// entry vouched for, where that entry itself was changed; data "no entry vouches for" in
    /// a log that lost or damaged entries (the one that vouched may be among them); and data
    /// held to an entry older than an entry that could not be read (a malformed row, entries
    /// missing, a log cut back): the unread entry may be a later one that vouched for it.
    pub(super) fn drop_consequences(&mut self) {
        let log: Vec<u64> = self
            .report_mut()
            .findings
            .iter()
            .filter(|f| !f.kind.is_about_data())
            .map(|f| f.seq)
            .collect();
        if log.is_empty() {
            return;
        }
        let unread = self
            .report_mut()
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.kind,
                    FindingKind::Malformed
                        | FindingKind::Missing { .. }
                        | FindingKind::Truncated { .. }
                )
            })
            .map(|f| f.seq)
            .max();
        let before = self.report_mut().findings.len();
        self.report_mut().findings.retain(|f| {
            !f.kind.is_about_data()
                || !(log.contains(&f.seq)
                    || unread.is_some_and(|u| f.seq < u)
                    || matches!(
                        f.kind,
                        FindingKind::RecordUnlogged { .. } | FindingKind::FactsUnlogged { .. }
                    ))
        });
        let dropped = (before - self.report_mut().findings.len()) as u64; // INVARIANT: usize fits in u64.
        let report = self.report_mut();
        report.findings_total = report.findings_total.saturating_sub(dropped);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::layout::EntryParts;
    use crate::audit::report::Finding;

    fn entry(
        action: &str,
        target: Option<&[u8; 16]>,
        digest: Option<&[u8; 32]>,
        facts: Option<&[u8; 32]>,
    ) -> Vec<u8> {
        EntryParts {
            link: &[0; 8],
            at_ms: 1000,
            actor: None,
            client: None,
            target,
            digest,
            digest_v2: false,
            facts,
            action,
            purpose: "HOPERAT",
            outcome: "granted",
            fields: &[],
        }
        .encode()
    }

    /// The findings of a verifier that saw `entries` (by seq) and a baseline table whose
    /// digest is `digest`.
    fn baseline_findings(entries: &[(i64, Vec<u8>)], digest: [u8; 32]) -> Vec<Finding> {
        let mut v = Verifier::new([0; 32]);
        for (seq, bytes) in entries {
            v.observe_writes(*seq, &EntryView::parse(bytes).unwrap());
        }
        v.take_baseline(Vec::new(), digest);
        v.finish().findings
    }

    #[test]
    fn a_baseline_after_entries_that_vouched_for_facts_is_a_repeated_one() {
        let digest = [7u8; 32];
        let user = [1u8; 16];
        let added = entry("user.add", Some(&user), None, Some(&[3; 32]));
        let baseline = entry("facts.baseline", None, Some(&digest), None);
        // An upgraded vault: the baseline is the first entry to vouch for facts.
        let first = baseline_findings(&[(4, baseline.clone()), (5, added.clone())], digest);
        assert!(
            first
                .iter()
                .all(|f| f.kind != FindingKind::BaselineRepeated),
            "{first:?}"
        );
        // A vault authenticated from its creation never makes one: a baseline there vouches
        // for a state whose MACs and marker were stripped.
        let later = baseline_findings(&[(1, added), (5, baseline)], digest);
        assert!(
            later.contains(&Finding {
                seq: 5,
                kind: FindingKind::BaselineRepeated
            }),
            "{later:?}"
        );
    }
}
