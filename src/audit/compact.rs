//! The two ways an entry of layout version 4 stores its texts in fewer bytes: codes known to
//! the layout as one byte, and field names six to a few bytes.
//!
//! Both are fixed by the layout version, not stored in the vault, so an entry still reads on
//! its own (no dictionary to trust or to lose) and the verifier hashes the bytes as they are.
//! The table below is frozen for version 4: a new code is written as text until a new version
//! adds it.

use std::collections::HashMap;
use std::sync::LazyLock;

/// Texts an entry of version 4 stores as their index here plus one: every action, purpose and
/// outcome code of the version that introduced it. Never reorder or remove: code `n` is
/// `TEXTS_V4[n - 1]` in every entry ever written.
pub(crate) const TEXTS_V4: [&str; 102] = [
    "",
    // Actions.
    "vault.create",
    "vault.open",
    "vault.close",
    "vault.backup",
    "vault.restore",
    "audit.key_create",
    "login",
    "user.add",
    "user.passphrase_change",
    "user.passphrase_reset",
    "user.kdf_upgrade",
    "user.disable",
    "user.enable",
    "user.remove",
    "session.lock",
    "session.timeout",
    "client.create",
    "client.find",
    "record.list",
    "record.create",
    "record.update",
    "record.read",
    "note.create",
    "note.read",
    "audit.read",
    "care_team.add",
    "care_team.remove",
    "supervision.set",
    "supervision.end",
    "client.minor_status",
    "case.create",
    "case.leave",
    "joint.create",
    "joint.read",
    "joint.share",
    "consent.record",
    "consent.revoke",
    "break_glass.start",
    "break_glass.end",
    "export.release",
    "disclosure.release",
    "accounting.read",
    "extract.deidentified",
    "keys.master_rotate",
    "keys.rotate",
    "keys.rotated",
    "record.rekey",
    "note.rekey",
    "consent.rekey",
    "break_glass.rekey",
    "erasure.request",
    "erasure.shred",
    // Purposes of use.
    "TREAT",
    "ETREAT",
    "HPAYMT",
    "HOPERAT",
    "PATRQT",
    "HLEGAL",
    // Outcomes: done, allowed on a basis, released on a legal basis.
    "granted",
    "granted:role",
    "granted:care-team",
    "granted:supervision",
    "granted:author",
    "granted:training-supervision",
    "granted:self-access",
    "granted:guardian",
    "granted:case-clinician",
    "granted:consent",
    "granted:break-glass",
    "granted:no-secrets-policy",
    "granted:authorization",
    "granted:treatment-with-consent",
    "granted:payment",
    "granted:duty-to-warn",
    "granted:child-abuse-report",
    "granted:elder-abuse-report",
    "granted:court-order",
    "granted:subpoena",
    "granted:medical-emergency",
    // Outcomes: refused by the policy.
    "denied:role-not-permitted",
    "denied:purpose-not-permitted",
    "denied:no-relationship",
    "denied:not-note-author",
    "denied:consent-not-in-force",
    "denied:consent-revoked",
    "denied:minor-protected",
    "denied:break-glass-excluded",
    "denied:another-members-notes",
    "denied:group-privacy",
    "denied:held-in-confidence",
    "denied:field-not-permitted",
    "denied:outside-consent",
    // Outcomes: failed.
    "failed:bad-passphrase",
    "failed:unknown-user",
    "failed:user-disabled",
    "failed:user-removed",
    "failed:session-locked",
    "failed:integrity",
    "failed:not-found",
    "failed:erased",
    "failed:retention-not-over",
];

/// The one-byte code of `text`, if the table has it. (Every entry written looks up three texts:
/// a map, not a scan of the table.)
pub(crate) fn code_of(text: &[u8]) -> Option<u8> {
    static CODES: LazyLock<HashMap<&'static [u8], u8>> = LazyLock::new(|| {
        (1..=u8::MAX)
            .zip(TEXTS_V4)
            .map(|(code, text)| (text.as_bytes(), code))
            .collect()
    });
    CODES.get(text).copied()
}

/// The text of a one-byte code.
pub(crate) fn text_of(code: u8) -> Option<&'static str> {
    TEXTS_V4.get(usize::from(code).checked_sub(1)?).copied()
}

