//! What seals the log against rewriting and rollback: Ed25519-signed checkpoints of the head,
//! and anchors (a signed head exported and kept elsewhere). Also the open/close markers that
//! tell a crash from tampering.

use serde::{Deserialize, Serialize};

use crate::audit::layout::EntryView;
use crate::audit::report::{FindingKind, Warning};
use crate::audit::seal_state::SealState;
use crate::audit::verify::Verifier;
use crate::crypto::signing::{Seal, verify_checkpoint, verify_checkpoint_v2};
use crate::error::{Error, Result};
use crate::ids::VaultId;
use crate::stored::StoredCheckpoint;

/// Whether a stored checkpoint's signature verifies under `public`, by its own version: with
/// a state, version 2 (time and state signed); without, version 1.
pub(crate) fn checkpoint_verifies(public: &[u8], vault: &VaultId, c: &StoredCheckpoint) -> bool {
    let Ok(seq) = u64::try_from(c.seq) else {
        return false;
    };
    match c.state {
        None => verify_checkpoint(public, vault, seq, &c.hash, &c.signature),
        Some(code) => {
            let Some(state) = SealState::from_code(code) else {
                return false;
            };
            let seal = Seal {
                seq,
                hash: &c.hash,
                at_ms: c.at,
                state: state.code(),
            };
            verify_checkpoint_v2(public, vault, &seal, &c.signature)
        }
    }
}

/// A signed head of a vault's audit log, exported to a file kept elsewhere. Verifying against it
/// proves the log still contains that entry and extends it: no rollback, no fork.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    /// `confide-anchor/v2` for a checkpoint of version 2 (format 8 on), `confide-anchor/v1`
    /// for one signed before.
    pub format: String,
    /// The vault (hex).
    pub vault_id: String,
    /// The anchored sequence number.
    pub seq: u64,
    /// That entry's hash (hex).
    pub entry_hash: String,
    /// The vault's audit public key (hex, Ed25519).
    pub public_key: String,
    /// The checkpoint signature (hex).
    pub signature: String,
    /// When the checkpoint was signed (RFC 3339).
    pub signed_at: String,
    /// The same, in unix milliseconds, as version 2 signs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed_at_ms: Option<i64>,
    /// The vault's state at the checkpoint (`open`, `closed`, `backup`), as version 2 signs it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

const ANCHOR_FORMAT: &str = "confide-anchor/v1";
const ANCHOR_FORMAT_V2: &str = "confide-anchor/v2";

fn bad(reason: &str) -> Error {
    Error::InvalidInput {
        what: "anchor",
        reason: reason.into(),
    }
}

impl Anchor {
    pub(crate) fn new(
        vault: &VaultId,
        checkpoint: &StoredCheckpoint,
        public: &[u8],
        at: String,
    ) -> Self {
        let state = checkpoint
            .state
            .and_then(SealState::from_code)
            .map(|s| s.name().to_owned());
        Self {
            format: if state.is_some() {
                ANCHOR_FORMAT_V2
            } else {
                ANCHOR_FORMAT
            }
            .into(),
            vault_id: vault.to_string(),
            seq: u64::try_from(checkpoint.seq).unwrap_or(0),
            entry_hash: hex::encode(&checkpoint.hash),
            public_key: hex::encode(public),
            signature: hex::encode(&checkpoint.signature),
            signed_at: at,
            signed_at_ms: state.as_ref().map(|_| checkpoint.at),
            state,
        }
    }

    /// The anchor as JSON.
    pub fn to_json(&self) -> String {
        // INVARIANT: strings and a number only; serialising them cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// Parse an anchor file and check its own signature.
    pub fn from_json(text: &str) -> Result<Self> {
        let a: Anchor = serde_json::from_str(text).map_err(|_| bad("not an anchor file"))?;
        let vault: VaultId = a.vault_id.parse().map_err(|_| bad("bad vault id"))?;
        let (hash, public, sig) = a.parts()?;
        let state = match (a.format.as_str(), &a.state, a.signed_at_ms) {
            (ANCHOR_FORMAT, None, None) => None,
            (ANCHOR_FORMAT_V2, Some(name), Some(_)) => Some(
                SealState::from_name(name)
                    .ok_or_else(|| bad("unknown state"))?
                    .code(),
            ),
            (ANCHOR_FORMAT | ANCHOR_FORMAT_V2, _, _) => {
                return Err(bad("its state and time do not fit its format"));
            }
            _ => return Err(bad("unknown anchor format")),
        };
        let checkpoint = StoredCheckpoint {
            seq: i64::try_from(a.seq).map_err(|_| bad("bad sequence number"))?,
            hash,
            signature: sig,
            at: a.signed_at_ms.unwrap_or(0),
            state: state.map(i64::from),
        };
        if !checkpoint_verifies(&public, &vault, &checkpoint) {
            return Err(bad("its signature does not verify"));
        }
        Ok(a)
    }

    fn parts(&self) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
        let h = |s: &str| hex::decode(s).map_err(|_| bad("bad hex"));
        Ok((
            h(&self.entry_hash)?,
            h(&self.public_key)?,
            h(&self.signature)?,
        ))
    }
}

