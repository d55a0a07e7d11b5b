//! A log longer than one verification batch: entries are read on one thread and checked on
//! another, a thousand or so at a time. Findings on either side of a batch boundary, and the
//! progress reported on the way, must be exactly what one pass over the log would give.

mod common;

use std::path::{Path, PathBuf};

use confide::{Finding, FindingKind, VerifyOptions};

/// Enough entries for several batches of 1,024.
const ENTRIES: u64 = 3_500;

struct Built {
    _dir: tempfile::TempDir,
    path: PathBuf,
    entries: u64,
}

fn build() -> Built {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.vault");
    confide::synth::build(&path, 20, ENTRIES, |_| {}).unwrap();
    let entries = confide::verify_audit_log(&path).unwrap().entries;
    assert!(entries >= ENTRIES, "{entries}");
    Built {
        _dir: dir,
        path,
        entries,
    }
}

fn copy(b: &Built, name: &str) -> PathBuf {
    let to = b.path.with_file_name(name);
    std::fs::copy(&b.path, &to).unwrap();
    to
}

fn edit(path: &Path, sql: &str) {
    common::audit_sql::open(path).execute_batch(sql).unwrap();
}

fn findings(path: &Path) -> Vec<Finding> {
    confide::verify_audit_log(path).unwrap().findings
}

#[test]
fn long_logs_verify_and_report_progress_up_to_the_last_entry() {
    let b = build();
    let mut seen = Vec::new();
    let report = confide::verify_audit_log_observed(&b.path, &VerifyOptions::default(), &mut |n| {
        seen.push(n)
    })
    .unwrap();
    assert!(report.is_intact(), "{:?}", report.findings);
    assert_eq!(report.seq_range, Some((1, b.entries)));
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&b.entries));
}

#[test]
fn findings_across_batch_boundaries_are_placed_exactly() {
    let b = build();

    // Entries 1024 and 1025 sit in different batches; swapping their contents is still seen as
    // one swapped pair.
    let swapped = copy(&b, "swapped.vault");
    edit(
        &swapped,
        "UPDATE audit_log SET seq = -1 WHERE seq = 1024;
         UPDATE audit_log SET seq = 1024 WHERE seq = 1025;
         UPDATE audit_log SET seq = 1025 WHERE seq = -1;",
    );
    assert_eq!(
        findings(&swapped),
        vec![
            Finding {
                seq: 1024,
                kind: FindingKind::Moved { holds: 1025 }
            },
            Finding {
                seq: 1025,
                kind: FindingKind::Moved { holds: 1024 }
            },
        ]
    );

    // The first entry of a batch deleted.
    let deleted = copy(&b, "deleted.vault");
    edit(&deleted, "DELETE FROM audit_log WHERE seq = 2049;");
    assert_eq!(
        findings(&deleted),
        vec![Finding {
            seq: 2049,
            kind: FindingKind::Missing { last: 2049 }
        }]
    );

    // A changed entry deep in the log, and the log's last entry changed too.
    let changed = copy(&b, "changed.vault");
    edit(
        &changed,
        &format!(
            "UPDATE audit_log SET entry = audit_with(entry, 'purpose', 'HPAYMT') WHERE seq = 3000;
             UPDATE audit_log SET entry = audit_with(entry, 'purpose', 'HPAYMT') WHERE seq = {};",
            b.entries
        ),
    );
    let f = findings(&changed);
    let changed_at: Vec<u64> = f
        .iter()
        .filter(|f| f.kind == FindingKind::Changed)
        .map(|f| f.seq)
        .collect();
    assert_eq!(changed_at, vec![3000, b.entries], "{f:?}");
}
