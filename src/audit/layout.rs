//! The stored bytes of one audit entry, and the hash that chains them.
//!
//! Since format 6 a row of the log is `(seq, entry, hash)`: the entry's hashed content is one
//! blob, so a verifier takes two values out of SQLite per row instead of twelve (reading rows,
//! not hashing, bounded verification speed), and no row stores its predecessor's hash (the row
//! before holds it). Layout of an entry of version 3:
//!
//! ```text
//! 0      1   version (3)
//! 1      8   link: the first 8 bytes of the hash of the entry it was written after
//! 9      8   at: unix milliseconds, big-endian
//! 17     1   present: 1 actor, 2 client, 4 target, 8 digest
//! 18     …   actor (16), client (16), target (16), digest (32), each only if present
//! …      …   action, purpose, outcome, fields (comma-separated): each a LEB128 length + UTF-8
//! ```
//!
//! `hash = SHA-256("confide/audit/v1" ‖ previous hash ‖ seq as 8 bytes big-endian ‖ entry)`.
//! The link is redundant for an intact log; in a tampered one it tells an entry whose content
//! changed (its link still names the row before) from one whose predecessor was rewritten or
//! removed (it names a hash no longer there).
//!
//! Entries written before format 6 were moved into this table unchanged in meaning: their blob
//! is their canonical bytes of version 1 or 2 (see [`EntryCells`](super::EntryCells)), sequence
//! number included, and their hash is `SHA-256(domain ‖ previous hash ‖ entry)` as before, so
//! their hashes and the checkpoints signed over them still hold.

use ring::digest::{Context, SHA256};

use super::entry::DOMAIN;

/// Version byte of an entry stored as one blob (format 6).
pub(crate) const ENTRY_V3: u8 = 3;
/// Bytes of the predecessor's hash an entry carries.
pub(crate) const LINK_LEN: usize = 8;

const HAS_ACTOR: u8 = 1;
const HAS_CLIENT: u8 = 2;
const HAS_TARGET: u8 = 4;
const HAS_DIGEST: u8 = 8;

/// The parts of an entry to encode.
pub(crate) struct EntryParts<'a> {
    pub link: &'a [u8],
    pub at_ms: i64,
    pub actor: Option<&'a [u8; 16]>,
    pub client: Option<&'a [u8; 16]>,
    pub target: Option<&'a [u8; 16]>,
    pub digest: Option<&'a [u8; 32]>,
    pub action: &'a str,
    pub purpose: &'a str,
    pub outcome: &'a str,
    pub fields: &'a [&'a str],
}

impl EntryParts<'_> {
    /// The version-3 bytes of this entry.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128);
        out.push(ENTRY_V3);
        let mut link = [0u8; LINK_LEN];
        let n = self.link.len().min(LINK_LEN);
        link[..n].copy_from_slice(&self.link[..n]);
        out.extend_from_slice(&link);
        out.extend_from_slice(&self.at_ms.to_be_bytes());
        let mut present = 0;
        for (flag, set) in [
            (HAS_ACTOR, self.actor.is_some()),
            (HAS_CLIENT, self.client.is_some()),
            (HAS_TARGET, self.target.is_some()),
            (HAS_DIGEST, self.digest.is_some()),
        ] {
            if set {
                present |= flag;
            }
        }
        out.push(present);
        for id in [self.actor, self.client, self.target].into_iter().flatten() {
            out.extend_from_slice(id);
        }
        if let Some(d) = self.digest {
            out.extend_from_slice(d);
        }
        for text in [self.action, self.purpose, self.outcome] {
            push_text(&mut out, text.as_bytes());
        }
        let fields_len = self.fields.iter().map(|f| f.len() + 1).sum::<usize>();
        push_len(&mut out, fields_len.saturating_sub(1));
        for (i, f) in self.fields.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend_from_slice(f.as_bytes());
        }
        out
    }
}

