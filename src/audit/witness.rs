//! The witness file, and holding a log to it.
//!
//! A witness is a second, append-only file the vault writes every signed checkpoint to (kept
//! on another disk, a synced folder, another machine), like a transparency log's witness
//! (C2SP tlog-witness): it holds every checkpoint it was given, each on a line of its own that
//! verifies alone, and takes no checkpoint that does not extend the last one it holds. Cutting
//! the vault's log back then shows against the witness, and so does cutting the witness back
//! against the vault.
//!
//! One line per event, in ASCII, fields separated by one space, ended by a line feed:
//!
//! ```text
//! confide-witness/v1 <event> <vault id> <seq> <entry hash> <at> <public key> <signature>
//! event = open | closed | backup    a checkpoint with that state, its own signature
//!       | restored                  the log was rolled back, on purpose, to entry <seq>
//! ```
//!
//! The vault id (32), hash (64), key (64) and signature (128) are lowercase hexadecimal; `seq`
//! and `at` (unix milliseconds) are decimal without leading zeros. A checkpoint line carries
//! the checkpoint's own version 2 signature, so it verifies under the vault's audit key exactly
//! as the row in the vault does. A restore line signs `"confide/witness-restore/v1" ‖ vault id
//! ‖ seq ‖ entry hash ‖ at ‖ 0x00`: `confide restore` writes one, signed by the restoring
//! administrator's session, so a restore is a recorded, deliberate rollback. A last line without
//! its line feed is an append cut short by a crash: readers ignore it, and the writer removes it
//! before appending.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use crate::audit::report::{CLOCK_TOLERANCE_MS, FindingKind, Warning};
use crate::audit::seal_state::SealState;
use crate::audit::verify::Verifier;
use crate::crypto::signing::{Seal, verify_checkpoint_v2, verify_restore};
use crate::error::{Error, Result};
use crate::ids::VaultId;
use crate::stored::StoredCheckpoint;

const MAGIC: &str = "confide-witness/v1";
/// Longer than any line the format allows: a longer one is not a witness line.
pub(crate) const MAX_LINE: usize = 512;

/// What a witness line records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Event {
    /// A checkpoint, with the state it signs.
    Checkpoint(SealState),
    /// A deliberate rollback to the entry named.
    Restored,
}

impl Event {
    fn name(self) -> &'static str {
        match self {
            Event::Checkpoint(state) => state.name(),
            Event::Restored => "restored",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        if name == "restored" {
            return Some(Event::Restored);
        }
        SealState::from_name(name).map(Event::Checkpoint)
    }
}

/// One line of a witness file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct WitnessLine {
    pub(crate) event: Event,
    pub(crate) vault: VaultId,
    pub(crate) seq: u64,
    pub(crate) hash: [u8; 32],
    pub(crate) at_ms: i64,
    pub(crate) key: [u8; 32],
    pub(crate) signature: Vec<u8>,
}

fn bad(reason: String) -> Error {
    Error::InvalidInput {
        what: "witness",
        reason,
    }
}

/// A decimal number as the format writes it: digits only, no leading zero but for 0 itself.
fn number(s: &str) -> Option<u64> {
    let canonical =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    canonical.then(|| s.parse().ok()).flatten()
}

/// Lowercase hexadecimal of exactly `N` bytes.
fn hex_of<const N: usize>(s: &str) -> Option<[u8; N]> {
    if s.len() != 2 * N || s.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    hex::decode(s).ok()?.try_into().ok()
}

impl WitnessLine {
    /// The line for a checkpoint of version 2 of `vault`, signed under `key`.
    pub(crate) fn of_checkpoint(
        vault: &VaultId,
        c: &StoredCheckpoint,
        key: [u8; 32],
    ) -> Option<Self> {
        let state = c.state.and_then(SealState::from_code)?;
        Some(Self {
            event: Event::Checkpoint(state),
            vault: *vault,
            seq: u64::try_from(c.seq).ok()?,
            hash: c.hash.as_slice().try_into().ok()?,
            at_ms: c.at,
            key,
            signature: c.signature.clone(),
        })
    }

