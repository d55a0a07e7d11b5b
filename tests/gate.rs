//! The gate: every public call of a `Session` that touches the vault is checked there, once.
//!
//! One test calls every such method on a locked session and expects `SessionLocked`, each
//! refusal audited; another reads the `pub fn` names of `Session` from the source and fails when
//! one is neither called by the first nor exempt (it answers from memory), so a new method cannot
//! skip the check. A third scans the source: outside the gate nothing reaches a key or opens a
//! field, and outside `db/` nothing names rusqlite.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use common::{Practice, new_client};
use confide::{
    AuditFilter, CaseKind, Category, ClientId, ConsentRecipient, Date, DenialBasis,
    DisclosureRequest, Error, GuardianBasis, LegalBasis, MinorFacts, NewAmendment, NewClient,
    NewConsent, NewGuardian, NewRestriction, OutsideParty, Passphrase, Purpose, RecordKind, Result,
    SecretsPolicy, Session, Value, read_audit_log,
};

/// What answers from memory and needs no check: the identity, the lock itself, the counters.
const EXEMPT: [&str; 6] = [
    "user_id",
    "user_name",
    "role",
    "is_locked",
    "key_stats",
    "lock",
];

/// A self-pay restriction of `record` against a health plan.
fn self_pay(record: confide::RecordId) -> NewRestriction {
    NewRestriction::SelfPay {
        plan_name: "Acme Health".into(),
        plan_organisation: "Acme Health Plan".into(),
        records: vec![record],
    }
}

type Call<'a> = (&'static str, Box<dyn Fn(&Session) -> Result<()> + 'a>);

