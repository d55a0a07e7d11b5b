//! The library's fixtures (`tests/common` at the root), and helpers that run this package's
//! binaries: `CARGO_BIN_EXE_*` is set only for the tests of the package that builds them.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

#[path = "../../../tests/common/mod.rs"]
mod fixtures;

pub use fixtures::*;

/// Run the `audit-verify` binary; returns (exit code, stdout, stderr).
pub fn audit_verify(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_audit-verify"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