    /// What its signature covers.
    pub(crate) fn seal(&self) -> Seal<'_> {
        Seal {
            seq: self.seq,
            hash: &self.hash,
            at_ms: self.at_ms,
            state: match self.event {
                Event::Checkpoint(state) => state.code(),
                Event::Restored => 0,
            },
        }
    }

    /// Whether its signature verifies under the key it names.
    pub(crate) fn verifies(&self) -> bool {
        match self.event {
            Event::Checkpoint(_) => {
                verify_checkpoint_v2(&self.key, &self.vault, &self.seal(), &self.signature)
            }
            Event::Restored => {
                verify_restore(&self.key, &self.vault, &self.seal(), &self.signature)
            }
        }
    }

    /// The line, with its line feed.
    pub(crate) fn to_line(&self) -> String {
        let mut s = String::with_capacity(360);
        // INVARIANT: writing to a String cannot fail.
        let _ = writeln!(
            s,
            "{MAGIC} {} {} {} {} {} {} {}",
            self.event.name(),
            self.vault,
            self.seq,
            hex::encode(self.hash),
            self.at_ms,
            hex::encode(self.key),
            hex::encode(&self.signature),
        );
        s
    }

    /// Parse one line (without its line feed). Only the exact form [`to_line`] writes is read.
    pub(crate) fn parse(line: &str) -> Option<Self> {
        if line.len() > MAX_LINE {
            return None;
        }
        let parts: Vec<&str> = line.split(' ').collect();
        let [magic, event, vault, seq, hash, at, key, sig] = parts[..] else {
            return None;
        };
        if magic != MAGIC {
            return None;
        }
        let vault: [u8; 16] = hex_of(vault)?;
        Some(Self {
            event: Event::from_name(event)?,
            vault: VaultId::from_slice(&vault).ok()?,
            seq: number(seq).filter(|&s| s >= 1)?,
            hash: hex_of(hash)?,
            at_ms: i64::try_from(number(at)?).ok()?,
            key: hex_of(key)?,
            signature: hex_of::<64>(sig)?.to_vec(),
        })
    }
}

/// A witness file, read for verification (`audit-verify --witness`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WitnessFile {
    pub(crate) lines: Vec<WitnessLine>,
}

impl WitnessFile {
    /// Read and parse the witness file at `path`. A line that is not of the format is an error
    /// (the check cannot run); a well-formed line whose signature does not verify is read, and
    /// reported by the verification as forged.
    pub fn read(path: impl AsRef<Path>) -> Result<Self> {
        let bytes = std::fs::read(path.as_ref())?;
        Self::parse(&bytes)
    }

    /// Parse the bytes of a witness file.
    pub fn parse(bytes: &[u8]) -> Result<Self> {
        let complete = match bytes.iter().rposition(|&b| b == b'\n') {
            Some(end) => &bytes[..=end],
            // Nothing whole yet: an empty witness (or one whose first append was cut short).
            None => &[][..],
        };
        let text = std::str::from_utf8(complete)
            .map_err(|_| bad("not a witness file (not text)".into()))?;
        let mut lines = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let parsed = WitnessLine::parse(line)
                .ok_or_else(|| bad(format!("line {} is not a witness line", n + 1)))?;
            lines.push(parsed);
        }
        Ok(Self { lines })
    }

    /// How many lines it holds.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The vault it witnesses (that of its first line), if it holds any.
    pub fn vault_id(&self) -> Option<VaultId> {
        self.lines.first().map(|l| l.vault)
    }
}

/// Whether the witness takes `next` after `last`, the newest line it holds (a checkpoint, or a
/// restore). `Err` says why not.
pub(crate) fn extends(
    last: &WitnessLine,
    next: &WitnessLine,
) -> std::result::Result<(), &'static str> {
    if next.vault != last.vault {
        return Err("it is another vault's");
    }
    if next.key != last.key {
        return Err("it is signed under an unknown audit key");
    }
    if next.at_ms < last.at_ms - CLOCK_TOLERANCE_MS {
        return Err("it is dated before the last checkpoint the witness holds");
    }
    match next.event {
        Event::Checkpoint(_) if next.seq > last.seq => Ok(()),
        Event::Checkpoint(_) if next.seq == last.seq => Err("the witness holds another head there"),
        Event::Checkpoint(_) => Err("the witness holds a later checkpoint"),
        Event::Restored if next.seq <= last.seq => Ok(()),
        Event::Restored => Err("a restore goes back, never forward"),
    }
}

