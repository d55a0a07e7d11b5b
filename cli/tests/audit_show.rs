//! `audit-verify show`: the audit log's entries for a compliance reviewer, through the real
//! binary, run piped as a script would run it.
//!
//! One small practice: dr.a registers two clients and writes and reads their records, dr.b is
//! refused a read of dr.a's client, then breaks the glass, reads under emergency treatment and
//! closes it. Each filter must bring out exactly the entries the raw table holds for it; the
//! FHIR output must be a Bundle of AuditEvents that says what break-glass is; a tampered log is
//! not shown without --force; bad input is a message and exit 2, never a panic.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use common::{Practice, audit_verify, new_client};
use confide::{AuditFilter, Error, Purpose, RecordKind, Value};
use rusqlite::{Connection, OpenFlags};
use serde_json::Value as Json;

const T: Purpose = Purpose::Treatment;
const REASON: &str = "Client in crisis at the ED; dr.a unreachable";

struct Story {
    _dir: tempfile::TempDir,
    path: PathBuf,
    dr_a: String,
    dr_b: String,
    sam: String,
    alex: String,
}

/// Built once and only read by the tests that share it; a test that edits copies the file.
fn story() -> &'static Story {
    static STORY: OnceLock<Story> = OnceLock::new();
    STORY.get_or_init(|| {
        let p = Practice::new();
        let (dr_a, dr_b, sam, alex);
        {
            let a = p.login("dr.a");
            let b = p.login("dr.b");
            dr_a = a.user_id().to_string();
            dr_b = b.user_id().to_string();
            let sam_id = new_client(&a, "Sam Doe");
            let alex_id = new_client(&a, "Alex Roe");
            sam = sam_id.to_string();
            alex = alex_id.to_string();
            let dx = a
                .create_record(
                    &sam_id,
                    RecordKind::Diagnosis,
                    &[("code", Value::code("F41.1"))],
                    T,
                )
                .unwrap();
            let progress = a
                .create_record(
                    &alex_id,
                    RecordKind::ProgressNote,
                    &[
                        ("summary", Value::text("Slept better this week.")),
                        ("plan", Value::text("Continue CBT.")),
                    ],
                    T,
                )
                .unwrap();
            a.read_record(&dx, T).unwrap();
            a.read_record(&progress, T).unwrap();
            // dr.b is not on Sam's care team: refused, and the refusal is audited.
            assert!(matches!(b.read_record(&dx, T), Err(Error::Denied { .. })));
            b.break_glass(&sam_id, REASON, 30).unwrap();
            b.read_record(&dx, Purpose::EmergencyTreatment).unwrap();
            b.end_break_glass(&sam_id).unwrap();
        }
        let Practice { dir, path, vault } = p;
        // The last connection closes: the WAL is checkpointed into the main file.
        drop(vault);
        Story {
            _dir: dir,
            path,
            dr_a,
            dr_b,
            sam,
            alex,
        }
    })
}

fn run(args: &[&str]) -> (i32, String, String) {
    let args: Vec<&OsStr> = args.iter().map(OsStr::new).collect();
    audit_verify(&args)
}

fn show(path: &Path, extra: &[&str]) -> (i32, String, String) {
    let path = path.to_str().unwrap();
    let mut args = vec!["show", path];
    args.extend_from_slice(extra);
    run(&args)
}

/// `show --format json` with `extra` filters: the entries, after checking the run was clean.
fn entries(extra: &[&str]) -> Vec<Json> {
    let mut args = vec!["--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = show(&story().path, &args);
    assert_eq!(code, 0, "stderr: {err}");
    assert_eq!(err, "", "nothing on stderr on success when piped");
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["schema"], "confide-audit-show/v1");
    assert_eq!(doc["log_status"], "intact");
    doc["entries"].as_array().unwrap().clone()
}

fn seqs(entries: &[Json]) -> Vec<u64> {
    entries.iter().map(|e| e["seq"].as_u64().unwrap()).collect()
}

fn actions(entries: &[Json]) -> Vec<&str> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect()
}

