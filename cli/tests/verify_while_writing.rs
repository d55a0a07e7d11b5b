//! audit-verify on a vault in use: it reads one consistent snapshot, so a log being written by
//! another process verifies intact at every moment (no torn tail, no false finding).

mod common;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::*;
use confide::{Purpose, RecordKind, Value};
use serde_json::Value as Json;

/// Verification passes before giving up on seeing one overlap a committed write.
const MAX_PASSES: usize = 500;

/// A safety bound on the writer, should the verifying side fail and never stop it.
const MAX_WRITES: usize = 200_000;

/// One verification pass and what the writer did meanwhile.
struct Pass {
    /// Writes committed when the pass started, and when it ended.
    writes: (usize, usize),
    /// The log's length when the pass started, and when it ended.
    log_len: (u64, u64),
}

impl Pass {
    fn run(path: &Path, committed: &AtomicUsize, verify: impl FnOnce() -> (u64, u64)) -> Self {
        let writes_before = committed.load(Ordering::SeqCst);
        let len_before = confide::audit_log_len(path).unwrap();
        let (entries, last_seq) = verify();
        let len_after = confide::audit_log_len(path).unwrap();
        let writes_after = committed.load(Ordering::SeqCst);
        // The snapshot covers everything committed before the pass started, and nothing that
        // was never committed.
        assert!(
            last_seq >= len_before && last_seq <= len_after,
            "verified up to {last_seq}, log was {len_before} then {len_after}"
        );
        assert_eq!(entries, last_seq, "the whole log, from its first entry");
        Pass {
            writes: (writes_before, writes_after),
            log_len: (len_before, len_after),
        }
    }

    /// Writes were committed between the start of the pass and its end.
    fn overlapped(&self) -> bool {
        self.writes.1 > self.writes.0 && self.log_len.1 > self.log_len.0
    }
}

/// The binary, a separate process: its JSON report, which must say intact.
fn verify_with_binary(path: &Path) -> (u64, u64) {
    let (code, out, err) = audit_verify(&["--json".as_ref(), path.as_os_str()]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(report["status"], "intact", "{report:#}");
    assert_eq!(report["findings_total"], 0, "{report:#}");
    (
        report["entries"].as_u64().unwrap(),
        report["last_seq"].as_u64().unwrap(),
    )
}

/// The library, on its own connection.
fn verify_with_library(path: &Path) -> (u64, u64) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    (report.entries, report.seq_range.unwrap().1)
}

#[test]
fn verifying_a_vault_while_it_is_written() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Busy Client");
    let r = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("s"))],
            Purpose::Treatment,
        )
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let committed = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (stop, committed) = (Arc::clone(&stop), Arc::clone(&committed));
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < MAX_WRITES {
                dr.read_record(&r, Purpose::Treatment).unwrap();
                dr.update_record(
                    &r,
                    &[("summary", Value::text(format!("v{n}")))],
                    Purpose::Treatment,
                )
                .unwrap();
                n += 1;
                committed.store(n, Ordering::SeqCst);
            }
            n
        })
    };
    // Pass after pass until each verifier has run with writes committed during its pass.
    let (mut binary_overlapped, mut library_overlapped) = (0, 0);
    let mut passes = 0;
    while passes < MAX_PASSES && (binary_overlapped == 0 || library_overlapped == 0) {
        if Pass::run(p.path(), &committed, || verify_with_binary(p.path())).overlapped() {
            binary_overlapped += 1;
        }
        if Pass::run(p.path(), &committed, || verify_with_library(p.path())).overlapped() {
            library_overlapped += 1;
        }
        passes += 1;
    }
    stop.store(true, Ordering::SeqCst);
    let written = writer.join().unwrap();
    assert!(
        binary_overlapped > 0 && library_overlapped > 0,
        "in {passes} passes, {binary_overlapped} of the binary's and {library_overlapped} of the \
         library's overlapped a committed write"
    );
    assert_eq!(written, committed.load(Ordering::SeqCst));
    // At rest, the whole log: the record's creation, then a read and an update per write.
    let (entries, _) = verify_with_library(p.path());
    assert!(
        entries >= 2 * written as u64,
        "{entries} entries for {written} writes"
    );
}
