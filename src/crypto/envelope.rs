//! AEAD envelopes: AES-256-GCM with a random nonce and associated data rebuilt from context.
//!
//! Envelope bytes: `version (1) ‖ nonce (12) ‖ ciphertext ‖ tag (16)`, 29 bytes of overhead.
//! The associated data is never stored: the reader rebuilds it from where it found the envelope
//! (vault, table, owner, record, field, key version), so an envelope moved anywhere else fails to
//! open. See `docs/design.md` for the byte layout.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::ids::VaultId;

/// Envelope format version, the first byte of every envelope.
pub(crate) const ENVELOPE_V1: u8 = 1;
/// Version of a field envelope written since format 8: it carries the write of its record it
/// was sealed in, also bound into its associated data.
pub(crate) const ENVELOPE_V2: u8 = 2;
/// Bytes an envelope adds to its plaintext (a field envelope of version 2 adds 8 more: its
/// write number).
pub const ENVELOPE_OVERHEAD: usize = 1 + NONCE_LEN + 16;

/// Authentication failed: wrong key, or changed, moved or truncated bytes. Carries nothing, so
/// no ciphertext or key can leak through it; callers turn it into an error naming the place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenFailed;

fn aead_key(key: &[u8; 32]) -> Result<LessSafeKey> {
    // ring does not wipe its expanded key schedule on drop; keeping it local to one operation
    // keeps that copy short-lived (see docs/design.md, "What memory holds").
    let unbound = UnboundKey::new(&AES_256_GCM, key).map_err(|_| Error::Crypto("aes key"))?;
    Ok(LessSafeKey::new(unbound))
}

/// Seal `plaintext` under `key`, binding `aad`.
pub(crate) fn seal(
    rng: &SystemRandom,
    key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut nonce = [0u8; NONCE_LEN];
    rng.fill(&mut nonce)
        .map_err(|_| Error::Crypto("random source failed"))?;
    seal_with_nonce(key, nonce, aad, plaintext)
}

fn seal_with_nonce(
    key: &[u8; 32],
    nonce: [u8; NONCE_LEN],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(plaintext.len() + ENVELOPE_OVERHEAD);
    out.push(ENVELOPE_V1);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(plaintext);
    let mut body = out.split_off(1 + NONCE_LEN);
    aead_key(key)?
        .seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad),
            &mut body,
        )
        .map_err(|_| Error::Crypto("aes-gcm seal"))?;
    out.extend_from_slice(&body);
    Ok(out)
}

/// Seal a field's `plaintext` in an envelope of version 2: `0x02 ‖ written (u64 big-endian) ‖
/// nonce ‖ ciphertext ‖ tag`, with `written` appended to `aad` (a field's associated data of
/// version 2, [`FieldAad::to_bytes_v2`]).
pub(crate) fn seal_field(
    rng: &SystemRandom,
    key: &[u8; 32],
    aad: &FieldAad<'_>,
    written: u64,
    plaintext: &[u8],
) -> Result<Vec<u8>> {
    let v1 = seal(rng, key, &aad.to_bytes_v2(written), plaintext)?;
    let mut out = Vec::with_capacity(v1.len() + 8);
    out.push(ENVELOPE_V2);
    out.extend_from_slice(&written.to_be_bytes());
    out.extend_from_slice(&v1[1..]);
    Ok(out)
}

