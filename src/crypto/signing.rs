//! The audit signing key (Ed25519) and checkpoint signatures.
//!
//! The private key is kept as its PKCS#8 document in a wiping buffer and turned into a ring key
//! pair only for the moment of signing (ring's key pair does not wipe itself).

use std::fmt;

use ring::rand::SystemRandom;
use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};
use zeroize::Zeroizing;

use crate::crypto::envelope;
use crate::crypto::keys::MasterKey;
use crate::error::{Error, Result};
use crate::ids::VaultId;

/// The audit signing key's private half (PKCS#8), wiped on drop.
pub(crate) struct SigningKey(Zeroizing<Vec<u8>>);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey([redacted])")
    }
}

fn wrap_aad(vault: &VaultId) -> Vec<u8> {
    let mut aad = b"confide/audit-key/v1".to_vec();
    aad.extend_from_slice(vault.as_bytes());
    aad
}

impl SigningKey {
    /// A fresh key: (the key, its public half).
    pub(crate) fn generate(rng: &SystemRandom) -> Result<(Self, [u8; 32])> {
        let doc = Ed25519KeyPair::generate_pkcs8(rng).map_err(|_| Error::Crypto("ed25519 key"))?;
        let key = Self(Zeroizing::new(doc.as_ref().to_vec()));
        let public = key.public_key()?;
        Ok((key, public))
    }

    fn pair(&self) -> Result<Ed25519KeyPair> {
        Ed25519KeyPair::from_pkcs8(&self.0).map_err(|_| Error::Crypto("ed25519 key"))
    }

    /// The public half.
    pub(crate) fn public_key(&self) -> Result<[u8; 32]> {
        let pair = self.pair()?;
        pair.public_key()
            .as_ref()
            .try_into()
            .map_err(|_| Error::Crypto("ed25519 public key"))
    }

    /// Sign a checkpoint of version 1, (vault, seq, entry hash): what vaults before format 8
    /// signed, kept for the tests that build such vaults.
    #[cfg(test)]
    pub(crate) fn sign_checkpoint(
        &self,
        vault: &VaultId,
        seq: u64,
        hash: &[u8],
    ) -> Result<Vec<u8>> {
        self.sign(&checkpoint_message(vault, seq, hash))
    }

    /// Sign a checkpoint of version 2: (vault, seq, entry hash, time, state).
    pub(crate) fn sign_checkpoint_v2(&self, vault: &VaultId, seal: &Seal<'_>) -> Result<Vec<u8>> {
        self.sign(&checkpoint_message_v2(vault, seal))
    }

    /// Sign a restore event for a witness: the log was rolled back, on purpose, to `seal`'s
    /// entry (see [`restore_message`]).
    pub(crate) fn sign_restore(&self, vault: &VaultId, seal: &Seal<'_>) -> Result<Vec<u8>> {
        self.sign(&restore_message(vault, seal))
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        Ok(self.pair()?.sign(message).as_ref().to_vec())
    }

    /// Seal the key for storage under a key derived from the master key.
    pub(crate) fn wrap(
        &self,
        rng: &SystemRandom,
        mk: &MasterKey,
        vault: &VaultId,
    ) -> Result<Vec<u8>> {
        let k = mk.audit_key_wrap(vault)?;
        envelope::seal(rng, k.expose(), &wrap_aad(vault), &self.0)
    }

    /// Open a stored key; a failure means the row was changed or moved.
    pub(crate) fn unwrap(wrapped: &[u8], mk: &MasterKey, vault: &VaultId) -> Result<Self> {
        let k = mk.audit_key_wrap(vault)?;
        let doc = envelope::open(k.expose(), &wrap_aad(vault), wrapped).map_err(|_| {
            Error::Integrity {
                place: crate::error::Place {
                    table: "audit_key",
                    owner: vault.to_string(),
                    record: "-".into(),
                    field: "wrapped_key".into(),
                },
            }
        })?;
        Ok(Self(Zeroizing::new(doc.to_vec())))
    }
}

/// What a signed statement about the log's head says beyond the vault: the entry, when, and
/// (for a checkpoint) the vault's state then, as its one-byte code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Seal<'a> {
    pub(crate) seq: u64,
    pub(crate) hash: &'a [u8],
    pub(crate) at_ms: i64,
    pub(crate) state: u8,
}

/// What a checkpoint of version 1 signs (vaults before format 8).
pub(crate) fn checkpoint_message(vault: &VaultId, seq: u64, hash: &[u8]) -> Vec<u8> {
    let mut m = b"confide/checkpoint/v1".to_vec();
    m.extend_from_slice(vault.as_bytes());
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m
}

