//! Read speed at scale: single-record reads by each record's own clinician in a synthetic
//! practice of 100,000 clients and 1,000,000 audit entries, beside the same reads in one ten
//! times larger (1,000,000 clients and records, 10,000,000 entries), in the same run.
//!
//! Benchmarks (criterion group `scale`, throughput in records read):
//! - `scale/single_normal/<clients>`: `Durability::Normal`;
//! - `scale/single/<clients>`: the default `Durability::Full`.
//!
//! The vaults come from the synthetic practice generator (`confide::synth`) and are made once,
//! at `target/bench-vaults/scale-<clients>c-<entries>e.vault` (the large one takes several
//! minutes and about 2.5 GB); later runs reuse them. `CONFIDE_SCALE_CLIENTS` sets the smaller
//! practice's client count (default 100,000); entries are ten per client, and the larger
//! practice is ten times both. Run with `cargo bench --bench read_scale`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use confide::{Durability, KdfParams, Passphrase, Purpose, RecordId, Session, Vault, VaultConfig};
use criterion::{BenchmarkId, Criterion, Throughput};
use rusqlite::{Connection, OpenFlags};

/// Records sampled from each vault for the random reads.
const SAMPLE: usize = 20_000;
const ACCESS_SEED: u64 = 0x2545_F491_4F6C_DD1D;

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    )
}

/// The synthetic vault of `clients` clients and `entries` entries, made if missing.
fn vault_path(clients: usize, entries: u64) -> PathBuf {
    let dir = target_dir().join("bench-vaults");
    let path = dir.join(format!("scale-{clients}c-{entries}e.vault"));
    if !path.exists() {
        std::fs::create_dir_all(&dir).expect("bench-vaults dir");
        // Built under another name and renamed, so an interrupted build is never reused.
        let partial = dir.join(format!("scale-{clients}c-{entries}e.partial"));
        for suffix in ["", "-wal", "-shm"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", partial.display()));
        }
        let started = Instant::now();
        eprintln!("building {} ...", path.display());
        confide::synth::build(&partial, clients, entries, |n| {
            if n % 1_000_000 < 1_000 {
                eprintln!("  {n} entries, {:.0?}", started.elapsed());
            }
        })
        .expect("synthetic vault");
        std::fs::rename(&partial, &path).expect("rename built vault");
    }
    path
}

/// A fixed sample of (record, the login name of its clinician), read from the file directly.
fn sample(path: &Path) -> Vec<(RecordId, String)> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("open read-only");
    let mut stmt = conn
        .prepare(
            "SELECT r.record_id, u.name FROM records r \
             JOIN care_team c ON c.client_id = r.client_id \
             JOIN users u ON u.user_id = c.user_id",
        )
        .expect("sample query");
    let all: Vec<(Vec<u8>, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("sample rows")
        .collect::<rusqlite::Result<_>>()
        .expect("sample rows");
    let mut rng = ACCESS_SEED;
    (0..SAMPLE.min(all.len()))
        .map(|_| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let (id, name) = &all[(rng % all.len() as u64) as usize];
            let id: RecordId = hex::encode(id).parse().expect("a 16-byte record id");
            (id, name.clone())
        })
        .collect()
}

/// Sessions of the synthetic clinicians, by login name.
fn sessions(vault: &Vault) -> Vec<(String, Session)> {
    (0..4)
        .map(|i| {
            let name = format!("dr.{i}");
            let s = vault
                .unlock(&name, &Passphrase::new(confide::synth::PASSPHRASE))
                .expect("clinician login");
            (name, s)
        })
        .collect()
}

fn bench_at(c: &mut Criterion, clients: usize, entries: u64) {
    let path = vault_path(clients, entries);
    let picks = sample(&path);
    let mut g = c.benchmark_group("scale");
    g.throughput(Throughput::Elements(1))
        .sample_size(30)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(5));
    for (id, durability) in [
        ("single_normal", Durability::Normal),
        ("single", Durability::Full),
    ] {
        let config = VaultConfig::default()
            .with_kdf(KdfParams::new(64, 1, 1).expect("kdf"))
            .with_durability(durability);
        let vault = Vault::open(&path, config).expect("open vault");
        let by_name = sessions(&vault);
        let who = |name: &str| {
            &by_name
                .iter()
                .find(|(n, _)| n == name)
                .expect("the record's clinician is a synthetic one")
                .1
        };
        g.bench_function(BenchmarkId::new(id, clients), |b| {
            let mut i = 0usize;
            b.iter(|| {
                let (record, name) = &picks[i % picks.len()];
                i += 1;
                black_box(
                    who(name)
                        .read_record(black_box(record), Purpose::Treatment)
                        .expect("read"),
                )
            })
        });
        drop(by_name);
        vault.close().expect("close");
    }
    g.finish();
}

/// Mean time per read saved by criterion for `scale/<id>/<clients>`.
fn mean_ns(id: &str, clients: usize) -> Option<f64> {
    let path = target_dir()
        .join("criterion")
        .join("scale")
        .join(id)
        .join(clients.to_string())
        .join("new")
        .join("estimates.json");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    json["mean"]["point_estimate"].as_f64()
}

fn main() {
    let small: usize = std::env::var("CONFIDE_SCALE_CLIENTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let large = small * 10;
    let mut c = Criterion::default().configure_from_args();
    bench_at(&mut c, small, small as u64 * 10);
    bench_at(&mut c, large, large as u64 * 10);
    c.final_summary();
    println!("\nSummary (mean per read; larger practice against the smaller one)");
    for id in ["single_normal", "single"] {
        if let (Some(a), Some(b)) = (mean_ns(id, small), mean_ns(id, large)) {
            println!(
                "scale/{id:<14} {small:>9} clients {:>9.1} µs   {large:>9} clients {:>9.1} µs   {:.2}x the time",
                a / 1e3,
                b / 1e3,
                b / a
            );
        }
    }
}
