//! The command line. With no subcommand the tool verifies, exactly as before `show` existed.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use confide::{AuditAction, ClientId, Date};

/// Verify a confide vault's audit log, or show its entries. Needs no passphrase; never writes to
/// the vault.
#[derive(Parser)]
#[command(
    version,
    about,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub verify: VerifyArgs,
}

/// Verification, the default command.
#[derive(Args)]
pub(crate) struct VerifyArgs {
    /// The vault file to check.
    // Required unless a subcommand is given: `subcommand_negates_reqs` lifts it.
    #[arg(required = true)]
    pub vault: Option<PathBuf>,
    /// An anchor exported earlier (`confide audit anchor`): the log must still contain it.
    #[arg(long, value_name = "FILE")]
    pub anchor: Option<PathBuf>,
    /// The vault's witness file: the log must hold every head it witnessed, and it every
    /// checkpoint of the log (default: VAULT.witness, when there is one).
    #[arg(long, value_name = "FILE")]
    pub witness: Option<PathBuf>,
    /// Print the report as JSON (schema confide-audit-verify/v1).
    #[arg(long)]
    pub json: bool,
    /// Incremental verification: resume after the signed checkpoint recorded in FILE (if it
    /// exists) and, when the log is intact, record the newest one verified there.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Print the log's entries, oldest first: ids, codes and field names, never a field value.
    /// Verifies the log first and refuses to print from a tampered one unless --force.
    Show(ShowArgs),
}

#[derive(Args)]
pub(crate) struct ShowArgs {
    /// The vault file to read.
    pub vault: PathBuf,
    /// Only entries about this client (32 hexadecimal digits).
    #[arg(long, value_name = "ID")]
    pub client: Option<ClientId>,
    /// Only entries by this user: a user name, or a user id (32 hexadecimal digits).
    #[arg(long, value_name = "USER")]
    pub actor: Option<String>,
    /// Only entries on or after this day (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: Option<Date>,
    /// Only entries on or before this day (YYYY-MM-DD, UTC; the whole day is included).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub until: Option<Date>,
    /// Only entries recording this action (e.g. record.read, break_glass.start).
    #[arg(long, value_name = "ACTION", value_parser = parse_action)]
    pub action: Option<AuditAction>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// An anchor exported earlier: the verification before showing holds the log to it.
    #[arg(long, value_name = "FILE")]
    pub anchor: Option<PathBuf>,
    /// The vault's witness file, as for verification (default: VAULT.witness, when there is
    /// one).
    #[arg(long, value_name = "FILE")]
    pub witness: Option<PathBuf>,
    /// Show the entries even if the log is tampered (a warning goes to stderr).
    #[arg(long)]
    pub force: bool,
}

/// How `show` prints.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// One line per entry.
    Text,
    /// One JSON document (schema confide-audit-show/v1).
    Json,
    /// A FHIR R4 Bundle (type collection) of AuditEvent resources.
    Fhir,
}

fn parse_date(s: &str) -> Result<Date, String> {
    Date::parse_iso(s).map_err(|_| "expected a calendar date as YYYY-MM-DD".to_owned())
}

fn parse_action(s: &str) -> Result<AuditAction, String> {
    s.parse().map_err(|_| {
        "unknown action code (e.g. record.read, login, break_glass.start; the list is in \
         docs/audit-verify.md)"
            .to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_is_well_formed() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn no_subcommand_still_verifies() {
        let cli = Cli::try_parse_from(["audit-verify", "v.vault", "--json"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.verify.vault, Some(PathBuf::from("v.vault")));
        assert!(cli.verify.json);
        let cli = Cli::try_parse_from(["audit-verify", "--anchor", "a.json", "v.vault"]).unwrap();
        assert_eq!(cli.verify.anchor, Some(PathBuf::from("a.json")));
        let cli = Cli::try_parse_from(["audit-verify", "v.vault", "--witness", "w"]).unwrap();
        assert_eq!(cli.verify.witness, Some(PathBuf::from("w")));
        assert!(Cli::try_parse_from(["audit-verify"]).is_err());
    }

    #[test]
    fn show_takes_its_filters() {
        let cli = Cli::try_parse_from([
            "audit-verify",
            "show",
            "v.vault",
            "--since",
            "2024-03-01",
            "--action",
            "record.read",
            "--format",
            "fhir",
        ])
        .unwrap();
        let Some(Command::Show(args)) = cli.command else {
            panic!("not show")
        };
        assert_eq!(args.since, Some(Date::new(2024, 3, 1).unwrap()));
        assert_eq!(args.action, Some(AuditAction::RecordRead));
        assert!(args.format == Format::Fhir);
        assert!(
            Cli::try_parse_from(["audit-verify", "show", "v", "--since", "2024-02-30"]).is_err()
        );
        assert!(Cli::try_parse_from(["audit-verify", "show", "v", "--client", "abc"]).is_err());
        assert!(Cli::try_parse_from(["audit-verify", "show", "v", "--action", "x.y"]).is_err());
        assert!(Cli::try_parse_from(["audit-verify", "--json", "show", "v"]).is_err());
    }
}
