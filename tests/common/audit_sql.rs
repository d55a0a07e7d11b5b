//! The audit log's row layout as `docs/design.md` documents it, written here apart from the
//! library, as the SQL functions a tamperer with a SQLite shell and that description would
//! write:
//!
//! - `audit_part(entry, name)`: one part of an entry (`link`, `at`, `actor`, `client_id`,
//!   `target_id`, `digest`, `facts`, `action`, `purpose`, `outcome`, `fields`);
//! - `audit_with(entry, name, value)`: the entry with that part replaced (NULL removes an id);
//! - `audit_hash(prev, seq, entry)`: the hash a row must store.
//!
//! Tests edit the log with these, and select what they expect with them, without the code
//! under test. Entries of layout version 4 take their table of codes from `docs/design.md`
//! itself, so these functions also check that the documentation says what the code writes.

use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, OptionalExtension};

/// An entry of layout version 3 or 4, decoded.
#[derive(Clone, Debug, PartialEq)]
pub struct Parts {
    pub version: u8,
    pub link: Vec<u8>,
    pub at: i64,
    pub actor: Option<Vec<u8>>,
    pub client: Option<Vec<u8>>,
    pub target: Option<Vec<u8>>,
    pub digest: Option<Vec<u8>>,
    /// The digest is version 2 (flag 32).
    pub digest_v2: bool,
    /// The digest of the scope of facts the entry changed (flag 16).
    pub facts: Option<Vec<u8>>,
    pub action: Vec<u8>,
    pub purpose: Vec<u8>,
    pub outcome: Vec<u8>,
    pub fields: Vec<u8>,
}

fn take<'a>(b: &mut &'a [u8], n: usize) -> Option<&'a [u8]> {
    if b.len() < n {
        return None;
    }
    let (head, rest) = b.split_at(n);
    *b = rest;
    Some(head)
}

fn leb(b: &mut &[u8]) -> Option<usize> {
    let mut n = 0usize;
    for shift in (0..35).step_by(7) {
        let byte = take(b, 1)?[0];
        n |= usize::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Some(n);
        }
    }
    None
}

/// A LEB128 number of up to 64 bits.
fn leb64(b: &mut &[u8]) -> Option<u64> {
    let mut n = 0u128;
    for shift in (0..70).step_by(7) {
        let byte = take(b, 1)?[0];
        n |= u128::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return u64::try_from(n).ok();
        }
    }
    None
}

fn put_leb(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

/// The table of version 4's codes, as `docs/design.md` prints it (three columns of
/// `number text`).
fn codes() -> &'static [String] {
    static CODES: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    CODES.get_or_init(|| {
        // Found from this file, not the manifest: the command-line tests in cli/ use it too.
        let doc = include_str!("../../docs/design.md");
        let block = doc
            .split("```text codes-v4\n")
            .nth(1)
            .and_then(|rest| rest.split("```").next())
            .expect("the table of codes in docs/design.md");
        let mut numbered: Vec<(usize, String)> = Vec::new();
        for line in block.lines() {
            let chars: Vec<char> = line.chars().collect();
            for column in chars.chunks(32) {
                let cell: String = column.iter().collect();
                let cell = cell.trim();
                if let Some((n, text)) = cell.split_once(' ') {
                    let text = if text.starts_with("(empty") { "" } else { text };
                    numbered.push((n.parse().expect("a code number"), text.to_owned()));
                }
            }
        }
        numbered.sort();
        assert!(numbered.iter().enumerate().all(|(i, (n, _))| *n == i + 1));
        numbered.into_iter().map(|(_, t)| t).collect()
    })
}

const SYMBOLS: &[u8] = b",abcdefghijklmnopqrstuvwxyz0123456789_";

fn unpack(packed: &[u8], len: usize) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for pair in packed.chunks(2) {
        let v = usize::from(u16::from_be_bytes(pair.try_into().ok()?));
        for d in [v / (38 * 38), v / 38 % 38, v % 38] {
            out.push(*SYMBOLS.get(d)?);
        }
    }
    out.truncate(len);
    Some(out)
}

fn pack(text: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    for chunk in text.chunks(3) {
        let mut v = 0u16;
        for i in 0..3 {
            let s = chunk
                .get(i)
                .map_or(Some(0), |b| SYMBOLS.iter().position(|x| x == b))?;
            v = v * 38 + s as u16;
        }
        out.extend(v.to_be_bytes());
    }
    Some(out)
}