impl Verifier {
    /// Hold the log to a witness file. Errors when it belongs to another vault. Call after the
    /// checkpoints were checked, before pushing entries.
    pub(crate) fn check_witness(
        &mut self,
        vault: &VaultId,
        public: Option<&[u8]>,
        file: &WitnessFile,
    ) -> Result<()> {
        let mut heads: BTreeMap<i64, [u8; 32]> = BTreeMap::new();
        let mut first: Option<i64> = None;
        let mut newest: Option<i64> = None;
        let mut last: Option<&WitnessLine> = None;
        // Every sequence number a line names, valid or not (a forged line is reported as that,
        // not as a line missing).
        let mut held = std::collections::BTreeSet::new();
        let mut key_reported = false;
        for line in &file.lines {
            if line.vault != *vault {
                return Err(bad("it is another vault's witness".into()));
            }
            let seq = i64::try_from(line.seq).unwrap_or(i64::MAX);
            held.insert(seq);
            if !line.verifies() {
                self.find(seq, FindingKind::WitnessForged);
                continue;
            }
            if public != Some(&line.key[..]) && !key_reported {
                key_reported = true;
                self.find(seq, FindingKind::KeyReplaced);
            }
            if let Some(last) = last {
                if last.seq == line.seq && last.hash == line.hash && last.event == line.event {
                    continue;
                }
                if extends(last, line).is_err() {
                    // The witness never takes such a line: the file was edited.
                    self.find(seq, FindingKind::WitnessForged);
                    continue;
                }
            }
            match line.event {
                Event::Checkpoint(_) => {
                    heads.insert(seq, line.hash);
                    first.get_or_insert(seq);
                }
                Event::Restored => {
                    // Rolled back on purpose: what the witness held after that entry is over.
                    heads.retain(|&s, _| s <= seq);
                    if heads.get(&seq).is_some_and(|h| *h != line.hash) {
                        self.find(seq, FindingKind::WitnessForged);
                    }
                    heads.insert(seq, line.hash);
                    first = heads.keys().next().copied();
                }
            }
            newest = Some(seq);
            last = Some(line);
        }
        self.witnessed = Some(heads);
        self.witness_lines = held;
        self.witness_span = first.zip(newest);
        Ok(())
    }

    /// Compare an entry with the witness.
    pub(super) fn observe_witness(&mut self, seq: i64, hash: &[u8]) {
        let Some(heads) = self.witnessed.as_ref() else {
            return;
        };
        // Once is enough: every later head of a fork differs too.
        if self.witness_forked.is_none() && heads.get(&seq).is_some_and(|h| h[..] != hash[..]) {
            self.witness_forked = Some(seq);
            self.find(seq, FindingKind::Forked);
        }
    }

    /// A `witness.unreachable` or `witness.refused` entry at `seq`: checkpoints after it may be
    /// missing from the witness for that reason.
    pub(super) fn observe_witness_trouble(&mut self, seq: i64) {
        self.witness_trouble = Some(seq);
    }

