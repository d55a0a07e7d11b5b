//! `show`: verify the log, then print the entries that match the filters.
//!
//! The reader of an intact log is the audience: from a tampered one the tool refuses (exit 1)
//! unless `--force`, because entries of a rewritten log may be fabricated or missing.

use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

use confide::{AuditEntry, AuditFilter, AuditLog, UserId};
use serde_json::{Value, json};

use crate::cli::{Format, ShowArgs};
use crate::out::errln;
use crate::{fhir, verify};

const SCHEMA: &str = "confide-audit-show/v1";

pub(crate) fn run(args: &ShowArgs) -> ExitCode {
    match show(args) {
        Ok(code) => code,
        Err(message) => {
            errln!("audit-verify: {message}");
            ExitCode::from(2)
        }
    }
}

fn show(args: &ShowArgs) -> Result<ExitCode, String> {
    if let (Some(since), Some(until)) = (args.since, args.until) {
        // Checked before verifying a possibly long log, not after.
        if since > until {
            return Err(format!("--since {since} is after --until {until}"));
        }
    }
    let vault = &args.vault;
    let actor = match &args.actor {
        None => None,
        Some(a) => Some(match a.parse::<UserId>() {
            Ok(id) => id,
            Err(_) => confide::staff_user_id(vault, a)
                .map_err(|e| format!("{}: --actor {a:?}: {e}", vault.display()))?,
        }),
    };
    let text = args.format == Format::Text;
    let witness = verify::witness_for(vault, args.witness.as_deref());
    let report = verify::check(
        vault,
        args.anchor.as_deref(),
        witness.as_deref(),
        None,
        text,
    )?;
    let intact = report.is_intact();
    if !intact {
        let first = report
            .first_break()
            .map(|f| format!(", first at {f}"))
            .unwrap_or_default();
        let summary = format!(
            "{}: the audit log is tampered ({} finding(s){first})",
            vault.display(),
            report.findings_total
        );
        if !args.force {
            errln!(
                "audit-verify: {summary}; not showing its entries (run `audit-verify {}` for \
                 the report, or pass --force to show them anyway)",
                vault.display()
            );
            return Ok(ExitCode::from(1));
        }
        errln!("audit-verify: warning: {summary}; showing its entries anyway (--force)");
    }
    let filter = AuditFilter {
        client: args.client,
        actor,
        action: args.action,
        since: args.since,
        until: args.until,
        // Only what the verification covered: entries appended since are not vouched for.
        // From a tampered log (--force) everything is shown, for the reviewer to judge.
        through_seq: if intact {
            report.seq_range.map(|(_, last)| last)
        } else {
            None
        },
    };
    let log =
        confide::read_audit_log(vault, &filter).map_err(|e| format!("{}: {e}", vault.display()))?;
    let mut out = BufWriter::new(io::stdout().lock());
    let written = match args.format {
        Format::Text => write_text(&mut out, &log),
        Format::Json => write_json(&mut out, &json_log(args, intact, &log)),
        Format::Fhir => write_json(&mut out, &fhir::bundle(&log)),
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader stopped reading (`| head`): what it wanted was written.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(format!("writing the entries: {e}")),
    }
}

fn write_json(out: &mut impl Write, doc: &Value) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, doc)?;
    writeln!(out)
}

fn or_dash(s: Option<String>) -> String {
    s.unwrap_or_else(|| "-".to_owned())
}

fn write_text(out: &mut impl Write, log: &AuditLog) -> io::Result<()> {
    if log.entries.is_empty() {
        writeln!(out, "no matching entries")?;
    }
    for e in &log.entries {
        let fields = if e.fields.is_empty() {
            "-".to_owned()
        } else {
            e.fields.join(",")
        };
        writeln!(
            out,
            "{:>6}  {:<24}  {:<20}  actor={}  client={}  target={}  fields={}  purpose={}  \
             outcome={}{}",
            e.seq,
            e.time_utc(),
            e.action,
            or_dash(e.actor.map(|a| a.to_string())),
            or_dash(e.client.map(|c| c.to_string())),
            or_dash(e.target.clone()),
            fields,
            if e.purpose.is_empty() {
                "-"
            } else {
                &e.purpose
            },
            e.outcome,
            if e.is_flagged() { "  [flagged]" } else { "" },
        )?;
    }
    Ok(())
}

fn json_entry(e: &AuditEntry) -> Value {
    json!({
        "seq": e.seq,
        "time": e.time_utc(),
        "actor": e.actor.map(|a| a.to_string()),
        "action": e.action,
        "client": e.client.map(|c| c.to_string()),
        "target": e.target,
        "fields": e.fields,
        "purpose": (!e.purpose.is_empty()).then_some(&e.purpose),
        "outcome": e.outcome,
        "flagged": e.is_flagged(),
    })
}

fn json_log(args: &ShowArgs, intact: bool, log: &AuditLog) -> Value {
    json!({
        "schema": SCHEMA,
        "vault": args.vault.display().to_string(),
        "vault_id": log.vault.to_string(),
        "log_status": if intact { "intact" } else { "tampered" },
        "filter": {
            "client": args.client.map(|c| c.to_string()),
            "actor": args.actor.clone(),
            "action": args.action.map(|a| a.code()),
            "since": args.since.map(|d| d.to_string()),
            "until": args.until.map(|d| d.to_string()),
        },
        "entries": log.entries.iter().map(json_entry).collect::<Vec<_>>(),
    })
}
