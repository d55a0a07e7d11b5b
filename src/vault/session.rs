//! A logged-in user: identity, role, the unlocked master key and a cache of data keys.
//!
//! Key handling lives here: [`Session::seal_fields`] and [`Session::open_fields`] are the only
//! paths to a data key, and `access.rs` calls them only after the policy has allowed a request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use rusqlite::Connection;

use crate::audit::{AuditAction, AuditEntry, Failure, NewEntry, Outcome, parse_run};
use crate::crypto::envelope::{self, FieldAad, push_str};
use crate::crypto::keys::{BlindIndexKey, DataKey, MasterKey, WrapKey};
use crate::db::rows::{self, FieldRow, FieldTable};
use crate::error::{Error, Place, Result};
use crate::ids::{ClientId, UserId};
use crate::model::{Compartment, Purpose, Role};
use crate::policy::PracticeOp;
use crate::value::{FieldName, Value};
use crate::{codec, db};

use super::access::AuditAs;
use super::{Shared, now_ms};

pub(super) type KeySlot = ([u8; 16], Compartment, u32);

/// The key material of an unlocked session. Dropped (and so wiped) when the session locks,
/// times out or ends.
struct Unlocked {
    mk: MasterKey,
    wrap: WrapKey,
    blind: BlindIndexKey,
    /// Data keys unwrapped so far.
    cache: HashMap<KeySlot, DataKey>,
}

/// A session's keys, when it was last used, and a counter for diagnostics.
struct Keys {
    unlocked: Option<Unlocked>,
    last_used: Instant,
    unwrapped: u64,
}

/// Counters about a session's data keys, for tests and diagnostics. Holds no key material.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyStats {
    /// Data keys unwrapped (or created) by this session so far.
    pub unwrapped: u64,
    /// Data keys currently held in the session's cache.
    pub cached: usize,
}

/// A logged-in user of a vault.
///
/// Keys are wiped when the session is dropped. A session may be sent to another thread.
pub struct Session {
    pub(super) shared: Arc<Shared>,
    pub(super) user: UserId,
    name: String,
    pub(super) role: Role,
    keys: Mutex<Keys>,
    /// The master-key generation this session unlocked; a rotation locks older sessions.
    epoch: u64,
    /// The same, as the file records it: a rotation by another process shows here.
    generation: i64,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// Associated data binding a wrapped data key to its vault, owner, compartment and version.
/// The name, in `vault_keys`, of the blind-index key once a rotation has stored it.
pub(super) const BLIND_INDEX_KEY: &str = "blind-index";

/// Associated data of a key in `vault_keys`: bound to the vault and the key's name.
pub(super) fn vault_key_aad(vault: &crate::ids::VaultId, name: &str) -> Vec<u8> {
    let mut aad = b"confide/vault-key/v1".to_vec();
    aad.extend_from_slice(vault.as_bytes());
    push_str(&mut aad, name);
    aad
}

pub(super) fn data_key_aad(shared: &Shared, slot: &KeySlot) -> Vec<u8> {
    let mut aad = b"confide/data-key/v1".to_vec();
    aad.extend_from_slice(shared.vault_id.as_bytes());
    aad.extend_from_slice(&slot.0);
    push_str(&mut aad, slot.1.code());
    aad.extend_from_slice(&slot.2.to_be_bytes());
    aad
}

impl Session {
    pub(super) fn new(
        shared: Arc<Shared>,
        user: UserId,
        name: String,
        role: Role,
        mk: MasterKey,
    ) -> Result<Self> {
        let wrap = mk.wrap_key(&shared.vault_id)?;
        let stored = rows::vault_key(&shared.conn(), BLIND_INDEX_KEY)?;
        let blind = match stored {
            // Kept across a master-key rotation.
            Some(wrapped) => wrap
                .unwrap_blind(&wrapped, &vault_key_aad(&shared.vault_id, BLIND_INDEX_KEY))
                .map_err(|_| Error::Integrity {
                    place: Place {
                        table: "vault_keys",
                        owner: shared.vault_id.to_string(),
                        record: "-".into(),
                        field: BLIND_INDEX_KEY.into(),
                    },
                })?,
            None => mk.blind_index_key(&shared.vault_id)?,
        };
        let epoch = shared.key_epoch();
        let generation = rows::mk_generation(&shared.conn())?;
        Ok(Self {
            shared,
            user,
            name,
            role,
            epoch,
            generation,
            keys: Mutex::new(Keys {
                unlocked: Some(Unlocked {
                    mk,
                    wrap,
                    blind,
                    cache: HashMap::new(),
                }),
                last_used: Instant::now(),
                unwrapped: 0,
            }),
        })
    }