/// The sequence numbers the raw table holds for `condition` (bound to `param`), oldest first:
/// what a filter must bring out, computed without the code under test.
fn raw_seqs(condition: &str, param: rusqlite::types::Value) -> Vec<u64> {
    let conn =
        Connection::open_with_flags(&story().path, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    common::audit_sql::register(&conn);
    let mut stmt = conn
        .prepare(&format!(
            "SELECT seq FROM audit_log WHERE {condition} ORDER BY seq"
        ))
        .unwrap();
    stmt.query_map([param], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn blob(hex_id: &str) -> rusqlite::types::Value {
    rusqlite::types::Value::Blob(hex::decode(hex_id).unwrap())
}

fn all_seqs() -> Vec<u64> {
    raw_seqs("?1 IS NULL", rusqlite::types::Value::Null)
}

// ---------------------------------------------------------------------------------------------
// Verification is unchanged
// ---------------------------------------------------------------------------------------------

#[test]
fn verifying_without_a_subcommand_is_unchanged_and_quiet_when_piped() {
    let path = story().path.to_str().unwrap();
    let (code, out, err) = run(&[path]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.starts_with("intact: "), "{out}");
    assert_eq!(err, "", "no progress display when stderr is not a terminal");

    let (code, out, err) = run(&["--json", path]);
    assert_eq!(code, 0);
    assert_eq!(err, "");
    let report: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(report["schema"], "confide-audit-verify/v1");
    assert_eq!(report["status"], "intact");
    assert_eq!(report["entries"], all_seqs().len());
}

// ---------------------------------------------------------------------------------------------
// Filters
// ---------------------------------------------------------------------------------------------

#[test]
fn with_no_filter_every_entry_comes_out_oldest_first() {
    let all = entries(&[]);
    assert_eq!(seqs(&all), all_seqs());
    let first = &all[0];
    assert_eq!(first["action"], "vault.create");
    for e in &all {
        let time = e["time"].as_str().unwrap();
        assert!(
            time.ends_with('Z') && time.contains('T'),
            "RFC 3339 UTC: {time}"
        );
    }
}

#[test]
fn client_filter_brings_out_that_clients_entries_only() {
    let s = story();
    let sam = entries(&["--client", &s.sam]);
    assert_eq!(
        seqs(&sam),
        raw_seqs("audit_part(entry, 'client_id') = ?1", blob(&s.sam))
    );
    assert!(sam.iter().all(|e| e["client"] == s.sam.as_str()));
    let acts = actions(&sam);
    for want in [
        "client.create",
        "record.create",
        "record.read",
        "break_glass.start",
    ] {
        assert!(acts.contains(&want), "{want} missing from {acts:?}");
    }
    let alex = entries(&["--client", &s.alex]);
    assert_eq!(
        seqs(&alex),
        raw_seqs("audit_part(entry, 'client_id') = ?1", blob(&s.alex))
    );
    assert!(!actions(&alex).contains(&"break_glass.start"));
}

#[test]
fn actor_filter_brings_out_that_users_entries_only() {
    let s = story();
    let b = entries(&["--actor", &s.dr_b]);
    assert_eq!(
        seqs(&b),
        raw_seqs("audit_part(entry, 'actor') = ?1", blob(&s.dr_b))
    );
    assert!(b.iter().all(|e| e["actor"] == s.dr_b.as_str()));
    let a = entries(&["--actor", &s.dr_a]);
    assert_eq!(
        seqs(&a),
        raw_seqs("audit_part(entry, 'actor') = ?1", blob(&s.dr_a))
    );
    assert!(!actions(&a).contains(&"break_glass.start"));
    // A user name works as well as an id.
    assert_eq!(seqs(&entries(&["--actor", "dr.b"])), seqs(&b));
}

#[test]
fn action_filter_and_combined_filters() {
    let s = story();
    let starts = entries(&["--action", "break_glass.start"]);
    assert_eq!(
        seqs(&starts),
        raw_seqs(
            "audit_part(entry, 'action') = ?1",
            rusqlite::types::Value::Text("break_glass.start".into())
        )
    );
    assert_eq!(starts.len(), 1);
    let start = &starts[0];
    assert_eq!(start["actor"], s.dr_b.as_str());
    assert_eq!(start["client"], s.sam.as_str());
    assert_eq!(start["purpose"], "ETREAT");
    assert_eq!(start["fields"], serde_json::json!(["reason"]));
    assert_eq!(start["flagged"], true);

    // dr.b's reads of Sam: the refusal, then the emergency read.
    let reads = entries(&[
        "--actor",
        &s.dr_b,
        "--client",
        &s.sam,
        "--action",
        "record.read",
    ]);
    assert_eq!(reads.len(), 2, "{reads:#?}");
    assert_eq!(reads[0]["outcome"], "denied:no-relationship");
    assert_eq!(reads[0]["purpose"], "TREAT");
    assert_eq!(reads[1]["outcome"], "granted:break-glass");
    assert_eq!(reads[1]["purpose"], "ETREAT");
    assert_eq!(reads[1]["flagged"], true);
    assert!(reads[0]["seq"].as_u64() < start["seq"].as_u64());
    assert!(start["seq"].as_u64() < reads[1]["seq"].as_u64());

    // dr.a never broke the glass: a filter that matches nothing is not an error.
    assert!(entries(&["--actor", &s.dr_a, "--action", "break_glass.start"]).is_empty());
}

/// The UTC day of an RFC 3339 time, moved by `days`.
fn day(time: &str, days: i64) -> String {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    let d = time::Date::parse(&time[..10], fmt).unwrap() + time::Duration::days(days);
    d.format(fmt).unwrap()
}

#[test]
fn date_filters_are_utc_days_and_until_includes_its_day() {
    let all = entries(&[]);
    let first = all.first().unwrap()["time"].as_str().unwrap().to_owned();
    let last = all.last().unwrap()["time"].as_str().unwrap().to_owned();
    let (first_day, last_day) = (day(&first, 0), day(&last, 0));

    let within = entries(&["--since", &first_day, "--until", &last_day]);
    assert_eq!(
        seqs(&within),
        seqs(&all),
        "--until is inclusive of its whole day"
    );
    assert!(entries(&["--until", &day(&first, -1)]).is_empty());
    assert!(entries(&["--since", &day(&last, 1)]).is_empty());
    // The same day as both ends: that day's entries.
    let one_day = entries(&["--since", &last_day, "--until", &last_day]);
    assert!(!one_day.is_empty());
    assert!(
        one_day
            .iter()
            .all(|e| e["time"].as_str().unwrap().starts_with(&last_day))
    );
}

// ---------------------------------------------------------------------------------------------
// Output formats
// ---------------------------------------------------------------------------------------------

#[test]
fn text_output_is_one_line_per_entry_and_never_a_value() {
    let s = story();
    let (code, out, err) = show(&s.path, &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), all_seqs().len());
    let start = lines
        .iter()
        .find(|l| l.contains("break_glass.start"))
        .unwrap();
    assert!(start.contains(&format!("actor={}", s.dr_b)), "{start}");
    assert!(start.contains(&format!("client={}", s.sam)), "{start}");
    assert!(start.contains("fields=reason"), "{start}");
    assert!(start.contains("purpose=ETREAT"), "{start}");
    assert!(start.ends_with("[flagged]"), "{start}");
    for secret in ["F41.1", "Slept better", "Continue CBT", REASON, "Sam Doe"] {
        assert!(!out.contains(secret), "a value leaked: {secret}");
    }
    // An empty result says so, and is still success.
    let (code, out, _) = show(&s.path, &["--since", "9999-12-31"]);
    assert_eq!(code, 0);
    assert_eq!(out.trim(), "no matching entries");
}

fn dicom_codes(v: &Json) -> Vec<&str> {
    v.as_array()
        .map(|a| a.iter().map(|c| c["code"].as_str().unwrap()).collect())
        .unwrap_or_default()
}

#[test]
fn fhir_output_is_a_bundle_of_audit_events() {
    let s = story();
    let (code, out, err) = show(&s.path, &["--format", "fhir"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(err, "");
    let bundle: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(bundle["resourceType"], "Bundle");
    assert_eq!(bundle["type"], "collection");
    let events: Vec<&Json> = bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect();
    assert_eq!(events.len(), all_seqs().len());
    let vault_id = bundle["identifier"]["value"].as_str().unwrap();
    assert_eq!(vault_id.len(), 32);
    for ev in &events {
        assert_eq!(ev["resourceType"], "AuditEvent");
        assert_eq!(
            ev["type"]["system"],
            "http://dicom.nema.org/resources/ontology/DCM"
        );
        assert!(ev["recorded"].as_str().unwrap().ends_with('Z'));
        assert!(["C", "R", "U", "D", "E"].contains(&ev["action"].as_str().unwrap()));
        assert!(["0", "4", "8"].contains(&ev["outcome"].as_str().unwrap()));
        assert_eq!(ev["agent"][0]["requestor"], true);
        assert_eq!(ev["source"]["observer"]["identifier"]["value"], vault_id);
    }
    let by_desc = |action_subtype: &str, outcome: &str| -> Vec<&Json> {
        events
            .iter()
            .copied()
            .filter(|e| {
                dicom_codes(&e["subtype"]).contains(&action_subtype)
                    || e["type"]["code"] == action_subtype
            })
            .filter(|e| e["outcomeDesc"] == outcome)
            .collect()
    };

    let starts = by_desc("110127", "granted:break-glass");
    assert_eq!(starts.len(), 1);
    let start = starts[0];
    assert_eq!(start["subtype"][0]["display"], "Emergency Override Started");
    assert_eq!(start["type"]["code"], "110113");
    assert_eq!(start["outcome"], "0");
    assert_eq!(
        start["purposeOfEvent"][0]["coding"][0],
        serde_json::json!({
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
            "code": "ETREAT"
        })
    );
    assert_eq!(
        start["agent"][0]["who"]["identifier"]["value"],
        s.dr_b.as_str()
    );
    assert_eq!(
        start["entity"][0]["what"]["identifier"]["value"],
        s.sam.as_str()
    );
    assert_eq!(
        start["entity"][0]["role"]["code"], "1",
        "the client is the patient"
    );
    let detail = serde_json::to_string(&start["entity"]).unwrap();
    assert!(detail.contains("\"valueString\":\"reason\""), "{detail}");
    assert!(!detail.contains(REASON), "the reason is named, never shown");
    assert_eq!(
        by_desc("110138", "granted:break-glass").len(),
        1,
        "stop event"
    );

    // The emergency read: a patient-record read for emergency treatment.
    let reads = by_desc("110110", "granted:break-glass");
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0]["action"], "R");
    assert_eq!(reads[0]["purposeOfEvent"][0]["coding"][0]["code"], "ETREAT");
    // The refusal: a minor failure, its reason kept.
    let refused = by_desc("110110", "denied:no-relationship");
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0]["outcome"], "4");
    assert_eq!(
        refused[0]["agent"][0]["who"]["identifier"]["value"],
        s.dr_b.as_str()
    );
    // Logins and the vault's own activity.
    let logins: Vec<_> = events
        .iter()
        .filter(|e| e["type"]["code"] == "110114")
        .collect();
    assert!(logins.len() >= 3);
    assert!(
        logins
            .iter()
            .all(|e| dicom_codes(&e["subtype"]) == ["110122"])
    );
    assert_eq!(events[0]["type"]["code"], "110100", "vault.create");
    for secret in ["F41.1", "Slept better", REASON] {
        assert!(!out.contains(secret), "a value leaked: {secret}");
    }
}

