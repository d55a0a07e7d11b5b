//! Re-encrypting one client's fields under new data keys.
//!
//! A rotation makes a new version of each of the client's data keys and records that it is under
//! way (`key_rotations`), then re-encrypts the client's records, notes, consents and break-glass
//! grants a few at a time: each step decrypts and re-seals some of them and appends a write entry
//! vouching for each (so `audit-verify`'s data-against-log check still holds), and commits. An
//! interrupted rotation loses nothing and resumes where it stopped when asked again. When no field
//! names an older version any more, the older versions are deleted, in the transaction that
//! records the end. The content never leaves the vault.

use std::collections::BTreeMap;

use crate::audit::{AuditAction, Failure, Outcome};
use crate::db::rows::{self, FieldTable};
use crate::error::{Error, Result};
use crate::ids::ClientId;
use crate::model::{Compartment, Purpose};
use crate::policy::{Basis, PracticeOp};
use crate::value::{FieldName, Value};

use super::access::AuditAs;
use super::{Session, now_ms};

/// Records (or notes, consents, grants) re-encrypted per committed step.
const STEP: usize = 64;

/// The compartments a client's own keys cover.
const CLIENT_COMPARTMENTS: [Compartment; 3] = [
    Compartment::General,
    Compartment::PsychotherapyNotes,
    Compartment::SubstanceUse,
];

/// How far a rotation got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rotation {
    /// Records, notes, consents and grants re-encrypted by this call.
    pub reencrypted: usize,
    /// Those still under an older key version (0 once finished).
    pub remaining: usize,
    /// The older key versions are deleted: the rotation is complete.
    pub finished: bool,
}

fn rekey_action(table: FieldTable) -> AuditAction {
    match table {
        FieldTable::Notes => AuditAction::NoteRekey,
        FieldTable::Consents => AuditAction::ConsentRekey,
        FieldTable::BreakGlass => AuditAction::BreakGlassRekey,
        _ => AuditAction::RecordRekey,
    }
}

impl Session {
    /// Re-encrypt every field `client` owns under new versions of the client's data keys, then
    /// delete the old versions (administrators). At most `budget` records, notes, consents and
    /// grants are re-encrypted by this call (`None`: all of them); call again to go on. Each
    /// step commits with its audit entries, so an interrupted rotation resumes where it
    /// stopped.
    pub fn rotate_client_keys(&self, client: &ClientId, budget: Option<usize>) -> Result<Rotation> {
        let purpose = Purpose::Operations;
        let audit_as = AuditAs::new(AuditAction::KeysRotate).client(client);
        let grant = self.check_practice(PracticeOp::RotateKeys, purpose, audit_as)?;
        let owner = client.as_bytes();
        let targets = self.start_rotation(client, purpose, grant.basis)?;
        let mut done = 0usize;
        loop {
            let stale: Vec<_> = rows::owned_parents(&self.shared.conn(), client)?
                .into_iter()
                .filter(|(_, _, c, oldest)| targets.get(c).is_some_and(|to| oldest < to))
                .collect();
            let room = budget.map_or(usize::MAX, |b| b.saturating_sub(done));
            if stale.is_empty() {
                break;
            }
            if room == 0 {
                return Ok(Rotation {
                    reencrypted: done,
                    remaining: stale.len(),
                    finished: false,
                });
            }
            let step: Vec<_> = stale.into_iter().take(STEP.min(room)).collect();
            let resealed = self.shared.write(|tx| {
                for (table, parent, compartment, _) in &step {
                    self.reseal(tx, *table, client, parent, *compartment, grant.basis)?;
                }
                Ok(())
            });
            if let Err(e) = resealed {
                return self.rotation_failed(client, e);
            }
            done += step.len();
        }
        self.shared.write(|tx| {
            let at = now_ms();
            for (compartment, to) in &targets {
                rows::finish_rotation(tx, owner, *compartment, *to, at)?;
            }
            let codes: Vec<&str> = targets.keys().map(|c| c.code()).collect();
            let outcome = Outcome::Allowed(grant.basis);
            let action = AuditAction::KeysRotated;
            let e = self.entry(action, Some(client), None, &codes, purpose, outcome);
            self.shared.audit_in(tx, &e)
        })?;
        // Cached copies of the deleted versions go too.
        self.forget_keys(owner);
        Ok(Rotation {
            reencrypted: done,
            remaining: 0,
            finished: true,
        })
    }

    /// The version each of the client's keys is rotating to, starting a rotation for every key
    /// that has none under way (audited).
    fn start_rotation(
        &self,
        client: &ClientId,
        purpose: Purpose,
        basis: Basis,
    ) -> Result<BTreeMap<Compartment, u32>> {
        let owner = client.as_bytes();
        self.shared.write(|tx| {
            if rows::is_erased(tx, owner)? {
                return Err(Error::Erased);
            }
            let mut targets = BTreeMap::new();
            let mut started = Vec::new();
            for c in CLIENT_COMPARTMENTS {
                if let Some(to) = rows::open_rotation(tx, owner, c)? {
                    targets.insert(c, to);
                    continue;
                }
                let Some((latest, _)) = rows::latest_data_key(tx, owner, c)? else {
                    continue;
                };
                let to = latest.checked_add(1).ok_or(Error::ExcessiveWork {
                    what: "data key versions",
                })?;
                self.create_key_version(tx, owner, c, to)?;
                rows::start_rotation(tx, owner, c, to, now_ms())?;
                targets.insert(c, to);
                started.push(c.code());
            }
            if !started.is_empty() {
                let outcome = Outcome::Allowed(basis);
                let action = AuditAction::KeysRotate;
                let e = self.entry(action, Some(client), None, &started, purpose, outcome);
                self.shared.audit_in(tx, &e)?;
            }
            Ok(targets)
        })
    }

    /// Decrypt one parent's fields and seal them again under the newest key version, with a
    /// write entry vouching for what is stored now.
    fn reseal(
        &self,
        tx: &rusqlite::Connection,
        table: FieldTable,
        client: &ClientId,
        parent: &[u8; 16],
        compartment: Compartment,
        basis: Basis,
    ) -> Result<()> {
        let owner = client.as_bytes();
        let stored = rows::fields(tx, table, parent)?;
        let values: BTreeMap<FieldName, Value> = self
            .decrypt_fields(tx, table, owner, parent, compartment, &stored)
            .map_err(|(_, e)| e)?;
        let named: Vec<(FieldName, &Value)> = values.iter().map(|(n, v)| (n.clone(), v)).collect();
        self.seal_fields(tx, table, owner, parent, compartment, &named)?;
        let names: Vec<&str> = values.keys().map(FieldName::as_str).collect();
        let outcome = Outcome::Allowed(basis);
        let e = self.entry(
            rekey_action(table),
            Some(client),
            Some(parent),
            &names,
            Purpose::Operations,
            outcome,
        );
        self.shared.audit_fields(tx, &e, table, parent)?;
        Ok(())
    }

    /// A step failed and was rolled back: audit why (the work done so far stays) and fail.
    fn rotation_failed(&self, client: &ClientId, err: Error) -> Result<Rotation> {
        let why = match &err {
            Error::Integrity { .. } => Failure::Integrity,
            Error::Erased => Failure::Erased,
            _ => return Err(err),
        };
        let outcome = Outcome::Failed(why);
        let action = AuditAction::KeysRotate;
        self.shared.audit(&self.entry(
            action,
            Some(client),
            None,
            &[],
            Purpose::Operations,
            outcome,
        ))?;
        Err(err)
    }
}