    fn keys(&self) -> MutexGuard<'_, Keys> {
        // A panic while this was held leaves at worst a key in or out of the cache.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` with the session's key material, or fail closed if the session is locked.
    fn with_unlocked<T>(&self, f: impl FnOnce(&mut Unlocked, &mut u64) -> Result<T>) -> Result<T> {
        let mut k = self.keys();
        let Keys {
            unlocked,
            unwrapped,
            ..
        } = &mut *k;
        match unlocked {
            Some(u) => f(u, unwrapped),
            None => Err(Error::SessionLocked),
        }
    }

    /// Run `f` with the unlocked master, wrap and blind-index keys.
    pub(super) fn with_session_keys<T>(
        &self,
        f: impl FnOnce(&MasterKey, &WrapKey, &BlindIndexKey) -> Result<T>,
    ) -> Result<T> {
        self.with_unlocked(|u, _| f(&u.mk, &u.wrap, &u.blind))
    }

    /// Run `f` with the unlocked master key.
    pub(super) fn with_master_key<T>(&self, f: impl FnOnce(&MasterKey) -> Result<T>) -> Result<T> {
        self.with_unlocked(|u, _| f(&u.mk))
    }

    /// The blind index of `normalised` for `field` (needs the unlocked session).
    pub(super) fn blind_index(&self, field: &str, normalised: &[u8]) -> Result<Vec<u8>> {
        self.with_unlocked(|u, _| Ok(u.blind.index(field, normalised)))
    }

    /// Lock the session: its keys are wiped, and every later call fails with
    /// [`Error::SessionLocked`] until the user logs in again. Audited.
    pub fn lock(&self) -> Result<()> {
        if self.wipe() {
            self.audit_lock(AuditAction::SessionLock)?;
        }
        Ok(())
    }

    /// Locked by [`Session::lock`] or by the idle timeout.
    pub fn is_locked(&self) -> bool {
        self.keys().unlocked.is_none()
    }

    /// Drop the key material; whether there was any.
    fn wipe(&self) -> bool {
        self.keys().unlocked.take().is_some()
    }

    fn audit_lock(&self, action: AuditAction) -> Result<()> {
        let outcome = Outcome::Granted;
        self.shared
            .audit(&self.entry(action, None, None, &[], Purpose::Operations, outcome))?;
        Ok(())
    }

    /// The gate before every decision: a locked session is refused, and one idle for longer
    /// than the vault's idle timeout is locked now (automatic logoff). Otherwise the session
    /// counts as used. Both refusals are audited; nothing is wiped while the database is held.
    pub(super) fn ensure_unlocked(&self, action: AuditAction, purpose: Purpose) -> Result<()> {
        let timed_out = {
            let mut k = self.keys();
            if self.epoch != self.shared.key_epoch() {
                // The master key was rotated since this session unlocked: log in again.
                k.unlocked = None;
            }
            if k.unlocked.is_none() {
                None
            } else if k.last_used.elapsed() > self.shared.config.idle_timeout {
                k.unlocked = None;
                Some(true)
            } else {
                k.last_used = Instant::now();
                Some(false)
            }
        };
        match timed_out {
            Some(false) => Ok(()),
            Some(true) => {
                self.audit_lock(AuditAction::SessionTimeout)?;
                Err(Error::SessionLocked)
            }
            None => {
                let outcome = Outcome::Failed(Failure::SessionLocked);
                self.shared
                    .audit(&self.entry(action, None, None, &[], purpose, outcome))?;
                Err(Error::SessionLocked)
            }
        }
    }

    /// The logged-in user's id.
    pub fn user_id(&self) -> UserId {
        self.user
    }

    /// The logged-in user's name.
    pub fn user_name(&self) -> &str {
        &self.name
    }

    /// The logged-in user's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Data-key counters (no key material).
    pub fn key_stats(&self) -> KeyStats {
        let k = self.keys();
        KeyStats {
            unwrapped: k.unwrapped,
            cached: k.unlocked.as_ref().map_or(0, |u| u.cache.len()),
        }
    }

