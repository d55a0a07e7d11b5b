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
mod backup;
mod couple;
mod demo;
mod history;
#[path = "../../out.rs"]
mod out;
mod present;
mod releases;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use out::{errln, outln};

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
    /// Write an encrypted, consistent copy of a vault while it stays in use (administrators).
    /// The passphrase is read as for `accounting`.
    Backup {
        /// The vault file.
        vault: PathBuf,
        /// Where to write the backup (must not exist).
        out: PathBuf,
        /// The administrator taking it.
        #[arg(long)]
        user: String,
    },
    /// Open a vault, upgrading an older format in place, list the consents the upgrade to
    /// format 9 narrowed and say how many clinical entries and psychotherapy notes the upgrade
    /// to format 10 signed (each is also in the audit log). Needs no passphrase.
    Upgrade {
        /// The vault file.
        vault: PathBuf,
    },
    /// Put a backup back in place after checking its audit chain (close the vault first). The
    /// passphrase, of an administrator of the backup, is read as for `accounting`. With a
    /// witness beside the vault (VAULT.witness), the restore is recorded there as a deliberate
    /// rollback.
    Restore {
        /// The backup file.
        backup: PathBuf,
        /// Where the vault goes (an existing vault there is replaced).
        vault: PathBuf,
        /// The administrator restoring it.
        #[arg(long)]
        user: String,
        /// Replace the vault there even though the backup is of another vault.
        #[arg(long)]
        allow_other_vault: bool,
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
            errln!(
                "anchored seq {} of vault {} in {}",
                anchor.seq,
                anchor.vault_id,
                path.display()
            );
        }
        None => outln!("{}", anchor.to_json()),
    }
    Ok(())
}

/// Open (and so upgrade) the vault, and say what the upgrade narrowed and what it signed.
fn upgrade(path: &std::path::Path) -> Result<(), confide::Error> {
    let vault = confide::Vault::open(path, config(path)?)?;
    outln!(
        "{} is at format {}",
        path.display(),
        confide::FORMAT_VERSION
    );
    let narrowed = vault.narrowed_by_upgrade()?;
    if narrowed.is_empty() {
        outln!("no consent's reach was narrowed");
    }
    for n in narrowed {
        outln!(
            "consent {} of client {}: no longer reaches joint content (it names no outside \
             recipient by identity); audit entry #{}",
            n.consent,
            n.client,
            n.audit_seq.map_or_else(|| "-".into(), |s| s.to_string())
        );
    }
    match vault.signed_by_upgrade()? {
        // Entries written before format 10 are finished documentation from then on: the
        // practice is told how many, and where the log says so.
        Some(signed) => outln!(
            "the upgrade to format 10 signed {} and {} written before it (never written again; \
             corrected by addenda); audit entry #{}",
            counted(signed.records, "clinical entry", "clinical entries"),
            counted(signed.notes, "psychotherapy note", "psychotherapy notes"),
            signed
                .audit_seq
                .map_or_else(|| "-".into(), |s| s.to_string())
        ),
        None => outln!("no entry was signed by an upgrade"),
    }
    Ok(())
}

/// `n` with the noun it counts: "1 clinical entry", "2 clinical entries".
fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The passphrase: from the CONFIDE_PASSPHRASE environment variable, or else the first line of
/// stdin.
fn passphrase() -> Result<confide::Passphrase, confide::Error> {
    use std::io::BufRead;
    if let Ok(p) = std::env::var("CONFIDE_PASSPHRASE") {
        return Ok(confide::Passphrase::new(p));
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(confide::Passphrase::new(
        line.trim_end_matches(['\r', '\n']),
    ))
}

/// The witness file kept beside a vault: `<vault>.witness`.
fn witness_beside(vault: &std::path::Path) -> PathBuf {
    let mut p = vault.as_os_str().to_owned();
    p.push(".witness");
    PathBuf::from(p)
}

/// How commands that log in open the vault at `vault`: the library's defaults, with the
/// witness beside the vault (best effort) when there is one, except that the CONFIDE_KDF
/// environment variable (`MEMORY_KIB,ITERATIONS,PARALLELISM`) sets the Argon2id costs for
/// passphrases a command sets or raises. A login raises a user's stored costs to these.
fn config(vault: &std::path::Path) -> Result<confide::VaultConfig, confide::Error> {
    let mut config = confide::VaultConfig::default();
    let witness = witness_beside(vault);
    if witness.is_file() {
        config = config.with_witness(witness);
    }
    let Ok(text) = std::env::var("CONFIDE_KDF") else {
        return Ok(config);
    };
    let bad = || confide::Error::InvalidInput {
        what: "CONFIDE_KDF",
        reason: "expected MEMORY_KIB,ITERATIONS,PARALLELISM".into(),
    };
    let parts: Vec<u32> = text
        .split(',')
        .map(|p| p.trim().parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [m, t, p] = parts[..] else {
        return Err(bad());
    };
    Ok(config.with_kdf(confide::KdfParams::new(m, t, p)?))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let demo = matches!(cli.command, Command::Demo { .. });
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
        Command::Backup { vault, out, user } => backup::backup(&vault, &user, &out),
        Command::Upgrade { vault } => upgrade(&vault),
        Command::Restore {
            backup,
            vault,
            user,
            allow_other_vault,
        } => backup::restore(&backup, &vault, &user, allow_other_vault),
    };
    let code = match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e @ confide::Error::AlreadyExists { .. }) if demo => {
            errln!("confide: {e} (pass --force to replace it)");
            ExitCode::from(2)
        }
        Err(e) => {
            errln!("confide: {e}");
            ExitCode::from(2)
        }
    };
    out::exit(code)
}
