//! Read throughput: one six-field general-record entry read by a logged-in clinician through the
//! full public path ([`Session::read_record`]: decide, audit with a committed entry per read,
//! decrypt), beside plain rusqlite reads of the same six plaintext fields from an unencrypted
//! table in another SQLite file (WAL, `WITHOUT ROWID`, cached statement, one range read).
//!
//! Benchmarks (criterion group `read`, throughput in records read):
//! - `read/plain_sqlite`: the unencrypted baseline;
//! - `read/single`: the vault opened with the default [`Durability::Full`];
//! - `read/batch_100`: 100 records per call through [`Session::read_records`] (each decided
//!   and audited on its own, one commit for the batch), `Durability::Full`;
//! - `read/single_normal`: the same vault file reopened with [`Durability::Normal`];
//! - `read/concurrent_4` and `read/concurrent_4_normal`: four sessions (the clinician logged in four
//!   times) on two threads, two sessions each taking turns, single-record reads, with `Full` and `Normal`;
//!   the time is per read, so the throughput is the total of all four;
//! - `read/batch_100_normal`: `read/batch_100` with `Durability::Normal`;
//! - `read/floor_single_normal`, `read/floor_single_full`, `read/floor_batch_100` and
//!   `read/floor_batch_100_normal`: what an audited read costs on SQLite before any decision or
//!   cryptography, on the plain table: the same plain read plus one 138-byte row (an entry of
//!   the generator's average size and its hash) inserted into a log table, committed per read
//!   (`synchronous = NORMAL`, `FULL`) or per 100 reads (`FULL`, `NORMAL`). No design that
//!   commits each read's entry before returning can beat these on this storage; they bound
//!   what issue 6's ratios can reach.
//! - `read/plain_sqlite_row`: the same six values from a plain table holding one row per record
//!   (six columns): the baseline a one-row-per-record layout is held to;
//! - `read/floor_batch_100_packed` and `read/floor_batch_100_packed_normal`: 100 of those
//!   one-row reads plus **one** log row holding all 100 entries (138 bytes each), committed once
//!   (`FULL`, `NORMAL`): the floor of a batch whose entries are written as one row;
//! - `read/floor_fdatasync`: one small write to a file and its `fdatasync`: what a durable
//!   commit costs this storage at least.
//!
//! The bench also counts heap allocations per record read (a counting global allocator), for
//! `read/single_normal` and `read/batch_100_normal`'s work, outside criterion's timing.
//!
//! After criterion finishes, the saved estimates are read back from
//! `<target>/criterion/read/<id>/new/estimates.json` and summarised in a table.
//!
//! Run with `cargo bench --bench read_throughput`.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::Duration;

use confide::{
    Date, Durability, KdfParams, NewClient, Passphrase, Purpose, RecordId, RecordKind, Role,
    Session, Value, Vault, VaultConfig,
};
use criterion::{BenchmarkGroup, Criterion, Throughput, measurement::WallTime};
use rusqlite::Connection;

/// How many clients, each with one progress note.
const CLIENTS: usize = 1_000;
/// The six fields of every progress note.
const FIELDS: [&str; 6] = [
    "subjective",
    "objective",
    "assessment",
    "plan",
    "interventions",
    "risk",
];
/// Bytes per field value.
const FIELD_BYTES: usize = 150;
/// Fixed seeds: the data and the access pattern are the same on every run.
const DATA_SEED: u64 = 0x9E37_79B9_7F4A_7C15;
const ACCESS_SEED: u64 = 0x2545_F491_4F6C_DD1D;

const ADMIN_PASS: &str = "bench admin passphrase";
const CLIN_PASS: &str = "bench clinician passphrase";
const CLINICIAN: &str = "dr.bench";

