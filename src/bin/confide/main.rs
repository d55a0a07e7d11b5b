//! `confide`: the command-line front end of a confide vault.
//!
//! `confide demo` builds a small practice in a fresh vault and shows what the vault allows,
//! what it refuses, and its audit log.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod accounting;
mod couple;
mod demo;
mod releases;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Encrypted, audit-logged clinical records for mental-health practices.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build a small demonstration practice and show reads, refusals and the audit log.
    Demo {
        /// Where to create the demo vault.
        #[arg(long, default_value = "demo.vault")]
        vault: PathBuf,
        /// Replace an existing file at that path.
        #[arg(long)]
        force: bool,
    },
    /// Audit-log tools that need no passphrase.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Print a client's accounting of disclosures (45 CFR 164.528). The passphrase is read
    /// from the CONFIDE_PASSPHRASE environment variable, or else from the first line of stdin.
    Accounting {
        /// The vault file.
        #[arg(long, default_value = "demo.vault")]
        vault: PathBuf,
        /// The treating clinician producing it.
        #[arg(long)]
        user: String,
        /// The client's id (32 hexadecimal digits).
        #[arg(long)]
        client: String,
        /// Only disclosures on or after this date (YYYY-MM-DD); default: the last six years.
        #[arg(long)]
        since: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Write the vault's newest signed checkpoint to a small file to keep elsewhere; later,
    /// `audit-verify --anchor FILE VAULT` proves the log still contains and extends it.
    Anchor {
        /// The vault file.
        vault: PathBuf,
        /// Where to write the anchor (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn anchor(vault: &std::path::Path, out: Option<&std::path::Path>) -> Result<(), confide::Error> {
    let anchor = confide::export_anchor(vault)?;
    match out {
        Some(path) => {
            std::fs::write(path, anchor.to_json() + "\n")?;
            eprintln!(
                "anchored seq {} of vault {} in {}",
                anchor.seq,
                anchor.vault_id,
                path.display()
            );
        }
        None => println!("{}", anchor.to_json()),
    }
    Ok(())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { vault, force } => demo::run(&vault, force),
        Command::Audit {
            command: AuditCommand::Anchor { vault, out },
        } => anchor(&vault, out.as_deref()),
        Command::Accounting {
            vault,
            user,
            client,
            since,
            json,
        } => accounting::run(&vault, &user, &client, since.as_deref(), json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ confide::Error::AlreadyExists { .. }) => {
            eprintln!("confide: {e} (pass --force to replace it)");
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("confide: {e}");
            ExitCode::from(2)
        }
    }
}
