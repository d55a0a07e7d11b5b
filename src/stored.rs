//! Stored values and rows as plain data: what storage reads out of SQLite, byte for byte, and
//! what the audit log hashes and checks.
//!
//! A bottom-floor module: `db` fills these from rows and `audit` hashes and checks them, and
//! neither has to know the other's types. The encoding of a cell (type tag, then payload) and
//! the canonical bytes of a row of them are part of the on-disk format (`docs/design.md`): an
//! audit entry written before format 6 is stored as exactly these bytes, and the ledger and
//! field-set digests hash cells the same way.

/// Version byte of the canonical encoding of an entry without a digest (formats 1 and up).
const CANONICAL_V1: u8 = 1;
/// Version byte of the canonical encoding of an entry that vouches for a ledger row.
const CANONICAL_V2: u8 = 2;

/// One stored column value, as SQLite holds it.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum Cell {
    #[default]
    Null,
    Integer(i64),
    Real(f64),
    /// Text as stored, byte for byte (a tamperer may store invalid UTF-8).
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Cell {
    pub(crate) fn encode(&self, out: &mut Vec<u8>) {
        match self {
            Cell::Null => out.push(0),
            Cell::Integer(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_be_bytes());
            }
            Cell::Real(r) => {
                out.push(2);
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            Cell::Text(s) => push_bytes(out, 3, s),
            Cell::Blob(b) => push_bytes(out, 4, b),
        }
    }

    pub(crate) fn opt_blob(b: Option<&[u8]>) -> Cell {
        b.map_or(Cell::Null, |b| Cell::Blob(b.to_vec()))
    }
}

fn push_bytes(out: &mut Vec<u8>, tag: u8, b: &[u8]) {
    out.push(tag);
    // Column values longer than 4 GiB cannot exist in SQLite (its limit is 2 GiB).
    out.extend_from_slice(&(b.len() as u32).to_be_bytes());
    out.extend_from_slice(b);
}

/// The hashed columns of one audit entry written before format 6, in table order:
/// seq, at, actor, action, client_id, target_id, fields, purpose, outcome, digest.
///
/// An entry whose digest is NULL hashes its first nine cells under version byte 1, exactly as
/// before the digest column existed; one with a digest hashes all ten under version byte 2.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct EntryCells(pub [Cell; 10]);

impl EntryCells {
    /// The same cells with another sequence number.
    #[cfg(test)]
    pub(crate) fn with_seq(&self, seq: i64) -> EntryCells {
        let mut c = self.clone();
        c.0[0] = Cell::Integer(seq);
        c
    }

    fn canonical(&self, out: &mut Vec<u8>) {
        let (version, cells) = match self.0[9] {
            Cell::Null => (CANONICAL_V1, &self.0[..9]),
            _ => (CANONICAL_V2, &self.0[..]),
        };
        out.push(version);
        for cell in cells {
            cell.encode(out);
        }
    }
}

/// The canonical bytes of an entry written before format 6: what it stores as its blob since.
pub(crate) fn canonical_bytes(cells: &EntryCells) -> Vec<u8> {
    let mut buf = Vec::with_capacity(256);
    cells.canonical(&mut buf);
    buf
}

/// One stored row of the audit log, as the verifier sees it.
#[derive(Clone, Debug, Default)]
pub(crate) struct StoredEntry {
    pub seq: i64,
    /// The entry's bytes, as hashed (`audit/layout.rs`).
    pub entry: Vec<u8>,
    pub hash: Vec<u8>,
    /// Already found to hash, after the stored hash of the row read just before it, to its
    /// stored hash (by the reading thread, which shares the hashing that way).
    pub hashed_after_previous_row: bool,
}

impl StoredEntry {
    #[cfg(any(test, feature = "fuzzing"))]
    pub(crate) fn new(seq: i64, entry: Vec<u8>, hash: Vec<u8>) -> Self {
        Self {
            seq,
            entry,
            hash,
            hashed_after_previous_row: false,
        }
    }
}

/// One stored ledger row with its sealed fields, as the verifier reads it.
pub(crate) struct StoredLedger {
    /// `disclosure_id`.
    pub id: Vec<u8>,
    /// `audit_seq`: the entry that vouches for this row.
    pub audit_seq: i64,
    /// Every column of the row, in table order.
    pub cells: Vec<Cell>,
    /// (field, key_version, envelope) of each sealed field, ordered by field.
    pub fields: Vec<[Cell; 3]>,
}

/// One stored column value, borrowed from the row it was read from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum CellRef<'a> {
    Null,
    Integer(i64),
    Real(f64),
    Text(&'a [u8]),
    Blob(&'a [u8]),
}

impl CellRef<'_> {
    /// The same bytes [`Cell::encode`] gives for the owned cell.
    fn encode(&self, out: &mut Vec<u8>) {
        match *self {
            CellRef::Null => out.push(0),
            CellRef::Integer(i) => {
                out.push(1);
                out.extend_from_slice(&i.to_be_bytes());
            }
            CellRef::Real(r) => {
                out.push(2);
                out.extend_from_slice(&r.to_bits().to_be_bytes());
            }
            CellRef::Text(t) => push_bytes(out, 3, t),
            CellRef::Blob(b) => push_bytes(out, 4, b),
        }
    }
}

/// The digest of one scope's facts (a client's, a case's, a user's): every row the policy
/// reads about it, table by table, in key order, hashed as stored.
///
/// `SHA-256("confide/facts/v1" ‖ len ‖ kind ‖ len ‖ id ‖ for each row: len ‖ table ‖ u32
/// count ‖ cells)`. Keyless, so `audit-verify` recomputes it from the file and compares it with
/// what the entry that last changed the scope vouched for; the vault keeps a MAC of it.
///
/// The bytes are gathered and hashed once at the end: a scope is a few hundred bytes, and one
/// call to the hash costs far less than one per cell.
pub(crate) struct FactsDigest {
    buf: Vec<u8>,
}

impl FactsDigest {
    pub(crate) fn new(kind: &str, id: &[u8]) -> Self {
        let mut buf = Vec::with_capacity(512);
        buf.extend_from_slice(b"confide/facts/v1");
        for part in [kind.as_bytes(), id] {
            buf.extend_from_slice(&(part.len() as u32).to_be_bytes());
            buf.extend_from_slice(part);
        }
        Self { buf }
    }

    /// Start a row of `table` with `cells` cells; feed them with [`FactsDigest::cell`].
    pub(crate) fn row(&mut self, table: &str, cells: usize) {
        self.buf
            .extend_from_slice(&(table.len() as u32).to_be_bytes());
        self.buf.extend_from_slice(table.as_bytes());
        // A row has a handful of columns.
        self.buf.extend_from_slice(&(cells as u32).to_be_bytes());
    }

    pub(crate) fn cell(&mut self, c: CellRef<'_>) {
        c.encode(&mut self.buf);
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out.copy_from_slice(ring::digest::digest(&ring::digest::SHA256, &self.buf).as_ref());
        out
    }
}

/// One stored checkpoint of the audit log, as its row holds it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct StoredCheckpoint {
    /// The sequence number of the entry it covers.
    pub(crate) seq: i64,
    /// That entry's hash, as signed.
    pub(crate) hash: Vec<u8>,
    /// The Ed25519 signature.
    pub(crate) signature: Vec<u8>,
    /// When it was signed (unix ms): signed too since version 2, only stored before.
    pub(crate) at: i64,
    /// The vault's state then, as its code, for a checkpoint of version 2 (format 8 on);
    /// `None` for one of version 1, which signed no state.
    pub(crate) state: Option<i64>,
}
