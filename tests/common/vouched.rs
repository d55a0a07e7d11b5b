//! The practice the data-against-log tests tamper with (tests/data_vs_log.rs, and through
//! `audit-verify` in cli/tests/data_vs_log.rs).

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::path::Path;

use confide::{FindingKind, Purpose, RecordId, RecordKind, Value, verify_audit_log};

use crate::common::*;

pub const T: Purpose = Purpose::Treatment;

pub struct Built {
    pub p: Practice,
    pub progress: RecordId,
    pub plan: RecordId,
    /// The audit entry of the progress note's latest write.
    pub update_seq: u64,
}

pub fn build() -> Built {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let c = new_client(&dr, "Dana Client");
    let progress = dr
        .create_record(
            &c,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first version"))],
            T,
        )
        .unwrap();
    let plan = dr
        .create_record(
            &c,
            RecordKind::TreatmentPlan,
            &[("goals", Value::text("sleep"))],
            T,
        )
        .unwrap();
    dr.update_record(&progress, &[("summary", Value::text("second version"))], T)
        .unwrap();
    let update_seq = last_entry(&p, "record.update").seq;
    Built {
        p,
        progress,
        plan,
        update_seq,
    }
}

pub fn findings(path: &Path) -> Vec<(u64, FindingKind)> {
    verify_audit_log(path)
        .unwrap()
        .findings
        .into_iter()
        .map(|f| (f.seq, f.kind))
        .collect()
}
