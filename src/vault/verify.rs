//! Verification of a vault file, with no passphrase and no write: the chain, its signed
//! checkpoints, an optional anchor, and the disclosure ledger.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{channel, sync_channel};

use crate::audit::{
    Anchor, StoredHead, Verifier, VerifyReport, WitnessFile, checkpoint_verifies, entry_hash,
    format_utc, genesis_hash,
};
use crate::db::audit_rows::EntryBatch;
use crate::db::{self, rows};
use crate::error::{Error, Result};
use crate::stored::StoredCheckpoint;
use serde::{Deserialize, Serialize};

/// What to hold the log to, beyond its own chain and checkpoints.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// An anchor exported earlier: the log must still contain and extend it.
    pub anchor: Option<Anchor>,
    /// Resume after a point an earlier run verified (incremental verification): check that the
    /// log still holds that entry unchanged, then only what came after it.
    pub resume: Option<VerifiedState>,
    /// The vault's witness: the log must hold every head it witnessed (after its restores),
    /// and it must hold every checkpoint the vault signed since it began.
    pub witness: Option<WitnessFile>,
}

/// Where an earlier verification got to: a signed checkpoint it verified. Kept by the
/// compliance officer between runs (`audit-verify --state FILE`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedState {
    /// Always `confide-verified/v1`.
    pub format: String,
    /// The vault (hex).
    pub vault_id: String,
    /// The last verified signed checkpoint.
    pub seq: u64,
    /// Its entry hash (hex).
    pub entry_hash: String,
}

const STATE_FORMAT: &str = "confide-verified/v1";

impl VerifiedState {
    /// The state to keep after `report`, a verification of `vault` that found it intact.
    pub fn after(vault: &crate::ids::VaultId, report: &VerifyReport) -> Option<Self> {
        let (seq, hash) = report.resume_point?;
        Some(Self {
            format: STATE_FORMAT.into(),
            vault_id: vault.to_string(),
            seq,
            entry_hash: hex::encode(hash),
        })
    }

