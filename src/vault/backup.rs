//! Encrypted backups and restores.
//!
//! A backup is a consistent copy of the vault file taken while the vault stays in use: SQLite's
//! `VACUUM INTO` on a separate connection reads one snapshot while the vault's own
//! connection goes on writing. The copy is as encrypted as the vault and carries its whole audit
//! chain, including the entry that records its own making (committed before the snapshot) and
//! that entry's checkpoint, signed "backup": the copy is a prefix of the live log that ends at a
//! checkpoint saying a copy was taken there, so it verifies clean, with no unclean shutdown for
//! the opening that was in use. (Should other sessions' writes slip in between that commit and
//! the snapshot, the copy's own last entry is sealed the same way, in the copy and in the vault.)
//!
//! A restore checks the backup's audit chain first (no passphrase needed) and refuses a damaged
//! one, refuses to replace a vault with another vault's backup unless told to, then puts the
//! copy in place (never half-written: it is renamed into place once complete) and records the
//! restore in the restored vault's log under the administrator who did it.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::audit::{AuditAction, Outcome, SealState};
use crate::db;
use crate::error::{Error, Result};
use crate::ids::VaultId;
use crate::model::Purpose;
use crate::policy::PracticeOp;

use super::gate::{AuditAs, Target};
use super::{Passphrase, Session, Vault, VaultConfig};

/// What a backup wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BackupSummary {
    /// The backup file.
    pub path: PathBuf,
    /// Its size in bytes.
    pub bytes: u64,
    /// The sequence number of the entry recording this backup. The copy holds it; entries of
    /// writes committed while the copy was read may follow it there.
    pub audit_seq: u64,
}

/// How a restore may proceed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Replace the vault at the destination even if the backup is of another vault.
    pub allow_other_vault: bool,
}

fn invalid(reason: impl Into<String>) -> Error {
    Error::InvalidInput {
        what: "backup",
        reason: reason.into(),
    }
}

/// `path` with `suffix` appended to its file name.
fn beside(path: &Path, suffix: &str) -> PathBuf {
    let mut p = path.as_os_str().to_owned();
    p.push(suffix);
    PathBuf::from(p)
}