/// Every public method of `Session` outside [`EXEMPT`], called with well-formed arguments about
/// real ids, so that the only thing wrong with each call is the session.
fn every_call(ids: &Ids) -> Vec<Call<'_>> {
    let client = ids.client;
    let other = ids.other;
    let record = ids.record;
    let note = ids.note;
    let case = ids.case;
    let joint = ids.joint;
    let consent = ids.consent;
    let restriction = ids.restriction;
    let amendment = ids.amendment;
    let user = ids.user;
    let guardian = ids.guardian;
    let pass = || Passphrase::new("a long enough passphrase");
    let party = || OutsideParty {
        name: "Dr. Outside".into(),
        organisation: "Clinic".into(),
        address: "1 Road".into(),
    };
    let t = Purpose::Treatment;
    let fields = || vec![("text", Value::text("words"))];
    let calls: Vec<Call<'_>> = vec![
        (
            "backup",
            Box::new(move |s| s.backup(&ids.dir.join("b.vault")).map(drop)),
        ),
        (
            "read_records",
            Box::new(move |s| s.read_records(&[record], t).map(drop)),
        ),
        (
            "read_record",
            Box::new(move |s| s.read_record(&record, t).map(drop)),
        ),
        ("user_id_of", Box::new(|s| s.user_id_of("dr.a").map(drop))),
        (
            "assign_care_team",
            Box::new(move |s| s.assign_care_team(&client, &user, t)),
        ),
        (
            "remove_from_care_team",
            Box::new(move |s| s.remove_from_care_team(&client, &user, t)),
        ),
        (
            "set_supervision",
            Box::new(move |s| s.set_supervision(&user, &user, false)),
        ),
        (
            "end_supervision",
            Box::new(move |s| s.end_supervision(&user, &user)),
        ),
        (
            "set_minor_status",
            Box::new(move |s| {
                let status = MinorFacts {
                    consented_to_own_treatment: true,
                    court_directed: false,
                    guardian_agreed_confidential: false,
                };
                s.set_minor_status(&client, Some(status), t)
            }),
        ),
        (
            "break_glass",
            Box::new(move |s| s.break_glass(&client, "collapsed", 30)),
        ),
        (
            "end_break_glass",
            Box::new(move |s| s.end_break_glass(&client)),
        ),
        (
            "create_case",
            Box::new(move |s| {
                let members = [client, other];
                s.create_case(CaseKind::Couple, SecretsPolicy::NoSecrets, &members, t)
                    .map(drop)
            }),
        ),
        (
            "leave_case",
            Box::new(move |s| s.leave_case(&case, &client, t)),
        ),
        (
            "write_joint_record",
            Box::new(move |s| s.write_joint_record(&case, &fields(), t).map(drop)),
        ),
        (
            "read_joint_record",
            Box::new(move |s| s.read_joint_record(&joint, t).map(drop)),
        ),
        (
            "list_joint_records",
            Box::new(move |s| s.list_joint_records(&case, t).map(drop)),
        ),
        (
            "write_case_note",
            Box::new(move |s| s.write_case_note(&case, &client, &fields(), t).map(drop)),
        ),
        (
            "share_into_joint",
            Box::new(move |s| s.share_into_joint(&record, t).map(drop)),
        ),
        (
            "record_consent",
            Box::new(move |s| {
                let c = NewConsent {
                    recipient: ConsentRecipient::Outside {
                        name: "Dr. Outside".into(),
                        organisation: "Clinic".into(),
                        address: "1 Road".into(),
                    },
                    categories: vec![Category::DiagnosisCodes],
                    purpose: t,
                    start_ms: 0,
                    expires_ms: None,
                    signed_on_ms: 0,
                    description: "diagnosis for the referral".into(),
                    scope: None,
                    case: None,
                    expiry_event: None,
                    signed_by: None,
                };
                s.record_consent(&client, &c, t).map(drop)
            }),
        ),
        (
            "revoke_consent",
            Box::new(move |s| s.revoke_consent(&consent, t)),
        ),
        (
            "record_expiry_event",
            Box::new(move |s| s.record_expiry_event(&consent, t)),
        ),
        (
            "list_consents",
            Box::new(move |s| s.list_consents(&client, t).map(drop)),
        ),
        (
            "record_expiry_event",
            Box::new(move |s| s.record_expiry_event(&consent, t)),
        ),
        (
            "record_restriction",
            Box::new(move |s| {
                s.record_restriction(&client, &self_pay(record), t)
                    .map(drop)
            }),
        ),
        (
            "lift_restriction",
            Box::new(move |s| s.lift_restriction(&client, &restriction, t)),
        ),
        (
            "list_restrictions",
            Box::new(move |s| s.list_restrictions(&client, t).map(drop)),
        ),
        (
            "request_amendment",
            Box::new(move |s| {
                let asked = NewAmendment {
                    records: vec![record],
                    what: "what".into(),
                    why: "why".into(),
                };
                s.request_amendment(&client, &asked, t).map(drop)
            }),
        ),
        (
            "extend_amendment",
            Box::new(move |s| s.extend_amendment(&amendment, "why", t)),
        ),
        (
            "accept_amendment",
            Box::new(move |s| s.accept_amendment(&amendment, &fields(), &[], t).map(drop)),
        ),
        (
            "deny_amendment",
            Box::new(move |s| {
                s.deny_amendment(&amendment, DenialBasis::AccurateAndComplete, "why", t)
            }),
        ),
        (
            "file_disagreement",
            Box::new(move |s| s.file_disagreement(&amendment, "why", t)),
        ),
        (
            "rebut_disagreement",
            Box::new(move |s| s.rebut_disagreement(&amendment, "why", t)),
        ),
        (
            "list_amendments",
            Box::new(move |s| s.list_amendments(&client, t).map(drop)),
        ),
        (
            "read_amendment",
            Box::new(move |s| s.read_amendment(&amendment, t).map(drop)),
        ),
        (
            "amendments_past_due",
            Box::new(move |s| s.amendments_past_due(t).map(drop)),
        ),
        ("sign_record", Box::new(move |s| s.sign_record(&record, t))),
        (
            "cosign_record",
            Box::new(move |s| s.cosign_record(&record, t)),
        ),
        (
            "add_addendum",
            Box::new(move |s| s.add_addendum(&record, "why", &fields(), t).map(drop)),
        ),
        (
            "record_versions",
            Box::new(move |s| s.record_versions(&record, t).map(drop)),
        ),
        (
            "update_psychotherapy_note",
            Box::new(move |s| s.update_psychotherapy_note(&note, &fields(), t)),
        ),
        (
            "sign_psychotherapy_note",
            Box::new(move |s| s.sign_psychotherapy_note(&note, t)),
        ),
        (
            "cosign_psychotherapy_note",
            Box::new(move |s| s.cosign_psychotherapy_note(&note, t)),
        ),
        (
            "add_note_addendum",
            Box::new(move |s| s.add_note_addendum(&note, "why", &fields(), t).map(drop)),
        ),
        (
            "psychotherapy_note_versions",
            Box::new(move |s| s.psychotherapy_note_versions(&note, t).map(drop)),
        ),
        (
            "consultation_extract",
            Box::new(move |s| s.consultation_extract(&client).map(drop)),
        ),
        (
            "disclose",
            Box::new(move |s| {
                let req = DisclosureRequest {
                    client,
                    case: None,
                    recipient: party(),
                    purpose: t,
                    basis: LegalBasis::Authorization,
                    consent: Some(consent),
                    reference: None,
                    order: None,
                    categories: vec![Category::DiagnosisCodes],
                    narrow: None,
                    protective: None,
                    description: "referral".into(),
                };
                s.disclose(&req).map(drop)
            }),
        ),
        (
            "accounting",
            Box::new(move |s| s.accounting(&client, None).map(drop)),
        ),
        (
            "request_erasure",
            Box::new(move |s| s.request_erasure(&client).map(drop)),
        ),
        (
            "erase_client",
            Box::new(move |s| s.erase_client(&client, Purpose::PatientRequest)),
        ),
        (
            "export_for_client",
            Box::new(move |s| s.export_for_client(&client).map(drop)),
        ),
        (
            "export_for_guardian",
            Box::new(move |s| s.export_for_guardian(&client, &guardian).map(drop)),
        ),
        (
            "record_guardian",
            Box::new(move |s| {
                let custody = NewGuardian {
                    basis: GuardianBasis::Parent,
                    may_access: true,
                    may_authorize: false,
                    until_ms: None,
                };
                s.record_guardian(&client, &custody, t).map(drop)
            }),
        ),
        (
            "end_guardian",
            Box::new(move |s| s.end_guardian(&client, &guardian, t)),
        ),
        (
            "list_guardians",
            Box::new(move |s| s.list_guardians(&client, t).map(drop)),
        ),
        (
            "write_psychotherapy_note",
            Box::new(move |s| s.write_psychotherapy_note(&client, &fields(), t).map(drop)),
        ),
        (
            "read_psychotherapy_note",
            Box::new(move |s| s.read_psychotherapy_note(&note, t).map(drop)),
        ),
        (
            "list_psychotherapy_notes",
            Box::new(move |s| s.list_psychotherapy_notes(&client, t).map(drop)),
        ),
        (
            "create_client",
            Box::new(move |s| {
                let c = NewClient {
                    full_name: "Locked Out".into(),
                    date_of_birth: Date::new(1990, 1, 1)?,
                };
                s.create_client(&c, t).map(drop)
            }),
        ),
        (
            "find_client",
            Box::new(move |s| {
                s.find_client("Ann Lee", &Date::new(1988, 3, 14)?, t)
                    .map(drop)
            }),
        ),
        (
            "list_records",
            Box::new(move |s| s.list_records(&client, t).map(drop)),
        ),
        (
            "create_record",
            Box::new(move |s| {
                s.create_record(&client, RecordKind::ProgressNote, &fields(), t)
                    .map(drop)
            }),
        ),
        (
            "update_record",
            Box::new(move |s| s.update_record(&record, &fields(), t)),
        ),
        (
            "rotate_client_keys",
            Box::new(move |s| s.rotate_client_keys(&client, None).map(drop)),
        ),
        (
            "rotate_master_key",
            Box::new(|s| s.rotate_master_key().map(drop)),
        ),
        ("audit_tail", Box::new(|s| s.audit_tail(5).map(drop))),
        (
            "add_user",
            Box::new(move |s| {
                s.add_user("dr.new", confide::Role::Clinician, &pass())
                    .map(drop)
            }),
        ),
        (
            "change_passphrase",
            Box::new(move |s| s.change_passphrase(&pass(), &pass())),
        ),
        (
            "reset_passphrase",
            Box::new(move |s| s.reset_passphrase("dr.a", &pass())),
        ),
        ("disable_user", Box::new(|s| s.disable_user("dr.b"))),
        ("enable_user", Box::new(|s| s.enable_user("dr.b"))),
        ("remove_user", Box::new(|s| s.remove_user("dr.b"))),
    ];
    calls
}

