//! Standard output and standard error for both tools, which stop quietly when their reader goes
//! away.
//!
//! `println!` panics when stdout is a pipe whose reader has exited (`audit-verify VAULT | head
//! -1`), and a panic exits with 101, which a script cannot tell apart from anything else. The
//! tools print through `outln!` and `errln!` instead: once a write finds the pipe closed, later
//! writes to it are skipped, the tool finishes what it was doing, and [`exit`] returns the code
//! that work earned (`audit-verify`: 0 intact, 1 tampered, 2 could not run). The reader chose to
//! stop reading; what it read was true. Any other failure to write stdout (a full disk under a
//! redirect) is said once on stderr and the exit code becomes 2: the report did not get out.
//!
//! Both binaries include this file (`#[path]`), so not every function is used by each.

#![allow(dead_code, reason = "each binary uses a different part")]

use std::fmt;
use std::io::{self, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

/// Stdout's reader went away: later lines are dropped.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);
/// Writing stdout failed otherwise: the exit code is 2.
static STDOUT_FAILED: AtomicBool = AtomicBool::new(false);
/// Stderr's reader went away.
static STDERR_GONE: AtomicBool = AtomicBool::new(false);

/// `println!` that stops quietly when stdout's reader goes away.
macro_rules! outln {
    () => {
        $crate::out::line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::out::line(format_args!($($arg)*))
    };
}

/// `eprintln!` that stops quietly when stderr's reader goes away.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::out::error_line(format_args!($($arg)*))
    };
}

pub(crate) use {errln, outln};

/// Write one line to stdout, unless its reader has gone.
pub(crate) fn line(args: fmt::Arguments<'_>) {
    if STDOUT_GONE.load(Ordering::Relaxed) || STDOUT_FAILED.load(Ordering::Relaxed) {
        return;
    }
    let mut out = io::stdout().lock();
    if let Err(e) = writeln!(out, "{args}") {
        stdout_failed(&e);
    }
}

/// Write one line to stderr, unless its reader has gone.
pub(crate) fn error_line(args: fmt::Arguments<'_>) {
    if STDERR_GONE.load(Ordering::Relaxed) {
        return;
    }
    if let Err(e) = writeln!(io::stderr().lock(), "{args}") {
        if e.kind() == io::ErrorKind::BrokenPipe {
            STDERR_GONE.store(true, Ordering::Relaxed);
        }
        // Nowhere left to say it: the exit code still tells.
    }
}

fn stdout_failed(e: &io::Error) {
    if e.kind() == io::ErrorKind::BrokenPipe {
        STDOUT_GONE.store(true, Ordering::Relaxed);
    } else if !STDOUT_FAILED.swap(true, Ordering::Relaxed) {
        error_line(format_args!("writing the output: {e}"));
    }
}

/// The exit code: `code`, unless stdout could not be written (other than its reader leaving),
/// then 2. Flushes stdout first, so a failure of the last write counts too.
pub(crate) fn exit(code: ExitCode) -> ExitCode {
    if !STDOUT_GONE.load(Ordering::Relaxed) {
        if let Err(e) = io::stdout().lock().flush() {
            stdout_failed(&e);
        }
    }
    if STDOUT_FAILED.load(Ordering::Relaxed) {
        ExitCode::from(2)
    } else {
        code
    }
}
