//! audit-verify on a vault in use: it reads one consistent snapshot, so a log being written by
//! another process verifies intact at every moment (no torn tail, no false finding).

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::*;
use confide::{Purpose, RecordKind, Value};

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
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0u32;
            while !stop.load(Ordering::Relaxed) && n < 2_000 {
                dr.read_record(&r, Purpose::Treatment).unwrap();
                dr.update_record(
                    &r,
                    &[("summary", Value::text(format!("v{n}")))],
                    Purpose::Treatment,
                )
                .unwrap();
                n += 1;
            }
            n
        })
    };
    // The binary, a separate process, and the library, on their own connections.
    let mut checks = 0;
    for _ in 0..15 {
        let (code, out, err) = audit_verify(&[p.path().as_os_str()]);
        assert_eq!(code, 0, "{out}{err}");
        let report = confide::verify_audit_log(p.path()).unwrap();
        assert!(report.is_intact(), "{:?}", report.findings);
        checks += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let written = writer.join().unwrap();
    assert!(written > 0 && checks == 15);
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}
