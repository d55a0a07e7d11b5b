//! Passphrase to key-encryption key, with Argon2id, and the limits on what a vault file may ask
//! of it.

use zeroize::Zeroizing;

use crate::crypto::keys::Kek;
use crate::error::{Error, Result};

/// Largest memory cost this build accepts at all, in KiB (1 GiB): no [`KdfLimits`] can allow
/// more, so no configuration can let a file stall or exhaust the machine (age's
/// `ExcessiveWork`). What an open accepts by default is lower: [`KdfLimits::default`].
pub const MAX_MEMORY_KIB: u32 = 1 << 20;
/// Largest time cost this build accepts at all.
pub const MAX_ITERATIONS: u32 = 16;
/// Largest parallelism this build accepts at all.
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
    /// Parameters within Argon2's own floor and this build's ceiling (m <= 1 GiB, t <= 16,
    /// p <= 8; above it, [`Error::ExcessiveWork`]).
    ///
    /// Anything at or above Argon2's minimum is accepted so tests and benchmarks can run cheaply;
    /// the vault's default stays [`KdfParams::default`].
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self> {
        if memory_kib > MAX_MEMORY_KIB {
            return Err(Error::ExcessiveWork { what: MEMORY });
        }
        if iterations > MAX_ITERATIONS {
            return Err(Error::ExcessiveWork { what: ITERATIONS });
        }
        if parallelism > MAX_PARALLELISM {
            return Err(Error::ExcessiveWork { what: PARALLELISM });
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

    /// Memory times passes, in KiB: what one derivation costs. Argon2id fills its memory once
    /// per pass, so its time grows with the product (measured: 256 MiB at t = 1 and 64 MiB at
    /// t = 4 take the same time); the lanes share the memory and, without threads, do not add
    /// to it.
    pub fn work(&self) -> u64 {
        u64::from(self.memory_kib) * u64::from(self.iterations)
    }
}

const MEMORY: &str = "argon2 memory";
const ITERATIONS: &str = "argon2 iterations";
const PARALLELISM: &str = "argon2 parallelism";
const WORK: &str = "argon2 memory times iterations";

/// The most work Argon2id parameters read from a vault file may ask for, checked before any
/// derivation: a user row is data an attacker with write access to the file can edit, and
/// each login derives a key with the costs it names (`VaultConfig::with_kdf_limits`).
///
/// The default keeps one login under about two seconds on a 2-core machine shared with other
/// work (below) while accepting every cost this crate or RFC 9106's second recommendation
/// would choose; an app that sets higher costs raises these to match (costs it sets itself
/// are always accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfLimits {
    memory_kib: u32,
    iterations: u32,
    parallelism: u32,
    work: u64,
}

impl Default for KdfLimits {
    /// m <= 256 MiB, t <= 8, p <= 4, and m × t <= 1 GiB (1,048,576 KiB-passes).
    ///
    /// Measured on the 2-core virtual machine of the README's benchmarks (one Argon2id
    /// derivation, best of three, release build; in parentheses, with two other builds
    /// running): m = 64 MiB, t = 3 (the default) 0.11 s (0.14 s); 128 MiB × 8, the work bound,
    /// 0.54 s (0.70 s); 256 MiB × 8, both per-parameter bounds at once, which the work bound
    /// refuses, 1.24 s (1.34 s), too close to two seconds for a login on a busier machine.
    /// A file asking m = 1 GiB, t = 16 is sixteen times the work bound.
    fn default() -> Self {
        Self {
            memory_kib: 256 * 1024,
            iterations: 8,
            parallelism: 4,
            work: 1 << 20,
        }
    }
}