const GROUP: &str = "read";
const BASELINE: &str = "plain_sqlite";
const IDS: [&str; 15] = [
    BASELINE,
    "single",
    "single_normal",
    "batch_100",
    "concurrent_4",
    "concurrent_4_normal",
    "floor_single_normal",
    "floor_single_full",
    "floor_batch_100",
    "batch_100_normal",
    "floor_batch_100_normal",
    "plain_sqlite_row",
    "floor_batch_100_packed",
    "floor_batch_100_packed_normal",
    "floor_fdatasync",
];
/// Records read by one iteration of each benchmark.
const PER_ITERATION: [f64; 15] = [
    1.0, 1.0, 1.0, 100.0, 1.0, 1.0, 1.0, 1.0, 100.0, 100.0, 100.0, 1.0, 100.0, 100.0, 1.0,
];
/// Bytes of one row of the floors' log: an average entry of the generator's vault (106) and its
/// hash (32).
const FLOOR_ROW: usize = 138;
/// Sessions reading at once in the concurrent benchmarks, and the threads they run on.
const SESSIONS: usize = 4;
const THREADS: usize = 2;
/// Records per batched read.
const BATCH: usize = 100;

/// The system allocator, counting allocations: what a read costs in them is one of its figures.
#[global_allocator]
static GLOBAL: &stats_alloc::StatsAlloc<std::alloc::System> = &stats_alloc::INSTRUMENTED_SYSTEM;

/// Allocations per record of `reads` records read through `read` (which reads `per_call` a
/// call).
fn allocations_per_read(reads: usize, per_call: usize, mut read: impl FnMut()) -> f64 {
    let region = stats_alloc::Region::new(GLOBAL);
    for _ in 0..reads / per_call {
        read();
    }
    let change = region.change();
    (change.allocations + change.reallocations) as f64 / ((reads / per_call) * per_call) as f64
}

/// xorshift64: a tiny fixed-seed generator, enough to pick record indices and words.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A ~150-byte clinical-looking sentence (exactly [`FIELD_BYTES`] ASCII bytes).
fn field_text(rng: &mut XorShift) -> String {
    const WORDS: [&str; 24] = [
        "client",
        "reports",
        "improved",
        "sleep",
        "anxiety",
        "session",
        "discussed",
        "coping",
        "skills",
        "mood",
        "stable",
        "affect",
        "congruent",
        "denies",
        "ideation",
        "plan",
        "continue",
        "weekly",
        "therapy",
        "homework",
        "reviewed",
        "exposure",
        "progress",
        "goals",
    ];
    let mut s = String::with_capacity(FIELD_BYTES + 16);
    while s.len() < FIELD_BYTES {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[rng.below(WORDS.len())]);
    }
    s.truncate(FIELD_BYTES);
    s
}

/// The vault, its records and the plain table, all in one temporary directory.
struct Fixture {
    dir: tempfile::TempDir,
    vault_path: PathBuf,
    config: VaultConfig,
    records: Vec<RecordId>,
    plain: Connection,
}