/// Real ids for the calls to name.
struct Ids {
    dir: PathBuf,
    client: ClientId,
    other: ClientId,
    record: confide::RecordId,
    note: confide::NoteId,
    case: confide::CaseId,
    joint: confide::JointRecordId,
    consent: confide::ConsentId,
    restriction: confide::RestrictionId,
    amendment: confide::AmendmentId,
    user: confide::UserId,
    guardian: confide::GuardianId,
}

fn practice_with_ids() -> (Practice, Ids) {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Ann Lee");
    let other = new_client(&dr, "Ben Lee");
    let t = Purpose::Treatment;
    let fields = [("text", Value::text("words"))];
    let record = dr
        .create_record(&client, RecordKind::ProgressNote, &fields, t)
        .unwrap();
    let note = dr.write_psychotherapy_note(&client, &fields, t).unwrap();
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::NoSecrets,
            &[client, other],
            t,
        )
        .unwrap();
    let joint = dr.write_joint_record(&case, &fields, t).unwrap();
    let consent = dr
        .record_consent(
            &client,
            &NewConsent {
                recipient: ConsentRecipient::JointRecord,
                categories: vec![Category::IndividualCaseNotes],
                purpose: t,
                start_ms: 0,
                expires_ms: None,
                signed_on_ms: 0,
                description: "share into the joint record".into(),
                scope: None,
                case: None,
                expiry_event: None,
                signed_by: None,
            },
            t,
        )
        .unwrap();
    let restriction = dr
        .record_restriction(&client, &self_pay(record), t)
        .unwrap();
    let asked = NewAmendment {
        records: vec![record],
        what: "what".into(),
        why: "why".into(),
    };
    let amendment = dr.request_amendment(&client, &asked, t).unwrap();
    dr.set_minor_status(&client, Some(MinorFacts::default()), t)
        .unwrap();
    let custody = NewGuardian {
        basis: GuardianBasis::Parent,
        may_access: true,
        may_authorize: true,
        until_ms: None,
    };
    let guardian = dr.record_guardian(&client, &custody, t).unwrap();
    let user = dr.user_id();
    let ids = Ids {
        dir: p.dir.path().to_path_buf(),
        client,
        other,
        record,
        note,
        case,
        joint,
        consent,
        restriction,
        amendment,
        user,
        guardian,
    };
    (p, ids)
}