impl KdfLimits {
    /// Limits of memory (KiB), passes and lanes; the work bound is then their product, so it
    /// adds nothing until [`KdfLimits::with_max_work`] lowers it. Limits above this build's
    /// ceiling (m <= 1 GiB, t <= 16, p <= 8) are refused ([`Error::InvalidInput`]).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Result<Self> {
        if memory_kib > MAX_MEMORY_KIB
            || iterations > MAX_ITERATIONS
            || parallelism > MAX_PARALLELISM
        {
            return Err(Error::InvalidInput {
                what: "key derivation limits",
                reason: format!(
                    "above this build's ceiling (m <= {MAX_MEMORY_KIB} KiB, t <= \
                     {MAX_ITERATIONS}, p <= {MAX_PARALLELISM})"
                ),
            });
        }
        Ok(Self {
            memory_kib,
            iterations,
            parallelism,
            work: u64::from(memory_kib) * u64::from(iterations),
        })
    }

    /// These limits with a bound on memory × passes (KiB), which is what a derivation's time
    /// follows ([`KdfParams::work`]).
    pub fn with_max_work(mut self, kib_passes: u64) -> Self {
        self.work = kib_passes;
        self
    }

    /// Largest memory cost accepted, in KiB.
    pub fn memory_kib(&self) -> u32 {
        self.memory_kib
    }
    /// Largest time cost accepted.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }
    /// Largest parallelism accepted.
    pub fn parallelism(&self) -> u32 {
        self.parallelism
    }
    /// Largest memory × passes accepted, in KiB.
    pub fn max_work(&self) -> u64 {
        self.work
    }

    /// These limits, raised where needed to accept `params`: the costs a configuration sets
    /// passphrases with are the app's own choice, and a login must accept what it wrote.
    pub(crate) fn covering(self, params: KdfParams) -> Self {
        Self {
            memory_kib: self.memory_kib.max(params.memory_kib),
            iterations: self.iterations.max(params.iterations),
            parallelism: self.parallelism.max(params.parallelism),
            work: self.work.max(params.work()),
        }
    }

    /// `params` if they are within these limits, else [`Error::ExcessiveWork`] naming the
    /// first one they pass. Nothing is derived either way.
    pub fn check(&self, params: KdfParams) -> Result<KdfParams> {
        let what = if params.memory_kib > self.memory_kib {
            MEMORY
        } else if params.iterations > self.iterations {
            ITERATIONS
        } else if params.parallelism > self.parallelism {
            PARALLELISM
        } else if params.work() > self.work {
            WORK
        } else {
            return Ok(params);
        };
        Err(Error::ExcessiveWork { what })
    }

    /// Costs as a user row stores them (memory KiB, passes, lanes), checked against this
    /// build's ceiling and Argon2's floor, then against these limits.
    pub(crate) fn admit(&self, (m, t, p): (u32, u32, u32)) -> Result<KdfParams> {
        self.check(KdfParams::new(m, t, p)?)
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
            Err(Error::ExcessiveWork { what: MEMORY })
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
    fn default_limits_accept_the_default_costs_and_refuse_a_hostile_file() {
        let limits = KdfLimits::default();
        assert_eq!(
            limits.check(KdfParams::default()).ok(),
            Some(KdfParams::default())
        );
        // RFC 9106's second recommended option: 64 MiB, t = 3, p = 4.
        assert!(
            limits
                .check(KdfParams::new(64 * 1024, 3, 4).unwrap())
                .is_ok()
        );
        // Each bound on its own, then the product of two that are each within theirs.
        for ((m, t, p), what) in [
            ((MAX_MEMORY_KIB, MAX_ITERATIONS, MAX_PARALLELISM), MEMORY),
            ((256 * 1024 + 1, 1, 1), MEMORY),
            ((64, 9, 1), ITERATIONS),
            ((64, 1, 5), PARALLELISM),
            ((256 * 1024, 8, 1), WORK),
            ((128 * 1024 + 1, 8, 1), WORK),
        ] {
            let params = KdfParams::new(m, t, p).unwrap();
            assert!(
                matches!(limits.check(params), Err(Error::ExcessiveWork { what: w }) if w == what),
                "{params:?}"
            );
        }
        assert!(
            limits
                .check(KdfParams::new(128 * 1024, 8, 4).unwrap())
                .is_ok()
        );
        // The same from a stored row, and a row past the build's ceiling.
        assert!(limits.admit((64, 1, 1)).is_ok());
        assert!(matches!(
            limits.admit((MAX_MEMORY_KIB + 1, 1, 1)),
            Err(Error::ExcessiveWork { what: MEMORY })
        ));
    }

    #[test]
    fn limits_can_be_raised_to_the_ceiling_and_cover_the_configured_costs() {
        let raised = KdfLimits::new(64, MAX_ITERATIONS, MAX_PARALLELISM).unwrap();
        assert!(raised.check(KdfParams::new(64, 16, 8).unwrap()).is_ok());
        assert!(matches!(
            raised.check(KdfParams::new(72, 1, 1).unwrap()),
            Err(Error::ExcessiveWork { what: MEMORY })
        ));
        assert_eq!(raised.max_work(), 64 * 16);
        let bounded = raised.with_max_work(64 * 4);
        assert!(matches!(
            bounded.check(KdfParams::new(64, 5, 1).unwrap()),
            Err(Error::ExcessiveWork { what: WORK })
        ));
        assert!(matches!(
            KdfLimits::new(MAX_MEMORY_KIB, MAX_ITERATIONS + 1, 1),
            Err(Error::InvalidInput { .. })
        ));
        // A configuration's own costs are always within the limits it is opened with.
        let own = KdfParams::new(512 * 1024, 4, 1).unwrap();
        assert!(KdfLimits::default().check(own).is_err());
        let covered = KdfLimits::default().covering(own);
        assert!(covered.check(own).is_ok());
        assert_eq!(covered.iterations(), 8);
        assert_eq!(covered.max_work(), 2 << 20);
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
