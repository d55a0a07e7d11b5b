//! A synthetic practice for load and scale work: clients with realistic record sizes and a long
//! audit log, made quickly through the public API (cheap test KDF costs, `Durability::Normal`,
//! batched audited reads).
//!
//! ```sh
//! cargo run --release --example synth_practice -- --clients 10000 --entries 1000000 --out big.vault
//! ```

use std::path::PathBuf;
use std::time::Instant;

use clap::Parser;
use confide::{
    ClientId, Date, Durability, KdfParams, NewClient, Passphrase, Purpose, RecordId, RecordKind,
    Role, Session, Value, Vault, VaultConfig,
};

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

const WORDS: &[&str] = &[
    "client", "reported", "sleep", "improved", "anxiety", "session", "homework", "reviewed",
    "mood", "stable", "goals", "exposure", "avoidance", "coping", "skills", "family", "work",
    "stress", "plan", "continue", "weekly", "affect", "congruent", "denies", "risk", "safety",
];

/// A fixed-seed xorshift, so two runs make the same practice.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes + 12);
        while s.len() < bytes {
            s.push_str(WORDS[(self.next() % WORDS.len() as u64) as usize]);
            s.push(' ');
        }
        s.truncate(bytes);
        s
    }
}

const FIELDS: [&str; 6] = ["subjective", "objective", "assessment", "plan", "interventions", "risk"];

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
    let config = VaultConfig::default()
        .with_kdf(KdfParams::new(64, 1, 1)?)
        .with_durability(Durability::Normal);
    let vault = Vault::create(&args.out, "admin", &Passphrase::new("synthetic admin"), config)?;
    let admin = vault.unlock("admin", &Passphrase::new("synthetic admin"))?;
    let mut clinicians: Vec<Session> = Vec::new();
    for i in 0..4 {
        let name = format!("dr.{i}");
        admin.add_user(&name, Role::Clinician, &Passphrase::new("synthetic clinician"))?;
        clinicians.push(vault.unlock(&name, &Passphrase::new("synthetic clinician"))?);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut entries: u64 = 11; // creation, open, users and logins so far
    let mut charts: Vec<(usize, RecordId)> = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let who = i % clinicians.len();
        let dr = &clinicians[who];
        let client: ClientId = dr.create_client(
            &NewClient {
                full_name: format!("Synthetic Client {i}"),
                date_of_birth: Date::new(1950 + (i % 60) as i16, 1 + (i % 12) as u8, 1 + (i % 28) as u8)?,
            },
            Purpose::Treatment,
        )?;
        let values: Vec<(&str, Value)> = FIELDS
            .iter()
            .map(|f| (*f, Value::text(rng.text(150))))
            .collect();
        let note = dr.create_record(&client, RecordKind::ProgressNote, &values, Purpose::Treatment)?;
        charts.push((who, note));
        entries += 2;
        if (i + 1) % (args.clients / 10).max(1) == 0 {
            eprintln!("  {} clients, {entries} entries, {:.1?}", i + 1, started.elapsed());
        }
    }
    // Reads, 100 to a batch, each batch one commit: the bulk of a real log.
    let mut last_report = entries;
    while entries < args.entries {
        let who = (rng.next() % clinicians.len() as u64) as usize;
        let batch: Vec<RecordId> = (0..100)
            .map(|_| {
                // A record of this clinician's own clients.
                let k = (rng.next() % (charts.len() / clinicians.len()).max(1) as u64) as usize;
                charts[(k * clinicians.len() + who).min(charts.len() - 1)].1
            })
            .collect();
        let read = clinicians[who].read_records(&batch, Purpose::Treatment)?;
        entries += read.len() as u64;
        if entries - last_report >= args.entries / 10 {
            last_report = entries;
            eprintln!("  {entries} entries, {:.1?}", started.elapsed());
        }
    }
    drop(clinicians);
    drop(admin);
    vault.close()?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} clients, at least {entries} audit entries in {secs:.1} s ({:.0} entries/s)",
        args.out.display(),
        args.clients,
        entries as f64 / secs
    );
    Ok(())
}
