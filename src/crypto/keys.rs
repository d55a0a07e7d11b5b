//! The key hierarchy: key-encryption keys, the master key, its HKDF subkeys and data keys.
//!
//! ```text
//! passphrase --Argon2id--> KEK --wraps--> MK --HKDF--> wrap key --wraps--> data keys
//!                                            \--HKDF--> blind-index key
//!                                            \--HKDF--> fact key (MACs over cleartext facts)
//! ```
//!
//! Every key is a distinct type over [`SecretBytes`], which wipes itself on drop and has no
//! derived `Debug`, so key bytes cannot reach a log through formatting.

use std::fmt;

use ring::hkdf;
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::crypto::envelope::{self, OpenFailed};
use crate::error::{Error, Result};
use crate::ids::VaultId;

/// 32 secret bytes, wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub(crate) struct SecretBytes([u8; 32]);

impl SecretBytes {
    fn random(rng: &SystemRandom) -> Result<Self> {
        let mut b = [0u8; 32];
        rng.fill(&mut b)
            .map_err(|_| Error::Crypto("random source failed"))?;
        Ok(Self(b))
    }
}

macro_rules! secret_key {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Zeroize, ZeroizeOnDrop)]
        pub(crate) struct $name(SecretBytes);

        impl $name {
            #[allow(dead_code, reason = "not every key type is built from raw bytes")]
            pub(crate) fn from_bytes(b: [u8; 32]) -> Self {
                Self(SecretBytes(b))
            }
            /// The key bytes, for handing to a primitive. Never store or print them.
            pub(crate) fn expose(&self) -> &[u8; 32] {
                &self.0 .0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(concat!(stringify!($name), "([redacted])"))
            }
        }
    };
}

secret_key!(
    /// A user's key-encryption key, derived from their passphrase.
    Kek
);
secret_key!(
    /// The vault's master key: random, one wrapped copy per user.
    MasterKey
);
secret_key!(
    /// Wraps data keys; derived from the master key.
    WrapKey
);
secret_key!(
    /// Keys blind indexes; derived from the master key, or, after a master-key rotation,
    /// stored wrapped under the wrap key (the indexes it made stay valid).
    BlindIndexKey
);
secret_key!(
    /// Encrypts one (owner, compartment, version)'s fields.
    DataKey
);
secret_key!(
    /// Authenticates the cleartext facts a decision trusts (roles, care teams, consents, field
    /// sets): derived from the master key, so a master-key rotation re-authenticates them and a
    /// removed user's old key forges nothing.
    FactKey
);

struct Len32;
impl hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

impl MasterKey {
    pub(crate) fn generate(rng: &SystemRandom) -> Result<Self> {
        Ok(Self(SecretBytes::random(rng)?))
    }

    /// HKDF-SHA256 with the vault id as salt and `confide/v1/<purpose>` as info.
    fn derive(&self, vault: &VaultId, purpose: &str) -> Result<SecretBytes> {
        let info = format!("confide/v1/{purpose}");
        let info = [info.as_bytes()];
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, vault.as_bytes()).extract(self.expose());
        let okm = prk
            .expand(&info, Len32)
            .map_err(|_| Error::Crypto("hkdf expand"))?;
        let mut out = SecretBytes([0u8; 32]);
        okm.fill(&mut out.0)
            .map_err(|_| Error::Crypto("hkdf fill"))?;
        Ok(out)
    }

    pub(crate) fn wrap_key(&self, vault: &VaultId) -> Result<WrapKey> {
        Ok(WrapKey(self.derive(vault, "wrap")?))
    }

    pub(crate) fn blind_index_key(&self, vault: &VaultId) -> Result<BlindIndexKey> {
        Ok(BlindIndexKey(self.derive(vault, "blind-index")?))
    }

    pub(crate) fn fact_key(&self, vault: &VaultId) -> Result<FactKey> {
        Ok(FactKey(self.derive(vault, "facts")?))
    }

    /// Seals the audit signing key.
    pub(crate) fn audit_key_wrap(&self, vault: &VaultId) -> Result<WrapKey> {
        Ok(WrapKey(self.derive(vault, "audit-key")?))
    }
}

