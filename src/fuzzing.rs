//! Entry points for the fuzz targets in `fuzz/` (built only with the `fuzzing` feature): every
//! decoder of bytes read from a vault file or from a file handed to `audit-verify`, fed whatever
//! the fuzzer makes. Each must return an error or a value, never panic. The property tests in
//! `decoders_robust.rs` feed the same decoders on the stable toolchain.
//!
//! Disclosure packages are only ever written, never read back, so they have no decoder here.

use crate::audit::{Anchor, EntryView, StoredEntry, entry_hash, parse_run};
use crate::crypto::envelope;
use crate::crypto::keys::Kek;
use crate::crypto::sealed::UserKeyPair;
use crate::crypto::signing::verify_checkpoint;
use crate::ids::VaultId;
use crate::vault::VerifiedState;

/// Split `data` at `at`, or return it whole and an empty tail.
fn split(data: &[u8], at: usize) -> (&[u8], &[u8]) {
    data.split_at_checked(at).unwrap_or((data, &[]))
}

/// A field envelope opened under a fixed key (the bytes as stored in a field row).
pub fn envelope(data: &[u8]) {
    let _ = envelope::open(&[7; 32], b"aad", data);
}

/// A decrypted field value (the codec's bytes, after the envelope opened).
pub fn codec(data: &[u8]) {
    let _ = crate::codec::decode(data);
}

/// One audit row: the first 8 bytes are its sequence number, the next 32 the previous row's
/// hash, the next 32 its hash, the rest its entry bytes (of any layout version).
pub fn audit_entry(data: &[u8]) {
    let (seq, rest) = split(data, 8);
    let seq = seq.try_into().map(i64::from_be_bytes).unwrap_or(0);
    let (prev, rest) = split(rest, 32);
    let (hash, entry) = split(rest, 32);
    let _ = EntryView::parse(entry);
    let _ = entry_hash(prev, seq, entry);
    let _ = parse_run(
        &[StoredEntry::new(seq, entry.to_vec(), hash.to_vec())],
        prev,
    );
}

/// A stored checkpoint: public key (32 bytes), sequence number (8), entry hash (32), signature.
pub fn checkpoint(data: &[u8]) {
    let (public, rest) = split(data, 32);
    let (seq, rest) = split(rest, 8);
    let seq = seq.try_into().map(u64::from_be_bytes).unwrap_or(0);
    let (hash, sig) = split(rest, 32);
    let Ok(vault) = VaultId::from_slice(&[0x5a; 16]) else {
        return;
    };
    let _ = verify_checkpoint(public, &vault, seq, hash, sig);
}

/// An anchor file or a verification state file (JSON, as `audit-verify` is handed them).
pub fn anchor(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = Anchor::from_json(&text);
    let _ = VerifiedState::from_json(&text);
}

/// A user's wrapped private key and a master key sealed to them (as stored in `users`).
pub fn sealed_keys(data: &[u8]) {
    let (wrapped, sealed) = split(data, data.len() / 2);
    let kek = Kek::from_bytes([9; 32]);
    let _ = UserKeyPair::unwrap(&kek, wrapped, b"aad");
    let _ = kek.unwrap(wrapped, b"aad");
    if let Ok(pair) = UserKeyPair::generate(&ring::rand::SystemRandom::new()) {
        let _ = pair.open_master_key(sealed, b"aad");
    }
}