fn build() -> (Fixture, Vault) {
    let dir = tempfile::tempdir().expect("temp dir");
    let vault_path = dir.path().join("practice.vault");
    let plain_path = dir.path().join("plain.sqlite");
    // Default durability (Full); cheap KDF costs so logins do not dominate the setup.
    let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1).expect("kdf params"));
    let vault = Vault::create(
        &vault_path,
        "admin",
        &Passphrase::new(ADMIN_PASS),
        config.clone(),
    )
    .expect("create vault");
    let admin = vault
        .unlock("admin", &Passphrase::new(ADMIN_PASS))
        .expect("admin login");
    admin
        .add_user(CLINICIAN, Role::Clinician, &Passphrase::new(CLIN_PASS))
        .expect("add clinician");
    drop(admin);
    let dr = vault
        .unlock(CLINICIAN, &Passphrase::new(CLIN_PASS))
        .expect("clinician login");

    let mut plain = Connection::open(&plain_path).expect("open plain db");
    let mode: String = plain
        .pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))
        .expect("plain WAL");
    assert_eq!(mode, "wal");
    plain
        .execute_batch(
            "CREATE TABLE plain_fields (
                 record_id BLOB NOT NULL,
                 field     TEXT NOT NULL,
                 value     TEXT NOT NULL,
                 PRIMARY KEY (record_id, field)
             ) WITHOUT ROWID;
             CREATE TABLE plain_log (seq INTEGER PRIMARY KEY, entry BLOB NOT NULL);
             CREATE TABLE plain_rows (
                 record_id BLOB PRIMARY KEY,
                 subjective TEXT NOT NULL, objective TEXT NOT NULL, assessment TEXT NOT NULL,
                 plan TEXT NOT NULL, interventions TEXT NOT NULL, risk TEXT NOT NULL
             ) WITHOUT ROWID;",
        )
        .expect("plain schema");

    let mut rng = XorShift(DATA_SEED);
    let mut records = Vec::with_capacity(CLIENTS);
    let tx = plain.transaction().expect("plain tx");
    {
        let mut insert = tx
            .prepare("INSERT INTO plain_fields (record_id, field, value) VALUES (?1, ?2, ?3)")
            .expect("plain insert");
        let mut insert_row = tx
            .prepare(
                "INSERT INTO plain_rows (record_id, subjective, objective, assessment, plan, \
                 interventions, risk) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .expect("plain row insert");
        for i in 0..CLIENTS {
            let client = dr
                .create_client(
                    &NewClient {
                        full_name: format!("Bench Client {i:04}"),
                        date_of_birth: Date::new(1980 + (i % 30) as i16, 1 + (i % 12) as u8, 1)
                            .expect("date"),
                    },
                    Purpose::Treatment,
                )
                .expect("create client");
            let texts: Vec<String> = FIELDS.iter().map(|_| field_text(&mut rng)).collect();
            let values: Vec<(&str, Value)> = FIELDS
                .iter()
                .zip(&texts)
                .map(|(name, text)| (*name, Value::text(text.clone())))
                .collect();
            let record = dr
                .create_record(
                    &client,
                    RecordKind::ProgressNote,
                    &values,
                    Purpose::Treatment,
                )
                .expect("create record");
            for (name, text) in FIELDS.iter().zip(&texts) {
                insert
                    .execute((&record.as_bytes()[..], name, text))
                    .expect("plain row");
            }
            insert_row
                .execute(rusqlite::params![
                    &record.as_bytes()[..],
                    texts[0],
                    texts[1],
                    texts[2],
                    texts[3],
                    texts[4],
                    texts[5]
                ])
                .expect("plain one-row record");
            records.push(record);
        }
    }
    tx.commit().expect("plain commit");
    drop(dr);

    let fixture = Fixture {
        dir,
        vault_path,
        config,
        records,
        plain,
    };
    (fixture, vault)
}

/// One record's six fields from the plain table: the baseline's unit of work.
fn plain_read(conn: &Connection, record: &RecordId) -> BTreeMap<String, String> {
    let mut stmt = conn
        .prepare_cached("SELECT field, value FROM plain_fields WHERE record_id = ?1 ORDER BY field")
        .expect("plain select");
    let rows = stmt
        .query_map([&record.as_bytes()[..]], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("plain query");
    rows.collect::<rusqlite::Result<_>>().expect("plain rows")
}

/// One record's six values from the one-row-per-record plain table.
fn plain_row_read(conn: &Connection, record: &RecordId) -> BTreeMap<String, String> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT subjective, objective, assessment, plan, interventions, risk FROM plain_rows \
             WHERE record_id = ?1",
        )
        .expect("plain row select");
    let values: [String; 6] = stmt
        .query_row([&record.as_bytes()[..]], |r| {
            Ok([
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ])
        })
        .expect("plain row");
    FIELDS.iter().map(|f| (*f).to_owned()).zip(values).collect()
}

/// The packed floors' unit of work: `reads` one-row reads, then one log row holding an entry
/// for each, in one committed transaction.
fn packed_floor_reads(conn: &Connection, records: &[RecordId], rng: &mut XorShift, reads: usize) {
    let packed = vec![0x5a_u8; FLOOR_ROW * reads];
    conn.execute_batch("BEGIN IMMEDIATE").expect("packed begin");
    for _ in 0..reads {
        let record = &records[rng.below(records.len())];
        black_box(plain_row_read(conn, black_box(record)));
    }
    conn.prepare_cached("INSERT INTO plain_log (entry) VALUES (?1)")
        .expect("packed insert")
        .execute([&packed[..]])
        .expect("packed row");
    conn.execute_batch("COMMIT").expect("packed commit");
}

fn bench_packed_floor(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    fixture: &Fixture,
    synchronous: &str,
) {
    let plain = &fixture.plain;
    plain
        .pragma_update(None, "synchronous", synchronous)
        .expect("plain synchronous");
    group.bench_function(id, |b| {
        let mut rng = XorShift(ACCESS_SEED);
        b.iter(|| packed_floor_reads(plain, &fixture.records, &mut rng, BATCH));
    });
}