/// Flush a finished file to disk, then move it into place.
fn publish(partial: &Path, to: &Path) -> Result<()> {
    File::open(partial)?.sync_all()?;
    std::fs::rename(partial, to)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        // The rename itself is durable once the directory is synced (not possible everywhere).
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

impl Session {
    /// Write a consistent, still-encrypted copy of the vault to `out` while it stays in use
    /// (administrators only). The copy's audit log holds the entry recording this backup.
    pub fn backup(&self, out: &Path) -> Result<BackupSummary> {
        let purpose = Purpose::Operations;
        let action = AuditAction::VaultBackup;
        let gate = self.admit(action, purpose)?;
        let grant =
            gate.check_practice(PracticeOp::Backup, AuditAs::new(action), Target::Nothing)?;
        if out.exists() {
            return Err(Error::AlreadyExists {
                path: out.to_owned(),
            });
        }
        let source = self
            .shared
            .conn()
            .path()
            .map(PathBuf::from)
            .ok_or_else(|| invalid("the vault has no file to copy"))?;
        // The entry first, with a checkpoint saying a backup ends here, so the copy records its
        // own making and is sealed as a complete copy (a prefix of this vault's log).
        let outcome = Outcome::Allowed(grant.basis());
        let entry = self.entry(action, None, None, &[], purpose, outcome);
        let (audit_seq, _) = self
            .shared
            .write(|tx| self.shared.audit_sealed(tx, &entry, SealState::Backup))?;
        let partial = beside(out, ".partial");
        remove_files(&partial);
        let copied = (|| {
            let conn = db::open_for_copy(&source)?;
            let target = partial
                .to_str()
                .ok_or_else(|| invalid("the backup path is not valid UTF-8"))?;
            db::vacuum_into(&conn, target)?;
            drop(conn);
            self.seal_copy_if_it_grew(&partial, audit_seq)?;
            publish(&partial, out)
        })();
        if let Err(e) = copied {
            remove_files(&partial);
            return Err(e);
        }
        Ok(BackupSummary {
            path: out.to_owned(),
            bytes: std::fs::metadata(out)?.len(),
            audit_seq: audit_seq as u64, // INVARIANT: seq >= 1.
        })
    }

    /// Writes committed after the backup's entry and before the copy's snapshot (by other
    /// sessions) are in the copy after the backup's checkpoint: seal the copy's own last entry
    /// as a backup's too, so the copy still ends at one.
    fn seal_copy_if_it_grew(&self, partial: &Path, sealed: i64) -> Result<()> {
        let live = db::audit_rows::max_seq(&self.shared.conn())?;
        if live == sealed {
            // Nothing was appended since the backup's entry, so the copy ends with it.
            return Ok(());
        }
        let copy = db::open_for_copy(partial)?;
        let Some((seq, hash)) = db::audit_rows::head(&copy)? else {
            return Err(invalid("the copy holds no audit log"));
        };
        if seq > sealed {
            self.shared.seal_copy(&copy, seq, &hash)?;
        }
        // (`VACUUM INTO` writes a file in rollback-journal mode: nothing is left beside it.)
        Ok(())
    }
}

impl Vault {
    /// Restore the backup at `backup` to `to` and open it.
    ///
    /// The backup's audit chain must verify (its checkpoints, ledger and records included). If
    /// a vault already exists at `to`, the backup must be of that same vault unless
    /// `opts.allow_other_vault`; close it everywhere first. The restore is recorded in the
    /// restored vault's log under `admin`, who must be an administrator of the backup, and,
    /// with a witness configured, in the witness: a signed `restored` line saying the log was
    /// rolled back on purpose to the backup's last entry, so `audit-verify --witness` does not
    /// report it as a rollback. (A required witness that cannot take it fails the restore,
    /// which then leaves the vault at `to` as it was.)
    pub fn restore(
        backup: &Path,
        to: &Path,
        admin: &str,
        passphrase: &Passphrase,
        config: VaultConfig,
        opts: RestoreOptions,
    ) -> Result<Vault> {
        let report = crate::verify_audit_log(backup)?;
        if !report.is_intact() {
            return Err(invalid(format!(
                "its audit log is not intact ({} findings; run audit-verify on it)",
                report.findings_total
            )));
        }
        let id: VaultId = super::vault_id_of(backup)?;
        if to.exists() {
            let existing = super::vault_id_of(to)?;
            if existing != id && !opts.allow_other_vault {
                return Err(invalid(format!(
                    "it is a backup of vault {id}, not of vault {existing} it would replace"
                )));
            }
        }
        // Where the backup's log ends: what the restored log goes on from, and what the witness
        // (if any) is told the vault was rolled back to.
        let point = match report.resume_point {
            Some(point) => point,
            None => {
                let conn = db::open_read_only(backup)?;
                let (seq, hash) = db::audit_rows::head(&conn)?
                    .ok_or_else(|| invalid("its audit log is empty"))?;
                let hash: [u8; 32] = hash
                    .try_into()
                    .map_err(|_| invalid("its last entry's hash is malformed"))?;
                (u64::try_from(seq).unwrap_or(0), hash)
            }
        };
        let partial = beside(to, ".partial");
        remove_files(&partial);
        std::fs::copy(backup, &partial)?;
        // The administrator logs in to the copy before it replaces anything, and the restore is
        // recorded in the copy's own log, and in the witness (a rollback made on purpose, signed)
        // before the copy's own checkpoints.
        let recorded = (|| {
            let copy = Vault::open(&partial, config.clone())?;
            copy.shared.restore_in_witness(point.0, point.1);
            let session = copy.unlock(admin, passphrase)?;
            session.record_restore()?;
            drop(session);
            copy.close()
        })();
        if let Err(e) = recorded {
            remove_files(&partial);
            return Err(e);
        }
        // Closed: SQLite has folded its write-ahead log into the file; one left behind would
        // hold the restore's own entries, and would not be moved with it.
        let wal = beside(&partial, "-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0) {
            remove_files(&partial);
            return Err(Error::Storage(
                "the restored copy could not be checkpointed".into(),
            ));
        }
        // The replaced vault's write-ahead log must not be replayed into the restored file.
        for suffix in ["-wal", "-shm"] {
            match std::fs::remove_file(beside(to, suffix)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
        publish(&partial, to)?;
        Vault::open(to, config)
    }
}

/// Remove a vault file and its companions, ignoring files that are not there.
fn remove_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(beside(path, suffix));
    }
}

impl Session {
    /// Record in the log that this vault was just restored from a backup (administrators).
    fn record_restore(&self) -> Result<()> {
        let purpose = Purpose::Operations;
        let action = AuditAction::VaultRestore;
        let gate = self.admit(action, purpose)?;
        let grant =
            gate.check_practice(PracticeOp::Backup, AuditAs::new(action), Target::Nothing)?;
        let outcome = Outcome::Allowed(grant.basis());
        self.shared
            .audit(&self.entry(action, None, None, &[], purpose, outcome))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::kdf::KdfParams;

    #[test]
    fn a_copy_that_grew_past_the_backups_entry_is_sealed_at_its_own_end() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grew.vault");
        let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1).unwrap());
        let pass = Passphrase::new("grown backup passphrase");
        let vault = Vault::create(&path, "admin", &pass, config).unwrap();
        let admin = vault.unlock("admin", &pass).unwrap();
        // The backup's entry and checkpoint, then a write that slips in before the snapshot
        // (as another session's would), then the snapshot.
        let entry = admin.entry(
            AuditAction::VaultBackup,
            None,
            None,
            &[],
            Purpose::Operations,
            Outcome::Granted,
        );
        let (sealed, _) = admin
            .shared
            .write(|tx| admin.shared.audit_sealed(tx, &entry, SealState::Backup))
            .unwrap();
        admin.audit_tail(1).unwrap();
        let partial = dir.path().join("grew.backup");
        db::vacuum_into(
            &db::open_for_copy(&path).unwrap(),
            partial.to_str().unwrap(),
        )
        .unwrap();
        let before = crate::verify_audit_log(&partial).unwrap();
        assert!(
            before
                .warnings
                .iter()
                .any(|w| w.code() == "unclean-shutdown")
        );

        admin.seal_copy_if_it_grew(&partial, sealed).unwrap();
        let after = crate::verify_audit_log(&partial).unwrap();
        assert!(after.is_intact(), "{:?}", after.findings);
        assert_eq!(after.warnings, vec![]);
        assert_eq!(after.last_checkpoint, Some(sealed as u64 + 1));
        // The vault holds that checkpoint too: the copy is still a prefix of its log.
        let live = crate::verify_audit_log(&path).unwrap();
        assert!(
            live.is_intact() && live.checkpoints_checked >= 2,
            "{live:?}"
        );
    }
}
