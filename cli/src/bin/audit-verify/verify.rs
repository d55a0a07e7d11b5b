//! The default command: verify, and print the report as text or JSON.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use confide::{Anchor, VerifiedState, VerifyOptions, VerifyReport, WitnessFile};
use serde_json::{Value, json};

use crate::cli::VerifyArgs;
use crate::out::{errln, outln};
use crate::progress::Progress;

const SCHEMA: &str = "confide-audit-verify/v1";

/// The witness to hold `vault` to: `given`, or else the file `<vault>.witness` if there is one.
pub(crate) fn witness_for(vault: &Path, given: Option<&Path>) -> Option<PathBuf> {
    given.map(Path::to_owned).or_else(|| {
        let mut beside = vault.as_os_str().to_owned();
        beside.push(".witness");
        let beside = PathBuf::from(beside);
        beside.is_file().then_some(beside)
    })
}

/// Verify `vault`, held to the anchor in `anchor` and the witness in `witness` if given.
/// `progress`: show a progress bar on a terminal while it runs.
pub(crate) fn check(
    vault: &Path,
    anchor: Option<&Path>,
    witness: Option<&Path>,
    resume: Option<VerifiedState>,
    progress: bool,
) -> Result<VerifyReport, String> {
    let anchor = match anchor {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
            Some(Anchor::from_json(&text).map_err(|e| format!("{}: {e}", p.display()))?)
        }
        None => None,
    };
    let witness = match witness {
        Some(p) => Some(WitnessFile::read(p).map_err(|e| format!("{}: {e}", p.display()))?),
        None => None,
    };
    let bar = Progress::start(vault, progress);
    let opts = VerifyOptions {
        anchor,
        resume,
        witness,
    };
    let report = confide::verify_audit_log_observed(vault, &opts, &mut |done| bar.set(done))
        .map_err(|e| format!("{}: {e}", vault.display()));
    bar.finish();
    report
}

pub(crate) fn run(args: &VerifyArgs) -> ExitCode {
    // clap requires the vault when there is no subcommand; this only guards that promise.
    let Some(vault) = &args.vault else {
        errln!("audit-verify: no vault given");
        return ExitCode::from(2);
    };
    let resume = match load_state(args.state.as_deref()) {
        Ok(r) => r,
        Err(message) => return could_not_run(args.json, &message),
    };
    let witness = witness_for(vault, args.witness.as_deref());
    match check(
        vault,
        args.anchor.as_deref(),
        witness.as_deref(),
        resume,
        !args.json,
    ) {
        Ok(report) => {
            if let (Some(file), true) = (&args.state, report.is_intact()) {
                if let Err(message) = save_state(vault, file, &report) {
                    return could_not_run(args.json, &message);
                }
            }
            if args.json {
                let checked = Checked {
                    anchor: args.anchor.is_some(),
                    witness: witness.as_deref(),
                };
                outln!("{:#}", json_report(vault, &checked, &report));
            } else {
                print_text(&report, witness.as_deref());
            }
            if report.is_intact() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(message) => could_not_run(args.json, &message),
    }
}

fn could_not_run(json: bool, message: &str) -> ExitCode {
    if json {
        let out = json!({ "schema": SCHEMA, "status": "error", "error": message });
        outln!("{out:#}");
    }
    errln!("audit-verify: {message}");
    ExitCode::from(2)
}

/// The state an earlier run left, if the file exists.
fn load_state(file: Option<&Path>) -> Result<Option<VerifiedState>, String> {
    let Some(file) = file.filter(|f| f.exists()) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(file).map_err(|e| format!("{}: {e}", file.display()))?;
    VerifiedState::from_json(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", file.display()))
}

/// Record where this intact run got to (the newest signed checkpoint it verified).
fn save_state(vault: &Path, file: &Path, report: &VerifyReport) -> Result<(), String> {
    let id = confide::vault_id_of(vault).map_err(|e| format!("{}: {e}", vault.display()))?;
    if let Some(state) = VerifiedState::after(&id, report) {
        std::fs::write(file, state.to_json() + "\n")
            .map_err(|e| format!("{}: {e}", file.display()))?;
    }
    Ok(())
}

/// What a run was held to besides the vault's own log.
struct Checked<'a> {
    anchor: bool,
    witness: Option<&'a Path>,
}

fn json_report(vault: &Path, checked: &Checked<'_>, r: &VerifyReport) -> Value {
    let times = r.time_range_utc();
    json!({
        "schema": SCHEMA,
        "status": if r.is_intact() { "intact" } else { "tampered" },
        "vault": vault.display().to_string(),
        "entries": r.entries,
        "first_seq": r.seq_range.map(|s| s.0),
        "last_seq": r.seq_range.map(|s| s.1),
        "first_time": times.as_ref().map(|t| t.0.clone()),
        "last_time": times.as_ref().map(|t| t.1.clone()),
        "checkpoints_checked": r.checkpoints_checked,
        "last_checkpoint": r.last_checkpoint,
        "anchor_checked": checked.anchor,
        "witness": checked.witness.map(|w| w.display().to_string()),
        "resumed_from": r.resumed_from,
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

fn print_text(r: &VerifyReport, witness: Option<&Path>) {
    if r.is_intact() {
        match r.resumed_from {
            Some(seq) => outln!("intact: {} entries after verified seq {seq}", r.entries),
            None => outln!("intact: {} entries", r.entries),
        }
    } else {
        if let Some(first) = r.first_break() {
            outln!("tampered: first break at {first}");
        }
        outln!(
            "{} entries read, {} finding(s):",
            r.entries,
            r.findings_total
        );
        for f in &r.findings {
            outln!("  {f}");
        }
        let shown = r.findings.len() as u64;
        if r.findings_total > shown {
            outln!("  ... and {} more", r.findings_total - shown);
        }
    }
    if r.checkpoints_checked > 0 {
        let last = r.last_checkpoint.unwrap_or(0);
        outln!(
            "signed checkpoints: {} verified, newest at seq {last}",
            r.checkpoints_checked
        );
    }
    if let Some(w) = witness {
        outln!("held to the witness {}", w.display());
    }
    for w in &r.warnings {
        outln!("warning: {w}");
    }
}
