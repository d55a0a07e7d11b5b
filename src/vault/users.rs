//! Staff accounts over the years: adding users, changing and resetting passphrases, raising KDF
//! costs, disabling and removing users.
//!
//! Every user holds their own copy of the one master key, wrapped under a key derived from their
//! passphrase (Argon2id). Changing or resetting a passphrase replaces only that user's wrap;
//! removing a user deletes it. A removed user's wrap kept in an old copy of the file still opens
//! the master key of that copy: shutting them out of the data written since needs a master-key
//! rotation (see the README).

use crate::audit::{AuditAction, Failure, NewEntry, Outcome};
use crate::crypto::kdf::{KdfParams, derive_kek};
use crate::crypto::keys::{Kek, MasterKey};
use crate::crypto::sealed::UserKeyPair;
use crate::db::fact_rows::ScopeKind;
use crate::db::rows::{self, UserRow, UserStatus};
use crate::error::{Error, Result};
use crate::ids::{UserId, VaultId};
use crate::model::{Purpose, Role};
use crate::policy::PracticeOp;

use super::gate::{Admitted, AuditAs, Granted, Target};
use super::{Passphrase, Session, Shared, mk_aad};

/// The shortest passphrase accepted, in characters. Length, not composition rules, is what
/// makes a passphrase hard to guess (NIST SP 800-63B); twelve is above its floor of eight
/// because these records are among the most sensitive there are.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Refuse a passphrase shorter than [`MIN_PASSPHRASE_CHARS`].
pub(super) fn check_strength(passphrase: &Passphrase) -> Result<()> {
    if passphrase.char_count() < MIN_PASSPHRASE_CHARS {
        return Err(Error::InvalidInput {
            what: "passphrase",
            reason: format!("use at least {MIN_PASSPHRASE_CHARS} characters"),
        });
    }
    Ok(())
}

pub(super) fn validate_user_name(name: &str) -> Result<()> {
    if name.is_empty() || name.len() > 64 || name.chars().any(|c| c.is_control()) {
        return Err(Error::InvalidInput {
            what: "user name",
            reason: "use 1-64 characters, no control characters".into(),
        });
    }
    Ok(())
}

/// A user's wrap of the master key: fresh salt, the vault's KDF costs.
struct Wrap {
    salt: [u8; 16],
    kdf: KdfParams,
    wrapped_mk: Vec<u8>,
    /// A fresh key pair's public half, and its private half sealed under the same KEK.
    public_key: [u8; 32],
    wrapped_secret: Vec<u8>,
}

/// Associated data of a user's sealed private key: bound to the vault and the user.
pub(super) fn secret_aad(vault: &VaultId, user: &UserId) -> Vec<u8> {
    let mut aad = b"confide/user-secret/v1".to_vec();
    aad.extend_from_slice(vault.as_bytes());
    aad.extend_from_slice(user.as_bytes());
    aad
}

/// Associated data of a master key sealed to a user by a rotation.
pub(super) fn sealed_mk_aad(vault: &VaultId, user: &UserId) -> Vec<u8> {
    let mut aad = b"confide/sealed-master-key/v1".to_vec();
    aad.extend_from_slice(vault.as_bytes());
    aad.extend_from_slice(user.as_bytes());
    aad
}

impl Wrap {
    fn new(
        shared: &Shared,
        user: &UserId,
        passphrase: &Passphrase,
        kdf: KdfParams,
        mk: &MasterKey,
    ) -> Result<Self> {
        let salt: [u8; 16] = shared.random_bytes()?;
        let kek = derive_kek(passphrase.bytes(), &salt, kdf)?;
        let wrapped_mk = kek.wrap(&shared.rng, mk, &mk_aad(&shared.vault_id, user))?;
        let pair = UserKeyPair::generate(&shared.rng)?;
        let wrapped_secret = pair.wrap(&shared.rng, &kek, &secret_aad(&shared.vault_id, user))?;
        Ok(Self {
            salt,
            kdf,
            wrapped_mk,
            public_key: pair.public_bytes(),
            wrapped_secret,
        })
    }

