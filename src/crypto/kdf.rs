//! Passphrase to key-encryption key, with Argon2id.

use zeroize::Zeroizing;

use crate::crypto::keys::Kek;
use crate::error::{Error, Result};

/// Largest memory cost accepted from a vault file, in KiB (1 GiB). A file asking for more is
/// refused rather than letting it stall or exhaust the machine (age's `ExcessiveWork`).
pub const MAX_MEMORY_KIB: u32 = 1 << 20;
/// Largest time cost accepted.
pub const MAX_ITERATIONS: u32 = 16;
/// Largest parallelism accepted.
pub const MAX_PARALLELISM: u32 = 8;

/// Argon2id cost parameters, stored per user next to their salt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
}

impl Default for KdfParams {
    /// RFC 9106's second recommended option with p = 1: m = 64 MiB, t = 3. Above OWASP's floor
    /// (19 MiB, t = 2); roughly a quarter of a second on a current laptop.
    fn default() -> Self {
        Self {
            memory_kib: 64 * 1024,
            iterations: 3,
            parallelism: 1,
        }
    }
}

impl KdfParams {
    /// Parameters within Argon2's own floor and this crate's ceiling.
    ///
    /// Anything at or above Argon2's minimum is accepted so tests and benchmarks can run cheaply;
    /// the vault's default stays [`KdfParams::default`].
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self> {
        if memory_kib > MAX_MEMORY_KIB {
            return Err(Error::ExcessiveWork { what: "memory" });
        }
        if iterations > MAX_ITERATIONS {
            return Err(Error::ExcessiveWork { what: "iterations" });
        }
        if parallelism > MAX_PARALLELISM {
            return Err(Error::ExcessiveWork {
                what: "parallelism",
            });
        }
        argon2::Params::new(memory_kib, iterations, parallelism, Some(32)).map_err(|_| {
            Error::InvalidInput {
                what: "key derivation parameters",
                reason: "below Argon2's minimum (m >= 8 KiB per lane, t >= 1, p >= 1)".into(),
            }
        })?;
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
        })
    }

    /// Memory cost in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }
    /// Time cost (passes).
    pub fn iterations(&self) -> u32 {
        self.iterations
    }
    /// Lanes.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }
}

/// Derive a user's key-encryption key from their passphrase.
pub(crate) fn derive_kek(passphrase: &[u8], salt: &[u8], params: KdfParams) -> Result<Kek> {
    // Re-validate: params may come from a file an attacker wrote.
    let params = KdfParams::new(params.memory_kib, params.iterations, params.parallelism)?;
    let p = argon2::Params::new(
        params.memory_kib,
        params.iterations,
        params.parallelism,
        Some(32),
    )
    .map_err(|_| Error::Crypto("argon2 parameters"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, p);
    let mut out = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, &mut *out)
        .map_err(|_| Error::Crypto("argon2 derivation"))?;
    Ok(Kek::from_bytes(*out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_strong() {
        let d = KdfParams::default();
        assert_eq!(
            (d.memory_kib(), d.iterations(), d.parallelism()),
            (65536, 3, 1)
        );
    }

    #[test]
    fn ceiling_and_floor_are_enforced() {
        assert!(matches!(
            KdfParams::new(MAX_MEMORY_KIB + 1, 1, 1),
            Err(Error::ExcessiveWork { what: "memory" })
        ));
        assert!(matches!(
            KdfParams::new(64, 17, 1),
            Err(Error::ExcessiveWork { .. })
        ));
        assert!(matches!(
            KdfParams::new(1, 1, 1),
            Err(Error::InvalidInput { .. })
        ));
        assert!(KdfParams::new(8, 1, 1).is_ok());
    }

    #[test]
    fn derivation_depends_on_passphrase_and_salt() {
        let p = KdfParams::new(8, 1, 1).unwrap();
        let a = derive_kek(b"correct horse", b"saltsaltsaltsalt", p).unwrap();
        let b = derive_kek(b"correct horse", b"saltsaltsaltsalt", p).unwrap();
        let c = derive_kek(b"correct horsf", b"saltsaltsaltsalt", p).unwrap();
        let d = derive_kek(b"correct horse", b"saltsaltsaltsalu", p).unwrap();
        assert_eq!(a.expose(), b.expose());
        assert_ne!(a.expose(), c.expose());
        assert_ne!(a.expose(), d.expose());
    }
}