    /// As JSON.
    pub fn to_json(&self) -> String {
        // INVARIANT: strings and a number only; serialising them cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }

    /// Parse a state file.
    pub fn from_json(text: &str) -> Result<Self> {
        let s: VerifiedState = serde_json::from_str(text).map_err(|_| Error::InvalidInput {
            what: "verification state",
            reason: "not a state file".into(),
        })?;
        if s.format != STATE_FORMAT {
            return Err(Error::InvalidInput {
                what: "verification state",
                reason: "unknown format".into(),
            });
        }
        Ok(s)
    }
}

/// The id of the vault at `path`, read without a passphrase.
pub fn vault_id_of(path: impl AsRef<Path>) -> Result<crate::ids::VaultId> {
    let conn = db::open_read_only(path.as_ref())?;
    rows::vault_id(&conn)
}

/// Verify a vault's audit log. Needs no passphrase and never writes to the file.
///
/// Reads one consistent snapshot, so a vault in use by another process can be checked.
///
/// ```
/// use confide::{KdfParams, Passphrase, Vault, VaultConfig, verify_audit_log};
/// # fn main() -> confide::Result<()> {
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("practice.vault");
/// // Cheap KDF costs for the example; the default is Argon2id m=64 MiB, t=3.
/// let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
/// let vault = Vault::create(&path, "admin", &Passphrase::new("admin passphrase"), config)?;
/// let admin = vault.unlock("admin", &Passphrase::new("admin passphrase"))?;
/// let _ = vault.unlock("admin", &Passphrase::new("a wrong passphrase"));
///
/// // While the vault is open: every entry so far checks out.
/// let report = verify_audit_log(&path)?;
/// assert!(report.is_intact());
/// assert_eq!(report.entries, confide::audit_log_len(&path)?);
/// assert!(report.findings.is_empty() && report.first_break().is_none());
///
/// // Closed cleanly (the last handle dropped): a signed checkpoint covers the whole log,
/// // so there is nothing left to warn about either.
/// drop((admin, vault));
/// let report = verify_audit_log(&path)?;
/// assert!(report.is_intact());
/// assert_eq!(report.last_checkpoint, report.seq_range.map(|(_, last)| last));
/// assert!(report.warnings.is_empty(), "{:?}", report.warnings);
/// # Ok(())
/// # }
/// ```
pub fn verify_audit_log(path: impl AsRef<Path>) -> Result<VerifyReport> {
    verify_audit_log_with(path, &VerifyOptions::default())
}

/// [`verify_audit_log`], also holding the log to an anchor. An anchor from another vault is an
/// error (the check cannot run), not a finding.
pub fn verify_audit_log_with(path: impl AsRef<Path>, opts: &VerifyOptions) -> Result<VerifyReport> {
    verify_audit_log_observed(path, opts, &mut |_| {})
}

/// How many entries pass between two progress calls.
const PROGRESS_EVERY: u64 = 8192;

/// [`verify_audit_log_with`], calling `progress` with the number of entries checked so far
/// every few thousand entries (for a progress bar on long logs).
pub fn verify_audit_log_observed(
    path: impl AsRef<Path>,
    opts: &VerifyOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<VerifyReport> {
    let mut conn = db::open_read_only(path.as_ref())?;
    let tx = conn.transaction()?;
    let vault_id = rows::vault_id(&tx)?;
    let public = db::audit_rows::audit_key(&tx)?.map(|(p, _)| p);
    let mut verifier = Verifier::new(genesis_hash(&vault_id));
    let checkpoints = db::audit_rows::checkpoints(&tx)?;
    if let Some(anchor) = &opts.anchor {
        verifier.check_anchor(&vault_id, public.as_deref(), anchor)?;
    }
    if let Some(witness) = &opts.witness {
        verifier.check_witness(&vault_id, public.as_deref(), witness)?;
    }
    let mut from = 1;
    if let Some(state) = &opts.resume {
        if state.vault_id != vault_id.to_string() {
            return Err(Error::InvalidInput {
                what: "verification state",
                reason: "it is from another vault".into(),
            });
        }
        let seq = i64::try_from(state.seq).map_err(|_| Error::InvalidInput {
            what: "verification state",
            reason: "bad sequence number".into(),
        })?;
        let hash = hex::decode(&state.entry_hash).map_err(|_| Error::InvalidInput {
            what: "verification state",
            reason: "bad hash".into(),
        })?;
        match db::audit_rows::entry_at(&tx, seq)? {
            // The verified point is still there, unchanged: check only what came after.
            Some(e) if e.hash == hash => {
                verifier.resume_after(seq, e);
                from = seq + 1;
            }
            // Gone or changed: hold the whole log to it, as to an anchor.
            _ => {
                let point = StoredCheckpoint {
                    seq,
                    hash,
                    ..StoredCheckpoint::default()
                };
                let key = public.as_deref().unwrap_or_default();
                let anchor = crate::audit::Anchor::new(&vault_id, &point, key, String::new());
                verifier.check_anchor(&vault_id, public.as_deref(), &anchor)?;
            }
        }
    }
    let key = public.as_deref();
    let seals = |v: &mut Verifier| v.check_checkpoints(&vault_id, key, checkpoints);
    let mut verifier = scan(&tx, from, verifier, seals, progress)?;
    db::ledger_rows::for_each_stored(&tx, |row| verifier.check_ledger(row))?;
    let (baseline, digest) = db::fact_rows::baseline(&tx)?;
    verifier.take_baseline(baseline, digest);
    for table in rows::FieldTable::VOUCHED {
        let name = table.name();
        let mut heads = std::collections::BTreeMap::new();
        let authenticated = db::fact_rows::has_fact_macs(&tx)?;
        let each = |id, auth: rows::ParentAuth| {
            heads.insert(
                id,
                StoredHead {
                    head: auth.head,
                    write_version: auth.write_version,
                },
            );
        };
        if authenticated {
            rows::for_each_parent_auth(&tx, table, each)?;
        }
        rows::for_each_parent(&tx, table, |parent, fields| {
            let head = heads.get(&parent);
            verifier.check_fields(name, parent, &fields, head)
        })?;
    }
    if db::fact_rows::has_fact_macs(&tx)? {
        check_scopes(&tx, &mut verifier)?;
    }
    Ok(verifier.finish())
}

/// Every scope of facts against the entry that last vouched for it.
fn check_scopes(tx: &db::Conn, verifier: &mut Verifier) -> Result<()> {
    for kind in db::fact_rows::ScopeKind::ALL {
        for id in db::fact_rows::scope_ids(tx, kind)? {
            let read = db::fact_rows::scope_digest(tx, kind, &id)?;
            verifier.check_scope(kind.name(), id, &read.digest);
        }
    }
    Ok(())
}

/// Batches waiting for the verifier from which the reader takes a share of the hashing.
const BEHIND: usize = 2;
/// Entries per batch handed from the reading thread to the verifying one.
const BATCH: usize = 1024;
/// Batches in flight: enough to keep the reader busy while the verifier checks the checkpoint
/// signatures, a few tens of megabytes at most.
const IN_FLIGHT: usize = 64;

/// Read the log from `from` on this thread while `verifier` checks it on another. Reading a row
/// out of SQLite costs less than hashing and checking it, so the reader also hashes entries
/// whenever the verifier falls behind (see [`hash_after_previous_rows`]). The verifier first
/// runs `seals` (the checkpoint signatures) while the first batches are read. Entries reach it
/// in order, exactly as a single-threaded loop would push them.
fn scan(
    tx: &crate::db::Conn,
    from: i64,
    verifier: Verifier,
    seals: impl FnOnce(&mut Verifier) + Send,
    progress: &mut dyn FnMut(u64),
) -> Result<Verifier> {
    // Batches sent and not yet taken by the verifier.
    let queued = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let (full_tx, full_rx) = sync_channel::<EntryBatch>(IN_FLIGHT);
        let (empty_tx, empty_rx) = channel::<EntryBatch>();
        let queued = &queued;
        let checker = s.spawn(move || {
            let mut verifier = verifier;
            seals(&mut verifier);
            for batch in full_rx {
                queued.fetch_sub(1, Ordering::Relaxed);
                for e in batch.entries() {
                    verifier.push(e);
                }
                // Hand the buffers back; if the reader has finished, they are simply dropped.
                let _ = empty_tx.send(batch);
            }
            verifier
        });
        let mut read = 0u64;
        let mut previous_row: Option<Vec<u8>> = None;
        let result = db::audit_rows::for_each_batch(
            tx,
            from,
            BATCH,
            || empty_rx.try_recv().unwrap_or_default(),
            |mut batch| {
                // The verifier is behind: take some of its hashing.
                let share = queued.load(Ordering::Relaxed) >= BEHIND;
                hash_after_previous_rows(&mut batch, &mut previous_row, share);
                queued.fetch_add(1, Ordering::Relaxed);
                let before = read;
                read += batch.entries().len() as u64;
                if read / PROGRESS_EVERY != before / PROGRESS_EVERY {
                    progress(read);
                }
                full_tx.send(batch).is_ok()
            },
        );
        // Closing the channel ends the verifier's loop.
        drop(full_tx);
        let verifier = match checker.join() {
            Ok(v) => v,
            // A panic in the verifying thread is a bug, not a verdict: pass it on unchanged.
            Err(p) => std::panic::resume_unwind(p),
        };
        result?;
        progress(read);
        Ok(verifier)
    })
}

