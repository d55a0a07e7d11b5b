//! SQLCipher 4 (keyed, its default settings: PBKDF2-HMAC-SHA512 with 256,000 iterations for the
//! key, 4 KiB pages each with its HMAC) beside plain SQLite, in one process, on the same data:
//! `--records` records of a `--shape` (`six`: six fields of 150 bytes, the vault bench's shape;
//! `long`: twenty fields of 1-2 KB, a therapy practice's long notes), one row per field in a
//! `WITHOUT ROWID` table keyed so a record is one range read (the layout of
//! `read/plain_sqlite`), WAL, `synchronous = NORMAL`. Prints the mean time of a random whole
//! record read from each, the ratio, and the file sizes, as `key=value` pairs
//! (`scripts/peers.sh` reads them).
//!
//! `cargo run --release -- --records 100000 --shape six --reads 200000`

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use rusqlite::Connection;

// The synthetic practice's words and generator (`src/synth.rs`), repeated here: this crate
// cannot depend on the vault's, whose `libsqlite3-sys` feature would meet SQLCipher's in one
// build.
const WORDS: &[&str] = &[
    "client",
    "reported",
    "sleep",
    "improved",
    "anxiety",
    "session",
    "homework",
    "reviewed",
    "mood",
    "stable",
    "goals",
    "exposure",
    "avoidance",
    "coping",
    "skills",
    "family",
    "work",
    "stress",
    "plan",
    "continue",
    "weekly",
    "affect",
    "congruent",
    "denies",
    "risk",
    "safety",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn text(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes + 12);
        while s.len() < bytes {
            s.push_str(WORDS[self.below(WORDS.len())]);
            s.push(' ');
        }
        s.truncate(bytes);
        s
    }
}

/// The fields of one record of `shape`, as (name, bytes).
fn shape(name: &str, rng: &mut Rng) -> Vec<(String, usize)> {
    match name {
        "long" => (0..20)
            .map(|i| (format!("section_{i:02}"), 1024 + rng.below(1025)))
            .collect(),
        _ => [
            "subjective",
            "objective",
            "assessment",
            "plan",
            "interventions",
            "risk",
        ]
        .iter()
        .map(|f| ((*f).to_owned(), 150))
        .collect(),
    }
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| default.to_owned())
}

fn open(path: &Path, key: Option<&str>) -> rusqlite::Result<Connection> {
    let conn = Connection::open(path)?;
    if let Some(key) = key {
        // SQLCipher's default settings: only the key is given.
        conn.pragma_update(None, "key", key)?;
    }
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS fields (
             record_id BLOB NOT NULL,
             field     TEXT NOT NULL,
             value     TEXT NOT NULL,
             PRIMARY KEY (record_id, field)
         ) WITHOUT ROWID;",
    )?;
    Ok(conn)
}

fn fill(conns: &mut [&mut Connection], records: usize, shape_name: &str) -> rusqlite::Result<()> {
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let txs: Vec<_> = conns
        .iter_mut()
        .map(|c| c.transaction())
        .collect::<rusqlite::Result<_>>()?;
    for r in 0..records {
        let id = (r as u128).to_be_bytes();
        for (field, bytes) in shape(shape_name, &mut rng) {
            let value = rng.text(bytes);
            for tx in &txs {
                tx.prepare_cached(
                    "INSERT INTO fields (record_id, field, value) VALUES (?1, ?2, ?3)",
                )?
                .execute((&id[..], &field, &value))?;
            }
        }
    }
    for tx in txs {
        tx.commit()?;
    }
    Ok(())
}

fn read(conn: &Connection, record: usize) -> rusqlite::Result<usize> {
    let id = (record as u128).to_be_bytes();
    let mut stmt =
        conn.prepare_cached("SELECT field, value FROM fields WHERE record_id = ?1 ORDER BY field")?;
    let mut rows = stmt.query([&id[..]])?;
    let mut bytes = 0;
    while let Some(r) = rows.next()? {
        let field: String = r.get(0)?;
        let value: String = r.get(1)?;
        bytes += field.len() + value.len();
    }
    Ok(bytes)
}

/// Mean nanoseconds of a random record read, over `reads` reads after a tenth as many to warm.
fn time_reads(conn: &Connection, records: usize, reads: usize) -> rusqlite::Result<f64> {
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    for _ in 0..reads / 10 {
        black_box(read(conn, rng.below(records))?);
    }
    let start = Instant::now();
    for _ in 0..reads {
        black_box(read(conn, rng.below(records))?);
    }
    Ok(start.elapsed().as_nanos() as f64 / reads as f64)
}

fn size(path: &Path) -> u64 {
    ["", "-wal"]
        .iter()
        .map(|s| {
            let mut p = path.as_os_str().to_owned();
            p.push(s);
            std::fs::metadata(p).map_or(0, |m| m.len())
        })
        .sum()
}

fn main() -> rusqlite::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = arg(&args, "--records", "100000").parse().unwrap_or(100_000);
    let reads: usize = arg(&args, "--reads", "200000").parse().unwrap_or(200_000);
    let shape_name = arg(&args, "--shape", "six");
    let dir = tempfile::tempdir().map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
    let plain_path = dir.path().join("plain.sqlite");
    let cipher_path = dir.path().join("cipher.sqlite");
    let mut plain = open(&plain_path, None)?;
    let mut cipher = open(&cipher_path, Some("peer benchmark passphrase"))?;
    let version: String = cipher.query_row("PRAGMA cipher_version", [], |r| r.get(0))?;
    let version = version.replace(char::is_whitespace, "_");
    fill(&mut [&mut plain, &mut cipher], records, &shape_name)?;
    for c in [&plain, &cipher] {
        c.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")?;
    }
    let plain_ns = time_reads(&plain, records, reads)?;
    let cipher_ns = time_reads(&cipher, records, reads)?;
    println!(
        "peer=sqlcipher cipher_version={version} shape={shape_name} records={records} \
         reads={reads} plain_us={:.3} sqlcipher_us={:.3} ratio={:.4} plain_bytes={} \
         sqlcipher_bytes={}",
        plain_ns / 1e3,
        cipher_ns / 1e3,
        plain_ns / cipher_ns,
        size(&plain_path),
        size(&cipher_path)
    );
    Ok(())
}