impl DataKey {
    pub(crate) fn generate(rng: &SystemRandom) -> Result<Self> {
        Ok(Self(SecretBytes::random(rng)?))
    }
}

impl Kek {
    /// Wrap the master key for one user. `aad` binds the vault and the user.
    pub(crate) fn wrap(&self, rng: &SystemRandom, mk: &MasterKey, aad: &[u8]) -> Result<Vec<u8>> {
        envelope::seal(rng, self.expose(), aad, mk.expose())
    }

    /// Unwrap the master key; fails if the passphrase (hence this KEK) is wrong.
    pub(crate) fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<MasterKey, OpenFailed> {
        unwrap32(self.expose(), wrapped, aad).map(MasterKey)
    }
}

impl WrapKey {
    pub(crate) fn wrap(&self, rng: &SystemRandom, dk: &DataKey, aad: &[u8]) -> Result<Vec<u8>> {
        envelope::seal(rng, self.expose(), aad, dk.expose())
    }

    pub(crate) fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<DataKey, OpenFailed> {
        unwrap32(self.expose(), wrapped, aad).map(DataKey)
    }
}

impl WrapKey {
    /// Wrap the blind-index key, which a master-key rotation keeps (its values are stored).
    pub(crate) fn wrap_blind(
        &self,
        rng: &SystemRandom,
        key: &BlindIndexKey,
        aad: &[u8],
    ) -> Result<Vec<u8>> {
        envelope::seal(rng, self.expose(), aad, key.expose())
    }

    pub(crate) fn unwrap_blind(
        &self,
        wrapped: &[u8],
        aad: &[u8],
    ) -> Result<BlindIndexKey, OpenFailed> {
        unwrap32(self.expose(), wrapped, aad).map(BlindIndexKey)
    }
}

fn unwrap32(key: &[u8; 32], wrapped: &[u8], aad: &[u8]) -> Result<SecretBytes, OpenFailed> {
    let plain = envelope::open(key, aad, wrapped)?;
    let bytes: [u8; 32] = plain.as_slice().try_into().map_err(|_| OpenFailed)?;
    Ok(SecretBytes(bytes))
}

impl BlindIndexKey {
    /// HMAC-SHA256 of a normalised value under a per-field key, for exact-match lookup.
    ///
    /// It leaks equality: two clients with the same name and date of birth have the same index.
    pub(crate) fn index(&self, field: &str, normalised: &[u8]) -> Vec<u8> {
        let field_key = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, self.expose()),
            field.as_bytes(),
        );
        let tag = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, field_key.as_ref()),
            normalised,
        );
        tag.as_ref().to_vec()
    }
}

