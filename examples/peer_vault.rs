//! The vault's side of `scripts/peers.sh`: a synthetic practice of `--records` progress notes
//! (`confide::synth`; `--shape six`, six fields of 150 bytes, or `--shape long`, twenty of 1-2
//! KB), read in batches of 100 through [`Session::read_records`]
//! (each entry decided, opened and audited; one commit a batch; `Durability::Normal`), beside
//! plain SQLite reads of records of the same shape (one row per field, `WITHOUT ROWID`, WAL,
//! `synchronous = NORMAL`) in the same process. Prints the mean time of a record read from each
//! and the ratio as `key=value` pairs.
//!
//! `cargo run --release --example peer_vault -- --records 100000 --reads 100000 --shape six`

use std::hint::black_box;
use std::time::Instant;

use confide::synth::{self, FIELD_BYTES, FIELDS, PASSPHRASE, Shape};
use confide::{Durability, KdfParams, Passphrase, Purpose, RecordId, Vault, VaultConfig};
use rusqlite::Connection;

const BATCH: usize = 100;

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
}

fn arg(args: &[String], name: &str, default: usize) -> usize {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn plain_read(conn: &Connection, record: usize) -> rusqlite::Result<usize> {
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

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let records = arg(&args, "--records", 100_000);
    let reads = arg(&args, "--reads", 100_000).max(BATCH);
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("peer.vault");
    let long = args.iter().any(|a| a == "long");
    let shape = if long {
        Shape::LongNotes
    } else {
        Shape::SixFields
    };
    let built = synth::build_shaped(&path, records, 0, shape, |_| {})?;

    // Plain SQLite, the same shape: six fields of FIELD_BYTES per record, or twenty of 1-2 KB.
    let plain = Connection::open(dir.path().join("plain.sqlite"))?;
    plain.pragma_update(None, "journal_mode", "WAL")?;
    plain.pragma_update(None, "synchronous", "NORMAL")?;
    plain.execute_batch(
        "CREATE TABLE fields (record_id BLOB NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL,
         PRIMARY KEY (record_id, field)) WITHOUT ROWID;",
    )?;
    let mut sizes = Rng(0x9E37_79B9_7F4A_7C15);
    plain.execute_batch("BEGIN")?;
    for r in 0..records {
        let id = (r as u128).to_be_bytes();
        let fields: Vec<(String, usize)> = if long {
            (0..20)
                .map(|i| (format!("section_{i:02}"), 1024 + sizes.below(1025)))
                .collect()
        } else {
            FIELDS
                .iter()
                .map(|f| ((*f).to_owned(), FIELD_BYTES))
                .collect()
        };
        for (f, bytes) in fields {
            plain
                .prepare_cached("INSERT INTO fields VALUES (?1, ?2, ?3)")?
                .execute((&id[..], f, "x".repeat(bytes)))?;
        }
    }
    plain.execute_batch("COMMIT")?;

    // dr.0's charts: every record a clinician of the practice may read.
    let mine: Vec<RecordId> = built
        .charts
        .iter()
        .filter(|(who, _)| *who == 0)
        .map(|(_, r)| *r)
        .collect();
    let config = VaultConfig::default()
        .with_kdf(KdfParams::new(64, 1, 1)?)
        .with_durability(Durability::Normal);
    let vault = Vault::open(&path, config)?;
    let dr = vault.unlock("dr.0", &Passphrase::new(PASSPHRASE))?;
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let batch = |rng: &mut Rng| -> Vec<RecordId> {
        (0..BATCH).map(|_| mine[rng.below(mine.len())]).collect()
    };
    for _ in 0..(reads / BATCH / 10).max(1) {
        black_box(dr.read_records(&batch(&mut rng), Purpose::Treatment)?);
    }
    let start = Instant::now();
    let mut read = 0;
    while read < reads {
        for r in dr.read_records(&batch(&mut rng), Purpose::Treatment)? {
            black_box(r?);
        }
        read += BATCH;
    }
    let vault_ns = start.elapsed().as_nanos() as f64 / read as f64;

    for _ in 0..reads / 10 {
        black_box(plain_read(&plain, rng.below(records))?);
    }
    let start = Instant::now();
    for _ in 0..reads {
        black_box(plain_read(&plain, rng.below(records))?);
    }
    let plain_ns = start.elapsed().as_nanos() as f64 / reads as f64;
    println!(
        "peer=vault shape={} records={records} reads={read} plain_us={:.3} \
         vault_batch_100_us={:.3} ratio={:.4}",
        if long { "long" } else { "six" },
        plain_ns / 1e3,
        vault_ns / 1e3,
        plain_ns / vault_ns
    );
    Ok(())
}