    /// An audit entry by this session's user.
    pub(super) fn entry<'a>(
        &'a self,
        action: AuditAction,
        client: Option<&'a ClientId>,
        target: Option<&'a [u8; 16]>,
        fields: &'a [&'a str],
        purpose: Purpose,
        outcome: Outcome,
    ) -> NewEntry<'a> {
        NewEntry {
            actor: Some(&self.user),
            action,
            client,
            target,
            fields,
            purpose: Some(purpose),
            outcome,
        }
    }

    /// The data key of `slot`, from the cache or unwrapped now.
    fn data_key(&self, conn: &Connection, slot: KeySlot) -> Result<DataKey> {
        if let Some(k) = self.with_unlocked(|u, _| Ok(u.cache.get(&slot).cloned()))? {
            return Ok(k);
        }
        self.same_master_key(conn)?;
        self.with_unlocked(|u, unwrapped| {
            let place = || Place {
                table: "data_keys",
                owner: hex::encode(slot.0),
                record: "-".into(),
                field: slot.1.code().into(),
            };
            let Some(wrapped) = rows::data_key(conn, &slot.0, slot.1, slot.2)? else {
                return Err(if rows::is_erased(conn, &slot.0)? {
                    Error::Erased
                } else {
                    Error::Integrity { place: place() }
                });
            };
            let key = u
                .wrap
                .unwrap(&wrapped, &data_key_aad(&self.shared, &slot))
                .map_err(|_| Error::Integrity { place: place() })?;
            *unwrapped += 1;
            u.cache.insert(slot, key.clone());
            Ok(key)
        })
    }

    /// Fail closed if the master key was rotated (by any process) since this session unlocked:
    /// its wrap key would open no data key and make ones nobody else could open.
    /// The session is locked then (its next call is refused at the gate, and audited).
    fn same_master_key(&self, conn: &Connection) -> Result<()> {
        if rows::mk_generation(conn)? == self.generation {
            return Ok(());
        }
        self.wipe();
        Err(Error::SessionLocked)
    }

    /// Forget every cached key of `owner` (after it was destroyed).
    pub(super) fn forget_keys(&self, owner: &[u8; 16]) {
        if let Some(u) = self.keys().unlocked.as_mut() {
            u.cache.retain(|slot, _| &slot.0 != owner);
        }
    }

    /// The data key of (owner, compartment) to seal `n` more values with, counted here: the
    /// newest version, or a new one on first use and whenever the newest could not seal `n`
    /// more without passing the vault's limit. Must run inside the write transaction that
    /// seals.
    fn write_key(
        &self,
        tx: &Connection,
        owner: &[u8; 16],
        compartment: Compartment,
        n: u64,
    ) -> Result<(u32, DataKey)> {
        let limit = self.shared.config.seal_limit();
        if n > limit {
            // Only a test's tiny limit can be below one record's fields.
            return Err(Error::ExcessiveWork {
                what: "values sealed at once under one data key",
            });
        }
        let latest = rows::latest_data_key(tx, owner, compartment)?;
        let version = match latest {
            Some((version, sealed)) if sealed.saturating_add(n) <= limit => {
                let key = self.data_key(tx, (*owner, compartment, version))?;
                rows::count_seals(tx, owner, compartment, version, n)?;
                return Ok((version, key));
            }
            // Spent: values already sealed stay readable under it; new ones get a new key.
            Some((version, _)) => version.checked_add(1).ok_or(Error::ExcessiveWork {
                what: "data key versions",
            })?,
            None => 1,
        };
        let key = self.create_key_version(tx, owner, compartment, version)?;
        rows::count_seals(tx, owner, compartment, version, n)?;
        Ok((version, key))
    }

    /// Make `version` of the data key of (owner, compartment), store it wrapped, and cache it.
    pub(super) fn create_key_version(
        &self,
        tx: &Connection,
        owner: &[u8; 16],
        compartment: Compartment,
        version: u32,
    ) -> Result<DataKey> {
        self.same_master_key(tx)?;
        let slot = (*owner, compartment, version);
        let key = DataKey::generate(&self.shared.rng)?;
        self.with_unlocked(|u, unwrapped| {
            let wrapped =
                u.wrap
                    .wrap(&self.shared.rng, &key, &data_key_aad(&self.shared, &slot))?;
            rows::insert_data_key(tx, owner, compartment, version, &wrapped, now_ms())?;
            *unwrapped += 1;
            u.cache.insert(slot, key.clone());
            Ok(())
        })?;
        Ok(key)
    }

    /// Seal and store `fields` of one record or note. Runs inside the caller's transaction.
    pub(super) fn seal_fields(
        &self,
        tx: &Connection,
        table: FieldTable,
        owner: &[u8; 16],
        parent: &[u8; 16],
        compartment: Compartment,
        fields: &[(FieldName, &Value)],
    ) -> Result<()> {
        // Nothing new is written for a client whose keys were destroyed: it could never be read.
        if rows::is_erased(tx, owner)? {
            return Err(Error::Erased);
        }
        let n = fields.len() as u64;
        let (key_version, key) = self.write_key(tx, owner, compartment, n)?;
        for (name, value) in fields {
            let plain = codec::encode(value)?;
            let aad = FieldAad {
                vault: &self.shared.vault_id,
                table: table.name(),
                owner,
                record: parent,
                field: name.as_str(),
                key_version,
            };
            let envelope = envelope::seal(&self.shared.rng, key.expose(), &aad.to_bytes(), &plain)?;
            rows::upsert_field(
                tx,
                table,
                parent,
                &FieldRow {
                    field: name.as_str().to_owned(),
                    key_version,
                    envelope,
                },
            )?;
        }
        Ok(())
    }

    /// Open stored fields. On the first that fails to authenticate, returns its place.
    pub(super) fn open_fields(
        &self,
        conn: &Connection,
        table: FieldTable,
        owner: &[u8; 16],
        parent: &[u8; 16],
        compartment: Compartment,
        stored: &[FieldRow],
    ) -> Result<BTreeMap<FieldName, Value>, (String, Error)> {
        // A key another session still caches must not outlive the client's erasure.
        match rows::is_erased(conn, owner) {
            Ok(false) => {}
            Ok(true) => return Err((String::new(), Error::Erased)),
            Err(e) => return Err((String::new(), e)),
        }
        self.decrypt_fields(conn, table, owner, parent, compartment, stored)
    }

    /// [`Session::open_fields`] for an owner already known not to be erased in this
    /// transaction.
    pub(super) fn decrypt_fields(
        &self,
        conn: &Connection,
        table: FieldTable,
        owner: &[u8; 16],
        parent: &[u8; 16],
        compartment: Compartment,
        stored: &[FieldRow],
    ) -> Result<BTreeMap<FieldName, Value>, (String, Error)> {
        let mut out = BTreeMap::new();
        // Fields under the same key version share one expanded key, for this call only.
        let mut opener: Option<(u32, envelope::Opener)> = None;
        for row in stored {
            let place = || Place {
                table: table.name(),
                owner: hex::encode(owner),
                record: hex::encode(parent),
                field: row.field.clone(),
            };
            let fail = |e: Error| (row.field.clone(), e);
            let opener = match opener.take() {
                Some((version, o)) if version == row.key_version => &opener.insert((version, o)).1,
                _ => {
                    let key = self
                        .data_key(conn, (*owner, compartment, row.key_version))
                        .map_err(fail)?;
                    let o = envelope::Opener::new(key.expose())
                        .map_err(|_| fail(Error::Integrity { place: place() }))?;
                    &opener.insert((row.key_version, o)).1
                }
            };
            let aad = FieldAad {
                vault: &self.shared.vault_id,
                table: table.name(),
                owner,
                record: parent,
                field: &row.field,
                key_version: row.key_version,
            };
            let plain = opener
                .open(&aad.to_bytes(), &row.envelope)
                .map_err(|_| fail(Error::Integrity { place: place() }))?;
            let value = codec::decode(&plain).map_err(fail)?;
            let name = FieldName::new(&row.field).map_err(|_| {
                fail(Error::Corrupt {
                    what: "stored field name".into(),
                })
            })?;
            out.insert(name, value);
        }
        Ok(out)
    }

    /// The newest `n` audit entries, oldest first (administrators and auditors). Metadata only.
    pub fn audit_tail(&self, n: u32) -> Result<Vec<AuditEntry>> {
        let purpose = Purpose::Operations;
        let audit_as = AuditAs::new(AuditAction::AuditRead);
        let grant = self.check_practice(PracticeOp::ReadAuditLog, purpose, audit_as)?;
        let outcome = Outcome::Allowed(grant.basis);
        self.shared.audit(&self.entry(
            AuditAction::AuditRead,
            None,
            None,
            &[],
            purpose,
            outcome,
        ))?;
        let conn = self.shared.conn();
        let stored = db::audit_rows::tail(&conn, n)?;
        let genesis = crate::audit::genesis_hash(&self.shared.vault_id);
        let before = match stored.first() {
            Some(first) => db::audit_rows::hash_before(&conn, first.seq, &genesis)?,
            None => None,
        };
        parse_run(&stored, before.as_deref().unwrap_or(&[0; 32]))
    }
}