impl FactKey {
    /// HMAC-SHA256 over `vault ‖ kind ‖ id ‖ digest`: binds a digest (or a short summary) of
    /// stored facts to the vault and to the one place (scope or parent row) it describes.
    pub(crate) fn mac(&self, vault: &VaultId, kind: &str, id: &[u8], digest: &[u8]) -> [u8; 32] {
        let key = hmac::Key::new(hmac::HMAC_SHA256, self.expose());
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(b"confide/fact-mac/v1");
        ctx.update(vault.as_bytes());
        ctx.update(&(kind.len() as u32).to_be_bytes());
        ctx.update(kind.as_bytes());
        ctx.update(&(id.len() as u32).to_be_bytes());
        ctx.update(id);
        ctx.update(digest);
        let mut out = [0u8; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// Whether `stored` is the MAC of `digest` at (kind, id), compared in constant time.
    pub(crate) fn verify(
        &self,
        vault: &VaultId,
        kind: &str,
        id: &[u8],
        digest: &[u8],
        stored: &[u8],
    ) -> bool {
        let want = self.mac(vault, kind, id, digest);
        // Constant time over the bytes: the length is public.
        want.len() == stored.len()
            && want
                .iter()
                .zip(stored)
                .fold(0u8, |acc, (a, b)| acc | (a ^ b))
                == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fact_mac_binds_vault_kind_id_and_digest() {
        let k = FactKey::from_bytes([3; 32]);
        let v = VaultId::from_slice(&[1; 16]).unwrap();
        let m = k.mac(&v, "client", &[2; 16], &[9; 32]);
        assert!(k.verify(&v, "client", &[2; 16], &[9; 32], &m));
        assert!(!k.verify(
            &VaultId::from_slice(&[5; 16]).unwrap(),
            "client",
            &[2; 16],
            &[9; 32],
            &m
        ));
        assert!(!k.verify(&v, "case", &[2; 16], &[9; 32], &m));
        assert!(!k.verify(&v, "client", &[4; 16], &[9; 32], &m));
        assert!(!k.verify(&v, "client", &[2; 16], &[8; 32], &m));
        assert!(!k.verify(&v, "client", &[2; 16], &[9; 32], &m[..31]));
        assert!(!FactKey::from_bytes([4; 32]).verify(&v, "client", &[2; 16], &[9; 32], &m));
    }

    fn assert_wipes_on_drop<T: ZeroizeOnDrop>() {}

    #[test]
    fn every_key_type_wipes_on_drop() {
        assert_wipes_on_drop::<Kek>();
        assert_wipes_on_drop::<MasterKey>();
        assert_wipes_on_drop::<WrapKey>();
        assert_wipes_on_drop::<BlindIndexKey>();
        assert_wipes_on_drop::<DataKey>();
    }

    #[test]
    fn zeroize_clears_key_bytes() {
        let rng = SystemRandom::new();
        let mut mk = MasterKey::generate(&rng).unwrap();
        assert_ne!(mk.expose(), &[0u8; 32]);
        mk.zeroize();
        assert_eq!(mk.expose(), &[0u8; 32]);
    }

    #[test]
    fn debug_is_redacted() {
        let k = DataKey::from_bytes([0x41; 32]);
        let s = format!("{k:?}");
        assert_eq!(s, "DataKey([redacted])");
    }

    #[test]
    fn subkeys_differ_by_purpose_and_vault() {
        let rng = SystemRandom::new();
        let mk = MasterKey::generate(&rng).unwrap();
        let v1 = VaultId::from_slice(&[1; 16]).unwrap();
        let v2 = VaultId::from_slice(&[2; 16]).unwrap();
        let w1 = mk.wrap_key(&v1).unwrap();
        assert_ne!(w1.expose(), mk.blind_index_key(&v1).unwrap().expose());
        assert_ne!(w1.expose(), mk.wrap_key(&v2).unwrap().expose());
        assert_eq!(w1.expose(), mk.wrap_key(&v1).unwrap().expose());
    }

    #[test]
    fn wrapped_keys_are_bound_to_their_aad() {
        let rng = SystemRandom::new();
        let kek = Kek::from_bytes([3; 32]);
        let mk = MasterKey::generate(&rng).unwrap();
        let w = kek.wrap(&rng, &mk, b"user-a").unwrap();
        assert_eq!(kek.unwrap(&w, b"user-a").unwrap().expose(), mk.expose());
        assert!(kek.unwrap(&w, b"user-b").is_err());
        assert!(Kek::from_bytes([4; 32]).unwrap(&w, b"user-a").is_err());
    }

    #[test]
    fn blind_index_is_keyed_and_per_field() {
        let a = BlindIndexKey::from_bytes([1; 32]);
        let b = BlindIndexKey::from_bytes([2; 32]);
        assert_eq!(a.index("f", b"x"), a.index("f", b"x"));
        assert_ne!(a.index("f", b"x"), a.index("g", b"x"));
        assert_ne!(a.index("f", b"x"), b.index("f", b"x"));
        assert_ne!(a.index("f", b"x"), a.index("f", b"y"));
    }
}
