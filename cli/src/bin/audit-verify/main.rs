//! `audit-verify VAULT`: check a vault's hash-chained audit log without any passphrase.
//! `audit-verify show VAULT`: print its entries (metadata only), once the log verifies.
//!
//! Exit status: 0 intact (or shown), 1 tampered (or refused to show), 2 could not run (missing
//! file, not a vault, bad anchor, bad argument, a report that could not be written). A reader
//! that stops reading (`| head`) changes none of these (`out.rs`). The report schemas and the FHIR mapping are
//! documented in `docs/audit-verify.md`.

#![forbid(unsafe_code)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod cli;
mod fhir;
#[path = "../../out.rs"]
mod out;
mod progress;
mod show;
mod verify;

use std::process::ExitCode;

use clap::Parser;

use cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::Show(args)) => show::run(&args),
        None => verify::run(&cli.verify),
    };
    out::exit(code)
}
