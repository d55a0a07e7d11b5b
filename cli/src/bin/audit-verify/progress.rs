//! A progress bar on stderr while a long log verifies.
//!
//! It is drawn only when stderr is a terminal, and only for a log long enough to take a
//! noticeable time: piped or redirected output, and so every script and test, sees nothing.

use std::io::IsTerminal;
use std::path::Path;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Below this many entries verification is over before a bar would be seen; drawing one would
/// only flicker.
const LONG_LOG: u64 = 50_000;

/// A running progress bar, or nothing.
pub(crate) struct Progress(Option<ProgressBar>);

impl Progress {
    /// Start one for verifying `vault`, if `wanted`, stderr is a terminal and the log is long.
    pub(crate) fn start(vault: &Path, wanted: bool) -> Self {
        if !wanted || !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        // A failure here is verification's to report, with its own message.
        let n = match confide::audit_log_len(vault) {
            Ok(n) if n >= LONG_LOG => n,
            _ => return Progress(None),
        };
        let bar = ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "verifying {bar:40} {human_pos}/{human_len} entries [{elapsed} < {eta}]",
        ) {
            bar.set_style(style);
        }
        Progress(Some(bar))
    }

    /// Entries checked so far.
    pub(crate) fn set(&self, done: u64) {
        if let Some(bar) = &self.0 {
            bar.set_position(done);
        }
    }

    /// Stop it and erase it, so the report prints on a clean line.
    pub(crate) fn finish(self) {
        if let Some(bar) = self.0 {
            bar.finish_and_clear();
        }
    }
}