#[test]
fn a_locked_session_is_refused_by_every_method_and_each_refusal_is_audited() {
    let (p, ids) = practice_with_ids();
    // A clinician and an administrator, so that role never decides before the lock does.
    for name in ["dr.a", "admin"] {
        let s = if name == "admin" {
            p.admin()
        } else {
            p.login(name)
        };
        s.lock().unwrap();
        assert!(s.is_locked());
        let before = confide::audit_log_len(p.path()).unwrap();
        let calls = every_call(&ids);
        for (method, call) in &calls {
            match call(&s) {
                Err(Error::SessionLocked) => {}
                other => panic!("{name}: {method} on a locked session gave {other:?}"),
            }
        }
        let after = confide::audit_log_len(p.path()).unwrap();
        assert_eq!(
            after - before,
            calls.len() as u64,
            "{name}: one audited refusal per call"
        );
        let log = read_audit_log(p.path(), &AuditFilter::default()).unwrap();
        let refusals = log
            .entries
            .iter()
            .filter(|e| e.seq > before && e.outcome == "failed:session-locked")
            .count();
        assert_eq!(refusals, calls.len(), "{name}");
    }
}

#[test]
fn a_session_whose_user_is_disabled_is_refused_at_its_next_call() {
    let (p, ids) = practice_with_ids();
    let dr = p.login("dr.a");
    let admin = p.admin();
    admin.disable_user("dr.a").unwrap();
    assert!(matches!(
        dr.read_record(&ids.record, Purpose::Treatment),
        Err(Error::UserDisabled)
    ));
    // Its keys are gone: every later call is a locked session's.
    assert!(dr.is_locked());
    assert!(matches!(
        dr.read_record(&ids.record, Purpose::Treatment),
        Err(Error::SessionLocked)
    ));
    let log = read_audit_log(p.path(), &AuditFilter::default()).unwrap();
    let last: Vec<&str> = log
        .entries
        .iter()
        .rev()
        .take(2)
        .map(|e| e.outcome.as_str())
        .collect();
    assert_eq!(last, ["failed:session-locked", "failed:user-disabled"]);
}

#[test]
fn a_session_whose_user_is_removed_is_refused_at_its_next_call() {
    let (p, ids) = practice_with_ids();
    let dr = p.login("dr.a");
    p.admin().remove_user("dr.a").unwrap();
    assert!(matches!(
        dr.list_records(&ids.client, Purpose::Treatment),
        Err(Error::UserRemoved)
    ));
    assert!(dr.is_locked());
}