/// One small write to a file and its `fdatasync`, each iteration.
fn bench_fdatasync(group: &mut BenchmarkGroup<'_, WallTime>, id: &str, dir: &Path) {
    use std::io::{Seek, Write};
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .read(true)
        .write(true)
        .open(dir.join("fdatasync.bin"))
        .expect("fdatasync file");
    let row = [0x5a_u8; FLOOR_ROW];
    group.bench_function(id, |b| {
        b.iter(|| {
            file.seek(std::io::SeekFrom::Start(0)).expect("seek");
            file.write_all(&row).expect("write");
            file.sync_data().expect("fdatasync");
        });
    });
}

/// The floors' unit of work: `reads` plain reads, each followed by one log row, in one
/// committed transaction.
fn floor_reads(conn: &Connection, records: &[RecordId], rng: &mut XorShift, reads: usize) {
    let row = [0x5a_u8; FLOOR_ROW];
    conn.execute_batch("BEGIN IMMEDIATE").expect("floor begin");
    for _ in 0..reads {
        let record = &records[rng.below(records.len())];
        black_box(plain_read(conn, black_box(record)));
        conn.prepare_cached("INSERT INTO plain_log (entry) VALUES (?1)")
            .expect("floor insert")
            .execute([&row[..]])
            .expect("floor row");
    }
    conn.execute_batch("COMMIT").expect("floor commit");
}

fn bench_floor(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    fixture: &Fixture,
    synchronous: &str,
    reads: usize,
) {
    let plain = &fixture.plain;
    plain
        .pragma_update(None, "synchronous", synchronous)
        .expect("plain synchronous");
    group.bench_function(id, |b| {
        let mut rng = XorShift(ACCESS_SEED);
        b.iter(|| floor_reads(plain, &fixture.records, &mut rng, reads));
    });
}

/// Both paths return the same six values for a record.
fn check_same(fixture: &Fixture, dr: &Session) {
    for record in [fixture.records[0], fixture.records[CLIENTS - 1]] {
        let plain = plain_read(&fixture.plain, &record);
        let sealed = dr
            .read_record(&record, Purpose::Treatment)
            .expect("read record");
        assert_eq!(plain.len(), FIELDS.len());
        assert_eq!(sealed.fields.len(), FIELDS.len());
        for (name, value) in &plain {
            assert_eq!(sealed.get(name).map(Value::reveal).as_deref(), Some(value));
        }
    }
}

fn bench_batches(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    fixture: &Fixture,
    dr: &Session,
) {
    let records = &fixture.records;
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function(id, |b| {
        let mut rng = XorShift(ACCESS_SEED);
        b.iter(|| {
            let batch: Vec<RecordId> = (0..BATCH)
                .map(|_| records[rng.below(records.len())])
                .collect();
            let read = dr
                .read_records(black_box(&batch), Purpose::Treatment)
                .expect("batch read");
            assert!(read.iter().all(Result::is_ok));
            black_box(read)
        });
    });
    group.throughput(Throughput::Elements(1));
}

fn bench_vault_reads(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    fixture: &Fixture,
    dr: &Session,
) {
    let records = &fixture.records;
    group.bench_function(id, |b| {
        let mut rng = XorShift(ACCESS_SEED);
        b.iter(|| {
            let record = &records[rng.below(records.len())];
            black_box(
                dr.read_record(black_box(record), Purpose::Treatment)
                    .expect("read"),
            )
        });
    });
}

/// Four sessions on two threads, each thread taking turns between its two sessions, reading
/// single records at random; `iters` reads in all. Returns the wall time for all of them.
fn concurrent_reads(sessions: &[Session], records: &[RecordId], iters: u64) -> Duration {
    let started = std::time::Instant::now();
    std::thread::scope(|s| {
        for (t, mine) in sessions.chunks(SESSIONS / THREADS).enumerate() {
            // The reads split exactly: the first `iters % THREADS` threads do one more.
            let per_thread =
                iters / THREADS as u64 + u64::from((t as u64) < iters % THREADS as u64);
            s.spawn(move || {
                let mut rng = XorShift(ACCESS_SEED ^ (t as u64 + 1));
                for i in 0..per_thread {
                    let dr = &mine[(i as usize) % mine.len()];
                    let record = &records[rng.below(records.len())];
                    black_box(dr.read_record(record, Purpose::Treatment).expect("read"));
                }
            });
        }
    });
    started.elapsed()
}