// ---------------------------------------------------------------------------------------------
// A tampered log, and bad input
// ---------------------------------------------------------------------------------------------

#[test]
fn a_tampered_log_is_not_shown_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("tampered.vault");
    std::fs::copy(&story().path, &copy).unwrap();
    // Hide the refusal: rewrite its outcome, as an insider covering their tracks would.
    let conn = common::audit_sql::open(&copy);
    let n = conn
        .execute(
            "UPDATE audit_log SET entry = audit_with(entry, 'outcome', 'granted:care-team') \
             WHERE audit_part(entry, 'outcome') = 'denied:no-relationship'",
            [],
        )
        .unwrap();
    assert_eq!(n, 1);
    drop(conn);

    let (code, out, err) = show(&copy, &[]);
    assert_eq!(code, 1);
    assert_eq!(out, "", "nothing shown from a tampered log");
    assert!(err.contains("tampered") && err.contains("--force"), "{err}");
    for format in ["json", "fhir"] {
        let (code, out, _) = show(&copy, &["--format", format]);
        assert_eq!((code, out.as_str()), (1, ""));
    }

    let (code, out, err) = show(&copy, &["--force", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning") && err.contains("tampered"), "{err}");
    let doc: Json = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["log_status"], "tampered");
    assert_eq!(doc["entries"].as_array().unwrap().len(), all_seqs().len());
}