    fn costs(&self) -> (u32, u32, u32) {
        (
            self.kdf.memory_kib(),
            self.kdf.iterations(),
            self.kdf.parallelism(),
        )
    }

    /// Store it, replacing the user's wrap and key pair; a master key a rotation sealed to the
    /// old key pair is superseded by the one wrapped here.
    fn store(&self, conn: &crate::db::Conn, user: &UserId) -> Result<()> {
        rows::set_user_wrap(conn, user, &self.salt, self.costs(), &self.wrapped_mk)?;
        rows::set_user_keypair(conn, user, &self.public_key, &self.wrapped_secret)?;
        rows::set_sealed_mk(conn, user, None)
    }
}

/// A new user's row: fresh salt, the master key wrapped under their passphrase.
pub(super) fn new_user_row(
    shared: &Shared,
    name: &str,
    role: Role,
    passphrase: &Passphrase,
    mk: &MasterKey,
) -> Result<UserRow> {
    validate_user_name(name)?;
    check_strength(passphrase)?;
    let id = UserId::random(&shared.rng)?;
    let wrap = Wrap::new(shared, &id, passphrase, shared.config.kdf, mk)?;
    Ok(UserRow {
        id,
        name: name.to_owned(),
        role,
        kdf_salt: wrap.salt.to_vec(),
        kdf: wrap.costs(),
        wrapped_mk: wrap.wrapped_mk,
        status: UserStatus::Active,
        public_key: Some(wrap.public_key.to_vec()),
        wrapped_secret: Some(wrap.wrapped_secret),
        sealed_mk: None,
    })
}

/// What a login's passphrase opened.
pub(super) enum AtLogin {
    /// The master key.
    Key(MasterKey),
    /// Nothing: the passphrase is wrong.
    WrongPassphrase,
    /// The user's private key, but not the master key a rotation sealed to it: damaged.
    Damaged,
}

/// KDF costs at least as high as both: what a stored wrap is raised to at login.
fn raised(stored: (u32, u32, u32), vault: KdfParams) -> Option<(u32, u32, u32)> {
    let (m, t, p) = stored;
    if m >= vault.memory_kib() && t >= vault.iterations() {
        return None;
    }
    Some((m.max(vault.memory_kib()), t.max(vault.iterations()), p))
}

impl Shared {
    /// At login, the master key: the one a rotation sealed to the user's key pair if there is
    /// one (then wrapped under their KEK for next time), else their own wrap.
    pub(super) fn master_key_at_login(&self, row: &UserRow, kek: &Kek) -> Result<AtLogin> {
        let vault = &self.vault_id;
        let Some(sealed) = &row.sealed_mk else {
            return Ok(match kek.unwrap(&row.wrapped_mk, &mk_aad(vault, &row.id)) {
                Ok(mk) => AtLogin::Key(mk),
                Err(_) => AtLogin::WrongPassphrase,
            });
        };
        let pair = row
            .wrapped_secret
            .as_deref()
            .and_then(|w| UserKeyPair::unwrap(kek, w, &secret_aad(vault, &row.id)).ok());
        let Some(pair) = pair else {
            return Ok(AtLogin::WrongPassphrase);
        };
        // The passphrase opened the private key: a sealed key that does not open was damaged.
        let Ok(mk) = pair.open_master_key(sealed, &sealed_mk_aad(vault, &row.id)) else {
            return Ok(AtLogin::Damaged);
        };
        let wrapped = kek.wrap(&self.rng, &mk, &mk_aad(vault, &row.id))?;
        self.write(|tx| {
            rows::set_user_wrap(tx, &row.id, &row.kdf_salt, row.kdf, &wrapped)?;
            rows::set_sealed_mk(tx, &row.id, None)
        })?;
        Ok(AtLogin::Key(mk))
    }

    /// At login, give a user made before format 5 the key pair a master-key rotation needs.
    pub(super) fn ensure_keypair(&self, row: &UserRow, kek: &Kek) -> Result<()> {
        if row.public_key.is_some() {
            return Ok(());
        }
        let pair = UserKeyPair::generate(&self.rng)?;
        let wrapped = pair.wrap(&self.rng, kek, &secret_aad(&self.vault_id, &row.id))?;
        self.write(|tx| rows::set_user_keypair(tx, &row.id, &pair.public_bytes(), &wrapped))
    }