fn bench_concurrent(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    fixture: &Fixture,
    vault: &Vault,
) {
    let sessions: Vec<Session> = (0..SESSIONS)
        .map(|_| {
            vault
                .unlock(CLINICIAN, &Passphrase::new(CLIN_PASS))
                .expect("clinician login")
        })
        .collect();
    let records = &fixture.records;
    group.bench_function(id, |b| {
        b.iter_custom(|iters| concurrent_reads(&sessions, records, iters))
    });
}

fn benches(c: &mut Criterion) {
    let (fixture, vault) = build();
    let dr = vault
        .unlock(CLINICIAN, &Passphrase::new(CLIN_PASS))
        .expect("clinician login");
    check_same(&fixture, &dr);

    let mut group = c.benchmark_group(GROUP);
    group
        .throughput(Throughput::Elements(1))
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));

    let records = &fixture.records;
    let plain = &fixture.plain;
    group.bench_function(BASELINE, |b| {
        let mut rng = XorShift(ACCESS_SEED);
        b.iter(|| {
            let record = &records[rng.below(records.len())];
            black_box(plain_read(plain, black_box(record)))
        });
    });

    bench_vault_reads(&mut group, "single", &fixture, &dr);

    bench_batches(&mut group, "batch_100", &fixture, &dr);
    bench_concurrent(&mut group, "concurrent_4", &fixture, &vault);

    // Same file, reopened with synchronous = NORMAL: the audit commit no longer fsyncs the WAL.
    drop(dr);
    drop(vault);
    let vault = Vault::open(
        &fixture.vault_path,
        fixture.config.clone().with_durability(Durability::Normal),
    )
    .expect("reopen vault (Normal)");
    let dr = vault
        .unlock(CLINICIAN, &Passphrase::new(CLIN_PASS))
        .expect("clinician login (Normal)");
    bench_vault_reads(&mut group, "single_normal", &fixture, &dr);
    bench_concurrent(&mut group, "concurrent_4_normal", &fixture, &vault);
    bench_batches(&mut group, "batch_100_normal", &fixture, &dr);
    let mut rng = XorShift(ACCESS_SEED);
    let single = allocations_per_read(1_000, 1, || {
        let record = &records[rng.below(records.len())];
        black_box(dr.read_record(record, Purpose::Treatment).expect("read"));
    });
    let batched = allocations_per_read(1_000, BATCH, || {
        let batch: Vec<RecordId> = (0..BATCH)
            .map(|_| records[rng.below(records.len())])
            .collect();
        black_box(dr.read_records(&batch, Purpose::Treatment).expect("batch"));
    });
    println!(
        "allocations per record read: {single:.0} one at a time, {batched:.0} in batches of {BATCH}"
    );

    bench_floor(&mut group, "floor_single_normal", &fixture, "NORMAL", 1);
    bench_floor(&mut group, "floor_single_full", &fixture, "FULL", 1);
    group.throughput(Throughput::Elements(BATCH as u64));
    bench_floor(&mut group, "floor_batch_100", &fixture, "FULL", BATCH);
    bench_floor(
        &mut group,
        "floor_batch_100_normal",
        &fixture,
        "NORMAL",
        BATCH,
    );

    // One row per record: the baseline of that layout, and the floors of a packed batch.
    group.throughput(Throughput::Elements(1));
    group.bench_function("plain_sqlite_row", |b| {
        let mut rng = XorShift(ACCESS_SEED);
        b.iter(|| {
            let record = &records[rng.below(records.len())];
            black_box(plain_row_read(plain, black_box(record)))
        });
    });
    group.throughput(Throughput::Elements(BATCH as u64));
    bench_packed_floor(&mut group, "floor_batch_100_packed", &fixture, "FULL");
    bench_packed_floor(
        &mut group,
        "floor_batch_100_packed_normal",
        &fixture,
        "NORMAL",
    );
    group.throughput(Throughput::Elements(1));
    bench_fdatasync(&mut group, "floor_fdatasync", fixture.dir.path());

    group.finish();
}

