//! The one place that appends to the audit chain: entries, entries that vouch for a row, and
//! signed checkpoints, always inside the caller's transaction (or one of their own), so a change
//! and the entry recording it commit together or not at all.

use crate::audit::{NewEntry, SealState, Vouch, entry_hash, genesis_hash};
use crate::crypto::signing::Seal;
use crate::db::{self, Conn};
use crate::error::{Error, Result};
use crate::stored::StoredCheckpoint;

use super::Shared;

impl Shared {
    /// Append one audit entry inside `tx`. Returns its sequence number.
    pub(crate) fn audit_in(&self, tx: &Conn, entry: &NewEntry<'_>) -> Result<u64> {
        self.audit_vouching(tx, entry, |_| Ok(None))
    }

    /// Append `entries` inside `tx`, in order, reading the log's head once for all of them.
    pub(crate) fn audit_all(&self, tx: &Conn, entries: &[NewEntry<'_>]) -> Result<()> {
        let (mut seq, mut prev) = self.head(tx)?;
        for entry in entries {
            seq += 1;
            let hash = self.append(tx, seq, &prev, entry, &Vouch::default())?;
            prev.clear();
            prev.extend_from_slice(&hash);
        }
        Ok(())
    }

    /// Append one audit entry inside `tx` that vouches for a row written by `write_row`, which
    /// learns the entry's sequence number first and returns the row's digest.
    pub(crate) fn audit_vouching(
        &self,
        tx: &Conn,
        entry: &NewEntry<'_>,
        write_row: impl FnOnce(i64) -> Result<Option<[u8; 32]>>,
    ) -> Result<u64> {
        self.audit_vouched(tx, entry, |seq| {
            Ok(Vouch {
                digest: write_row(seq)?,
                ..Vouch::default()
            })
        })
    }

    /// Append one audit entry inside `tx` vouching for what `vouch` computes (the state the
    /// change left, written earlier in the same transaction), given the entry's sequence number.
    pub(crate) fn audit_vouched(
        &self,
        tx: &Conn,
        entry: &NewEntry<'_>,
        vouch: impl FnOnce(i64) -> Result<Vouch>,
    ) -> Result<u64> {
        let (head, prev) = self.head(tx)?;
        let seq = head + 1;
        let vouch = vouch(seq)?;
        self.append(tx, seq, &prev, entry, &vouch)?;
        Ok(seq as u64) // INVARIANT: seq >= 1.
    }

    /// Run `op` and append `entry` in one transaction: the change and its audit entry commit
    /// together or not at all.
    pub(crate) fn write_audited(
        &self,
        entry: &NewEntry<'_>,
        op: impl FnOnce(&Conn) -> Result<()>,
    ) -> Result<u64> {
        self.write(|tx| {
            op(tx)?;
            self.audit_in(tx, entry)
        })
    }

    /// Append one audit entry in its own transaction, committed before this returns.
    pub(crate) fn audit(&self, entry: &NewEntry<'_>) -> Result<u64> {
        self.write(|tx| self.audit_in(tx, entry))
    }

    /// Append one entry inside `tx` and sign its checkpoint saying `state`: the entry of a
    /// close or a backup, whose checkpoint must say so (an ordinary append might have signed
    /// it "open"). Returns its sequence number and hash.
    pub(super) fn audit_sealed(
        &self,
        tx: &Conn,
        entry: &NewEntry<'_>,
        state: SealState,
    ) -> Result<(i64, [u8; 32])> {
        let (head, prev) = self.head(tx)?;
        let seq = head + 1;
        let hash = self.append_row(tx, seq, &prev, entry, &Vouch::default())?;
        self.checkpoint_in(tx, seq, &hash, state)?;
        Ok((seq, hash))
    }

    /// Sign a backup's checkpoint of entry `seq` (whose hash is `hash`) into `copy`, a copy of
    /// this vault's file whose log ends there, and into this vault's own log (where an
    /// ordinary checkpoint of that entry, if one was signed meanwhile, is kept). For a copy
    /// whose snapshot came after writes that followed the backup's own entry.
    pub(super) fn seal_copy(&self, copy: &Conn, seq: i64, hash: &[u8]) -> Result<()> {
        let checkpoint = self
            .sign(seq, hash, SealState::Backup)?
            .ok_or(Error::NotFound { what: "audit key" })?;
        self.write(|tx| {
            db::audit_rows::insert_checkpoint(tx, &checkpoint)?;
            self.signed
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            self.witness_behind();
            Ok(())
        })?;
        db::audit_rows::insert_checkpoint(copy, &checkpoint)
    }

    /// Sign a checkpoint of entry `seq` (whose hash is `hash`), saying the vault is in `state`,
    /// inside `tx`, if the key is loaded. Returns whether it was signed.
    pub(super) fn checkpoint_in(
        &self,
        tx: &Conn,
        seq: i64,
        hash: &[u8],
        state: SealState,
    ) -> Result<bool> {
        let Some(checkpoint) = self.sign(seq, hash, state)? else {
            return Ok(false);
        };
        db::audit_rows::insert_checkpoint(tx, &checkpoint)?;
        self.sealed_through(seq);
        self.signed
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.witness_behind();
        Ok(true)
    }

    /// A checkpoint of entry `seq` saying `state`, dated now; `None` without the key.
    fn sign(&self, seq: i64, hash: &[u8], state: SealState) -> Result<Option<StoredCheckpoint>> {
        let signer = self.signer.lock().unwrap_or_else(|e| e.into_inner());
        let Some(key) = signer.as_ref() else {
            return Ok(None);
        };
        let at_ms = self.now_ms();
        let seal = Seal {
            seq: u64::try_from(seq).unwrap_or(0),
            hash,
            at_ms,
            state: state.code(),
        };
        let signature = key.sign_checkpoint_v2(&self.vault_id, &seal)?;
        Ok(Some(StoredCheckpoint {
            seq,
            hash: hash.to_vec(),
            signature,
            at: at_ms,
            state: Some(i64::from(state.code())),
        }))
    }

    /// The log's last sequence number and hash, or 0 and the genesis hash.
    fn head(&self, tx: &Conn) -> Result<(i64, Vec<u8>)> {
        Ok(match db::audit_rows::head(tx)? {
            Some((seq, hash)) => (seq, hash),
            None => (0, genesis_hash(&self.vault_id).to_vec()),
        })
    }

    /// Append `entry` as `seq` after `prev`, signing a checkpoint every `checkpoint_every`
    /// entries and whenever the oldest unsealed entry has waited `seal_within`
    /// (`sealer.rs`). Returns its hash.
    fn append(
        &self,
        tx: &Conn,
        seq: i64,
        prev: &[u8],
        entry: &NewEntry<'_>,
        vouch: &Vouch,
    ) -> Result<[u8; 32]> {
        let at = self.now_ms();
        let hash = self.append_row_at(tx, seq, prev, entry, vouch, at)?;
        let counted = seq % i64::from(self.config.checkpoint_every.max(1)) == 0;
        if counted || self.seal_due(tx, seq, at)? {
            self.checkpoint_in(tx, seq, &hash, SealState::Open)?;
        }
        Ok(hash)
    }

    /// Append `entry` as `seq` after `prev`, dated now, and sign nothing. Returns its hash.
    fn append_row(
        &self,
        tx: &Conn,
        seq: i64,
        prev: &[u8],
        entry: &NewEntry<'_>,
        vouch: &Vouch,
    ) -> Result<[u8; 32]> {
        self.append_row_at(tx, seq, prev, entry, vouch, self.now_ms())
    }

    fn append_row_at(
        &self,
        tx: &Conn,
        seq: i64,
        prev: &[u8],
        entry: &NewEntry<'_>,
        vouch: &Vouch,
        at: i64,
    ) -> Result<[u8; 32]> {
        let bytes = entry.encode(prev, at, vouch);
        let hash = entry_hash(prev, seq, &bytes);
        db::audit_rows::append(tx, seq, &bytes, &hash)?;
        Ok(hash)
    }
}
