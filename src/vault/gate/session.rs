//! A logged-in user: identity, role, the unlocked master key and a cache of data keys, and the
//! gate's session checks ([`Session::admit`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard};

use crate::audit::{AuditAction, Failure, NewEntry, Outcome};
use crate::clock::Tick;
use crate::crypto::envelope::push_str;
use crate::crypto::keys::{BlindIndexKey, DataKey, FactKey, MasterKey, WrapKey};
use crate::db::fact_rows::ScopeKind;
use crate::db::rows;
use crate::db::session_rows::{Standing, session_scope};
use crate::error::{Error, Place, Result};
use crate::ids::{ClientId, OwnerId, UserId};
use crate::model::{Compartment, Purpose, Role};

use super::Admitted;
use crate::vault::Shared;
use crate::vault::sealer::Handle;

/// Which data key: its owner, compartment and version.
pub(super) type KeySlot = (OwnerId, Compartment, u32);

/// A scope of facts as a session last found it vouched for: the digest of its rows and the MAC
/// stored with them.
pub(super) struct Vouched {
    pub(super) digest: [u8; 32],
    pub(super) mac: Vec<u8>,
}

/// The key material of an unlocked session. Dropped (and so wiped) when the session locks,
/// times out or ends.
pub(super) struct Unlocked {
    pub(super) mk: MasterKey,
    pub(super) wrap: WrapKey,
    pub(super) blind: BlindIndexKey,
    /// Authenticates the facts decisions trust ([`state`](super::state)).
    pub(super) facts: FactKey,
    /// The digest of each scope of facts this session last found its MAC to vouch for, with
    /// that MAC: the same rows under the same MAC need no second check.
    pub(super) verified: HashMap<(ScopeKind, [u8; 16]), Vouched>,
    /// Data keys unwrapped so far.
    pub(super) cache: HashMap<KeySlot, DataKey>,
}

/// A session's keys, when it was last used, and a counter for diagnostics.
pub(super) struct Keys {
    pub(super) unlocked: Option<Unlocked>,
    last_used: Tick,
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
    pub(in crate::vault) shared: Handle,
    pub(in crate::vault) user: UserId,
    name: String,
    pub(in crate::vault) role: Role,
    keys: Mutex<Keys>,
    /// The master-key generation this session unlocked; a rotation locks older sessions.
    epoch: u64,
    /// The same, as the file records it: a rotation by another process shows here.
    pub(super) generation: i64,
    /// A scope of facts that failed its MAC during the current call, not yet audited
    /// ([`Session::note_failed_scope`]). A session used by two threads at once may record it
    /// under the other call's action; it is recorded either way.
    failed_scope: Mutex<Option<(ScopeKind, [u8; 16])>>,
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("user", &self.user)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The name, in `vault_keys`, of the blind-index key once a rotation has stored it.
pub(super) const BLIND_INDEX_KEY: &str = "blind-index";

/// Associated data of a key in `vault_keys`: bound to the vault and the key's name.
pub(super) fn vault_key_aad(vault: &crate::ids::VaultId, name: &str) -> Vec<u8> {
    let mut aad = b"confide/vault-key/v1".to_vec();
    aad.extend_from_slice(vault.as_bytes());
    push_str(&mut aad, name);
    aad
}

/// Associated data binding a wrapped data key to its vault, owner, compartment and version.
pub(super) fn data_key_aad(shared: &Shared, slot: &KeySlot) -> Vec<u8> {
    let mut aad = b"confide/data-key/v1".to_vec();
    aad.extend_from_slice(shared.vault_id.as_bytes());
    aad.extend_from_slice(slot.0.as_bytes());
    push_str(&mut aad, slot.1.code());
    aad.extend_from_slice(&slot.2.to_be_bytes());
    aad
}

impl Session {
    pub(in crate::vault) fn new(
        shared: Handle,
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
        let facts = mk.fact_key(&shared.vault_id)?;
        let epoch = shared.key_epoch();
        let tick = shared.config.clock.tick();
        let generation = rows::mk_generation(&shared.conn())?;
        Ok(Self {
            shared,
            user,
            name,
            role,
            epoch,
            generation,
            failed_scope: Mutex::new(None),
            keys: Mutex::new(Keys {
                unlocked: Some(Unlocked {
                    mk,
                    wrap,
                    blind,
                    facts,
                    verified: HashMap::new(),
                    cache: HashMap::new(),
                }),
                last_used: tick,
                unwrapped: 0,
            }),
        })
    }

