//! Cryptography: passphrase KDF, the key hierarchy and field envelopes.
//!
//! ring, argon2, x25519-dalek (user key pairs) and zeroize; nothing here touches storage.

pub(crate) mod envelope;
pub(crate) mod kdf;
pub(crate) mod keys;
pub(crate) mod sealed;
pub(crate) mod signing;