#[test]
fn bad_input_is_a_message_and_exit_2_never_a_panic() {
    let s = story();
    let unknown = "0123456789abcdef0123456789abcdef";
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--since", "2024-02-30"], "YYYY-MM-DD"),
        (vec!["--until", "yesterday"], "YYYY-MM-DD"),
        (
            vec!["--since", "2024-03-02", "--until", "2024-03-01"],
            "after",
        ),
        (vec!["--client", "not-hex"], "hexadecimal"),
        (vec!["--client", unknown], "client"),
        (vec!["--actor", unknown], "user"),
        (vec!["--action", "record.delete"], "unknown action"),
        (vec!["--format", "xml"], "xml"),
    ];
    for (args, says) in cases {
        let (code, out, err) = show(&s.path, &args);
        assert_eq!(code, 2, "{args:?}: {out}{err}");
        assert!(err.contains(says), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
    }
    let missing = s.path.with_file_name("no-such.vault");
    let (code, _, err) = show(&missing, &[]);
    assert_eq!(code, 2);
    assert!(err.contains("no vault at"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// The library call behind it
// ---------------------------------------------------------------------------------------------

#[test]
fn read_audit_log_filters_in_one_read_only_call() {
    let s = story();
    let before = std::fs::read(&s.path).unwrap();
    let filter = AuditFilter {
        client: Some(s.sam.parse().unwrap()),
        action: Some(confide::AuditAction::BreakGlassEnd),
        ..AuditFilter::default()
    };
    let log = confide::read_audit_log(&s.path, &filter).unwrap();
    assert_eq!(log.entries.len(), 1);
    assert_eq!(log.entries[0].actor.unwrap().to_string(), s.dr_b);
    assert!(log.entries[0].is_flagged());
    let head = confide::read_audit_log(
        &s.path,
        &AuditFilter {
            through_seq: Some(3),
            ..AuditFilter::default()
        },
    )
    .unwrap();
    assert_eq!(
        head.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert_eq!(
        confide::audit_log_len(&s.path).unwrap(),
        all_seqs().len() as u64
    );
    assert_eq!(std::fs::read(&s.path).unwrap(), before, "never writes");
}