impl Verifier {
    /// Check every stored checkpoint's signature; remember the valid ones to compare with the
    /// chain. Call before pushing entries.
    pub(crate) fn check_checkpoints(
        &mut self,
        vault: &VaultId,
        public: Option<&[u8]>,
        checkpoints: Vec<StoredCheckpoint>,
    ) {
        for c in checkpoints {
            if public.is_some_and(|p| checkpoint_verifies(p, vault, &c)) {
                if let Some(state) = c.state.and_then(SealState::from_code) {
                    self.seal_states.insert(c.seq, (state, c.at));
                }
                self.sealed.insert(c.seq, c.hash);
                let r = self.report_mut();
                r.checkpoints_checked += 1;
                r.last_checkpoint = Some(u64::try_from(c.seq).unwrap_or(0));
            } else {
                self.forged.insert(c.seq);
                self.find(c.seq, FindingKind::CheckpointForged);
            }
        }
    }

    /// Hold the log to an anchor exported earlier. Errors when the anchor is for another vault.
    pub(crate) fn check_anchor(
        &mut self,
        vault: &VaultId,
        public: Option<&[u8]>,
        anchor: &Anchor,
    ) -> Result<()> {
        if anchor.vault_id != vault.to_string() {
            return Err(bad("it is from another vault"));
        }
        let (hash, anchor_key, _) = anchor.parts()?;
        let seq = i64::try_from(anchor.seq).map_err(|_| bad("bad sequence number"))?;
        if public != Some(&anchor_key[..]) {
            self.find(seq, FindingKind::KeyReplaced);
        }
        self.anchor = Some((seq, hash));
        Ok(())
    }

    /// Compare an entry with the seals, and follow the open/close markers.
    pub(super) fn observe_seals(&mut self, seq: i64, hash: &[u8], view: Option<&EntryView<'_>>) {
        self.last_seq = self.last_seq.max(seq);
        self.observe_witness(seq, hash);
        if view.is_some_and(|v| v.action.starts_with(b"witness.")) {
            self.observe_witness_trouble(seq);
        }
        let anchored = self.anchor.as_ref().filter(|(s, _)| *s == seq);
        if let Some((_, anchored)) = anchored {
            // The anchored head is not in this log: the log forked after the anchor was taken.
            if anchored[..] != hash[..] {
                self.find(seq, FindingKind::Forked);
            }
        } else if let Some(signed) = self.sealed.get(&seq) {
            if signed[..] != hash[..] {
                self.find(seq, FindingKind::ChainRewritten);
            }
        }
        if let Some(v) = view.filter(|v| v.action.starts_with(b"vault.")) {
            let target = v.target.unwrap_or_default();
            match v.action {
                b"vault.open" => {
                    self.open.insert(target.to_vec(), seq);
                }
                b"vault.close" => {
                    self.open.remove(target);
                }
                b"vault.restore" => {
                    // Restored from a backup: the openings in use when it was taken live on
                    // only in the vault it was taken from.
                    for opening in std::mem::take(&mut self.in_backup) {
                        self.open.remove(&opening);
                    }
                }
                _ => {}
            }
        }
        if self.is_backup_point(seq) {
            self.in_backup = self.open.keys().cloned().collect();
        }
    }

    /// A validly signed checkpoint of `seq` says a backup was taken with it as its last entry.
    fn is_backup_point(&self, seq: i64) -> bool {
        self.seal_states
            .get(&seq)
            .is_some_and(|(state, _)| *state == SealState::Backup)
    }

    /// After the last entry: seals beyond the end, unclean shutdowns, the unsigned tail.
    pub(super) fn finish_seals(&mut self) {
        let last = self.last_seq;
        let resume = self
            .sealed
            .range(..=last)
            .next_back()
            .and_then(|(s, h)| Some((u64::try_from(*s).ok()?, h.as_slice().try_into().ok()?)));
        self.report_mut().resume_point = resume;
        let mut beyond: Vec<i64> = self.sealed.range(last + 1..).map(|(s, _)| *s).collect();
        if let Some((seq, _)) = self.anchor.as_ref().filter(|(s, _)| *s > last) {
            if !beyond.contains(seq) {
                beyond.push(*seq);
            }
        }
        for seq in beyond {
            let kind = FindingKind::Truncated {
                last: u64::try_from(last).unwrap_or(0),
            };
            self.find(seq, kind);
        }
        if self.is_backup_point(last) {
            // A backup, or a log cut back to where one was taken: complete as a copy, with the
            // openings then in use still open in it.
            self.open.clear();
        }
        let opened: Vec<i64> = self.open.values().copied().collect();
        let sealed_to = self.report_mut().last_checkpoint;
        let r = self.report_mut();
        for seq in opened {
            r.warnings.push(Warning::UncleanShutdown {
                opened: u64::try_from(seq).unwrap_or(0),
            });
        }
        let last = u64::try_from(last).unwrap_or(0);
        let tail = last.saturating_sub(sealed_to.unwrap_or(0));
        if tail > 0 {
            r.warnings.push(Warning::UnsignedTail { entries: tail });
        }
    }
}
