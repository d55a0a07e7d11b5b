//! Keeping a witness: every signed checkpoint is appended to a second file the application
//! keeps elsewhere (`VaultConfig::with_witness`), fsynced before the operation that signed it
//! returns. The line format, and what verification does with the file, are in
//! `audit/witness.rs`.
//!
//! The witness takes a checkpoint only if it extends the last line it holds: a later entry of
//! the same vault under the same audit key, dated no earlier (within the clock tolerance), in a
//! log that still holds the witness's last head with the same hash. So a vault file rolled back
//! or forked is refused by its witness, and verification reports it against the witness. A
//! restore through `Vault::restore` is the one rollback the witness takes: a signed `restored`
//! line, written before the restored log's own checkpoints.
//!
//! The append happens after the vault's commit, so the witness never holds a checkpoint the
//! vault does not (a crash in between leaves the witness one checkpoint behind, which the next
//! append makes good). It runs under the vault file's write lock, so the appends of several
//! processes never interleave, and reads only what is committed.
//!
//! A witness that cannot be written to (a missing directory, a full or unplugged disk) or that
//! refuses, fails the operation with `Error::WitnessUnreachable` or `Error::WitnessRefused`
//! when it is required; by default (best effort) the vault goes on, logs `witness.unreachable`
//! or `witness.refused` once per outage, and brings the witness up to date at the next
//! checkpoint that reaches it (its sealer tries every second meanwhile).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::audit::{
    AuditAction, NewEntry, Outcome, SealState, WitnessLine, checkpoint_verifies, extends,
};
use crate::crypto::signing::Seal;
use crate::db::{self, Conn, Durability};
use crate::error::{Error, Result};

use super::Shared;

/// Where a vault's witness is, and what happens when it cannot be written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessConfig {
    /// The witness file: created if missing (its directory must exist), appended to only.
    pub path: PathBuf,
    /// Required, or best effort.
    pub mode: WitnessMode,
}

/// What a checkpoint that cannot reach the witness does to the operation that signed it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum WitnessMode {
    /// The vault goes on; the failure is logged once per outage, and the witness is brought up
    /// to date when it can be written to again.
    #[default]
    BestEffort,
    /// The operation fails with [`Error::WitnessUnreachable`] or [`Error::WitnessRefused`]
    /// (what it wrote to the vault is committed, like a read's audit entry), and so does
    /// every operation after it until the witness holds every checkpoint again.
    Required,
}

/// The witness of an open vault.
pub(crate) struct Witness {
    config: WitnessConfig,
    /// A checkpoint was signed that the witness may not hold yet.
    behind: AtomicBool,
    /// The witness has failed, and the log says so: not again until it works.
    down: AtomicBool,
    /// A restore to record before the restored log's checkpoints: the backup's last head.
    restore: Mutex<Option<(u64, [u8; 32])>>,
}

fn unreachable(path: &Path, e: &std::io::Error) -> Error {
    Error::WitnessUnreachable {
        path: path.to_owned(),
        reason: e.to_string(),
    }
}

fn refused(seq: u64, reason: &'static str) -> Error {
    Error::WitnessRefused { seq, reason }
}

impl Witness {
    pub(super) fn new(config: &WitnessConfig) -> Self {
        Self {
            config: config.clone(),
            behind: AtomicBool::new(false),
            down: AtomicBool::new(false),
            restore: Mutex::new(None),
        }
    }

    fn required(&self) -> bool {
        self.config.mode == WitnessMode::Required
    }
}

impl Shared {
    /// A checkpoint was signed: the witness is behind until it holds it.
    pub(super) fn witness_behind(&self) {
        if let Some(w) = &self.witness {
            w.behind.store(true, Ordering::SeqCst);
        }
    }

    /// After a write that signed a checkpoint (`signed`) or while a required witness is behind:
    /// bring the witness up to date before the operation returns.
    pub(super) fn after_write(&self, signed: bool) -> Result<()> {
        let Some(w) = &self.witness else {
            return Ok(());
        };
        if signed || (w.required() && w.behind.load(Ordering::SeqCst)) {
            self.sync_witness()
        } else {
            Ok(())
        }
    }

    /// Whether a checkpoint waits for the witness (the sealer retries then).
    pub(super) fn witness_waiting(&self) -> bool {
        self.witness
            .as_ref()
            .is_some_and(|w| w.behind.load(Ordering::SeqCst))
    }

    /// Record, at the next append to the witness, that this vault was restored from a backup
    /// whose log ends at `seq` with `hash`.
    pub(super) fn restore_in_witness(&self, seq: u64, hash: [u8; 32]) {
        if let Some(w) = &self.witness {
            *w.restore.lock().unwrap_or_else(|e| e.into_inner()) = Some((seq, hash));
        }
    }