/// The `pub fn` names of the `impl Session` blocks under `src/`.
fn session_methods() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for file in rust_files(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut inside = false;
        for line in text.lines() {
            if line.starts_with("impl Session {") {
                inside = true;
            } else if line.starts_with('}') {
                inside = false;
            } else if inside {
                if let Some(rest) = line.strip_prefix("    pub fn ") {
                    let name: String = rest
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    names.insert(name);
                }
            }
        }
    }
    names
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

#[test]
fn every_public_session_method_is_called_locked_or_exempt() {
    let methods = session_methods();
    assert!(
        methods.len() > 40,
        "the scan found the methods: {methods:?}"
    );
    let (_p, ids) = practice_with_ids();
    let called: BTreeSet<String> = every_call(&ids)
        .iter()
        .map(|(n, _)| n.to_string())
        .collect();
    let exempt: BTreeSet<String> = EXEMPT.iter().map(|s| s.to_string()).collect();
    let missing: Vec<&String> = methods
        .iter()
        .filter(|m| !called.contains(*m) && !exempt.contains(*m))
        .collect();
    assert!(
        missing.is_empty(),
        "public Session methods the locked-session test does not call: {missing:?}"
    );
    let stale: Vec<&String> = called.iter().filter(|c| !methods.contains(*c)).collect();
    assert!(
        stale.is_empty(),
        "names that are no Session method: {stale:?}"
    );
}

/// Lines of library code (tests excluded) under `src/`, with their files.
fn library_lines() -> Vec<(PathBuf, usize, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for file in rust_files(&src) {
        let text = std::fs::read_to_string(&file).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            out.push((file.clone(), n + 1, line.to_owned()));
        }
    }
    out
}

fn relative(path: &Path) -> String {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    path.strip_prefix(&src)
        .unwrap()
        .to_string_lossy()
        .replace('\\', "/")
}

#[test]
fn outside_the_gate_nothing_reaches_a_key_or_opens_a_field() {
    // What unwraps or makes a data key, opens or seals an envelope, or touches the master key.
    let reaching = [
        ".unwrap_blind(",
        "wrap.unwrap(",
        "envelope::seal(",
        "Opener::new(",
        ".decrypt(",
        "DataKey::generate(",
        "rows::data_key(",
        "rows::insert_data_key(",
        ".with_unlocked(",
    ];
    let mut found = Vec::new();
    for (file, n, line) in library_lines() {
        let path = relative(&file);
        // The gate, and the modules below it that define these functions.
        if path.starts_with("vault/gate/") || path.starts_with("crypto/") || path.starts_with("db/")
        {
            continue;
        }
        if reaching.iter().any(|r| line.contains(r)) {
            found.push(format!("{path}:{n}: {}", line.trim()));
        }
    }
    assert!(found.is_empty(), "outside the gate:\n{}", found.join("\n"));
}

#[test]
fn outside_db_nothing_names_rusqlite_or_runs_sql() {
    // rusqlite by name, and the calls that run a statement.
    let sql = [
        "rusqlite",
        ".execute(",
        ".execute_batch(",
        ".prepare(",
        ".prepare_cached(",
        ".query_row(",
        ".savepoint(",
        "is_autocommit(",
    ];
    let mut found = Vec::new();
    for (file, n, line) in library_lines() {
        let path = relative(&file);
        if path.starts_with("db/") {
            continue;
        }
        if sql.iter().any(|s| line.contains(s)) {
            found.push(format!("{path}:{n}: {}", line.trim()));
        }
    }
    assert!(found.is_empty(), "SQL outside db/:\n{}", found.join("\n"));
}

#[test]
fn one_place_appends_to_the_audit_chain() {
    let appending = ["audit_rows::append(", "audit_rows::insert_checkpoint("];
    let mut found = Vec::new();
    for (file, n, line) in library_lines() {
        let path = relative(&file);
        if path.starts_with("db/") || path == "vault/chain.rs" {
            continue;
        }
        if appending.iter().any(|a| line.contains(a)) {
            found.push(format!("{path}:{n}: {}", line.trim()));
        }
    }
    assert!(
        found.is_empty(),
        "the chain appended outside vault/chain.rs:\n{}",
        found.join("\n")
    );
    let chain =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/vault/chain.rs"))
            .unwrap();
    assert!(
        appending.iter().all(|a| chain.contains(a)),
        "the scan looks for what chain.rs calls"
    );
}