    pub(super) fn keys(&self) -> MutexGuard<'_, Keys> {
        // A panic while this was held leaves at worst a key in or out of the cache.
        self.keys.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` with the session's key material, or fail closed if the session is locked.
    pub(super) fn with_unlocked<T>(
        &self,
        f: impl FnOnce(&mut Unlocked, &mut u64) -> Result<T>,
    ) -> Result<T> {
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
    pub(super) fn wipe(&self) -> bool {
        self.keys().unlocked.take().is_some()
    }

    fn audit_lock(&self, action: AuditAction) -> Result<()> {
        let outcome = Outcome::Granted;
        self.shared
            .audit(&self.entry(action, None, None, &[], Purpose::Operations, outcome))?;
        Ok(())
    }

    /// The gate's session checks, once for every call that touches the vault: a locked session
    /// is refused; one idle for longer than the vault's idle timeout is locked now (automatic
    /// logoff); one whose master key was rotated since it unlocked, by this process or another,
    /// is locked; one whose user was disabled or removed since is locked and refused. Otherwise
    /// the session counts as used. Every refusal is audited (with `action` and `purpose`);
    /// nothing is wiped while the database is held.
    pub(in crate::vault) fn admit(
        &self,
        action: AuditAction,
        purpose: Purpose,
    ) -> Result<Admitted<'_>> {
        let clock = self.shared.config.clock;
        let timed_out = {
            let mut k = self.keys();
            if self.epoch != self.shared.key_epoch() {
                // The master key was rotated since this session unlocked: log in again.
                k.unlocked = None;
            }
            if k.unlocked.is_none() {
                None
            } else if clock.since(k.last_used) > self.shared.config.idle_timeout {
                k.unlocked = None;
                Some(true)
            } else {
                k.last_used = clock.tick();
                Some(false)
            }
        };
        match timed_out {
            Some(false) => {}
            Some(true) => {
                self.audit_lock(AuditAction::SessionTimeout)?;
                return Err(Error::SessionLocked);
            }
            None => return self.refuse_session(action, purpose, Failure::SessionLocked),
        }
        // The file's word: another process may have disabled or removed the user, or rotated
        // the master key, since this session unlocked.
        let (standing, generation, read) = session_scope(&self.shared.conn(), &self.user)?;
        let why = match standing {
            Standing::Active if generation == self.generation => {
                // Role and status are what the vault wrote: an edit of the file fails closed.
                if let Err(e) = self.check_scope(ScopeKind::User, self.user.as_bytes(), &read) {
                    self.wipe();
                    let outcome = Outcome::Failed(Failure::Integrity);
                    self.shared
                        .audit(&self.entry(action, None, None, &[], purpose, outcome))?;
                    return Err(e);
                }
                return Ok(Admitted {
                    session: self,
                    action,
                    purpose,
                });
            }
            Standing::Active => Failure::SessionLocked,
            Standing::Disabled => Failure::UserDisabled,
            Standing::Removed | Standing::Missing => Failure::UserRemoved,
        };
        self.wipe();
        self.refuse_session(action, purpose, why)
    }

    /// Remember that scope (`kind`, `id`) failed its MAC while facts were gathered for a
    /// decision of the current call; the call's [`Admitted`] audits it when the call ends.
    pub(super) fn note_failed_scope(&self, kind: ScopeKind, id: &[u8]) {
        if let Ok(id) = <[u8; 16]>::try_from(id) {
            *self.failed_scope.lock().unwrap_or_else(|e| e.into_inner()) = Some((kind, id));
        }
    }

    /// Audit the scope noted by [`Session::note_failed_scope`], if any, as a failure of
    /// `action`: a client's names the client, a case's or a user's names it as the target.
    /// Called as the call's [`Admitted`] goes, so nothing holds the connection; an error
    /// appending the entry cannot be returned from there (the call itself already failed).
    pub(super) fn audit_failed_scope(&self, action: AuditAction, purpose: Purpose) {
        let failed = self
            .failed_scope
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        let Some((kind, id)) = failed else {
            return;
        };
        let client = (kind == ScopeKind::Client).then(|| ClientId::from_slice(&id).ok());
        let client = client.flatten();
        let target = (kind != ScopeKind::Client).then_some(&id);
        let outcome = Outcome::Failed(Failure::Integrity);
        let _ =
            self.shared
                .audit(&self.entry(action, client.as_ref(), target, &[], purpose, outcome));
    }

    /// Audit a session refused at the gate, and return the error it gets.
    fn refuse_session<T>(&self, action: AuditAction, purpose: Purpose, why: Failure) -> Result<T> {
        let outcome = Outcome::Failed(why);
        self.shared
            .audit(&self.entry(action, None, None, &[], purpose, outcome))?;
        Err(match why {
            Failure::UserDisabled => Error::UserDisabled,
            Failure::UserRemoved => Error::UserRemoved,
            _ => Error::SessionLocked,
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
        let k = self.keys();
        KeyStats {
            unwrapped: k.unwrapped,
            cached: k.unlocked.as_ref().map_or(0, |u| u.cache.len()),
        }
    }

    /// An audit entry by this session's user.
    pub(in crate::vault) fn entry<'a>(
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
}