/// Open an envelope. The plaintext comes back in a wiping buffer.
pub(crate) fn open(
    key: &[u8; 32],
    aad: &[u8],
    envelope: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, OpenFailed> {
    Opener::new(key)?.open(aad, envelope)
}

/// One key's AES schedule, expanded once to open several envelopes in one operation (the
/// fields of one record): the same bounds on its life as [`aead_key`]'s, without expanding the
/// key again for every field.
pub(crate) struct Opener(LessSafeKey);

impl Opener {
    pub(crate) fn new(key: &[u8; 32]) -> std::result::Result<Self, OpenFailed> {
        aead_key(key).map(Self).map_err(|_| OpenFailed)
    }

    /// Open a field's envelope of either version, with the associated data of its place.
    /// Returns the write it was sealed in (`None` for version 1, written before format 8).
    pub(crate) fn open_field(
        &self,
        aad: &FieldAad<'_>,
        envelope: &[u8],
    ) -> std::result::Result<(Option<u64>, Zeroizing<Vec<u8>>), OpenFailed> {
        match envelope.first() {
            Some(&ENVELOPE_V1) => Ok((None, self.open(&aad.to_bytes(), envelope)?)),
            Some(&ENVELOPE_V2) if envelope.len() >= 9 + ENVELOPE_OVERHEAD => {
                let mut w = [0u8; 8];
                w.copy_from_slice(&envelope[1..9]);
                let written = u64::from_be_bytes(w);
                let mut inner = Vec::with_capacity(envelope.len() - 8);
                inner.push(ENVELOPE_V1);
                inner.extend_from_slice(&envelope[9..]);
                let plain = self.open(&aad.to_bytes_v2(written), &inner)?;
                Ok((Some(written), plain))
            }
            _ => Err(OpenFailed),
        }
    }

    /// Open one envelope, as [`open`] does.
    pub(crate) fn open(
        &self,
        aad: &[u8],
        envelope: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, OpenFailed> {
        if envelope.len() < ENVELOPE_OVERHEAD || envelope[0] != ENVELOPE_V1 {
            return Err(OpenFailed);
        }
        let mut nonce = [0u8; NONCE_LEN];
        nonce.copy_from_slice(&envelope[1..1 + NONCE_LEN]);
        let mut buf = Zeroizing::new(envelope[1 + NONCE_LEN..].to_vec());
        let len = self
            .0
            .open_in_place(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut buf[..],
            )
            .map_err(|_| OpenFailed)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

/// Associated data for one field envelope. Every element of an envelope's place is here, so a
/// copy to another vault, table, owner, record, field or key version fails to authenticate.
pub(crate) struct FieldAad<'a> {
    pub vault: &'a VaultId,
    pub table: &'static str,
    pub owner: &'a [u8; 16],
    pub record: &'a [u8; 16],
    pub field: &'a str,
    pub key_version: u32,
}

impl FieldAad<'_> {
    /// Canonical bytes: a domain label, the envelope version, then each element, variable-length
    /// ones prefixed by their length so no two places share an encoding.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(96);
        b.extend_from_slice(b"confide/field/v1");
        b.push(ENVELOPE_V1);
        b.extend_from_slice(self.vault.as_bytes());
        push_str(&mut b, self.table);
        b.extend_from_slice(self.owner);
        b.extend_from_slice(self.record);
        push_str(&mut b, self.field);
        b.extend_from_slice(&self.key_version.to_be_bytes());
        b
    }

    /// Version 2 (field envelopes since format 8): the same elements under the label
    /// `confide/field/v2` and version byte 2, then the write of the record the envelope was
    /// sealed in. An envelope of an earlier write, put back in place, says so in its own bytes
    /// and cannot claim a later write.
    pub(crate) fn to_bytes_v2(&self, written: u64) -> Vec<u8> {
        let mut b = self.to_bytes();
        b[..16].copy_from_slice(b"confide/field/v2");
        b[16] = ENVELOPE_V2;
        b.extend_from_slice(&written.to_be_bytes());
        b
    }
}

/// Append a string with a one-byte length prefix (tables and field names are at most 64 bytes).
pub(crate) fn push_str(b: &mut Vec<u8>, s: &str) {
    let bytes = &s.as_bytes()[..s.len().min(255)];
    b.push(bytes.len() as u8); // INVARIANT: at most 255 after the min above.
    b.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7u8; 32];

    #[test]
    fn round_trip_and_overhead() {
        let rng = SystemRandom::new();
        let env = seal(&rng, &KEY, b"aad", b"hello").unwrap();
        assert_eq!(env.len(), 5 + ENVELOPE_OVERHEAD);
        assert_eq!(&open(&KEY, b"aad", &env).unwrap()[..], b"hello");
    }

    #[test]
    fn nonces_are_fresh() {
        let rng = SystemRandom::new();
        let a = seal(&rng, &KEY, b"", b"same").unwrap();
        let b = seal(&rng, &KEY, b"", b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn every_flipped_bit_fails() {
        let rng = SystemRandom::new();
        let env = seal(&rng, &KEY, b"aad", b"hello").unwrap();
        for i in 0..env.len() * 8 {
            let mut e = env.clone();
            e[i / 8] ^= 1 << (i % 8);
            assert_eq!(open(&KEY, b"aad", &e), Err(OpenFailed), "bit {i}");
        }
        assert_eq!(open(&KEY, b"aae", &env), Err(OpenFailed));
        assert_eq!(open(&[8u8; 32], b"aad", &env), Err(OpenFailed));
        assert_eq!(open(&KEY, b"aad", &env[..env.len() - 1]), Err(OpenFailed));
        assert_eq!(open(&KEY, b"aad", &[]), Err(OpenFailed));
    }

    #[test]
    fn aad_layout_is_fixed() {
        let vault = VaultId::from_slice(&[0xaa; 16]).unwrap();
        let aad = FieldAad {
            vault: &vault,
            table: "t",
            owner: &[0xbb; 16],
            record: &[0xcc; 16],
            field: "f",
            key_version: 2,
        }
        .to_bytes();
        let mut want = b"confide/field/v1\x01".to_vec();
        want.extend([0xaa; 16]);
        want.extend([1, b't']);
        want.extend([0xbb; 16]);
        want.extend([0xcc; 16]);
        want.extend([1, b'f', 0, 0, 0, 2]);
        assert_eq!(aad, want);
    }

    #[test]
    fn a_field_envelope_binds_its_write() {
        let rng = SystemRandom::new();
        let vault = VaultId::from_slice(&[0xaa; 16]).unwrap();
        let aad = FieldAad {
            vault: &vault,
            table: "record_fields",
            owner: &[0xbb; 16],
            record: &[0xcc; 16],
            field: "plan",
            key_version: 1,
        };
        let env = seal_field(&rng, &KEY, &aad, 7, b"weekly").unwrap();
        assert_eq!(env.len(), 6 + 8 + ENVELOPE_OVERHEAD);
        let opener = Opener::new(&KEY).unwrap();
        let (written, plain) = opener.open_field(&aad, &env).unwrap();
        assert_eq!((written, &plain[..]), (Some(7), &b"weekly"[..]));
        // Claiming another write breaks it.
        let mut claimed = env.clone();
        claimed[8] = 8;
        assert!(opener.open_field(&aad, &claimed).is_err());
        // So does reading it as version 1.
        let mut as_v1 = vec![ENVELOPE_V1];
        as_v1.extend_from_slice(&env[9..]);
        assert!(opener.open_field(&aad, &as_v1).is_err());
        // A version-1 envelope still opens, with no write.
        let old = seal(&rng, &KEY, &aad.to_bytes(), b"older").unwrap();
        assert_eq!(opener.open_field(&aad, &old).unwrap().0, None);
    }

    #[test]
    fn fixed_envelope_still_opens() {
        // Golden vector: an envelope sealed by format v1 with a fixed nonce. If the layout
        // drifts, old vaults stop opening; this catches it.
        let env = seal_with_nonce(&KEY, [9u8; 12], b"confide", b"golden").unwrap();
        assert_eq!(
            hex::encode(&env),
            "0109090909090909090909090940eae8f0db9e6d6fccbdabdabc4082ea43d77a10cf64"
        );
        assert_eq!(&open(&KEY, b"confide", &env).unwrap()[..], b"golden");
    }
}
