//! A fixed workload for counting instructions per audited read under
//! `valgrind --tool=callgrind`, where timings move between runs and instruction counts do not.
//!
//! It makes a vault with `--records` six-field progress notes (one per client), then reads
//! `--reads` of them one at a time through [`Session::read_record`] (`Durability::Normal`, so
//! the fsyncs valgrind cannot count do not hide the work around them). Two runs that differ
//! only in `--reads` give the cost of one read as the difference of their totals divided by the
//! difference of their reads: `scripts/read_instructions.sh` does exactly that.
//!
//! With `--batch N` the reads go through [`Session::read_records`], `N` records a call (each
//! still decided and audited on its own, one commit a call): the batched figure.
//!
//! `cargo run --release --example read_instructions -- --records 200 --reads 1000 --out DIR`

use std::path::PathBuf;

use confide::{
    Date, Durability, KdfParams, NewClient, Passphrase, Purpose, RecordKind, Role, Value, Vault,
    VaultConfig,
};

const FIELDS: [&str; 6] = [
    "subjective",
    "objective",
    "assessment",
    "plan",
    "interventions",
    "risk",
];

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() -> confide::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let records: usize = arg(&args, "--records").map_or(200, |s| s.parse().unwrap_or(200));
    let reads: usize = arg(&args, "--reads").map_or(1000, |s| s.parse().unwrap_or(1000));
    let batch: usize = arg(&args, "--batch").map_or(1, |s| s.parse().unwrap_or(1).max(1));
    let dir = PathBuf::from(arg(&args, "--out").unwrap_or_else(|| ".".into()));
    let path = dir.join("read_instructions.vault");
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
    }
    let config = VaultConfig::default()
        .with_kdf(KdfParams::new(64, 1, 1)?)
        .with_durability(Durability::Normal);
    let vault = Vault::create(
        &path,
        "admin",
        &Passphrase::new("instructions admin"),
        config,
    )?;
    let admin = vault.unlock("admin", &Passphrase::new("instructions admin"))?;
    admin.add_user(
        "dr.count",
        Role::Clinician,
        &Passphrase::new("instructions clinician"),
    )?;
    let dr = vault.unlock("dr.count", &Passphrase::new("instructions clinician"))?;
    let text = "client reports improved sleep and fewer panic episodes; coping skills reviewed, \
                homework set for the week, next session in seven days as planned together";
    let mut ids = Vec::with_capacity(records);
    for i in 0..records {
        let client = dr.create_client(
            &NewClient {
                full_name: format!("Client {i}"),
                date_of_birth: Date::new(1980, 1, 1 + (i % 28) as u8)?,
            },
            Purpose::Treatment,
        )?;
        let fields: Vec<(&str, Value)> = FIELDS.iter().map(|f| (*f, Value::text(text))).collect();
        ids.push(dr.create_record(
            &client,
            RecordKind::ProgressNote,
            &fields,
            Purpose::Treatment,
        )?);
    }
    let mut read_fields = 0usize;
    if batch == 1 {
        for i in 0..reads {
            let record = dr.read_record(&ids[i % ids.len()], Purpose::Treatment)?;
            read_fields += record.fields.len();
        }
    } else {
        let asked: Vec<_> = (0..reads).map(|i| ids[i % ids.len()]).collect();
        for chunk in asked.chunks(batch) {
            for record in dr.read_records(chunk, Purpose::Treatment)? {
                read_fields += record?.fields.len();
            }
        }
    }
    println!("{reads} reads, {read_fields} fields");
    Ok(())
}