/// On the reading thread: when `share`, mark each entry of `batch` that hashes, after the stored
/// hash of the row read just before it, to its own stored hash (in an intact log, all of them),
/// so the verifying thread need not hash it again. Hashing is most of verification's work; the
/// reader takes some of it whenever the verifier falls [`BEHIND`], which keeps both threads
/// busy on any machine. The verifier still decides everything else, and hashes every entry not
/// marked.
fn hash_after_previous_rows(
    batch: &mut EntryBatch,
    previous_row: &mut Option<Vec<u8>>,
    share: bool,
) {
    for e in batch.entries_mut() {
        if let Some(prev) = previous_row.as_mut() {
            e.hashed_after_previous_row =
                share && entry_hash(prev, e.seq, &e.entry)[..] == e.hash[..];
            prev.clear();
            prev.extend_from_slice(&e.hash);
        } else {
            *previous_row = Some(e.hash.clone());
        }
    }
}

/// What one entry's hash is computed over: its predecessor's hash, its sequence number and its
/// stored bytes.
#[doc(hidden)]
pub type HashInput = (Vec<u8>, i64, Vec<u8>);

/// Every entry's predecessor hash, sequence number and stored bytes, in order: what
/// verification hashes. For the verification benchmark's baseline (SHA-256 alone over the same
/// bytes).
#[doc(hidden)]
pub fn audit_canonical_bytes(path: impl AsRef<Path>) -> Result<Vec<HashInput>> {
    let mut conn = db::open_read_only(path.as_ref())?;
    let tx = conn.transaction()?;
    let mut prev = genesis_hash(&rows::vault_id(&tx)?).to_vec();
    let mut out = Vec::new();
    db::audit_rows::for_each(&tx, 1, |e| {
        out.push((
            std::mem::replace(&mut prev, e.hash.clone()),
            e.seq,
            e.entry.clone(),
        ));
    })?;
    Ok(out)
}

/// SHA-256 of `domain ‖ prev ‖ seq ‖ entry`, exactly as verification computes each entry's hash.
#[doc(hidden)]
pub fn audit_hash(prev: &[u8], seq: i64, entry: &[u8]) -> [u8; 32] {
    crate::audit::entry_hash(prev, seq, entry)
}

/// The newest signed checkpoint of a vault's log, as an anchor to keep elsewhere. Needs no
/// passphrase: the checkpoint is already signed.
pub fn export_anchor(path: impl AsRef<Path>) -> Result<Anchor> {
    let mut conn = db::open_read_only(path.as_ref())?;
    let tx = conn.transaction()?;
    let vault_id = rows::vault_id(&tx)?;
    let public = db::audit_rows::audit_key(&tx)?
        .map(|(p, _)| p)
        .ok_or(Error::NotFound { what: "audit key" })?;
    let newest = db::audit_rows::newest_checkpoint(&tx)?.ok_or(Error::NotFound {
        what: "signed checkpoint",
    })?;
    if !checkpoint_verifies(&public, &vault_id, &newest) {
        return Err(Error::Integrity {
            place: crate::error::Place {
                table: "audit_checkpoints",
                owner: vault_id.to_string(),
                record: newest.seq.to_string(),
                field: "signature".into(),
            },
        });
    }
    let at = format_utc(newest.at);
    Ok(Anchor::new(&vault_id, &newest, &public, at))
}
