//! What a log sealed in time shows when checkpoints are deleted (format 8 on).
//!
//! Without a witness, a log cut back to a checkpoint and its checkpoints after the cut deleted
//! is a valid prefix: it looks like a vault that stopped there (closed, crashed, or a backup).
//! What deletion cannot hide is what the entries themselves say the vault did:
//!
//! - **A sealed close without its checkpoint.** A close that holds the audit key writes
//!   `vault.close` naming the field `checkpoint` and signs its checkpoint, "closed", in the
//!   same transaction. Such a close with no closed checkpoint at its sequence number lost it.
//! - **A seal deadline passed while the vault kept writing.** Every opening of a format 8 vault
//!   writes `vault.open` naming the field `sealing`: from then on, an append made when the
//!   oldest unsealed entry has waited `seal_within` (at most a minute) signs a checkpoint of
//!   its own entry. An entry written by a logged-in session more than a minute (plus the clock
//!   tolerance) after the oldest entry no checkpoint covers, without a checkpoint of its own,
//!   follows a deleted checkpoint. Only entries that a process without the key can write
//!   (openings, closes, login attempts, and what a login writes before the key is loaded) may
//!   wait longer: nobody could seal them.
//!
//! The bound is the largest `seal_within`, not the configured one: the verifier cannot know the
//! setting of every process that wrote to the file, and must never call a vault written with a
//! longer setting tampered.

use crate::audit::layout::EntryView;
use crate::audit::report::{CLOCK_TOLERANCE_MS, FindingKind};
use crate::audit::seal_state::SealState;
use crate::audit::verify::Verifier;

/// The longest wait for a checkpoint any vault may be configured with, in milliseconds.
pub(crate) const MAX_SEAL_WITHIN_MS: i64 = 60_000;

/// The field a sealing opening names in its `vault.open` entry.
pub(crate) const SEALING: &str = "sealing";
/// The field a close that signed its own checkpoint names in its `vault.close` entry.
pub(crate) const CHECKPOINTED: &str = "checkpoint";

/// Entries a process may write without the audit key, which may wait for a checkpoint as
/// long as nobody with the key is there to sign one.
fn written_without_the_key(action: &[u8]) -> bool {
    matches!(
        action,
        b"vault.open" | b"vault.close" | b"login" | b"user.kdf_upgrade" | b"audit.key_create"
    )
}

/// Findings of entries deleted, inserted, moved or rewritten, and of checkpoints that no
/// longer match the chain: what takes a close away from the checkpoint it signed.
fn moves_entries(kind: &FindingKind) -> bool {
    matches!(
        kind,
        FindingKind::Changed
            | FindingKind::Missing { .. }
            | FindingKind::Inserted
            | FindingKind::Moved { .. }
            | FindingKind::Unlinked
            | FindingKind::Malformed
            | FindingKind::CheckpointForged
            | FindingKind::ChainRewritten
            | FindingKind::Truncated { .. }
            | FindingKind::Forked
    )
}

fn names(v: &EntryView<'_>, field: &str) -> bool {
    v.fields
        .text()
        .is_some_and(|t| t.split(',').any(|f| f == field))
}

impl Verifier {
    fn resumed_after_checkpoint_of_version_2(&self) -> bool {
        self.report_ref()
            .resumed_from
            .and_then(|s| i64::try_from(s).ok())
            .is_some_and(|s| self.seal_states.contains_key(&s))
    }

    /// Follow one entry against the seal deadlines: `view` is the entry as parsed, `dated` the
    /// same if the entry was found intact in its place (a damaged entry's time proves nothing;
    /// it is reported as damaged).
    pub(super) fn observe_deadlines(
        &mut self,
        seq: i64,
        dated: Option<&EntryView<'_>>,
        view: Option<&EntryView<'_>>,
    ) {
        let Some(v) = view else {
            return;
        };
        let sealed_here = self.seal_states.get(&seq).map(|(state, _)| *state);
        if v.action == b"vault.close"
            && names(v, CHECKPOINTED)
            && sealed_here != Some(SealState::Closed)
        {
            self.closes_unsealed.push(seq);
        }
        if v.action == b"vault.open" && names(v, SEALING) {
            self.deadlines_in_force = true;
        }
        let Some(v) = dated else {
            return;
        };
        if !self.deadlines_in_force && self.resumed_after_checkpoint_of_version_2() {
            // An incremental run that starts after a checkpoint of format 8: in force already.
            self.deadlines_in_force = true;
        }
        if !self.deadlines_in_force {
            return;
        }
        if self.sealed.contains_key(&seq) || self.forged.contains(&seq) {
            // Covered, up to here (a forged checkpoint is reported as such).
            self.unsealed_since = None;
            self.late_reported = false;
            return;
        }
        let Some((since_seq, since_ms)) = self.unsealed_since else {
            self.unsealed_since = Some((seq, v.at_ms));
            return;
        };
        let late = v.at_ms.saturating_sub(since_ms) > MAX_SEAL_WITHIN_MS + CLOCK_TOLERANCE_MS;
        if late && !written_without_the_key(v.action) && !self.late_reported {
            self.late_reported = true;
            let since = u64::try_from(since_seq).unwrap_or(0);
            self.find(seq, FindingKind::SealMissing { since });
        }
    }

    /// After the last entry: the sealed closes without their checkpoint, unless the log is
    /// already found damaged within a few entries of one (entries deleted or inserted and the
    /// rest renumbered, or rewritten, move a close away from its checkpoint: that is reported).
    pub(super) fn finish_deadlines(&mut self, window: i64) {
        for seq in std::mem::take(&mut self.closes_unsealed) {
            let near = self
                .report_ref()
                .findings
                .iter()
                .any(|f| moves_entries(&f.kind) && (f.seq as i64 - seq).abs() <= window);
            if !near {
                self.find(seq, FindingKind::CloseUnsealed);
            }
        }
    }
}
