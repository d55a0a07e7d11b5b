//! Verification of a vault file, with no passphrase and no write: the chain, its signed
//! checkpoints, an optional anchor, and the disclosure ledger.

use std::path::Path;

use crate::audit::{Anchor, Verifier, VerifyReport, format_utc, genesis_hash};
use crate::crypto::signing::verify_checkpoint;
use crate::db::{self, rows};
use crate::error::{Error, Result};

/// What to hold the log to, beyond its own chain and checkpoints.
#[derive(Clone, Debug, Default)]
pub struct VerifyOptions {
    /// An anchor exported earlier: the log must still contain and extend it.
    pub anchor: Option<Anchor>,
}

/// Verify a vault's audit log. Needs no passphrase and never writes to the file.
///
/// Reads one consistent snapshot, so a vault in use by another process can be checked.
pub fn verify_audit_log(path: impl AsRef<Path>) -> Result<VerifyReport> {
    verify_audit_log_with(path, &VerifyOptions::default())
}

/// [`verify_audit_log`], also holding the log to an anchor. An anchor from another vault is an
/// error (the check cannot run), not a finding.
pub fn verify_audit_log_with(path: impl AsRef<Path>, opts: &VerifyOptions) -> Result<VerifyReport> {
    let mut conn = db::open_read_only(path.as_ref())?;
    let tx = conn.transaction()?;
    let vault_id = rows::vault_id(&tx)?;
    let public = db::audit_rows::audit_key(&tx)?.map(|(p, _)| p);
    let mut verifier = Verifier::new(genesis_hash(&vault_id));
    verifier.check_checkpoints(
        &vault_id,
        public.as_deref(),
        db::audit_rows::checkpoints(&tx)?,
    );
    if let Some(anchor) = &opts.anchor {
        verifier.check_anchor(&vault_id, public.as_deref(), anchor)?;
    }
    db::audit_rows::for_each(&tx, 1, |e| verifier.push(e))?;
    db::ledger_rows::for_each_stored(&tx, |row| verifier.check_ledger(row))?;
    for table in rows::FieldTable::VOUCHED {
        let name = table.name();
        rows::for_each_parent(&tx, table, |parent, fields| {
            verifier.check_fields(name, parent, &fields)
        })?;
    }
    Ok(verifier.finish())
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
    let (seq, hash, sig, at) = db::audit_rows::checkpoints(&tx)?
        .pop()
        .ok_or(Error::NotFound {
            what: "signed checkpoint",
        })?;
    let seq = u64::try_from(seq).map_err(|_| Error::Corrupt {
        what: "checkpoint sequence number".into(),
    })?;
    if !verify_checkpoint(&public, &vault_id, seq, &hash, &sig) {
        return Err(Error::Integrity {
            place: crate::error::Place {
                table: "audit_checkpoints",
                owner: vault_id.to_string(),
                record: seq.to_string(),
                field: "signature".into(),
            },
        });
    }
    Ok(Anchor::new(
        &vault_id,
        seq,
        &hash,
        &public,
        &sig,
        format_utc(at),
    ))
}
