//! Entry points for the fuzz targets in `fuzz/` (built with the `fuzzing` feature, and for the
//! tests): every decoder of bytes read from a vault file or from a file handed to `audit-verify`
//! (envelopes, sealed keys, values, audit rows, checkpoints, anchors, verification states,
//! witness files), fed
//! whatever the fuzzer makes. Each must return an error or a value, never panic. The property
//! tests below feed the same decoders under plain `cargo test`, on the stable toolchain that
//! coverage-guided fuzzing (nightly) does not run on.
//!
//! Disclosure packages are only ever written, never read back, so they have no decoder here.

use crate::audit::{Anchor, EntryView, StoredEntry, WitnessFile, entry_hash, parse_run};
use crate::crypto::envelope;
use crate::crypto::keys::Kek;
use crate::crypto::sealed::UserKeyPair;
use crate::crypto::signing::{Seal, verify_checkpoint, verify_checkpoint_v2, verify_restore};
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

/// A stored checkpoint: public key (32 bytes), sequence number (8), entry hash (32), time (8),
/// state (1), signature; checked as a checkpoint of version 1, of version 2 (with the time and
/// state), and as a restore event.
pub fn checkpoint(data: &[u8]) {
    let (public, rest) = split(data, 32);
    let (seq, rest) = split(rest, 8);
    let seq = seq.try_into().map(u64::from_be_bytes).unwrap_or(0);
    let (hash, rest) = split(rest, 32);
    let (at, rest) = split(rest, 8);
    let at_ms = at.try_into().map(i64::from_be_bytes).unwrap_or(0);
    let (state, sig) = split(rest, 1);
    let Ok(vault) = VaultId::from_slice(&[0x5a; 16]) else {
        return;
    };
    let _ = verify_checkpoint(public, &vault, seq, hash, sig);
    let seal = Seal {
        seq,
        hash,
        at_ms,
        state: state.first().copied().unwrap_or(0),
    };
    let _ = verify_checkpoint_v2(public, &vault, &seal, sig);
    let _ = verify_restore(public, &vault, &seal, sig);
}

/// A witness file (as `audit-verify --witness` is handed it), each line checked.
pub fn witness(data: &[u8]) {
    if let Ok(file) = WitnessFile::parse(data) {
        for line in &file.lines {
            let _ = line.verifies();
        }
    }
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    use crate::audit::{Anchor, EntryView, StoredEntry, WitnessFile, entry_hash, parse_run};
    use crate::crypto::envelope;
    use crate::crypto::keys::Kek;
    use crate::crypto::sealed::UserKeyPair;
    use crate::crypto::signing::verify_checkpoint;
    use crate::ids::VaultId;
    use crate::stored::{Cell, EntryCells, canonical_bytes};
    use crate::vault::VerifiedState;

    fn cell() -> impl Strategy<Value = Cell> {
        prop_oneof![
            Just(Cell::Null),
            any::<i64>().prop_map(Cell::Integer),
            any::<f64>().prop_map(Cell::Real),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Cell::Text),
            proptest::collection::vec(any::<u8>(), 0..40).prop_map(Cell::Blob),
        ]
    }

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    proptest! {
        #[test]
        fn every_fuzz_entry_point(data in bytes(256)) {
            envelope(&data);
            codec(&data);
            audit_entry(&data);
            checkpoint(&data);
            anchor(&data);
            sealed_keys(&data);
            witness(&data);
        }

        #[test]
        fn witness_shaped_lines(event in "[a-z]{0,9}", seq in "[0-9+-]{0,22}", hash in "[0-9a-fA-F]{0,66}", at in "[0-9]{0,20}", sig in "[0-9a-f]{0,130}", torn in any::<bool>()) {
            let vault = "00112233445566778899aabbccddeeff";
            let key = "11".repeat(32);
            let line = format!("confide-witness/v1 {event} {vault} {seq} {hash} {at} {key} {sig}");
            let text = if torn { line.clone() } else { format!("{line}\n{line}\n") };
            // Random hex is never a valid signature; no shape of line panics.
            if let Ok(file) = WitnessFile::parse(text.as_bytes()) {
                prop_assert!(file.lines.iter().all(|l| !l.verifies()));
            }
        }

        #[test]
        fn envelopes(key in any::<[u8; 32]>(), aad in bytes(32), data in bytes(128)) {
            let _ = envelope::open(&key, &aad, &data);
        }

        #[test]
        fn wrapped_user_secrets_and_sealed_master_keys(kek in any::<[u8; 32]>(), data in bytes(128)) {
            let kek = Kek::from_bytes(kek);
            let _ = UserKeyPair::unwrap(&kek, &data, b"aad");
            let rng = ring::rand::SystemRandom::new();
            let pair = UserKeyPair::generate(&rng).unwrap();
            let _ = pair.open_master_key(&data, b"aad");
        }

        #[test]
        fn audit_rows(seq in any::<i64>(), version in 0u8..5, entry in bytes(200), prev in bytes(40), hash in bytes(40)) {
            let mut entry = entry;
            if let Some(first) = entry.first_mut() {
                *first = version;
            }
            let _ = entry_hash(&prev, seq, &entry);
            let _ = EntryView::parse(&entry);
            let _ = parse_run(&[StoredEntry::new(seq, entry, hash)], &prev);
        }

        #[test]
        fn audit_rows_before_format_6(cells in proptest::collection::vec(cell(), 10), seq in any::<i64>(), prev in bytes(40)) {
            let cells: [Cell; 10] = cells.try_into().unwrap();
            let entry = canonical_bytes(&EntryCells(cells));
            let _ = entry_hash(&prev, seq, &entry);
            let _ = parse_run(&[StoredEntry::new(seq, entry, prev.clone())], &prev);
        }

        #[test]
        fn checkpoints(public in bytes(40), seq in any::<u64>(), hash in bytes(40), sig in bytes(80)) {
            let vault: VaultId = "00112233445566778899aabbccddeeff".parse().unwrap();
            // Random bytes are never a valid signature (but must not panic either).
            prop_assert!(!verify_checkpoint(&public, &vault, seq, &hash, &sig));
        }

        #[test]
        fn anchors_and_states(text in ".{0,200}") {
            let _ = Anchor::from_json(&text);
            let _ = VerifiedState::from_json(&text);
        }

        #[test]
        fn anchor_shaped_json(seq in any::<u64>(), hash in "[0-9a-f]{0,70}", key in "[0-9a-fx]{0,70}", sig in "[0-9a-f]{0,140}") {
            let text = format!(
                r#"{{"format":"confide-anchor/v1","vault_id":"00112233445566778899aabbccddeeff","seq":{seq},"entry_hash":"{hash}","public_key":"{key}","signature":"{sig}","signed_at":""}}"#
            );
            prop_assert!(Anchor::from_json(&text).is_err());
        }
    }
}