/// Symbols of a packed field list, in value order: the separator, then the characters a field
/// name may hold ([`FieldName`](crate::FieldName)).
const SYMBOLS: &[u8; 38] = b",abcdefghijklmnopqrstuvwxyz0123456789_";
const BASE: u32 = SYMBOLS.len() as u32;
/// Three symbols to a 16-bit group: 38³ = 54,872 fits.
const GROUP_MAX: u32 = BASE * BASE * BASE;

fn symbol_value(b: u8) -> Option<u32> {
    match b {
        b',' => Some(0),
        b'a'..=b'z' => Some(u32::from(b - b'a') + 1),
        b'0'..=b'9' => Some(u32::from(b - b'0') + 27),
        b'_' => Some(37),
        _ => None,
    }
}

/// `text` packed three symbols to two bytes (big-endian groups, the last padded with the
/// separator's value 0), if every byte is a symbol.
pub(crate) fn pack(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len().div_ceil(3) * 2);
    for chunk in text.chunks(3) {
        let mut group = 0u32;
        for i in 0..3 {
            let v = match chunk.get(i) {
                Some(&b) => symbol_value(b)?,
                None => 0,
            };
            group = group * BASE + v;
        }
        // INVARIANT: group < 38³ < 2¹⁶.
        out.extend_from_slice(&(group as u16).to_be_bytes());
    }
    Some(out)
}

/// Whether every byte of `text` is a symbol, so that it must be stored packed.
pub(crate) fn packable(text: &[u8]) -> bool {
    text.iter().all(|&b| symbol_value(b).is_some())
}

/// The packed bytes of `len` symbols: how many bytes they take.
pub(crate) fn packed_len(len: usize) -> usize {
    len.div_ceil(3) * 2
}

/// Unpack `len` symbols from `packed` (exactly [`packed_len`] bytes). `None` for a group out of
/// range or padding that is not the separator's 0: each text has one packed form.
pub(crate) fn unpack(packed: &[u8], len: usize) -> Option<String> {
    let mut out = String::with_capacity(len);
    each_symbol(packed, len, |b| out.push(char::from(b)))?;
    Some(out)
}

/// Whether `packed` holds `len` symbols in the one packed form (what [`unpack`] accepts),
/// without building the text: the verifier checks every entry this way.
pub(crate) fn is_packed(packed: &[u8], len: usize) -> bool {
    each_symbol(packed, len, |_| ()).is_some()
}

fn each_symbol(packed: &[u8], len: usize, mut emit: impl FnMut(u8)) -> Option<()> {
    if packed.len() != packed_len(len) {
        return None;
    }
    for (g, pair) in packed.chunks_exact(2).enumerate() {
        let group = u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        if group >= GROUP_MAX {
            return None;
        }
        let digits = [group / (BASE * BASE), group / BASE % BASE, group % BASE];
        for (i, d) in digits.into_iter().enumerate() {
            if g * 3 + i < len {
                // INVARIANT: d < BASE = SYMBOLS.len().
                emit(SYMBOLS[d as usize]);
            } else if d != 0 {
                return None;
            }
        }
    }
    Some(())
}

/// An `i64` as an unsigned number small for small magnitudes of either sign.
pub(super) fn zigzag(n: i64) -> u64 {
    ((n << 1) ^ (n >> 63)) as u64
}

pub(super) fn unzigzag(n: u64) -> i64 {
    ((n >> 1) as i64) ^ -((n & 1) as i64)
}

