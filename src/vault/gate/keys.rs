//! Key handling: the data-key cache, sealing and opening fields, and the master key. Every
//! function that reaches a key takes a [`Granted`] and checks that it covers what it touches;
//! the ones that do not are private to the gate.

use crate::db::Conn;

use crate::codec;
use crate::crypto::envelope::{self, FieldAad};
use crate::crypto::keys::{BlindIndexKey, DataKey, MasterKey, WrapKey};
use crate::crypto::signing::SigningKey;
use crate::db;
use crate::db::rows::{self, FieldRow};
use crate::error::{Error, Place, Result};
use crate::ids::OwnerId;
use crate::model::Compartment;
use crate::value::{FieldName, Value};

use super::session::{BLIND_INDEX_KEY, KeySlot, data_key_aad, vault_key_aad};
use super::{Admitted, Entry, Granted, Session, Target, outside_grant};

impl Session {
    /// The data key of `slot`, from the cache or unwrapped now.
    fn data_key(&self, conn: &Conn, slot: KeySlot) -> Result<DataKey> {
        if let Some(k) = self.with_unlocked(|u, _| Ok(u.cache.get(&slot).cloned()))? {
            return Ok(k);
        }
        self.same_master_key(conn)?;
        self.with_unlocked(|u, unwrapped| {
            let place = || Place {
                table: "data_keys",
                owner: slot.0.to_string(),
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
    pub(super) fn same_master_key(&self, conn: &Conn) -> Result<()> {
        if rows::mk_generation(conn)? == self.generation {
            return Ok(());
        }
        self.wipe();
        Err(Error::SessionLocked)
    }

    /// Forget every cached key of `owner` (after it was destroyed).
    pub(in crate::vault) fn forget_keys(&self, owner: &OwnerId) {
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
        tx: &Conn,
        owner: &OwnerId,
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
        let key = self.new_key_version(tx, owner, compartment, version)?;
        rows::count_seals(tx, owner, compartment, version, n)?;
        Ok((version, key))
    }

    /// Make `version` of the data key of (owner, compartment), store it wrapped, and cache it.
    /// `granted` must reach the owner's keys (a rotation's grant for the owner).
    pub(in crate::vault) fn create_key_version(
        &self,
        tx: &Conn,
        granted: &Granted,
        owner: &OwnerId,
        compartment: Compartment,
        version: u32,
    ) -> Result<()> {
        if !granted.reaches_owner(owner) {
            return Err(outside_grant());
        }
        self.new_key_version(tx, owner, compartment, version)
            .map(drop)
    }

    fn new_key_version(
        &self,
        tx: &Conn,
        owner: &OwnerId,
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
            rows::insert_data_key(
                tx,
                owner,
                compartment,
                version,
                &wrapped,
                self.shared.now_ms(),
            )?;
            *unwrapped += 1;
            u.cache.insert(slot, key.clone());
            Ok(())
        })?;
        Ok(key)
    }

    /// Seal and store `fields` of `entry`, each of which `granted` must permit. Runs inside the
    /// caller's transaction.
    pub(in crate::vault) fn seal(
        &self,
        tx: &Conn,
        granted: &Granted,
        entry: &Entry,
        fields: &[(FieldName, &Value)],
    ) -> Result<()> {
        if !fields
            .iter()
            .all(|(n, _)| granted.permits(entry, n.as_str()))
        {
            return Err(outside_grant());
        }
        let Entry {
            table,
            owner,
            parent,
            compartment,
            ..
        } = entry;
        let (table, owner, parent, compartment) = (*table, owner, parent, *compartment);
        // Nothing new is written for a client whose keys were destroyed: it could never be read.
        if rows::is_erased(tx, owner)? {
            return Err(Error::Erased);
        }
        let n = fields.len() as u64;
        let (key_version, key) = self.write_key(tx, owner, compartment, n)?;
        // The write these fields belong to: the one `audit_fields` counts once they are sealed.
        // (The ledger's rows are vouched for by their own digest, and keep envelopes of
        // version 1.)
        let written = rows::parent_auth(tx, table, parent)?.map(|a| {
            u64::try_from(a.write_version)
                .unwrap_or(0)
                .saturating_add(1)
        });
        for (name, value) in fields {
            let plain = codec::encode(value)?;
            let aad = FieldAad {
                vault: &self.shared.vault_id,
                table: table.name(),
                owner: owner.as_bytes(),
                record: parent,
                field: name.as_str(),
                key_version,
            };
            let envelope = match written {
                Some(w) => envelope::seal_field(&self.shared.rng, key.expose(), &aad, w, &plain)?,
                None => envelope::seal(&self.shared.rng, key.expose(), &aad.to_bytes(), &plain)?,
            };
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

    /// Seal again, under the newest key version, each earlier version of `entry`'s fields
    /// (`field@write`), keeping the write each was sealed in (a key rotation: the versions
    /// must outlive the old key as the current fields do). Runs inside the caller's
    /// transaction, under a grant that reaches every entry of the owner.
    pub(in crate::vault) fn reseal_versions(
        &self,
        tx: &Conn,
        granted: &Granted,
        entry: &Entry,
    ) -> Result<()> {
        if !matches!(granted.target, Target::Owners(_)) || !granted.covers(entry) {
            return Err(outside_grant());
        }
        let kept: Vec<FieldRow> = rows::fields(tx, entry.table, &entry.parent)?
            .into_iter()
            .filter(|f| rows::split_version(&f.field).1.is_some())
            .collect();
        if kept.is_empty() {
            return Ok(());
        }
        let opened = self.decrypt_rows(tx, entry, &kept).map_err(|(_, e)| e)?;
        let n = kept.len() as u64;
        let (key_version, key) = self.write_key(tx, &entry.owner, entry.compartment, n)?;
        for ((written, name, value), row) in opened.into_iter().zip(kept) {
            let plain = codec::encode(&value)?;
            let aad = FieldAad {
                vault: &self.shared.vault_id,
                table: entry.table.name(),
                owner: entry.owner.as_bytes(),
                record: &entry.parent,
                field: name.as_str(),
                key_version,
            };
            let envelope =
                envelope::seal_field(&self.shared.rng, key.expose(), &aad, written, &plain)?;
            let field = row.field;
            rows::upsert_field(
                tx,
                entry.table,
                &entry.parent,
                &FieldRow {
                    field,
                    key_version,
                    envelope,
                },
            )?;
        }
        Ok(())
    }

    /// Decrypt `stored`, the fields of `entry` its caller in the gate kept after a decision,
    /// each with the write it was sealed in. On the first that fails to authenticate, returns
    /// its name and the error. A superseded envelope (`field@write`) opens as its field, and
    /// only as sealed in the write its name says.
    pub(super) fn decrypt_rows(
        &self,
        conn: &Conn,
        entry: &Entry,
        stored: &[FieldRow],
    ) -> Result<Vec<super::read::Opened>, (String, Error)> {
        let Entry {
            table,
            owner,
            parent,
            compartment,
            ..
        } = entry;
        let (table, owner, parent, compartment) = (*table, owner, parent, *compartment);
        let mut out = Vec::with_capacity(stored.len());
        // Fields under the same key version share one expanded key, for this call only.
        let mut opener: Option<(u32, envelope::Opener)> = None;
        for row in stored {
            let place = || Place {
                table: table.name(),
                owner: owner.to_string(),
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
            let (field, kept_from) = rows::split_version(&row.field);
            let aad = FieldAad {
                vault: &self.shared.vault_id,
                table: table.name(),
                owner: owner.as_bytes(),
                record: parent,
                field,
                key_version: row.key_version,
            };
            let (written, plain) = opener
                .open_field(&aad, &row.envelope)
                .map_err(|_| fail(Error::Integrity { place: place() }))?;
            let written = written.unwrap_or(0);
            if kept_from.is_some_and(|w| w != written) {
                return Err(fail(Error::Integrity { place: place() }));
            }
            let value = codec::decode(&plain).map_err(fail)?;
            let name = FieldName::new(field).map_err(|_| {
                fail(Error::Corrupt {
                    what: "stored field name".into(),
                })
            })?;
            out.push((written, name, value));
        }
        Ok(out)
    }

    /// Run `f` with the unlocked master key, under a grant that reaches it.
    pub(in crate::vault) fn with_master_key<T>(
        &self,
        granted: &Granted,
        f: impl FnOnce(&MasterKey) -> Result<T>,
    ) -> Result<T> {
        self.with_session_keys(granted, |mk, _, _| f(mk))
    }

    /// Run `f` with the unlocked master, wrap and blind-index keys, under a grant that reaches
    /// the master key.
    pub(in crate::vault) fn with_session_keys<T>(
        &self,
        granted: &Granted,
        f: impl FnOnce(&MasterKey, &WrapKey, &BlindIndexKey) -> Result<T>,
    ) -> Result<T> {
        if granted.target != Target::MasterKey {
            return Err(outside_grant());
        }
        self.with_unlocked(|u, _| f(&u.mk, &u.wrap, &u.blind))
    }

    /// The blind index of `normalised` for `field`, for an admitted call: a lookup opens no
    /// data key, and what it finds is decided on like anything else.
    pub(in crate::vault) fn blind_index(
        &self,
        _admitted: &Admitted<'_>,
        field: &str,
        normalised: &[u8],
    ) -> Result<Vec<u8>> {
        self.with_unlocked(|u, _| Ok(u.blind.index(field, normalised)))
    }

    /// Re-wrap every data key, the blind-index key and the audit key under `new_mk`, inside a
    /// master-key rotation's transaction and under its grant. Returns how many data keys.
    pub(in crate::vault) fn rewrap_keys(
        &self,
        tx: &Conn,
        granted: &Granted,
        new_mk: &MasterKey,
    ) -> Result<usize> {
        let shared = &self.shared;
        let vault = shared.vault_id;
        let new_wrap = new_mk.wrap_key(&vault)?;
        let keys = rows::all_data_keys(tx)?;
        self.with_session_keys(granted, |mk, wrap, blind| {
            for stored in &keys {
                let (owner, compartment, version) =
                    (&stored.owner, &stored.compartment, &stored.version);
                let aad = data_key_aad(shared, &(*owner, *compartment, *version));
                let dk = wrap
                    .unwrap(&stored.wrapped, &aad)
                    .map_err(|_| Error::Integrity {
                        place: Place {
                            table: "data_keys",
                            owner: owner.to_string(),
                            record: "-".into(),
                            field: compartment.code().into(),
                        },
                    })?;
                let rewrapped = new_wrap.wrap(&shared.rng, &dk, &aad)?;
                rows::set_data_key_wrap(tx, owner, *compartment, *version, &rewrapped)?;
            }
            // The blind-index key stays (the stored indexes were made with it).
            let aad = vault_key_aad(&vault, BLIND_INDEX_KEY);
            let kept = new_wrap.wrap_blind(&shared.rng, blind, &aad)?;
            rows::put_vault_key(tx, BLIND_INDEX_KEY, &kept)?;
            if let Some((_, wrapped)) = db::audit_rows::audit_key(tx)? {
                let key = SigningKey::unwrap(&wrapped, mk, &vault)?;
                let rewrapped = key.wrap(&shared.rng, new_mk, &vault)?;
                db::audit_rows::set_audit_key_wrap(tx, &rewrapped)?;
            }
            Ok(keys.len())
        })
    }
}