fn push_len(out: &mut Vec<u8>, mut n: usize) {
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

fn push_text(out: &mut Vec<u8>, b: &[u8]) {
    push_len(out, b.len());
    out.extend_from_slice(b);
}

/// `hash` of an entry stored at `seq` after `prev` (see the module docs).
pub(crate) fn entry_hash(prev: &[u8], seq: i64, entry: &[u8]) -> [u8; 32] {
    let mut ctx = Context::new(&SHA256);
    ctx.update(DOMAIN);
    ctx.update(prev);
    match entry.first() {
        Some(1 | 2) => {
            // Before format 6 the sequence number was the first hashed cell: hash the bytes as
            // they are when it is `seq`, or with `seq` put in its place.
            if legacy_seq(entry) == Some(seq) {
                ctx.update(entry);
            } else if entry.len() >= 10 && entry[1] == 1 {
                ctx.update(&entry[..2]);
                ctx.update(&seq.to_be_bytes());
                ctx.update(&entry[10..]);
            } else {
                ctx.update(entry);
            }
        }
        _ => {
            ctx.update(&seq.to_be_bytes());
            ctx.update(entry);
        }
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The sequence number an entry of version 1 or 2 carries in its first cell.
fn legacy_seq(entry: &[u8]) -> Option<i64> {
    if !matches!(entry.first(), Some(1 | 2)) || entry.get(1) != Some(&1) {
        return None;
    }
    Some(i64::from_be_bytes(entry.get(2..10)?.try_into().ok()?))
}

/// An entry's parts, borrowed from its stored bytes. Parsing never panics: a blob of the wrong
/// shape is `None`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct EntryView<'a> {
    /// The sequence number carried inside (entries older than format 6 only).
    pub seq: Option<i64>,
    /// The predecessor's hash prefix (version 3 only).
    pub link: Option<&'a [u8]>,
    pub at_ms: i64,
    pub actor: Option<&'a [u8]>,
    pub client: Option<&'a [u8]>,
    pub target: Option<&'a [u8]>,
    pub digest: Option<&'a [u8]>,
    pub action: &'a [u8],
    pub purpose: &'a [u8],
    pub outcome: &'a [u8],
    /// Comma-separated field names.
    pub fields: &'a [u8],
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.b.len() < n {
            return None;
        }
        let (head, rest) = self.b.split_at(n);
        self.b = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        Some(self.take(1)?[0])
    }

    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_be_bytes(self.take(8)?.try_into().ok()?))
    }

    fn len(&mut self) -> Option<usize> {
        let mut n: usize = 0;
        for shift in (0..35).step_by(7) {
            let byte = self.byte()?;
            n |= usize::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn text(&mut self) -> Option<&'a [u8]> {
        let n = self.len()?;
        self.take(n)
    }

    /// One cell of the version 1/2 encoding: (tag, payload).
    fn cell(&mut self) -> Option<(u8, &'a [u8])> {
        let tag = self.byte()?;
        let payload = match tag {
            0 => &[][..],
            1 | 2 => self.take(8)?,
            3 | 4 => {
                let n = u32::from_be_bytes(self.take(4)?.try_into().ok()?);
                self.take(usize::try_from(n).ok()?)?
            }
            _ => return None,
        };
        Some((tag, payload))
    }
}

impl<'a> EntryView<'a> {
    /// Parse stored entry bytes of any version.
    pub(crate) fn parse(b: &'a [u8]) -> Option<Self> {
        match b.first()? {
            1 | 2 => Self::parse_cells(b),
            &ENTRY_V3 => Self::parse_v3(b),
            _ => None,
        }
    }