/// `n` as LEB128, in its shortest form.
pub(super) fn push_varint(out: &mut Vec<u8>, mut n: u64) {
    loop {
        let byte = (n & 0x7f) as u8; // INVARIANT: masked to 7 bits.
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{AuditAction, Failure, Outcome};
    use crate::error::DenyReason;
    use crate::model::{Basis, LegalBasis, Purpose};

    #[test]
    fn every_code_the_library_writes_has_one_byte() {
        let mut codes: Vec<String> = AuditAction::ALL
            .iter()
            .filter(|a| !AuditAction::AFTER_V4.contains(a))
            .map(|a| a.code().into())
            .collect();
        codes.extend(Purpose::ALL.iter().map(|p| p.code().to_owned()));
        codes.push(String::new());
        codes.push(Outcome::Granted.code());
        codes.extend(Basis::ALL.iter().map(|b| Outcome::Allowed(*b).code()));
        codes.extend(LegalBasis::ALL.iter().map(|b| Outcome::Released(*b).code()));
        codes.extend(DenyReason::ALL.iter().map(|r| Outcome::Denied(*r).code()));
        codes.extend(Failure::ALL.iter().map(|f| Outcome::Failed(*f).code()));
        // Codes added after version 4 are written as text (the table is frozen).
        codes.retain(|c| !AFTER_V4.contains(&c.as_str()));
        for code in &codes {
            let c = code_of(code.as_bytes()).unwrap_or_else(|| panic!("{code} has no code"));
            assert_eq!(text_of(c), Some(code.as_str()));
        }
        // And the table holds nothing else, each text once.
        assert_eq!(codes.len(), TEXTS_V4.len());
        let mut sorted = TEXTS_V4.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), TEXTS_V4.len());
        assert_eq!(text_of(0), None);
        assert_eq!(text_of(TEXTS_V4.len() as u8 + 1), None);
        // Later actions have no code: they are written as text.
        for a in AuditAction::AFTER_V4 {
            assert_eq!(code_of(a.code().as_bytes()), None, "{a}");
        }
    }

    /// Codes the library writes that version 4's table does not hold.
    const AFTER_V4: &[&str] = &[
        "failed:excessive-work",
        "facts.baseline",
        "denied:not-personal-representative",
        "denied:not-author",
        "failed:signed",
    ];

    #[test]
    fn codes_added_after_version_4_are_written_as_text() {
        for code in AFTER_V4 {
            assert_eq!(code_of(code.as_bytes()), None, "{code}");
        }
        assert!(
            Failure::ALL
                .iter()
                .any(|f| Outcome::Failed(*f).code() == "failed:excessive-work")
        );
        assert!(
            AuditAction::ALL
                .iter()
                .any(|a| a.code() == "facts.baseline")
        );
        assert!(
            DenyReason::ALL
                .iter()
                .any(|r| Outcome::Denied(*r).code() == "denied:not-personal-representative")
        );
    }

    #[test]
    fn the_first_codes_are_fixed() {
        // Golden values: these bytes are in vaults already.
        assert_eq!(code_of(b""), Some(1));
        assert_eq!(code_of(b"vault.create"), Some(2));
        assert_eq!(code_of(b"record.read"), Some(23));
        assert_eq!(code_of(b"TREAT"), Some(54));
        assert_eq!(code_of(b"granted:care-team"), Some(62));
        assert_eq!(code_of(b"failed:retention-not-over"), Some(102));
        assert_eq!(code_of(b"no such code"), None);
    }

    #[test]
    fn packing_is_fixed_and_round_trips() {
        // "ab," = (1·38 + 2)·38 + 0 = 1520; "c" padded = 3·38² = 4332.
        assert_eq!(pack(b"ab,c"), Some(vec![0x05, 0xf0, 0x10, 0xec]));
        assert_eq!(
            unpack(&[0x05, 0xf0, 0x10, 0xec], 4).as_deref(),
            Some("ab,c")
        );
        for text in ["", "a", "plan", "subjective,objective,risk_2", "z9_,_"] {
            let packed = pack(text.as_bytes()).unwrap();
            assert_eq!(packed.len(), packed_len(text.len()));
            assert_eq!(unpack(&packed, text.len()).as_deref(), Some(text));
        }
        assert_eq!(pack(b"Plan"), None);
        assert_eq!(pack(b"a b"), None);
    }

    #[test]
    fn unpacking_refuses_what_packing_never_writes() {
        // A group past 38³.
        assert_eq!(unpack(&0xffffu16.to_be_bytes(), 3), None);
        // Padding that is not 0: "ab" then 'c' where only two symbols are counted.
        assert_eq!(unpack(&[0x05, 0xf3], 2), None);
        // Lengths that do not match.
        assert_eq!(unpack(&[0x05, 0xf0], 4), None);
        assert_eq!(unpack(&[0x05, 0xf0, 0x00], 3), None);
        assert!(!is_packed(&[0x05, 0xf3], 2));
        assert!(is_packed(&[0x05, 0xf3], 3));
    }

    proptest::proptest! {
        #[test]
        fn any_field_list_packs_and_unpacks(text in "[a-z0-9_,]{0,200}") {
            let packed = pack(text.as_bytes()).unwrap();
            proptest::prop_assert_eq!(unpack(&packed, text.len()), Some(text));
        }
    }
}
