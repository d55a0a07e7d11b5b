//! Cryptography: passphrase KDF, the key hierarchy and field envelopes.
//!
//! Only ring, argon2 and zeroize are used; nothing here touches storage.

pub(crate) mod envelope;
pub(crate) mod kdf;
pub(crate) mod keys;
pub(crate) mod signing;
