//! A logged-in user: identity, role, the unlocked master key and a cache of data keys.
//!
//! Key handling lives here: [`Session::seal_fields`] and [`Session::open_fields`] are the only
//! paths to a data key, and `access.rs` calls them only after the policy has allowed a request.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::audit::{AuditAction, AuditEntry, NewEntry, Outcome, parse_entry};
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
use super::{Passphrase, Shared, new_user_row, now_ms};

type KeySlot = ([u8; 16], Compartment, u32);

/// Unwrapped data keys of one session. Dropped (and so wiped) with the session.
#[derive(Default)]
struct KeyCache {
    keys: HashMap<KeySlot, DataKey>,
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
    mk: MasterKey,
    wrap: WrapKey,
    pub(super) blind: BlindIndexKey,
    keys: Mutex<KeyCache>,
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
fn data_key_aad(shared: &Shared, slot: &KeySlot) -> Vec<u8> {
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
        let blind = mk.blind_index_key(&shared.vault_id)?;
        Ok(Self {
            shared,
            user,
            name,
            role,
            mk,
            wrap,
            blind,
            keys: Mutex::new(KeyCache::default()),
        })
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
        let c = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        KeyStats {
            unwrapped: c.unwrapped,
            cached: c.keys.len(),
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
        let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(k) = cache.keys.get(&slot) {
            return Ok(k.clone());
        }
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
        let key = self
            .wrap
            .unwrap(&wrapped, &data_key_aad(&self.shared, &slot))
            .map_err(|_| Error::Integrity { place: place() })?;
        cache.unwrapped += 1;
        cache.keys.insert(slot, key.clone());
        Ok(key)
    }

    /// Forget every cached key of `owner` (after it was destroyed).
    pub(super) fn forget_keys(&self, owner: &[u8; 16]) {
        let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        cache.keys.retain(|slot, _| &slot.0 != owner);
    }

    /// The current data key of (owner, compartment) for writing, creating version 1 on first use.
    /// Must run inside the write transaction that uses it.
    fn write_key(
        &self,
        tx: &Connection,
        owner: &[u8; 16],
        compartment: Compartment,
    ) -> Result<(u32, DataKey)> {
        if let Some((version, _)) = rows::latest_data_key(tx, owner, compartment)? {
            return Ok((version, self.data_key(tx, (*owner, compartment, version))?));
        }
        let slot = (*owner, compartment, 1);
        let key = DataKey::generate(&self.shared.rng)?;
        let wrapped = self
            .wrap
            .wrap(&self.shared.rng, &key, &data_key_aad(&self.shared, &slot))?;
        rows::insert_data_key(tx, owner, compartment, 1, &wrapped, now_ms())?;
        let mut cache = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        cache.unwrapped += 1;
        cache.keys.insert(slot, key.clone());
        Ok((1, key))
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
        let (key_version, key) = self.write_key(tx, owner, compartment)?;
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
        for row in stored {
            let place = || Place {
                table: table.name(),
                owner: hex::encode(owner),
                record: hex::encode(parent),
                field: row.field.clone(),
            };
            let fail = |e: Error| (row.field.clone(), e);
            let key = self
                .data_key(conn, (*owner, compartment, row.key_version))
                .map_err(fail)?;
            let aad = FieldAad {
                vault: &self.shared.vault_id,
                table: table.name(),
                owner,
                record: parent,
                field: &row.field,
                key_version: row.key_version,
            };
            let plain = envelope::open(key.expose(), &aad.to_bytes(), &row.envelope)
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

    /// Add a user with a role and their own passphrase (administrators only).
    pub fn add_user(&self, name: &str, role: Role, passphrase: &Passphrase) -> Result<UserId> {
        let purpose = Purpose::Operations;
        if matches!(role, Role::Client | Role::Guardian) {
            return Err(Error::InvalidInput {
                what: "role",
                reason:
                    "clients and guardians receive exports a clinician releases; they do not log in"
                        .into(),
            });
        }
        let audit_as = AuditAs::new(AuditAction::UserAdd);
        let grant = self.check_practice(PracticeOp::ManageUsers, purpose, audit_as)?;
        let row = new_user_row(&self.shared, name, role, passphrase, &self.mk)?;
        self.shared.write(|tx| {
            rows::insert_user(tx, &row, now_ms())?;
            self.shared.audit_in(
                tx,
                &self.entry(
                    AuditAction::UserAdd,
                    None,
                    Some(row.id.as_bytes()),
                    &[],
                    purpose,
                    Outcome::Allowed(grant.basis),
                ),
            )
        })?;
        Ok(row.id)
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
        let stored = db::audit_rows::tail(&self.shared.conn(), n)?;
        stored.into_iter().map(parse_entry).collect()
    }
}
