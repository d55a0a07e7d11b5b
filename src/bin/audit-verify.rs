//! `audit-verify VAULT`: check a vault's hash-chained audit log without any passphrase.
//!
//! Exit status: 0 intact, 1 tampered, 2 could not run (missing file, not a vault, bad anchor).
//! `--json` prints the report in the schema documented in `docs/audit-verify.md`.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use confide::{Anchor, VerifyOptions, VerifyReport};
use serde_json::{Value, json};

/// Verify a confide vault's audit log. Needs no passphrase; never writes to the vault.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The vault file to check.
    vault: PathBuf,
    /// An anchor exported earlier (`confide audit anchor`): the log must still contain it.
    #[arg(long)]
    anchor: Option<PathBuf>,
    /// Print the report as JSON (schema confide-audit-verify/v1).
    #[arg(long)]
    json: bool,
}

const SCHEMA: &str = "confide-audit-verify/v1";

fn run(cli: &Cli) -> Result<VerifyReport, String> {
    let anchor = match &cli.anchor {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Some(Anchor::from_json(&text).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    confide::verify_audit_log_with(&cli.vault, &VerifyOptions { anchor })
        .map_err(|e| format!("{}: {e}", cli.vault.display()))
}

fn json_report(cli: &Cli, r: &VerifyReport) -> Value {
    let times = r.time_range_utc();
    json!({
        "schema": SCHEMA,
        "status": if r.is_intact() { "intact" } else { "tampered" },
        "vault": cli.vault.display().to_string(),
        "entries": r.entries,
        "first_seq": r.seq_range.map(|s| s.0),
        "last_seq": r.seq_range.map(|s| s.1),
        "first_time": times.as_ref().map(|t| t.0.clone()),
        "last_time": times.as_ref().map(|t| t.1.clone()),
        "checkpoints_checked": r.checkpoints_checked,
        "last_checkpoint": r.last_checkpoint,
        "anchor_checked": cli.anchor.is_some(),
        "findings_total": r.findings_total,
        "findings": r.findings.iter().map(|f| json!({
            "seq": f.seq,
            "kind": f.kind.code(),
            "message": f.kind.to_string(),
        })).collect::<Vec<_>>(),
        "warnings": r.warnings.iter().map(|w| json!({
            "kind": w.code(),
            "message": w.to_string(),
        })).collect::<Vec<_>>(),
    })
}

fn print_text(r: &VerifyReport) {
    if r.is_intact() {
        println!("intact: {} entries", r.entries);
    } else {
        if let Some(first) = r.first_break() {
            println!("tampered: first break at {first}");
        }
        println!(
            "{} entries read, {} finding(s):",
            r.entries, r.findings_total
        );
        for f in &r.findings {
            println!("  {f}");
        }
        let shown = r.findings.len() as u64;
        if r.findings_total > shown {
            println!("  ... and {} more", r.findings_total - shown);
        }
    }
    if r.checkpoints_checked > 0 {
        let last = r.last_checkpoint.unwrap_or(0);
        println!(
            "signed checkpoints: {} verified, newest at seq {last}",
            r.checkpoints_checked
        );
    }
    for w in &r.warnings {
        println!("warning: {w}");
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(report) => {
            if cli.json {
                println!("{:#}", json_report(&cli, &report));
            } else {
                print_text(&report);
            }
            if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => {
            if cli.json {
                let out = json!({ "schema": SCHEMA, "status": "error", "error": message });
                println!("{out:#}");
            }
            eprintln!("audit-verify: {message}");
            ExitCode::from(2)
        }
    }
}
