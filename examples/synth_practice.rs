//! A synthetic practice for load and scale work (see `confide::synth`).
//!
//! ```sh
//! cargo run --release --example synth_practice -- --clients 10000 --entries 1000000 --out big.vault
//! ```

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;

/// Build a synthetic practice.
#[derive(Parser)]
struct Args {
    /// How many clients.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// At least how many audit entries in the end.
    #[arg(long, default_value_t = 100_000)]
    entries: u64,
    /// Where to write the vault.
    #[arg(long)]
    out: PathBuf,
    /// Replace an existing file.
    #[arg(long)]
    force: bool,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    if args.force {
        for suffix in ["", "-wal", "-shm"] {
            let mut p = args.out.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
    }
    let started = Instant::now();
    let built = confide::synth::build(&args.out, args.clients, args.entries, |n| {
        eprintln!("  {n} entries, {:.1?}", started.elapsed());
    })?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} clients, at least {} audit entries in {secs:.1} s ({:.0} entries/s)",
        args.out.display(),
        built.charts.len(),
        built.entries,
        built.entries as f64 / secs
    );
    space(&args.out)?;
    Ok(())
}

/// Space on disk per audit entry and per clinical field, from SQLite's own page accounting
/// (the `dbstat` table): every page of a table and its indexes, divided by its rows.
fn space(path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let pages = |table: &str| -> rusqlite::Result<i64> {
        conn.query_row(
            "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?1 \
               OR name IN (SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = ?1)",
            [table],
            |r| r.get(0),
        )
    };
    let count = |table: &str| -> rusqlite::Result<i64> {
        conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
    };
    let entries = count("audit_log")?.max(1);
    println!(
        "audit log: {:.0} bytes per entry on disk ({} entries)",
        pages("audit_log")? as f64 / entries as f64,
        entries
    );
    // The progress notes' fields: each holds exactly FIELD_BYTES of text.
    let (fields, envelope): (i64, f64) = conn.query_row(
        "SELECT count(*), avg(length(envelope)) FROM record_fields WHERE field = 'subjective'",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let rows = count("record_fields")?.max(1);
    println!(
        "fields: {fields} notes' fields of {} bytes: envelope {:.0} bytes (plaintext + {:.0}); \
         {:.0} bytes per stored field on disk with its key (record id, field name) and page overhead",
        confide::synth::FIELD_BYTES,
        envelope,
        envelope - confide::synth::FIELD_BYTES as f64,
        pages("record_fields")? as f64 / rows as f64
    );
    Ok(())
}
