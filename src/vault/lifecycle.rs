//! The vault's life in the audit log: open and clean-close markers, and signed checkpoints.
//!
//! Each opening of the file writes `vault.open` naming a random instance id; closing writes
//! `vault.close` with the same id and signs a checkpoint of the head. An opening without its
//! close is an unclean shutdown (a crash or a power loss), which `audit-verify` reports as a
//! warning, apart from tampering. Every `checkpoint_every` entries, and on close, the head is
//! signed with the vault's audit key (Ed25519) once a user has unlocked it.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::db::Conn;
use ring::rand::SystemRandom;

use crate::audit::{AuditAction, CHECKPOINTED, NewEntry, Outcome, SEALING, SealState};
use crate::crypto::keys::MasterKey;
use crate::crypto::signing::SigningKey;
use crate::db;
use crate::db::release_rows::{self, NarrowedRow};
use crate::db::rows;
use crate::error::{Error, Place, Result};
use crate::ids::{ClientId, ConsentId, UserId, VaultId};
use crate::model::Purpose;

use super::group::{Db, GroupCommit};
use super::{Shared, Vault, VaultConfig};

impl Shared {
    pub(super) fn new(conn: Conn, vault_id: VaultId, config: VaultConfig) -> Result<Self> {
        let rng = SystemRandom::new();
        let mut instance = [0u8; 16];
        ring::rand::SecureRandom::fill(&rng, &mut instance)
            .map_err(|_| crate::error::Error::Crypto("random source failed"))?;
        Ok(Self {
            conn: Mutex::new(Db::new(conn)),
            group: GroupCommit::default(),
            key_epoch: std::sync::atomic::AtomicU64::new(0),
            vault_id,
            rng,
            signer: Mutex::new(None),
            instance,
            closed: AtomicBool::new(false),
            sealing: super::sealer::Sealing::default(),
            handles: std::sync::atomic::AtomicUsize::new(0),
            signed: std::sync::atomic::AtomicU64::new(0),
            witness: config.witness.as_ref().map(super::witness::Witness::new),
            config,
        })
    }

    pub(super) fn set_signer(&self, key: SigningKey) {
        *self.signer.lock().unwrap_or_else(|e| e.into_inner()) = Some(key);
    }

    /// At a login, before it is granted: the audit key the stored wrap opens under `mk`, which
    /// must be the key whose public half `audit_key` stores. That public key is what
    /// `audit-verify` checks every checkpoint against without a passphrase; an attacker with
    /// write access to the file can replace it and re-sign the checkpoints with their own key,
    /// which no check without a key can tell, but cannot seal their key under the master key.
    /// A mismatch is [`Error::Integrity`] at `audit_key.public_key` (a wrap that does not open,
    /// at `audit_key.wrapped_key`). `None`: a vault from before format 4, which has no key yet.
    pub(super) fn audit_key_at_login(&self, mk: &MasterKey) -> Result<Option<SigningKey>> {
        let Some((public, wrapped)) = db::audit_rows::audit_key(&self.conn())? else {
            return Ok(None);
        };
        let key = SigningKey::unwrap(&wrapped, mk, &self.vault_id)?;
        if key.public_key()?[..] != public[..] {
            return Err(Error::Integrity {
                place: Place {
                    table: "audit_key",
                    owner: self.vault_id.to_string(),
                    record: "-".into(),
                    field: "public_key".into(),
                },
            });
        }
        Ok(Some(key))
    }