    /// After a successful login: if the vault's KDF costs are now higher than those the user's
    /// wrap was made with, re-wrap it with the higher costs (a fresh salt), audited.
    pub(super) fn upgrade_kdf(
        &self,
        row: &UserRow,
        passphrase: &Passphrase,
        mk: &MasterKey,
    ) -> Result<()> {
        let Some(costs) = raised(row.kdf, self.config.kdf) else {
            return Ok(());
        };
        // The stored and the configured costs mixed may pass the work bound that neither passes
        // alone (256 MiB × 1 stored, 64 MiB × 8 configured): the wrap stays as it is rather than
        // become one that no later login would accept.
        let Ok(params) = self.config.kdf_limits_in_force().admit(costs) else {
            return Ok(());
        };
        let wrap = Wrap::new(self, &row.id, passphrase, params, mk)?;
        self.write(|tx| {
            wrap.store(tx, &row.id)?;
            self.audit_in(
                tx,
                &NewEntry {
                    actor: Some(&row.id),
                    action: AuditAction::UserKdfUpgrade,
                    client: None,
                    target: Some(row.id.as_bytes()),
                    fields: &[],
                    purpose: Some(Purpose::Operations),
                    outcome: Outcome::Granted,
                },
            )
        })?;
        Ok(())
    }
}