pub fn decode(entry: &[u8]) -> Option<Parts> {
    let mut b = entry;
    let version = take(&mut b, 1)?[0];
    if version != 3 && version != 4 {
        return None;
    }
    let link = take(&mut b, 8)?.to_vec();
    let at = if version == 3 {
        i64::from_be_bytes(take(&mut b, 8)?.try_into().ok()?)
    } else {
        let z = leb64(&mut b)?;
        (z >> 1) as i64 ^ -((z & 1) as i64)
    };
    let present = take(&mut b, 1)?[0];
    if present & !0x3f != 0 || (present & 0x20 != 0 && present & 0x08 == 0) {
        return None;
    }
    let mut id = |flag: u8, n: usize| {
        if present & flag != 0 {
            take(&mut b, n).map(|v| Some(v.to_vec()))
        } else {
            Some(None)
        }
    };
    let actor = id(1, 16)?;
    let client = id(2, 16)?;
    let target = id(4, 16)?;
    let digest = id(8, 32)?;
    let facts = id(16, 32)?;
    let digest_v2 = present & 0x20 != 0;
    let mut text = || -> Option<Vec<u8>> {
        if version == 4 {
            let code = take(&mut b, 1)?[0];
            if code > 0 {
                return codes()
                    .get(usize::from(code) - 1)
                    .map(|t| t.as_bytes().to_vec());
            }
        }
        let n = leb(&mut b)?;
        take(&mut b, n).map(<[u8]>::to_vec)
    };
    let (action, purpose, outcome) = (text()?, text()?, text()?);
    let fields = if version == 3 {
        text()?
    } else {
        let head = leb(&mut b)?;
        let len = head / 2;
        if head % 2 == 1 {
            unpack(take(&mut b, len.div_ceil(3) * 2)?, len)?
        } else {
            take(&mut b, len)?.to_vec()
        }
    };
    let parts = Parts {
        version,
        link,
        at,
        actor,
        client,
        target,
        digest,
        digest_v2,
        facts,
        action,
        purpose,
        outcome,
        fields,
    };
    b.is_empty().then_some(parts)
}

pub fn encode(p: &Parts) -> Vec<u8> {
    let v4 = p.version == 4;
    let mut out = vec![p.version];
    out.extend(&p.link);
    if v4 {
        let mut z = ((p.at << 1) ^ (p.at >> 63)) as u64;
        while z >= 0x80 {
            out.push((z as u8 & 0x7f) | 0x80);
            z >>= 7;
        }
        out.push(z as u8);
    } else {
        out.extend(p.at.to_be_bytes());
    }
    let ids = [&p.actor, &p.client, &p.target, &p.digest, &p.facts];
    let present = ids
        .iter()
        .enumerate()
        .filter(|(_, v)| v.is_some())
        .fold(0u8, |acc, (i, _)| acc | (1 << i));
    let v2 = if p.digest_v2 && p.digest.is_some() {
        0x20
    } else {
        0
    };
    out.push(present | v2);
    for v in ids.into_iter().flatten() {
        out.extend(v);
    }
    for t in [&p.action, &p.purpose, &p.outcome] {
        if v4 {
            match codes().iter().position(|c| c.as_bytes() == &t[..]) {
                Some(i) => {
                    out.push(i as u8 + 1);
                    continue;
                }
                None => out.push(0),
            }
        }
        put_leb(&mut out, t.len());
        out.extend(t);
    }
    match pack(&p.fields).filter(|_| v4) {
        Some(packed) => {
            put_leb(&mut out, p.fields.len() * 2 + 1);
            out.extend(packed);
        }
        None => {
            put_leb(&mut out, p.fields.len() * if v4 { 2 } else { 1 });
            out.extend(&p.fields);
        }
    }
    out
}

/// `SHA-256("confide/audit/v1" ‖ prev ‖ seq (8 bytes, big-endian) ‖ entry)`.
pub fn entry_hash(prev: &[u8], seq: i64, entry: &[u8]) -> Vec<u8> {
    let mut all = b"confide/audit/v1".to_vec();
    all.extend(prev);
    all.extend(seq.to_be_bytes());
    all.extend(entry);
    ring::digest::digest(&ring::digest::SHA256, &all)
        .as_ref()
        .to_vec()
}

fn bytes_of(v: ValueRef<'_>) -> Option<Vec<u8>> {
    match v {
        ValueRef::Blob(b) | ValueRef::Text(b) => Some(b.to_vec()),
        _ => None,
    }
}

fn text_value(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::Text(s.to_owned()),
        Err(_) => Value::Blob(b.to_vec()),
    }
}

