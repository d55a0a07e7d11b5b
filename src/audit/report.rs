//! What a verification reports: its findings, their kinds, and warnings that are not tampering.
//!
//! Plain results, apart from the streaming verifier (`verify.rs`) that fills them, so a reader
//! of a report (the vault, the `audit-verify` binary) needs nothing of how it was made.

use std::fmt;

use crate::audit::entry::format_utc;

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
    /// A scope of facts (a client's care team, minor status, consents and break-glass grants;
    /// a case's members and clinicians; a user's role, status and supervisors) is not what the
    /// latest entry that changed it vouches for: a row was added, changed, deleted, moved from
    /// another scope or put back from an older copy outside the vault.
    FactsChanged {
        /// `client`, `case` or `user`.
        scope: &'static str,
        /// The client, case or user.
        id: [u8; 16],
    },
    /// Facts no entry vouches for: a client, case or user added outside the vault.
    FactsUnlogged {
        /// `client`, `case` or `user`.
        scope: &'static str,
        /// The client, case or user.
        id: [u8; 16],
    },
    /// A scope of facts an entry vouches for is gone (its client, case or user row deleted).
    FactsMissing {
        /// `client`, `case` or `user`.
        scope: &'static str,
        /// The client, case or user.
        id: [u8; 16],
    },
    /// The table the baseline entry vouches for (`facts_baseline`) was changed.
    BaselineChanged,
    /// A second baseline, or one after entries that already vouched for facts (a vault
    /// authenticated from its creation): the vault authenticates its state once, so another
    /// one vouches for whatever was in the file when the marker was removed.
    BaselineRepeated,
    /// A clean close that signed its own checkpoint has none: it was deleted.
    CloseUnsealed,
    /// Written by a logged-in session longer after entry `since` than any vault waits to seal
    /// it, with no checkpoint in between or here: a checkpoint was deleted.
    SealMissing {
        /// The oldest entry no checkpoint covers.
        since: u64,
    },
    /// A line of the witness that the witness would never have written: its signature does not
    /// verify, or it does not extend the line before it. The witness file was edited.
    WitnessForged,
    /// The vault signed this checkpoint and the witness, which holds later ones (or was
    /// reachable), lacks it: the witness was cut back or lines were removed.
    WitnessTruncated,
}

impl FindingKind {
    /// About stored data against the log, rather than the log itself.
    pub fn is_about_data(&self) -> bool {
        matches!(
            self,
            FindingKind::RecordChanged { .. }
                | FindingKind::RecordMissing { .. }
                | FindingKind::RecordUnlogged { .. }
                | FindingKind::FactsChanged { .. }
                | FindingKind::FactsUnlogged { .. }
                | FindingKind::FactsMissing { .. }
                | FindingKind::BaselineChanged
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
            FindingKind::FactsChanged { .. } => "facts-changed",
            FindingKind::FactsUnlogged { .. } => "facts-unlogged",
            FindingKind::FactsMissing { .. } => "facts-missing",
            FindingKind::BaselineChanged => "baseline-changed",
            FindingKind::BaselineRepeated => "baseline-repeated",
            FindingKind::CloseUnsealed => "close-unsealed",
            FindingKind::SealMissing { .. } => "seal-missing",
            FindingKind::WitnessForged => "witness-forged",
            FindingKind::WitnessTruncated => "witness-truncated",
        }
    }
}

/// What a scope of facts holds, for a finding's text.
fn scope_tables(scope: &str) -> &'static str {
    match scope {
        "client" => "its care team, minor status, consents or break-glass grants",
        "case" => "its kind, secrets policy, members or clinicians",
        _ => "its role, status or supervisors",
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
            FindingKind::FactsChanged { scope, id } => write!(
                f,
                "facts of {scope} {} changed outside the vault (not what the latest entry that \
                 changed them vouches for: {})",
                hex::encode(id),
                scope_tables(scope)
            ),
            FindingKind::FactsUnlogged { scope, id } => write!(
                f,
                "{scope} {} added outside the vault (no entry vouches for its facts)",
                hex::encode(id)
            ),
            FindingKind::FactsMissing { scope, id } => write!(
                f,
                "{scope} {} deleted outside the vault (its entry is still in the log)",
                hex::encode(id)
            ),
            FindingKind::BaselineChanged => {
                f.write_str("the facts the baseline entry vouches for were changed")
            }
            FindingKind::BaselineRepeated => f.write_str(
                "a second baseline (or one after entries that already vouched for facts): the \
                 marker of the first authentication was removed from the file, and this one \
                 vouches for whatever was there",
            ),
            FindingKind::CloseUnsealed => {
                f.write_str("clean close without the signed checkpoint it wrote (deleted)")
            }
            FindingKind::SealMissing { since } => write!(
                f,
                "written with no checkpoint covering the entries since seq {since}, past the \
                 time one was due: a checkpoint was deleted"
            ),
            FindingKind::WitnessForged => f.write_str(
                "witness line forged or out of place (the witness never writes such a line)",
            ),
            FindingKind::WitnessTruncated => f.write_str(
                "the witness lacks this signed checkpoint: the witness was cut back or edited",
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
    /// The vault's checkpoints from `since` on are not in the witness yet: it was unreachable
    /// (the log says so), or the vault stopped between its commit and the witness's append.
    /// The next checkpoint that reaches the witness brings it up to date.
    WitnessBehind {
        /// The first checkpoint the witness lacks.
        since: u64,
    },
    /// The witness holds no line while the vault has signed checkpoints: never written (a
    /// witness just configured, or unreachable so far), or emptied.
    WitnessEmpty,
    /// The entry at `seq` is dated earlier than the one before it by more than
    /// [`CLOCK_TOLERANCE_MS`]: the machine's clock was set back, or entries were written with a
    /// wrong clock. The chain itself may be intact; the dates cannot be trusted across it.
    TimeWentBack {
        /// The entry dated too early.
        seq: u64,
        /// By how much, in milliseconds.
        by_ms: i64,
    },
}

/// How far an entry may be dated before its predecessor without a warning: clocks are
/// stepped by small amounts (NTP), and entries of one group commit are dated as they were made.
pub const CLOCK_TOLERANCE_MS: i64 = 2_000;

impl Warning {
    /// A stable code for machine-readable reports.
    pub fn code(&self) -> &'static str {
        match self {
            Warning::UncleanShutdown { .. } => "unclean-shutdown",
            Warning::UnsignedTail { .. } => "unsigned-tail",
            Warning::TimeWentBack { .. } => "time-went-back",
            Warning::WitnessBehind { .. } => "witness-behind",
            Warning::WitnessEmpty => "witness-empty",
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
            Warning::WitnessBehind { since } => write!(
                f,
                "the witness does not hold the checkpoints from seq {since} on yet (it was \
                 unreachable, or the vault stopped before it could write them)"
            ),
            Warning::WitnessEmpty => {
                f.write_str("the witness holds no checkpoint (never written, or emptied)")
            }
            Warning::TimeWentBack { seq, by_ms } => write!(
                f,
                "entry {seq} is dated {:.1} s before the entry it follows (the clock was set                  back, or entries were written with a wrong clock)",
                *by_ms as f64 / 1000.0
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