impl Session {
    /// Add a user with a role and their own passphrase (administrators only).
    pub fn add_user(&self, name: &str, role: Role, passphrase: &Passphrase) -> Result<UserId> {
        let purpose = Purpose::Operations;
        let gate = self.admit(AuditAction::UserAdd, purpose)?;
        if matches!(role, Role::Client | Role::Guardian) {
            return Err(Error::InvalidInput {
                what: "role",
                reason:
                    "clients and guardians receive exports a clinician releases; they do not log in"
                        .into(),
            });
        }
        let audit_as = AuditAs::new(AuditAction::UserAdd);
        let grant = gate.check_practice(PracticeOp::ManageUsers, audit_as, Target::MasterKey)?;
        let row = self.with_master_key(&grant, |mk| {
            new_user_row(&self.shared, name, role, passphrase, mk)
        })?;
        let e = self.entry(
            AuditAction::UserAdd,
            None,
            Some(row.id.as_bytes()),
            &[],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.write_scope(&e, ScopeKind::User, row.id.as_bytes(), |tx| {
            rows::insert_user(tx, &row, self.shared.now_ms())
        })?;
        Ok(row.id)
    }

    /// Change this user's own passphrase. The current one is asked for again, so an unlocked
    /// session left on a desk cannot take the account over. Only this user's wrap of the master
    /// key changes; the old passphrase stops working at once.
    pub fn change_passphrase(&self, current: &Passphrase, new: &Passphrase) -> Result<()> {
        let action = AuditAction::UserPassphraseChange;
        let gate = self.admit(action, Purpose::Operations)?;
        check_strength(new)?;
        let grant = gate.own_account(current)?;
        self.replace_wrap(&grant, &self.user, new, action, Outcome::Granted)
    }

    /// Set a new passphrase for `user`, who forgot theirs (administrators only). Their old
    /// passphrase stops working at once.
    pub fn reset_passphrase(&self, user: &str, new: &Passphrase) -> Result<()> {
        let action = AuditAction::UserPassphraseReset;
        let gate = self.admit(action, Purpose::Operations)?;
        check_strength(new)?;
        let (row, grant) = self.manage(&gate, user, action)?;
        if row.status == UserStatus::Removed {
            return Err(Error::UserRemoved);
        }
        let outcome = Outcome::Allowed(grant.basis());
        self.replace_wrap(&grant, &row.id, new, action, outcome)
    }

    /// Wrap the master key for `user` under `passphrase` (a fresh salt and key pair, the vault's
    /// KDF costs) in place of their old wrap, and audit it as `action`, in one transaction.
    fn replace_wrap(
        &self,
        grant: &Granted,
        user: &UserId,
        passphrase: &Passphrase,
        action: AuditAction,
        outcome: Outcome,
    ) -> Result<()> {
        let kdf = self.shared.config.kdf;
        let wrap = self.with_master_key(grant, |mk| {
            Wrap::new(&self.shared, user, passphrase, kdf, mk)
        })?;
        self.shared.write(|tx| {
            wrap.store(tx, user)?;
            let purpose = Purpose::Operations;
            let e = self.entry(action, None, Some(user.as_bytes()), &[], purpose, outcome);
            self.shared.audit_in(tx, &e)
        })?;
        Ok(())
    }

    /// Stop `user` from logging in (administrators only). A session they already have open is
    /// refused at its next call ([`Error::UserDisabled`], audited) and locked.
    pub fn disable_user(&self, user: &str) -> Result<()> {
        self.set_status(user, UserStatus::Disabled, AuditAction::UserDisable)
    }

    /// Let a disabled user log in again (administrators only).
    pub fn enable_user(&self, user: &str) -> Result<()> {
        self.set_status(user, UserStatus::Active, AuditAction::UserEnable)
    }

    /// Remove `user` (administrators only): their wrap of the master key is deleted and they
    /// can never log in again. The row stays, so the audit log still names them.
    pub fn remove_user(&self, user: &str) -> Result<()> {
        self.set_status(user, UserStatus::Removed, AuditAction::UserRemove)
    }

    fn set_status(&self, user: &str, status: UserStatus, action: AuditAction) -> Result<()> {
        let gate = self.admit(action, Purpose::Operations)?;
        let (row, grant) = self.manage(&gate, user, action)?;
        let grant = grant.basis();
        if row.status == UserStatus::Removed {
            return Err(Error::UserRemoved);
        }
        let e = self.entry(
            action,
            None,
            Some(row.id.as_bytes()),
            &[],
            Purpose::Operations,
            Outcome::Allowed(grant),
        );
        self.write_scope(&e, ScopeKind::User, row.id.as_bytes(), |tx| {
            let was_admin = row.role == Role::Admin && row.status == UserStatus::Active;
            rows::set_user_status(tx, &row.id, status)?;
            if was_admin && status != UserStatus::Active && rows::active_admins(tx)? == 0 {
                // Rolled back with the savepoint: the vault always keeps an administrator.
                return Err(Error::InvalidInput {
                    what: "user",
                    reason: "the last active administrator cannot be disabled or removed".into(),
                });
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Decide a user-management `action` on `user` (refusals audited); the user's row.
    fn manage(
        &self,
        gate: &Admitted<'_>,
        user: &str,
        action: AuditAction,
    ) -> Result<(UserRow, Granted)> {
        let purpose = Purpose::Operations;
        let to = Target::MasterKey;
        let grant = gate.check_practice(PracticeOp::ManageUsers, AuditAs::new(action), to)?;
        let row = rows::user_by_name(&self.shared.conn(), user)?;
        let Some(row) = row else {
            let outcome = Outcome::Failed(Failure::UnknownUser);
            self.shared
                .audit(&self.entry(action, None, None, &[], purpose, outcome))?;
            return Err(Error::UnknownUser);
        };
        Ok((row, grant))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kdf_costs_only_rise() {
        let vault = KdfParams::new(128, 2, 1).unwrap();
        assert_eq!(raised((64, 1, 1), vault), Some((128, 2, 1)));
        assert_eq!(raised((256, 1, 1), vault), Some((256, 2, 1)));
        assert_eq!(raised((128, 2, 1), vault), None);
        assert_eq!(raised((1024, 3, 4), vault), None);
    }

    #[test]
    fn short_passphrases_are_refused_by_length_alone() {
        assert!(check_strength(&Passphrase::new("Tr0ub4dor&3")).is_err());
        assert!(check_strength(&Passphrase::new("correct horse")).is_ok());
        // Characters, not bytes: twelve accented letters pass, eleven do not.
        assert!(check_strength(&Passphrase::new("é".repeat(12))).is_ok());
        assert!(check_strength(&Passphrase::new("é".repeat(11))).is_err());
    }
}
