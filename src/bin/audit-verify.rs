//! `audit-verify VAULT`: check a vault's hash-chained audit log without any passphrase.
//!
//! Exit status: 0 intact, 1 tampered, 2 could not run (missing file, not a vault, ...).

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Verify a confide vault's audit log. Needs no passphrase; never writes to the vault.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    /// The vault file to check.
    vault: PathBuf,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match confide::verify_audit_log(&cli.vault) {
        Ok(report) if report.is_intact() => {
            println!("intact: {} entries", report.entries);
            ExitCode::SUCCESS
        }
        Ok(report) => {
            if let Some(first) = report.first_break() {
                println!("tampered: first break at {first}");
            }
            println!(
                "{} entries read, {} finding(s):",
                report.entries, report.findings_total
            );
            for f in &report.findings {
                println!("  {f}");
            }
            let shown = report.findings.len() as u64;
            if report.findings_total > shown {
                println!("  ... and {} more", report.findings_total - shown);
            }
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("audit-verify: {}: {e}", cli.vault.display());
            ExitCode::from(2)
        }
    }
}
