//! Each user's X25519 key pair, and the master key sealed to a user's public key.
//!
//! A master-key rotation must give every remaining user the new master key without knowing
//! their passphrases. So each user also has a key pair: the public half in clear, the private
//! half wrapped under their KEK. The rotation seals the new master key to each remaining user's
//! public key (ephemeral-static X25519, HKDF-SHA256, AES-256-GCM); at their next login the user
//! opens it with their private key and wraps it under their KEK as usual. A removed user, even
//! with an old copy of the file and their old passphrase, holds only their own private key and
//! the old master key: neither opens what was sealed to the others.

use ring::hkdf;
use ring::rand::{SecureRandom, SystemRandom};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::crypto::envelope::{self, OpenFailed};
use crate::crypto::keys::{Kek, MasterKey};
use crate::error::{Error, Result};

const INFO: &[u8] = b"confide/v1/sealed-master-key";

/// A user's key pair (the private half wipes itself on drop).
pub(crate) struct UserKeyPair {
    secret: StaticSecret,
    public: PublicKey,
}

fn random32(rng: &SystemRandom) -> Result<Zeroizing<[u8; 32]>> {
    let mut b = Zeroizing::new([0u8; 32]);
    rng.fill(b.as_mut())
        .map_err(|_| Error::Crypto("random source failed"))?;
    Ok(b)
}

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// The AES key for one sealing: HKDF-SHA256 over the shared secret, bound to both public keys.
fn sealing_key(
    shared: &x25519_dalek::SharedSecret,
    ephemeral: &[u8; 32],
    recipient: &[u8; 32],
) -> std::result::Result<Zeroizing<[u8; 32]>, OpenFailed> {
    if !shared.was_contributory() {
        // A low-order public key would make the shared secret predictable.
        return Err(OpenFailed);
    }
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(ephemeral);
    salt[32..].copy_from_slice(recipient);
    let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &salt).extract(shared.as_bytes());
    let okm = prk.expand(&[INFO], Len32).map_err(|_| OpenFailed)?;
    let mut key = Zeroizing::new([0u8; 32]);
    okm.fill(key.as_mut()).map_err(|_| OpenFailed)?;
    Ok(key)
}

impl UserKeyPair {
    pub(crate) fn generate(rng: &SystemRandom) -> Result<Self> {
        let secret = StaticSecret::from(*random32(rng)?);
        let public = PublicKey::from(&secret);
        Ok(Self { secret, public })
    }

    pub(crate) fn public_bytes(&self) -> [u8; 32] {
        *self.public.as_bytes()
    }

    /// The private half, wrapped under the user's KEK. `aad` binds the vault and the user.
    pub(crate) fn wrap(&self, rng: &SystemRandom, kek: &Kek, aad: &[u8]) -> Result<Vec<u8>> {
        envelope::seal(rng, kek.expose(), aad, self.secret.as_bytes())
    }

    pub(crate) fn unwrap(
        kek: &Kek,
        wrapped: &[u8],
        aad: &[u8],
    ) -> std::result::Result<Self, OpenFailed> {
        let plain = envelope::open(kek.expose(), aad, wrapped)?;
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| OpenFailed)?;
        let secret = StaticSecret::from(bytes);
        let public = PublicKey::from(&secret);
        Ok(Self { secret, public })
    }

    /// Open a master key sealed to this key pair by [`seal_master_key`].
    pub(crate) fn open_master_key(
        &self,
        sealed: &[u8],
        aad: &[u8],
    ) -> std::result::Result<MasterKey, OpenFailed> {
        let (ephemeral, envelope) = sealed.split_at_checked(32).ok_or(OpenFailed)?;
        let ephemeral: [u8; 32] = ephemeral.try_into().map_err(|_| OpenFailed)?;
        let shared = self.secret.diffie_hellman(&PublicKey::from(ephemeral));
        let key = sealing_key(&shared, &ephemeral, self.public.as_bytes())?;
        let plain = envelope::open(&key, aad, envelope)?;
        let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| OpenFailed)?;
        Ok(MasterKey::from_bytes(bytes))
    }
}

/// Seal `mk` to the user whose public key is `recipient`: the ephemeral public key, then an
/// envelope of the master key. `aad` binds the vault and the user.
pub(crate) fn seal_master_key(
    rng: &SystemRandom,
    recipient: &[u8],
    mk: &MasterKey,
    aad: &[u8],
) -> Result<Vec<u8>> {
    let recipient: [u8; 32] = recipient.try_into().map_err(|_| Error::Corrupt {
        what: "user public key".into(),
    })?;
    let ephemeral = StaticSecret::from(*random32(rng)?);
    let ephemeral_public = *PublicKey::from(&ephemeral).as_bytes();
    let shared = ephemeral.diffie_hellman(&PublicKey::from(recipient));
    let key = sealing_key(&shared, &ephemeral_public, &recipient).map_err(|_| Error::Corrupt {
        what: "user public key".into(),
    })?;
    let mut out = ephemeral_public.to_vec();
    out.extend_from_slice(&envelope::seal(rng, &key, aad, mk.expose())?);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_recipient_opens_a_sealed_master_key() {
        let rng = SystemRandom::new();
        let alice = UserKeyPair::generate(&rng).unwrap();
        let mallory = UserKeyPair::generate(&rng).unwrap();
        let mk = MasterKey::generate(&rng).unwrap();
        let sealed = seal_master_key(&rng, &alice.public_bytes(), &mk, b"aad").unwrap();
        let opened = alice.open_master_key(&sealed, b"aad").unwrap();
        assert_eq!(opened.expose(), mk.expose());
        assert!(mallory.open_master_key(&sealed, b"aad").is_err());
        assert!(alice.open_master_key(&sealed, b"other aad").is_err());
        let mut flipped = sealed.clone();
        flipped[5] ^= 1;
        assert!(alice.open_master_key(&flipped, b"aad").is_err());
        assert!(alice.open_master_key(&sealed[..20], b"aad").is_err());
    }

    #[test]
    fn a_low_order_public_key_is_refused() {
        let rng = SystemRandom::new();
        let mk = MasterKey::generate(&rng).unwrap();
        assert!(seal_master_key(&rng, &[0u8; 32], &mk, b"aad").is_err());
    }

    #[test]
    fn the_private_half_round_trips_only_under_its_kek() {
        let rng = SystemRandom::new();
        let pair = UserKeyPair::generate(&rng).unwrap();
        let kek = Kek::from_bytes([7; 32]);
        let wrapped = pair.wrap(&rng, &kek, b"u").unwrap();
        let back = UserKeyPair::unwrap(&kek, &wrapped, b"u").unwrap();
        assert_eq!(back.public_bytes(), pair.public_bytes());
        assert!(UserKeyPair::unwrap(&Kek::from_bytes([8; 32]), &wrapped, b"u").is_err());
    }
}