    /// Append to the witness every checkpoint it lacks. On failure: logged once per outage,
    /// and an error only if the witness is required.
    pub(super) fn sync_witness(&self) -> Result<()> {
        self.sync_witness_logging(true)
    }

    /// [`Shared::sync_witness`] without logging a failure: after the close marker, which must
    /// stay the opening's last entry.
    pub(super) fn sync_witness_quietly(&self) -> Result<()> {
        self.sync_witness_logging(false)
    }

    fn sync_witness_logging(&self, log: bool) -> Result<()> {
        let Some(w) = &self.witness else {
            return Ok(());
        };
        let synced = (|| {
            if self.config.durability == Durability::Normal {
                // What the witness will hold must survive a power cut in the vault too: a
                // checkpoint of the write-ahead log syncs it (outside any transaction).
                db::sync_wal(&self.conn())?;
            }
            self.exclusive(|conn| self.append_to_witness(w, conn))
        })();
        match synced {
            Ok(()) => {
                w.down.store(false, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                if log && !w.down.swap(true, Ordering::SeqCst) {
                    // The log says so; if even that fails, the error below still does.
                    let _ = self.log_witness_trouble(&e);
                }
                if w.required() { Err(e) } else { Ok(()) }
            }
        }
    }

    fn log_witness_trouble(&self, e: &Error) -> Result<()> {
        let action = match e {
            Error::WitnessRefused { .. } => AuditAction::WitnessRefused,
            _ => AuditAction::WitnessUnreachable,
        };
        let entry = NewEntry {
            actor: None,
            action,
            client: None,
            target: None,
            fields: &[],
            purpose: None,
            outcome: Outcome::Granted,
        };
        // Sealed at once: the vault's own signed word that its witness was out of reach is what
        // tells a witness left behind from one cut back.
        self.write_unwitnessed(|tx| self.audit_sealed(tx, &entry, SealState::Open))
            .map(|_| ())
    }

    /// Inside the vault's write lock, with only committed rows to read: append what the
    /// witness lacks, after checking that it takes it.
    fn append_to_witness(&self, w: &Witness, conn: &Conn) -> Result<()> {
        let path = &w.config.path;
        let Some((public, _)) = db::audit_rows::audit_key(conn)? else {
            return Ok(());
        };
        let key: [u8; 32] = public
            .as_slice()
            .try_into()
            .map_err(|_| refused(0, "the vault's audit key is malformed"))?;
        let (mut file, last) = open_witness(path)?;
        let mut out = String::new();
        let mut last = last;
        if let Some(prev) = &last {
            if prev.vault != self.vault_id {
                return Err(refused(prev.seq, "it is another vault's witness"));
            }
            if !self.extends_witness(conn, prev)? {
                let restore = self.restore_line(w, conn, prev, key)?;
                out.push_str(&restore.to_line());
                last = Some(restore);
            }
        }
        w.restore.lock().unwrap_or_else(|e| e.into_inner()).take();
        let pending = match &last {
            Some(prev) => db::audit_rows::checkpoints_with_state_after(conn, seq_i64(prev.seq))?,
            // A new witness begins with the newest checkpoint: it vouches for all before it.
            None => db::audit_rows::newest_checkpoint(conn)?
                .filter(|c| c.state.is_some())
                .into_iter()
                .collect(),
        };
        for c in pending {
            let seq = u64::try_from(c.seq).unwrap_or(0);
            if !checkpoint_verifies(&key, &self.vault_id, &c) {
                return Err(refused(seq, "the vault's checkpoint does not verify"));
            }
            let line = WitnessLine::of_checkpoint(&self.vault_id, &c, key)
                .ok_or_else(|| refused(seq, "the vault's checkpoint is malformed"))?;
            if let Some(prev) = &last {
                extends(prev, &line).map_err(|why| refused(seq, why))?;
            }
            out.push_str(&line.to_line());
            last = Some(line);
        }
        if !out.is_empty() {
            file.write_all(out.as_bytes())
                .and_then(|()| file.sync_data())
                .map_err(|e| unreachable(path, &e))?;
        }
        w.behind.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// The vault's log still holds the witness's last head, with its hash (a restore line's
    /// head too: the restored log goes on from it).
    fn extends_witness(&self, conn: &Conn, last: &WitnessLine) -> Result<bool> {
        let held = db::audit_rows::entry_at(conn, seq_i64(last.seq))?;
        Ok(held.is_some_and(|e| e.hash[..] == last.hash[..]))
    }

    /// The restore line for a vault restored through `Vault::restore`, if it is one and the
    /// witness takes it; else the vault was rolled back or forked behind the witness's back.
    fn restore_line(
        &self,
        w: &Witness,
        conn: &Conn,
        last: &WitnessLine,
        key: [u8; 32],
    ) -> Result<WitnessLine> {
        let not_extended = || {
            refused(
                last.seq,
                "the vault does not hold the witness's last checkpoint: rolled back or forked",
            )
        };
        let point = *w.restore.lock().unwrap_or_else(|e| e.into_inner());
        let Some((seq, hash)) = point else {
            return Err(not_extended());
        };
        let restored_to = db::audit_rows::entry_at(conn, seq_i64(seq))?;
        if restored_to.is_none_or(|e| e.hash[..] != hash[..]) {
            return Err(not_extended());
        }
        let signer = self.signer.lock().unwrap_or_else(|e| e.into_inner());
        let signer = signer.as_ref().ok_or(Error::SessionLocked)?;
        let at_ms = self.now_ms();
        let seal = Seal {
            seq,
            hash: &hash,
            at_ms,
            state: 0,
        };
        let line = WitnessLine {
            event: crate::audit::WitnessEvent::Restored,
            vault: self.vault_id,
            seq,
            hash,
            at_ms,
            key,
            signature: signer.sign_restore(&self.vault_id, &seal)?,
        };
        extends(last, &line).map_err(|why| refused(seq, why))?;
        Ok(line)
    }
}

fn seq_i64(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Open the witness file for appending (creating it, and making its entry in the directory
/// durable, if it is new), drop a last line an earlier crash cut short, and read the last
/// line it holds. A last line that is not a witness line, or whose signature does not verify,
/// means the file is not the witness it should be.
fn open_witness(path: &Path) -> Result<(File, Option<WitnessLine>)> {
    let io = |e: std::io::Error| unreachable(path, &e);
    let existed = path.exists();
    let mut file = OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)
        .map_err(io)?;
    if !existed {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
    }
    let len = file.metadata().map_err(io)?.len();
    let window = len.min(2 * crate::audit::MAX_WITNESS_LINE as u64);
    file.seek(SeekFrom::Start(len - window)).map_err(io)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(io)?;
    let Some(end) = tail.iter().rposition(|&b| b == b'\n') else {
        if window == len && len > 0 {
            // Not one whole line: a first append cut short.
            file.set_len(0).map_err(io)?;
        } else if len > 0 {
            return Err(refused(0, "its last line is too long to be a witness line"));
        }
        return Ok((file, None));
    };
    if end + 1 < tail.len() {
        // An append an earlier crash cut short: never a line the witness held.
        file.set_len(len - (tail.len() - end - 1) as u64)
            .map_err(io)?;
    }
    let start = tail[..end]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |s| s + 1);
    if start == 0 && window < len {
        return Err(refused(0, "its last line is too long to be a witness line"));
    }
    let line = std::str::from_utf8(&tail[start..end])
        .ok()
        .and_then(WitnessLine::parse)
        .ok_or_else(|| refused(0, "its last line is not a witness line"))?;
    if !line.verifies() {
        return Err(refused(line.seq, "its last line does not verify"));
    }
    Ok((file, Some(line)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::kdf::KdfParams;
    use crate::vault::{Passphrase, Vault, VaultConfig};

    #[test]
    fn an_append_cut_short_is_dropped_and_a_damaged_last_line_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.vault");
        let witness = dir.path().join("w.witness");
        let config = VaultConfig::default()
            .with_kdf(KdfParams::new(64, 1, 1).unwrap())
            .with_required_witness(&witness);
        let pass = Passphrase::new("witness unit passphrase");
        let vault = Vault::create(&path, "admin", &pass, config).unwrap();
        drop(vault.unlock("admin", &pass).unwrap());
        vault
            .shared
            .write(|tx| {
                let (seq, hash) = db::audit_rows::head(tx)?.unwrap();
                vault
                    .shared
                    .checkpoint_in(tx, seq, &hash, crate::audit::SealState::Open)
            })
            .unwrap();
        let whole = std::fs::read_to_string(&witness).unwrap();
        assert_eq!(whole.lines().count(), 1);

        // A crash in the middle of the next append left half a line.
        std::fs::write(&witness, format!("{whole}confide-witness/v1 open 0011")).unwrap();
        let (_, last) = open_witness(&witness).unwrap();
        assert_eq!(std::fs::read_to_string(&witness).unwrap(), whole);
        assert!(last.is_some());

        // A last line edited: the file is not the witness it was.
        std::fs::write(&witness, whole.replacen(" open ", " closed ", 1)).unwrap();
        assert!(matches!(
            open_witness(&witness),
            Err(Error::WitnessRefused { .. })
        ));
        std::fs::write(&witness, "some other file\n").unwrap();
        assert!(matches!(
            open_witness(&witness),
            Err(Error::WitnessRefused { .. })
        ));
    }
}