    /// After the last entry: witnessed heads beyond the log's end (the log was cut back or
    /// rolled back), and the vault's checkpoints the witness lacks (the witness was cut back).
    pub(super) fn finish_witness(&mut self) {
        let Some(heads) = self.witnessed.take() else {
            return;
        };
        let last = self.last_seq;
        if let Some((&beyond, _)) = heads.range(last + 1..).next_back() {
            let last = u64::try_from(last).unwrap_or(0);
            self.find(beyond, FindingKind::Truncated { last });
        }
        let Some((first, newest)) = self.witness_span else {
            if !self.seal_states.is_empty() {
                self.report_mut().warnings.push(Warning::WitnessEmpty);
            }
            return;
        };
        // A forked log's checkpoints after the fork are not the witness's to hold.
        let end = self.witness_forked.unwrap_or(i64::MAX);
        // Within what the witness holds, it holds every checkpoint the vault signed (but a
        // backup's, which may be signed later for an entry already past).
        let held = std::mem::take(&mut self.witness_lines);
        let gap = self
            .seal_states
            .range(first..=newest.min(end - 1))
            .find(|(s, (state, _))| *state != SealState::Backup && !held.contains(s))
            .map(|(s, _)| *s);
        if let Some(seq) = gap {
            self.find(seq, FindingKind::WitnessTruncated);
        }
        // After it: the witness is behind. That is expected when it was unreachable (the vault
        // logged so) or for the vault's one newest checkpoint (a crash between the vault's
        // commit and the witness's append); else the witness lost its tail.
        let behind: Vec<i64> = if end <= newest {
            Vec::new()
        } else {
            self.seal_states
                .range(newest + 1..)
                .map(|(s, _)| *s)
                .collect()
        };
        let Some(&first_behind) = behind.first() else {
            return;
        };
        let explained = self.witness_trouble.is_some_and(|t| t > newest) || behind.len() == 1;
        if explained {
            let since = u64::try_from(first_behind).unwrap_or(0);
            self.report_mut()
                .warnings
                .push(Warning::WitnessBehind { since });
        } else {
            self.find(first_behind, FindingKind::WitnessTruncated);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::signing::SigningKey;
    use ring::rand::SystemRandom;

    fn vault() -> VaultId {
        "00112233445566778899aabbccddeeff".parse().unwrap()
    }

    /// A signed checkpoint line of `vault` at `seq`, `at_ms`, with hash byte `h`.
    fn line(key: &SigningKey, seq: u64, h: u8, at_ms: i64) -> WitnessLine {
        let public = key.public_key().unwrap();
        let c = StoredCheckpoint {
            seq: i64::try_from(seq).unwrap(),
            hash: vec![h; 32],
            signature: Vec::new(),
            at: at_ms,
            state: Some(1),
        };
        let mut l = WitnessLine::of_checkpoint(&vault(), &c, public).unwrap();
        l.signature = key.sign_checkpoint_v2(&vault(), &l.seal()).unwrap();
        l
    }

    fn restore(key: &SigningKey, seq: u64, h: u8, at_ms: i64) -> WitnessLine {
        let mut l = line(key, seq, h, at_ms);
        l.event = Event::Restored;
        l.signature = key.sign_restore(&vault(), &l.seal()).unwrap();
        l
    }

    #[test]
    fn a_line_is_written_and_read_in_one_form_and_verifies_alone() {
        let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        let l = line(&key, 42, 0xab, 1_741_000_000_000);
        let text = l.to_line();
        assert!(
            text.starts_with(
                "confide-witness/v1 open 00112233445566778899aabbccddeeff 42 abababab"
            )
        );
        assert!(text.ends_with('\n') && text.len() < MAX_LINE);
        let back = WitnessLine::parse(text.trim_end()).unwrap();
        assert_eq!(back, l);
        assert!(back.verifies());
        // Another form of the same values is not a witness line.
        for other in [
            text.replace(" 42 ", " 042 "),
            text.replace(" 42 ", " +42 "),
            text.replace("abab", "ABAB"),
            text.replace(" open ", "  open "),
            text.replace("confide-witness/v1", "confide-witness/v2"),
            text.replace(" open ", " opened "),
            text.replace(" 42 ", " 0 "),
        ] {
            assert_eq!(WitnessLine::parse(other.trim_end()), None, "{other}");
        }
        // Its state is signed: "closed" in place of "open" no longer verifies.
        let closed = WitnessLine::parse(text.replace(" open ", " closed ").trim_end()).unwrap();
        assert!(!closed.verifies());
        let r = restore(&key, 42, 0xab, 1);
        assert!(r.verifies());
        let as_checkpoint = WitnessLine {
            event: Event::Checkpoint(SealState::Open),
            ..r
        };
        assert!(!as_checkpoint.verifies(), "a restore is no checkpoint");
    }

    #[test]
    fn the_witness_takes_only_what_extends_its_last_line() {
        let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        let (other_key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        let t = 1_741_000_000_000;
        let last = line(&key, 10, 1, t);
        assert_eq!(extends(&last, &line(&key, 11, 2, t)), Ok(()));
        assert_eq!(extends(&last, &line(&key, 20, 2, t + 5_000)), Ok(()));
        // Within the clock tolerance, earlier is taken (a clock stepped back a little).
        assert_eq!(extends(&last, &line(&key, 11, 2, t - 2_000)), Ok(()));
        let refused = [
            (line(&key, 9, 2, t), "a smaller sequence number"),
            (line(&key, 10, 2, t), "the same one with another head"),
            (line(&other_key, 11, 2, t), "another audit key"),
            (line(&key, 11, 2, t - 2_001), "a time before its last line"),
        ];
        for (next, what) in refused {
            assert!(extends(&last, &next).is_err(), "{what}");
        }
        let mut foreign = line(&key, 11, 2, t);
        foreign.vault = "ffeeddccbbaa99887766554433221100".parse().unwrap();
        assert!(extends(&last, &foreign).is_err(), "another vault's");
        // A restore goes back (or stays), never forward.
        assert_eq!(extends(&last, &restore(&key, 4, 3, t)), Ok(()));
        assert!(extends(&last, &restore(&key, 11, 3, t)).is_err());
    }

    #[test]
    fn a_file_is_read_whole_lines_only() {
        let (key, _) = SigningKey::generate(&SystemRandom::new()).unwrap();
        let a = line(&key, 1, 1, 5).to_line();
        let b = line(&key, 2, 2, 6).to_line();
        let torn = &b[..b.len() / 2];
        let file = WitnessFile::parse(format!("{a}{torn}").as_bytes()).unwrap();
        assert_eq!(file.len(), 1, "an append cut short is not a line");
        assert_eq!(WitnessFile::parse(b"").unwrap(), WitnessFile::default());
        assert!(WitnessFile::parse(format!("{a}not a line\n{b}").as_bytes()).is_err());
        assert!(WitnessFile::parse(&[0xff, b'\n']).is_err());
        assert_eq!(file.vault_id(), Some(vault()));
    }
}
