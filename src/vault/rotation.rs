//! Key rotation: one client's data keys (re-encrypting their fields), and the vault's master
//! key (re-wrapping every data key and sealing the new key to every remaining user).
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
use crate::crypto::keys::MasterKey;
use crate::crypto::sealed::seal_master_key;
use crate::db::rows::{self, FieldTable};
use crate::error::{Error, Result};
use crate::ids::{ClientId, NoteId, OwnerId, RecordId};
use crate::model::{Compartment, Purpose};
use crate::policy::PracticeOp;
use crate::value::{FieldName, Value};

use super::Session;
use super::gate::{AuditAs, Entry, Granted, Stored, Target};
use super::users::sealed_mk_aad;

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
        FieldTable::Amendments => AuditAction::AmendmentRekey,
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
        let gate = self.admit(AuditAction::KeysRotate, purpose)?;
        let audit_as = AuditAs::new(AuditAction::KeysRotate).client(client);
        let owner_only = Target::Owners(vec![client.into()]);
        let grant = gate.check_practice(PracticeOp::RotateKeys, audit_as, owner_only)?;
        let owner = &OwnerId::from(client);
        let targets = self.start_rotation(&grant, client, purpose)?;
        let mut done = 0usize;
        loop {
            let stale: Vec<_> = rows::owned_parents(&self.shared.conn(), client)?
                .into_iter()
                .filter(|p| {
                    targets
                        .get(&p.compartment)
                        .is_some_and(|to| p.oldest_version < *to)
                })
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
                for p in &step {
                    self.reseal(tx, &grant, p.table, client, &p.parent, p.compartment)?;
                }
                Ok(())
            });
            if let Err(e) = resealed {
                return self.rotation_failed(client, e);
            }
            done += step.len();
        }
        self.shared.write(|tx| {
            let at = self.shared.now_ms();
            for (compartment, to) in &targets {
                rows::finish_rotation(tx, owner, *compartment, *to, at)?;
            }
            let codes: Vec<&str> = targets.keys().map(|c| c.code()).collect();
            let outcome = Outcome::Allowed(grant.basis());
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
        grant: &Granted,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<BTreeMap<Compartment, u32>> {
        let basis = grant.basis();
        let owner = &OwnerId::from(client);
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
                self.create_key_version(tx, grant, owner, c, to)?;
                rows::start_rotation(tx, owner, c, to, self.shared.now_ms())?;
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
        tx: &crate::db::Conn,
        grant: &Granted,
        table: FieldTable,
        client: &ClientId,
        parent: &[u8; 16],
        compartment: Compartment,
    ) -> Result<()> {
        let basis = grant.basis();
        let entry = Entry {
            table,
            owner: client.into(),
            parent: *parent,
            compartment,
            category: None,
        };
        // Never re-vouch for a set of fields someone changed outside the vault: the set is
        // checked whole as it is opened, and a signed entry put back as its draft is refused.
        let history = match table {
            FieldTable::Records => {
                rows::record(tx, &RecordId::from_bytes(*parent))?.map(|r| r.history)
            }
            FieldTable::Notes => rows::note(tx, &NoteId::from_bytes(*parent))?.map(|n| n.history),
            _ => None,
        };
        if let Some(history) = history {
            self.check_draft_now(tx, client, parent, &history)?;
        }
        let stored = Stored::load(tx, entry, None)?;
        let values: BTreeMap<FieldName, Value> =
            self.open(tx, grant, stored, |_| true).map_err(|(_, e)| e)?;
        let named: Vec<(FieldName, &Value)> = values.iter().map(|(n, v)| (n.clone(), v)).collect();
        self.reseal_versions(tx, grant, &entry)?;
        self.seal(tx, grant, &entry, &named)?;
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
        self.audit_fields(tx, &e, table, parent, None)?;
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

/// What a master-key rotation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MasterKeyRotation {
    /// Users the new master key was sealed to (every user not removed).
    pub users: usize,
    /// Data keys re-wrapped under it.
    pub data_keys: usize,
}

impl Session {
    /// Replace the vault's master key (administrators), in one transaction: every data key and
    /// the audit key are re-wrapped under the new one, and it is sealed to every user not
    /// removed, who takes it up at their next login. A removed user's old wrap, even from an
    /// old copy of the file, opens none of it. Every session, this one too, must log in again.
    ///
    /// Refused while a user who is not removed has no key pair yet (made before format 5 and
    /// not logged in since): they log in once, or an administrator resets their passphrase.
    pub fn rotate_master_key(&self) -> Result<MasterKeyRotation> {
        let purpose = Purpose::Operations;
        let action = AuditAction::KeysMasterRotate;
        let gate = self.admit(action, purpose)?;
        let grant = gate.check_practice(
            PracticeOp::RotateKeys,
            AuditAs::new(action),
            Target::MasterKey,
        )?;
        let shared = &self.shared;
        let vault = shared.vault_id;
        let new_mk = MasterKey::generate(&shared.rng)?;
        let done = shared.write(|tx| {
            let users = rows::rotation_users(tx)?;
            let missing: Vec<&str> = users
                .iter()
                .filter(|u| u.public_key.is_none())
                .map(|u| u.name.as_str())
                .collect();
            if !missing.is_empty() {
                return Err(Error::InvalidInput {
                    what: "master key rotation",
                    reason: format!(
                        "these users have no key pair yet; each must log in once, or be reset, \
                         first: {}",
                        missing.join(", ")
                    ),
                });
            }
            for user in &users {
                let public = user.public_key.as_deref().unwrap_or_default();
                let aad = sealed_mk_aad(&vault, &user.id);
                let sealed = seal_master_key(&shared.rng, public, &new_mk, &aad)?;
                rows::set_sealed_mk(tx, &user.id, Some(&sealed))?;
            }
            let data_keys = self.rewrap_keys(tx, &grant, &new_mk)?;
            self.reseal_facts(tx, &grant, &new_mk)?;
            rows::bump_mk_generation(tx)?;
            let outcome = Outcome::Allowed(grant.basis());
            shared.audit_in(tx, &self.entry(action, None, None, &[], purpose, outcome))?;
            Ok(MasterKeyRotation {
                users: users.len(),
                data_keys,
            })
        });
        match done {
            Ok(done) => {
                shared
                    .key_epoch
                    .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                Ok(done)
            }
            Err(e @ Error::Integrity { .. }) => {
                // Rolled back whole: the vault is as it was. The damage is audited.
                let outcome = Outcome::Failed(Failure::Integrity);
                shared.audit(&self.entry(action, None, None, &[], purpose, outcome))?;
                Err(e)
            }
            Err(e) => Err(e),
        }
    }
}