    /// After a login: keep the audit key it opened for signing checkpoints, or make one for a
    /// vault older than format 4.
    pub(super) fn load_signer(
        &self,
        opened: Option<SigningKey>,
        mk: &MasterKey,
        user: &UserId,
    ) -> Result<()> {
        if self
            .signer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            return Ok(());
        }
        let key = match opened {
            Some(key) => key,
            None => {
                let (key, public) = SigningKey::generate(&self.rng)?;
                let wrapped = key.wrap(&self.rng, mk, &self.vault_id)?;
                self.write(|tx| {
                    db::audit_rows::insert_audit_key(tx, &public, &wrapped, self.now_ms())?;
                    self.audit_in(tx, &marker(AuditAction::AuditKeyCreate, Some(user), None))
                })?;
                key
            }
        };
        self.set_signer(key);
        Ok(())
    }

    /// Write the open marker. It names the field `sealing`: this opening seals its log in time
    /// once the key is loaded, so `audit-verify` may hold what follows to the seal deadlines.
    pub(super) fn mark_open(&self) -> Result<()> {
        let mut entry = marker(AuditAction::VaultOpen, None, Some(&self.instance));
        entry.fields = &[SEALING];
        self.audit(&entry)?;
        self.log_narrowed_consents()?;
        self.log_signed_by_upgrade()
    }

    /// Say, in the log, that the upgrade to format 10 signed the clinical entries and
    /// psychotherapy notes written before it, once: the entry and the note that it was made
    /// commit together.
    fn log_signed_by_upgrade(&self) -> Result<()> {
        let Some((_, _, None)) = rows::signed_by_upgrade(&self.conn())? else {
            return Ok(());
        };
        self.write(|tx| {
            if !matches!(rows::signed_by_upgrade(tx)?, Some((_, _, None))) {
                return Ok(());
            }
            let entry = NewEntry {
                actor: None,
                action: AuditAction::HistorySignedByUpgrade,
                client: None,
                target: None,
                fields: &["records", "notes"],
                purpose: Some(Purpose::Operations),
                outcome: Outcome::Granted,
            };
            let seq = self.audit_in(tx, &entry)?;
            // INVARIANT: sequence numbers are below 2^63.
            rows::set_signed_by_upgrade_logged(tx, seq as i64)
        })
    }

    /// List, in the log, each consent the upgrade to format 9 narrowed and no entry lists yet:
    /// the entry and the note that it was made commit together, so a crash between the upgrade
    /// and this leaves them to the next open.
    fn log_narrowed_consents(&self) -> Result<()> {
        let pending: Vec<NarrowedRow> = release_rows::narrowed_consents(&self.conn())?
            .into_iter()
            .filter(|n| n.audit_seq.is_none())
            .collect();
        if pending.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            for n in &pending {
                let entry = NewEntry {
                    actor: None,
                    action: AuditAction::ConsentScopesMigrate,
                    client: Some(&n.client),
                    target: Some(n.consent.as_bytes()),
                    fields: &["joint_record"],
                    purpose: Some(Purpose::Operations),
                    outcome: Outcome::Granted,
                };
                let seq = self.audit_in(tx, &entry)?;
                // INVARIANT: sequence numbers are below 2^63.
                release_rows::set_narrowed_logged(tx, &n.consent, seq as i64)?;
            }
            Ok(())
        })
    }

    /// Write the close marker and sign a checkpoint of the head, and bring the witness up to
    /// date. Once.
    pub(super) fn mark_close(&self) -> Result<()> {
        if self.closed.swap(true, Ordering::SeqCst) {
            return Ok(());
        }
        // The witness first: an outage is logged before the close marker, never after it.
        let caught_up = if self.witness_waiting() {
            self.sync_witness()
        } else {
            Ok(())
        };
        let mut close = marker(AuditAction::VaultClose, None, Some(&self.instance));
        let signs = self
            .signer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some();
        if signs {
            // It says it signs its checkpoint: a close that says so and has none lost it.
            close.fields = &[CHECKPOINTED];
        }
        self.write_unwitnessed(|tx| self.audit_sealed(tx, &close, SealState::Closed))?;
        caught_up?;
        self.sync_witness_quietly()
    }
}

/// A consent whose reach the upgrade to format 9 narrowed: it named the joint record without
/// naming an outside recipient by identity, so it no longer reaches joint content (an
/// authorization of joint content now names its recipient and its case).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NarrowedConsent {
    /// Whose consent.
    pub client: ClientId,
    /// The consent.
    pub consent: ConsentId,
    /// The audit entry that lists it (`consent.scopes_migrate`), once the vault has been opened.
    pub audit_seq: Option<u64>,
}

/// What the upgrade to format 10 signed: every clinical entry and psychotherapy note written
/// before it, finished documentation from then on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedByUpgrade {
    /// Clinical entries of the general record (diagnoses, plans, progress notes, substance-use
    /// records, case notes).
    pub records: u64,
    /// Psychotherapy notes.
    pub notes: u64,
    /// The audit entry that says so (`history.signed_by_upgrade`), once the vault was opened.
    pub audit_seq: Option<u64>,
}

impl Vault {
    /// What the upgrade to format 10 signed (`None` for a vault created at format 10 or
    /// later, or one that had nothing to sign).
    pub fn signed_by_upgrade(&self) -> Result<Option<SignedByUpgrade>> {
        let count = |n: i64| u64::try_from(n).unwrap_or(0);
        Ok(
            rows::signed_by_upgrade(&self.shared.conn())?.map(|(records, notes, seq)| {
                SignedByUpgrade {
                    records: count(records),
                    notes: count(notes),
                    audit_seq: seq.and_then(|s| u64::try_from(s).ok()),
                }
            }),
        )
    }

    /// The consents the upgrade to format 9 narrowed (empty for a vault created at format 9 or
    /// later). Each is also listed in the audit log, by an entry written when the upgraded vault
    /// is first opened.
    pub fn narrowed_by_upgrade(&self) -> Result<Vec<NarrowedConsent>> {
        Ok(release_rows::narrowed_consents(&self.shared.conn())?
            .into_iter()
            .map(|n| NarrowedConsent {
                client: n.client,
                consent: n.consent,
                audit_seq: n.audit_seq.and_then(|s| u64::try_from(s).ok()),
            })
            .collect())
    }
}

fn marker<'a>(
    action: AuditAction,
    actor: Option<&'a UserId>,
    instance: Option<&'a [u8; 16]>,
) -> NewEntry<'a> {
    NewEntry {
        actor,
        action,
        client: None,
        target: instance,
        fields: &[],
        purpose: None,
        outcome: Outcome::Granted,
    }
}

impl Drop for Shared {
    /// The file is let go: close cleanly if the last handle did not (the vault's creation
    /// failed part way). Errors cannot be reported from a drop; a close that fails shows in the
    /// log as an unclean shutdown, as a crash would.
    fn drop(&mut self) {
        let _ = self.mark_close();
    }
}

impl Vault {
    /// Close the vault: write the clean-close marker and sign a checkpoint of the log's head.
    /// Sessions still open keep the file open; the marker is written once, when the last
    /// handle goes if not here.
    pub fn close(self) -> Result<()> {
        self.shared.close()
    }
}