/// What a checkpoint of version 2 signs: version 1's parts, then the time (i64 BE, unix ms)
/// and the state byte, so neither can be changed or moved to another checkpoint.
pub(crate) fn checkpoint_message_v2(vault: &VaultId, seal: &Seal<'_>) -> Vec<u8> {
    seal_message(b"confide/checkpoint/v2", vault, seal)
}

/// What a restore event signs: a domain of its own, so a restore can never pass for a
/// checkpoint or the other way round.
pub(crate) fn restore_message(vault: &VaultId, seal: &Seal<'_>) -> Vec<u8> {
    seal_message(b"confide/witness-restore/v1", vault, seal)
}

fn seal_message(domain: &[u8], vault: &VaultId, seal: &Seal<'_>) -> Vec<u8> {
    let mut m = domain.to_vec();
    m.extend_from_slice(vault.as_bytes());
    m.extend_from_slice(&seal.seq.to_be_bytes());
    m.extend_from_slice(seal.hash);
    m.extend_from_slice(&seal.at_ms.to_be_bytes());
    m.push(seal.state);
    m
}

/// Check a checkpoint signature of version 1 against a public key.
pub(crate) fn verify_checkpoint(
    public: &[u8],
    vault: &VaultId,
    seq: u64,
    hash: &[u8],
    sig: &[u8],
) -> bool {
    verify(public, &checkpoint_message(vault, seq, hash), sig)
}

/// Check a checkpoint signature of version 2 against a public key.
pub(crate) fn verify_checkpoint_v2(
    public: &[u8],
    vault: &VaultId,
    seal: &Seal<'_>,
    sig: &[u8],
) -> bool {
    verify(public, &checkpoint_message_v2(vault, seal), sig)
}

/// Check a restore event's signature against a public key.
pub(crate) fn verify_restore(public: &[u8], vault: &VaultId, seal: &Seal<'_>, sig: &[u8]) -> bool {
    verify(public, &restore_message(vault, seal), sig)
}

fn verify(public: &[u8], message: &[u8], sig: &[u8]) -> bool {
    UnparsedPublicKey::new(&ED25519, public)
        .verify(message, sig)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_wrap() {
        let rng = SystemRandom::new();
        let vault = VaultId::from_slice(&[5; 16]).unwrap();
        let (key, public) = SigningKey::generate(&rng).unwrap();
        let sig = key.sign_checkpoint(&vault, 7, &[1; 32]).unwrap();
        assert!(verify_checkpoint(&public, &vault, 7, &[1; 32], &sig));
        assert!(!verify_checkpoint(&public, &vault, 8, &[1; 32], &sig));
        assert!(!verify_checkpoint(&public, &vault, 7, &[2; 32], &sig));
        let other = VaultId::from_slice(&[6; 16]).unwrap();
        assert!(!verify_checkpoint(&public, &other, 7, &[1; 32], &sig));
        // Version 2 binds the time and the state as well, and is no restore event.
        let seal = Seal {
            seq: 7,
            hash: &[1; 32],
            at_ms: 1_700_000_000_000,
            state: 1,
        };
        let sig = key.sign_checkpoint_v2(&vault, &seal).unwrap();
        assert!(verify_checkpoint_v2(&public, &vault, &seal, &sig));
        assert!(!verify_checkpoint(&public, &vault, 7, &[1; 32], &sig));
        for changed in [
            Seal { state: 2, ..seal },
            Seal {
                at_ms: seal.at_ms + 1,
                ..seal
            },
            Seal { seq: 8, ..seal },
        ] {
            assert!(!verify_checkpoint_v2(&public, &vault, &changed, &sig));
        }
        assert!(!verify_restore(&public, &vault, &seal, &sig));
        let restore = key.sign_restore(&vault, &seal).unwrap();
        assert!(verify_restore(&public, &vault, &seal, &restore));
        assert!(!verify_checkpoint_v2(&public, &vault, &seal, &restore));
        let mk = MasterKey::generate(&rng).unwrap();
        let wrapped = key.wrap(&rng, &mk, &vault).unwrap();
        let back = SigningKey::unwrap(&wrapped, &mk, &vault).unwrap();
        assert_eq!(back.public_key().unwrap(), public);
        assert!(SigningKey::unwrap(&wrapped, &mk, &other).is_err());
        assert_eq!(format!("{key:?}"), "SigningKey([redacted])");
    }
}