    fn parse_v3(b: &'a [u8]) -> Option<Self> {
        let mut r = Reader { b: &b[1..] };
        let link = r.take(LINK_LEN)?;
        let at_ms = r.i64()?;
        let present = r.byte()?;
        if present & !(HAS_ACTOR | HAS_CLIENT | HAS_TARGET | HAS_DIGEST) != 0 {
            return None;
        }
        let mut id = |flag: u8, n: usize| -> Option<Option<&'a [u8]>> {
            if present & flag == 0 {
                Some(None)
            } else {
                r.take(n).map(Some)
            }
        };
        let actor = id(HAS_ACTOR, 16)?;
        let client = id(HAS_CLIENT, 16)?;
        let target = id(HAS_TARGET, 16)?;
        let digest = id(HAS_DIGEST, 32)?;
        let view = EntryView {
            seq: None,
            link: Some(link),
            at_ms,
            actor,
            client,
            target,
            digest,
            action: r.text()?,
            purpose: r.text()?,
            outcome: r.text()?,
            fields: r.text()?,
        };
        r.b.is_empty().then_some(view)
    }

    /// Canonical bytes of version 1 (nine cells) or 2 (ten, the last a digest).
    fn parse_cells(b: &'a [u8]) -> Option<Self> {
        let cells = if b[0] == 1 { 9 } else { 10 };
        let mut r = Reader { b: &b[1..] };
        let mut c = [(0u8, &[][..]); 10];
        for slot in c.iter_mut().take(cells) {
            *slot = r.cell()?;
        }
        if !r.b.is_empty() {
            return None;
        }
        let int = |(tag, p): (u8, &[u8])| -> Option<i64> {
            (tag == 1).then(|| p.try_into().ok().map(i64::from_be_bytes))?
        };
        let blob = |(tag, p): (u8, &'a [u8])| -> Option<Option<&'a [u8]>> {
            match tag {
                0 => Some(None),
                4 => Some(Some(p)),
                _ => None,
            }
        };
        let text = |(tag, p): (u8, &'a [u8])| (tag == 3).then_some(p);
        Some(EntryView {
            seq: Some(int(c[0])?),
            link: None,
            at_ms: int(c[1])?,
            actor: blob(c[2])?,
            action: text(c[3])?,
            client: blob(c[4])?,
            target: blob(c[5])?,
            fields: text(c[6])?,
            purpose: text(c[7])?,
            outcome: text(c[8])?,
            digest: if cells == 10 { blob(c[9])? } else { None },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::entry::{Cell, EntryCells, canonical_bytes, chain_hash};

    fn parts<'a>(fields: &'a [&'a str]) -> EntryParts<'a> {
        EntryParts {
            link: &[0x11; 32],
            at_ms: 1_700_000_000_000,
            actor: Some(&[0xab; 16]),
            client: Some(&[0xcd; 16]),
            target: None,
            digest: None,
            action: "record.read",
            purpose: "TREAT",
            outcome: "granted:care-team",
            fields,
        }
    }

    #[test]
    fn layout_is_fixed() {
        // Golden bytes, written out from the layout in the module docs.
        let bytes = parts(&["diagnosis", "plan"]).encode();
        let mut want = vec![3];
        want.extend([0x11; 8]);
        want.extend(1_700_000_000_000i64.to_be_bytes());
        want.push(1 | 2);
        want.extend([0xab; 16]);
        want.extend([0xcd; 16]);
        want.push(11);
        want.extend(b"record.read");
        want.push(5);
        want.extend(b"TREAT");
        want.push(17);
        want.extend(b"granted:care-team");
        want.push(14);
        want.extend(b"diagnosis,plan");
        assert_eq!(bytes, want);
        let mut all = b"confide/audit/v1".to_vec();
        all.extend([0x22; 32]);
        all.extend(7i64.to_be_bytes());
        all.extend(&want);
        let h = ring::digest::digest(&SHA256, &all);
        assert_eq!(&entry_hash(&[0x22; 32], 7, &bytes)[..], h.as_ref());
    }

    #[test]
    fn round_trip_and_long_fields() {
        let long: Vec<String> = (0..40).map(|i| format!("field_number_{i}")).collect();
        let names: Vec<&str> = long.iter().map(String::as_str).collect();
        let mut p = parts(&names);
        p.target = Some(&[0xee; 16]);
        p.digest = Some(&[0x77; 32]);
        let bytes = p.encode();
        let v = EntryView::parse(&bytes).unwrap();
        assert_eq!(v.link, Some(&[0x11u8; 8][..]));
        assert_eq!(v.at_ms, 1_700_000_000_000);
        assert_eq!(v.actor, Some(&[0xab; 16][..]));
        assert_eq!(v.client, Some(&[0xcd; 16][..]));
        assert_eq!(v.target, Some(&[0xee; 16][..]));
        assert_eq!(v.digest, Some(&[0x77; 32][..]));
        assert_eq!(v.action, b"record.read");
        assert_eq!(v.outcome, b"granted:care-team");
        assert_eq!(v.fields, names.join(",").as_bytes());
        assert!(v.fields.len() > 127, "a length of two LEB128 bytes");
        let empty = parts(&[]).encode();
        assert_eq!(EntryView::parse(&empty).unwrap().fields, b"");
        // Every proper prefix and any trailing byte are refused.
        for n in 0..bytes.len() {
            assert!(EntryView::parse(&bytes[..n]).is_none());
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(EntryView::parse(&longer).is_none());
    }

    proptest::proptest! {
        #[test]
        fn any_entry_round_trips(
            link in proptest::collection::vec(proptest::prelude::any::<u8>(), 8),
            at_ms in proptest::prelude::any::<i64>(),
            ids in proptest::prelude::any::<(Option<[u8; 16]>, Option<[u8; 16]>, Option<[u8; 16]>)>(),
            digest in proptest::prelude::any::<Option<[u8; 32]>>(),
            texts in proptest::prelude::any::<(String, String, String)>(),
            fields in proptest::collection::vec("[a-z_]{1,64}", 0..60),
        ) {
            let names: Vec<&str> = fields.iter().map(String::as_str).collect();
            let (actor, client, target) = ids;
            let parts = EntryParts {
                link: &link,
                at_ms,
                actor: actor.as_ref(),
                client: client.as_ref(),
                target: target.as_ref(),
                digest: digest.as_ref(),
                action: &texts.0,
                purpose: &texts.1,
                outcome: &texts.2,
                fields: &names,
            };
            let bytes = parts.encode();
            let v = EntryView::parse(&bytes).unwrap();
            proptest::prop_assert_eq!(v.link, Some(&link[..]));
            proptest::prop_assert_eq!(v.at_ms, at_ms);
            proptest::prop_assert_eq!(v.actor, actor.as_ref().map(|a| &a[..]));
            proptest::prop_assert_eq!(v.client, client.as_ref().map(|c| &c[..]));
            proptest::prop_assert_eq!(v.target, target.as_ref().map(|t| &t[..]));
            proptest::prop_assert_eq!(v.digest, digest.as_ref().map(|d| &d[..]));
            proptest::prop_assert_eq!(v.action, texts.0.as_bytes());
            proptest::prop_assert_eq!(v.purpose, texts.1.as_bytes());
            proptest::prop_assert_eq!(v.outcome, texts.2.as_bytes());
            let joined = names.join(",");
            proptest::prop_assert_eq!(v.fields, joined.as_bytes());
        }
    }

    #[test]
    fn seq_and_predecessor_are_hashed() {
        let bytes = parts(&["a"]).encode();
        let h = entry_hash(&[1; 32], 5, &bytes);
        assert_ne!(h, entry_hash(&[1; 32], 6, &bytes));
        assert_ne!(h, entry_hash(&[2; 32], 5, &bytes));
    }

    #[test]
    fn entries_from_before_format_6_hash_as_they_did() {
        let cells = EntryCells([
            Cell::Integer(9),
            Cell::Integer(1_000),
            Cell::Blob(vec![0xab; 16]),
            Cell::Text("record.read".into()),
            Cell::Null,
            Cell::Blob(vec![0xee; 16]),
            Cell::Text("diagnosis".into()),
            Cell::Text("TREAT".into()),
            Cell::Text("granted".into()),
            Cell::Null,
        ]);
        let bytes = canonical_bytes(&cells);
        assert_eq!(
            entry_hash(&[3; 32], 9, &bytes),
            chain_hash(&[3; 32], &cells)
        );
        // Stored at another seq, it hashes as if written there.
        assert_eq!(
            entry_hash(&[3; 32], 10, &bytes),
            chain_hash(&[3; 32], &cells.with_seq(10))
        );
        let v = EntryView::parse(&bytes).unwrap();
        assert_eq!(v.seq, Some(9));
        assert_eq!(v.link, None);
        assert_eq!(v.target, Some(&[0xee; 16][..]));
        assert_eq!(v.fields, b"diagnosis");
        assert_eq!(v.digest, None);
    }
}
