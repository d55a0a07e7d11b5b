//! Every decoder of bytes read from a vault file or a file the compliance officer is handed
//! (envelopes, sealed keys, values, audit rows, checkpoints, anchors, verification states),
//! given arbitrary input: an error or a value, never a panic. Property tests stand in for
//! coverage-guided fuzzing, which needs a toolchain this project does not build with.

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::audit::{Anchor, EntryView, StoredEntry, entry_hash, parse_run};
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
