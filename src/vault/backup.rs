//! Encrypted backups and restores.
//!
//! A backup is a consistent copy of the vault file taken while the vault stays in use: SQLite's
//! `VACUUM INTO` on a separate connection reads one snapshot while the vault's own
//! connection goes on writing. The copy is as encrypted as the vault and carries its whole audit
//! chain, including the entry that records its own making (committed before the snapshot).
//!
//! A restore checks the backup's audit chain first (no passphrase needed) and refuses a damaged
//! one, refuses to replace a vault with another vault's backup unless told to, then puts the
//! copy in place (never half-written: it is renamed into place once complete) and records the
//! restore in the restored vault's log under the administrator who did it.

use std::fs::File;
use std::path::{Path, PathBuf};

use crate::audit::{AuditAction, Outcome};
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
        // The entry first, so the copy records its own making.
        let outcome = Outcome::Allowed(grant.basis());
        let audit_seq =
            self.shared
                .audit(&self.entry(action, None, None, &[], purpose, outcome))?;
        let partial = beside(out, ".partial");
        let _ = std::fs::remove_file(&partial);
        let copied = (|| {
            let conn = db::open_for_copy(&source)?;
            let target = partial
                .to_str()
                .ok_or_else(|| invalid("the backup path is not valid UTF-8"))?;
            db::vacuum_into(&conn, target)?;
            drop(conn);
            publish(&partial, out)
        })();
        if let Err(e) = copied {
            let _ = std::fs::remove_file(&partial);
            return Err(e);
        }
        Ok(BackupSummary {
            path: out.to_owned(),
            bytes: std::fs::metadata(out)?.len(),
            audit_seq,
        })
    }
}

impl Vault {
    /// Restore the backup at `backup` to `to` and open it.
    ///
    /// The backup's audit chain must verify (its checkpoints, ledger and records included). If
    /// a vault already exists at `to`, the backup must be of that same vault unless
    /// `opts.allow_other_vault`; close it everywhere first. The restore is recorded in the
    /// restored vault's log under `admin`, who must be an administrator of the backup.
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
        let partial = beside(to, ".partial");
        remove_files(&partial);
        std::fs::copy(backup, &partial)?;
        // The administrator logs in to the copy before it replaces anything, and the restore is
        // recorded in the copy's own log.
        let recorded = (|| {
            let copy = Vault::open(&partial, config)?;
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