/// Where criterion saves its results, found the way criterion itself looks for it.
fn criterion_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    if let Ok(exe) = std::env::current_exe() {
        // <target>/<profile>/deps/<bench binary>
        if let Some(target) = exe
            .ancestors()
            .find(|p| p.file_name().is_some_and(|n| n == "target"))
        {
            return target.join("criterion");
        }
        if let Some(target) = exe.ancestors().nth(3) {
            return target.join("criterion");
        }
    }
    PathBuf::from("target/criterion")
}

/// Mean time per iteration (ns) saved by the last run of `read/<id>`, if there is one.
fn mean_ns(dir: &Path, id: &str) -> Option<f64> {
    let path = dir.join(GROUP).join(id).join("new").join("estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn human_time(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

fn print_summary() {
    let dir = criterion_dir();
    let means: Vec<(&str, Option<f64>)> = IDS
        .iter()
        .zip(PER_ITERATION)
        .map(|(id, n)| (*id, mean_ns(&dir, id).map(|ns| ns / n)))
        .collect();
    let baseline = means[0].1;
    println!();
    println!("Summary (mean per record read; from {})", dir.display());
    println!(
        "{:<20} {:>12} {:>14} {:>16}",
        "id", "mean/read", "reads/s", "vs plain_sqlite"
    );
    for (id, mean) in &means {
        let name = format!("{GROUP}/{id}");
        match mean {
            Some(ns) if *ns > 0.0 => {
                let ratio = match baseline {
                    Some(base) => format!("{:.4}x", base / ns),
                    None => "n/a".to_owned(),
                };
                println!(
                    "{name:<20} {:>12} {:>14.0} {ratio:>16}",
                    human_time(*ns),
                    1e9 / ns
                );
            }
            _ => println!("{name:<20} {:>12} {:>14} {:>16}", "missing", "-", "-"),
        }
    }
    if let (Some(full), Some(normal)) = (means[1].1, means[2].1) {
        println!(
            "durable audit commit (single - single_normal): {} per read",
            human_time(full - normal)
        );
    }
    for (vault, floor) in [(2, 6), (1, 7), (3, 8), (9, 10)] {
        if let (Some(v), Some(f), Some(base)) = (means[vault].1, means[floor].1, baseline) {
            println!(
                "{GROUP}/{}: at most {:.4}x of plain on this storage; {GROUP}/{} reaches {:.2} of that floor",
                IDS[floor],
                base / f,
                IDS[vault],
                f / v
            );
        }
    }
    // The one-row baseline and the packed floors (issue 18's targets).
    if let (Some(row), Some(plain)) = (means[11].1, baseline) {
        println!(
            "{GROUP}/plain_sqlite_row: {:.4}x of plain_sqlite (one row per record, the same bytes)",
            plain / row
        );
        for (vault, target) in [(9, 0.9), (3, 0.6)] {
            if let Some(v) = means[vault].1 {
                println!(
                    "{GROUP}/{} vs {GROUP}/plain_sqlite_row: {:.4}x (target at least {target}x)",
                    IDS[vault],
                    row / v
                );
            }
        }
        for (vault, floor) in [(3, 12), (9, 13)] {
            if let (Some(v), Some(f)) = (means[vault].1, means[floor].1) {
                println!(
                    "{GROUP}/{}: at most {:.4}x of plain_sqlite_row; {GROUP}/{} reaches {:.2} of it",
                    IDS[floor],
                    row / f,
                    IDS[vault],
                    f / v
                );
            }
        }
        if let (Some(single), Some(sync)) = (means[1].1, means[14].1) {
            println!(
                "{GROUP}/single takes {:.2}x of {GROUP}/floor_fdatasync plus one plain read \
                 (target at most 1.2x)",
                single / (sync + plain)
            );
        }
    }
    if let (Some(single), Some(floor)) = (means[2].1, means[6].1) {
        println!(
            "{GROUP}/single_normal takes {:.2}x of {GROUP}/floor_single_normal (target at most 1.25x)",
            single / floor
        );
    }
    for (one, four) in [(1, 4), (2, 5)] {
        if let (Some(a), Some(b)) = (means[one].1, means[four].1) {
            println!(
                "{GROUP}/{} total throughput vs {GROUP}/{}: {:.2}x",
                IDS[four],
                IDS[one],
                a / b
            );
        }
    }
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    benches(&mut c);
    c.final_summary();
    print_summary();
}