fn part(p: &Parts, name: &str) -> rusqlite::Result<Value> {
    let id = |v: &Option<Vec<u8>>| v.clone().map_or(Value::Null, Value::Blob);
    Ok(match name {
        "link" => Value::Blob(p.link.clone()),
        "at" => Value::Integer(p.at),
        "actor" => id(&p.actor),
        "client_id" => id(&p.client),
        "target_id" => id(&p.target),
        "digest" => id(&p.digest),
        "facts" => id(&p.facts),
        "action" => text_value(&p.action),
        "purpose" => text_value(&p.purpose),
        "outcome" => text_value(&p.outcome),
        "fields" => text_value(&p.fields),
        other => {
            return Err(rusqlite::Error::UserFunctionError(
                format!("no part {other}").into(),
            ));
        }
    })
}

fn set(p: &mut Parts, name: &str, v: ValueRef<'_>) -> rusqlite::Result<()> {
    let b = bytes_of(v);
    let bad = || rusqlite::Error::UserFunctionError(format!("cannot set {name}").into());
    match name {
        "link" => p.link = b.ok_or_else(bad)?,
        "at" => p.at = v.as_i64().map_err(|_| bad())?,
        "actor" => p.actor = b,
        "client_id" => p.client = b,
        "target_id" => p.target = b,
        "digest" => p.digest = b,
        "facts" => p.facts = b,
        "action" => p.action = b.ok_or_else(bad)?,
        "purpose" => p.purpose = b.ok_or_else(bad)?,
        "outcome" => p.outcome = b.ok_or_else(bad)?,
        "fields" => p.fields = b.ok_or_else(bad)?,
        _ => return Err(bad()),
    }
    Ok(())
}

fn entry_arg(ctx: &Context<'_>) -> rusqlite::Result<Parts> {
    let b = bytes_of(ctx.get_raw(0)).unwrap_or_default();
    decode(&b).ok_or_else(|| rusqlite::Error::UserFunctionError("not an entry".into()))
}

/// Add the three functions to `conn`.
pub fn register(conn: &Connection) {
    let flags = FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC;
    conn.create_scalar_function("audit_part", 2, flags, |ctx| {
        let p = entry_arg(ctx)?;
        part(&p, &ctx.get::<String>(1)?)
    })
    .unwrap();
    conn.create_scalar_function("audit_with", 3, flags, |ctx| {
        let mut p = entry_arg(ctx)?;
        set(&mut p, &ctx.get::<String>(1)?, ctx.get_raw(2))?;
        Ok(encode(&p))
    })
    .unwrap();
    conn.create_scalar_function("audit_hash", 3, flags, |ctx| {
        let prev = bytes_of(ctx.get_raw(0)).unwrap_or_default();
        let entry = bytes_of(ctx.get_raw(2)).unwrap_or_default();
        Ok(entry_hash(&prev, ctx.get(1)?, &entry))
    })
    .unwrap();
}

/// Open a vault file read-write, as a tamperer would, with the functions above.
pub fn open(path: &std::path::Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    register(&conn);
    conn
}

/// Recompute every stored hash from `from` on, each after the row before it: what a tamperer
/// does to hide an edit from a chain check (signed checkpoints still catch it).
pub fn rehash_from(conn: &Connection, from: i64) {
    let before: Option<Vec<u8>> = conn
        .query_row(
            "SELECT hash FROM audit_log WHERE seq < ?1 ORDER BY seq DESC LIMIT 1",
            [from],
            |r| r.get(0),
        )
        .optional()
        .unwrap();
    // The first entry follows SHA-256 of the vault id.
    let mut prev = before.unwrap_or_else(|| {
        let id: Vec<u8> = conn
            .query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
            .unwrap();
        ring::digest::digest(&ring::digest::SHA256, &id)
            .as_ref()
            .to_vec()
    });
    let rows: Vec<(i64, Vec<u8>)> = conn
        .prepare("SELECT seq, entry FROM audit_log WHERE seq >= ?1 ORDER BY seq")
        .unwrap()
        .query_map([from], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    for (seq, entry) in rows {
        let mut parts = decode(&entry).expect("an entry of layout 3 or 4");
        parts.link = prev[..8].to_vec();
        let entry = encode(&parts);
        let hash = entry_hash(&prev, seq, &entry);
        conn.execute(
            "UPDATE audit_log SET entry = ?1, hash = ?2 WHERE seq = ?3",
            rusqlite::params![entry, hash, seq],
        )
        .unwrap();
        prev = hash;
    }
}
