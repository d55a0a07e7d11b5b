//! `confide backup` and `confide restore`: encrypted copies of a vault, taken while it is in use
//! and put back only after their audit chain verifies.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use crate::out::outln;
use confide::{Error, RestoreOptions, Vault};
use indicatif::{ProgressBar, ProgressDrawTarget};

/// A spinner on a terminal while a long copy runs (nothing when stderr is piped).
fn spinner(message: &'static str) -> Option<ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    bar.set_message(message);
    bar.enable_steady_tick(Duration::from_millis(120));
    Some(bar)
}

fn done(bar: Option<ProgressBar>) {
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
}

/// Back `vault` up to `out` as administrator `user`.
pub(crate) fn backup(vault: &Path, user: &str, out: &Path) -> Result<(), Error> {
    let passphrase = crate::passphrase()?;
    let v = Vault::open(vault, crate::config(vault)?)?;
    let admin = v.unlock(user, &passphrase)?;
    let bar = spinner("copying the vault");
    let result = admin.backup(out);
    done(bar);
    let summary = result?;
    outln!(
        "backed up vault {} to {} ({} bytes; its log ends at seq {})",
        v.id(),
        summary.path.display(),
        summary.bytes,
        summary.audit_seq
    );
    Ok(())
}

/// Restore `backup` to `to` as administrator `user`.
pub(crate) fn restore(
    backup: &Path,
    to: &Path,
    user: &str,
    allow_other_vault: bool,
) -> Result<(), Error> {
    let passphrase = crate::passphrase()?;
    let bar = spinner("verifying and restoring the backup");
    let result = Vault::restore(
        backup,
        to,
        user,
        &passphrase,
        crate::config(to)?,
        RestoreOptions { allow_other_vault },
    );
    done(bar);
    let v = result?;
    outln!("restored vault {} to {}", v.id(), to.display());
    v.close()
}
