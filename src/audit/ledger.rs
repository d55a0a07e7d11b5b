//! The disclosure ledger's digest: what the audit entry of a release vouches for.
//!
//! `digest = SHA-256("confide/ledger/v1" ‖ cells of the `disclosures` row, in column order ‖
//! for each sealed field, in field order: cells of (field, key_version, envelope))`, with the
//! same cell encoding as audit entries. Computed from stored values, so `audit-verify` checks
//! the ledger without a key.

use ring::digest::{Context, SHA256};

use crate::stored::Cell;

const DOMAIN: &[u8] = b"confide/ledger/v1";

/// The digest of a ledger row and its fields.
pub(crate) fn ledger_digest(cells: &[Cell], fields: &[[Cell; 3]]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(512);
    for c in cells {
        c.encode(&mut buf);
    }
    buf.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    for f in fields {
        for c in f {
            c.encode(&mut buf);
        }
    }
    let mut ctx = Context::new(&SHA256);
    ctx.update(DOMAIN);
    ctx.update(&buf);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// The digest of one record's (note's, consent's, ...) complete stored state: what a write
/// entry vouches for, so `audit-verify` can tell a deleted, rolled-back or unlogged record.
///
/// `SHA-256("confide/fields/v1" ‖ len ‖ table ‖ len ‖ parent id ‖ u32 count ‖ for each field by
/// name: cell(field) ‖ cell(key_version) ‖ cell(envelope))`.
pub(crate) fn fields_digest(table: &str, parent: &[u8], fields: &[[Cell; 3]]) -> [u8; 32] {
    let mut buf = Vec::with_capacity(64 + fields.len() * 96);
    Cell::Text(table.as_bytes().to_vec()).encode(&mut buf);
    Cell::Blob(parent.to_vec()).encode(&mut buf);
    buf.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    for f in fields {
        for c in f {
            c.encode(&mut buf);
        }
    }
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"confide/fields/v1");
    ctx.update(&buf);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// Version 2 of [`fields_digest`], written since format 8: it also covers the parent row's
/// decision columns (`head`: the client or case it belongs to, a record's kind, a note's author)
/// and how many times its fields were written, so a relabelled record or an older field set put
/// back with its older count differs.
///
/// `SHA-256("confide/fields/v2" ‖ cell(table) ‖ cell(parent) ‖ u32 count ‖ head cells ‖
/// cell(write_version) ‖ u32 count ‖ for each field by name: cell(field) ‖ cell(key_version) ‖
/// cell(envelope))`.
pub(crate) fn fields_digest_v2(
    table: &str,
    parent: &[u8],
    head: &[Cell],
    write_version: i64,
    fields: &[[Cell; 3]],
) -> [u8; 32] {
    let mut buf = Vec::with_capacity(128 + fields.len() * 96);
    Cell::Text(table.as_bytes().to_vec()).encode(&mut buf);
    Cell::Blob(parent.to_vec()).encode(&mut buf);
    buf.extend_from_slice(&(head.len() as u32).to_be_bytes());
    for c in head {
        c.encode(&mut buf);
    }
    Cell::Integer(write_version).encode(&mut buf);
    buf.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    for f in fields {
        for c in f {
            c.encode(&mut buf);
        }
    }
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"confide/fields/v2");
    ctx.update(&buf);
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

/// [`fields_digest_v2`] over borrowed field parts (the read path's): the same bytes, gathered
/// into one buffer and hashed in one call, which costs far less than a call per cell.
pub(crate) fn fields_digest_v2_of<'a>(
    table: &str,
    parent: &[u8],
    head: &[Cell],
    write_version: i64,
    fields: impl ExactSizeIterator<Item = (&'a str, u32, &'a [u8])>,
) -> [u8; 32] {
    fn bytes(buf: &mut Vec<u8>, tag: u8, b: &[u8]) {
        buf.push(tag);
        // Column values longer than 4 GiB cannot exist in SQLite (its limit is 2 GiB).
        buf.extend_from_slice(&(b.len() as u32).to_be_bytes());
        buf.extend_from_slice(b);
    }
    let mut buf = Vec::with_capacity(1024);
    buf.extend_from_slice(b"confide/fields/v2");
    bytes(&mut buf, 3, table.as_bytes());
    bytes(&mut buf, 4, parent);
    buf.extend_from_slice(&(head.len() as u32).to_be_bytes());
    for c in head {
        c.encode(&mut buf);
    }
    Cell::Integer(write_version).encode(&mut buf);
    buf.extend_from_slice(&(fields.len() as u32).to_be_bytes());
    for (field, version, envelope) in fields {
        bytes(&mut buf, 3, field.as_bytes());
        buf.push(1);
        buf.extend_from_slice(&i64::from(version).to_be_bytes());
        bytes(&mut buf, 4, envelope);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&SHA256, &buf).as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streaming_v2_digest_is_the_same_digest_and_covers_the_head() {
        let parts = [("goals", 1u32, &b"one"[..]), ("plan", 2, &b"two"[..])];
        let cells: Vec<[Cell; 3]> = parts
            .iter()
            .map(|(f, v, e)| {
                [
                    Cell::Text(f.as_bytes().to_vec()),
                    Cell::Integer(i64::from(*v)),
                    Cell::Blob(e.to_vec()),
                ]
            })
            .collect();
        let head = [Cell::Blob(vec![1; 16]), Cell::Text(b"diagnosis".to_vec())];
        let d = fields_digest_v2("record_fields", &[7; 16], &head, 3, &cells);
        assert_eq!(
            fields_digest_v2_of("record_fields", &[7; 16], &head, 3, parts.iter().copied()),
            d
        );
        let relabelled = [Cell::Blob(vec![1; 16]), Cell::Text(b"appointment".to_vec())];
        assert_ne!(
            fields_digest_v2("record_fields", &[7; 16], &relabelled, 3, &cells),
            d
        );
        assert_ne!(
            fields_digest_v2("record_fields", &[7; 16], &head, 2, &cells),
            d
        );
        assert_ne!(fields_digest("record_fields", &[7; 16], &cells), d);
    }

    #[test]
    fn every_cell_and_field_counts() {
        let cells = vec![
            Cell::Blob(vec![1; 16]),
            Cell::Integer(5),
            Cell::Text(b"x".to_vec()),
        ];
        let fields = vec![[
            Cell::Text(b"recipient_name".to_vec()),
            Cell::Integer(1),
            Cell::Blob(vec![9; 40]),
        ]];
        let base = ledger_digest(&cells, &fields);
        let mut c2 = cells.clone();
        c2[1] = Cell::Integer(6);
        assert_ne!(ledger_digest(&c2, &fields), base);
        let mut f2 = fields.clone();
        f2[0][2] = Cell::Blob(vec![8; 40]);
        assert_ne!(ledger_digest(&cells, &f2), base);
        assert_ne!(ledger_digest(&cells, &[]), base);
    }
}
