//! A spinner on stderr while a long log verifies.
//!
//! The library reports no progress from inside verification, so this shows how many entries
//! there are to check (the log's newest sequence number, one cheap query) and the time elapsed,
//! not a percentage. It is drawn only when stderr is a terminal, and only for a log long enough
//! to take a noticeable time: piped or redirected output, and so every script and test, sees
//! nothing.

use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Below this many entries verification is over before a spinner would be seen; drawing one
/// would only flicker.
const LONG_LOG: u64 = 50_000;

/// A running spinner, or nothing.
pub(crate) struct Spinner(Option<ProgressBar>);

impl Spinner {
    /// Start one for verifying `vault`, if `wanted`, stderr is a terminal and the log is long.
    pub(crate) fn start(vault: &Path, wanted: bool) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Spinner(None);
        }
        // A failure here is verification's to report, with its own message.
        let n = match confide::audit_log_len(vault) {
            Ok(n) if n >= LONG_LOG => n,
            _ => return Spinner(None),
        };
        let message = format!("verifying {n} audit entries");
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} [{elapsed}]") {
            bar.set_style(style);
        }
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(120));
        Spinner(Some(bar))
    }

    /// Stop it and erase it, so the report prints on a clean line.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
