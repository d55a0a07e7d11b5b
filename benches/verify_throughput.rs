//! Verification throughput: `verify_audit_log` on a 1,000,000-entry vault from the synthetic
//! practice generator, beside SHA-256 alone over the same canonical bytes in the same run.
//!
//! Benchmarks (criterion group `verify`, throughput in audit entries):
//! - `verify/sha256_only`: hashing every entry (its predecessor's hash, sequence number and
//!   stored bytes), in memory;
//! - `verify/sqlite_floor`: the least any verifier reading this layout must do, on one thread:
//!   step through the rows, take the entry and its hash from SQLite and hash them after the
//!   previous row's hash (no parsing, no checks);
//! - `verify/full`: the whole verification (read, hash, link, checkpoints, ledger, records).
//!
//! The vault is made once at `target/bench-vaults/synth-<entries>-format<N>.vault` and reused; set
//! `CONFIDE_VERIFY_ENTRIES` for another size. Run with `cargo bench --bench verify_throughput`.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};

/// One pass over the log as the floor benchmark reads it; returns how many entries' hashes
/// matched (all of them, in an intact log).
fn sqlite_floor(path: &std::path::Path, genesis: &[u8]) -> u64 {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap();
    let mut stmt = conn
        .prepare("SELECT seq, entry, hash FROM audit_log ORDER BY seq")
        .unwrap();
    let mut rows = stmt.query([]).unwrap();
    let mut prev = genesis.to_vec();
    let mut ok = 0;
    while let Some(r) = rows.next().unwrap() {
        let seq: i64 = r.get(0).unwrap();
        let hash = bytes(r.get_ref(2).unwrap());
        if confide::audit_hash(&prev, seq, bytes(r.get_ref(1).unwrap()))[..] == hash[..] {
            ok += 1;
        }
        prev.clear();
        prev.extend_from_slice(hash);
    }
    ok
}

fn bytes(v: ValueRef<'_>) -> &[u8] {
    match v {
        ValueRef::Blob(b) => b,
        _ => &[],
    }
}

fn vault_path(entries: u64) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    target.join("bench-vaults").join(format!(
        "synth-{entries}-format{}.vault",
        confide::FORMAT_VERSION
    ))
}

fn main() {
    let entries: u64 = std::env::var("CONFIDE_VERIFY_ENTRIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let path = vault_path(entries);
    if !path.exists() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let started = Instant::now();
        eprintln!("building {} ...", path.display());
        confide::synth::build(&path, 10_000, entries, |n| {
            eprintln!("  {n} entries, {:.0?}", started.elapsed());
        })
        .unwrap();
    }
    let report = confide::verify_audit_log(&path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    let n = report.entries;
    let canonical = confide::audit_canonical_bytes(&path).unwrap();
    assert_eq!(canonical.len() as u64, n);
    let genesis = canonical[0].0.clone();

    let mut c = Criterion::default()
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .configure_from_args();
    let mut g = c.benchmark_group("verify");
    g.throughput(Throughput::Elements(n));
    g.bench_function("sha256_only", |b| {
        b.iter(|| {
            let mut last = [0u8; 32];
            for (prev, seq, bytes) in &canonical {
                last = confide::audit_hash(prev, *seq, bytes);
            }
            black_box(last)
        })
    });
    assert_eq!(
        sqlite_floor(&path, &genesis),
        n,
        "the floor loop must hash what verification hashes"
    );
    g.bench_function("sqlite_floor", |b| {
        b.iter(|| black_box(sqlite_floor(&path, &genesis)))
    });
    g.bench_function("full", |b| {
        b.iter(|| black_box(confide::verify_audit_log(&path).unwrap()))
    });
    g.finish();
    c.final_summary();

    // A one-shot summary in the same run, for the README.
    let t = Instant::now();
    for (prev, seq, bytes) in &canonical {
        black_box(confide::audit_hash(prev, *seq, bytes));
    }
    let hash_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    black_box(sqlite_floor(&path, &genesis));
    let floor_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    black_box(confide::verify_audit_log(&path).unwrap());
    let full_s = t.elapsed().as_secs_f64();
    println!("\nSummary ({n} entries)");
    println!("  sha256_only  {:>12.0} entries/s", n as f64 / hash_s);
    println!("  sqlite_floor {:>12.0} entries/s", n as f64 / floor_s);
    println!("  full         {:>12.0} entries/s", n as f64 / full_s);
    println!("  full / sha256_only = {:.2}", hash_s / full_s);
    println!("  sqlite_floor / sha256_only = {:.2}", hash_s / floor_s);
}
