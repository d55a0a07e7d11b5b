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
    Ok(())
}
