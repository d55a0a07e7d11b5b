//! The accounting of disclosures (45 CFR 164.528): what a client may ask to see of the releases
//! made of their information, through the library and through `confide accounting`.
//!
//! The rule lists disclosures made without the client's authorization and outside treatment,
//! payment and operations: duty to warn, abuse reports, court orders, emergencies. Each line
//! gives the date, the recipient and their address, a brief description of what was disclosed
//! and the purpose. Only the client's treating clinician produces it, and every attempt is
//! audited.

mod common;
#[path = "common/stories.rs"]
mod stories;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::*;
use confide::{
    AccountingEntry, Category, ClientId, ConsentRecipient, DisclosureRequest, Error, LegalBasis,
    OutsideParty, Purpose, RecordKind, ReleasePackage, Session, Value,
};
use stories::*;

/// One release made in a fixture, as the releaser saw it.
#[derive(Clone, Debug)]
struct Made {
    basis: LegalBasis,
    recipient: OutsideParty,
    purpose: Purpose,
    description: String,
    package: ReleasePackage,
}

impl Made {
    fn seq(&self) -> u64 {
        self.package.manifest.audit_seq
    }
}

fn party(name: &str, organisation: &str, address: &str) -> OutsideParty {
    OutsideParty {
        name: name.into(),
        organisation: organisation.into(),
        address: address.into(),
    }
}

fn request(
    client: ClientId,
    basis: LegalBasis,
    purpose: Purpose,
    recipient: &OutsideParty,
    categories: &[Category],
    description: &str,
) -> DisclosureRequest {
    DisclosureRequest {
        client,
        case: None,
        recipient: recipient.clone(),
        purpose,
        basis,
        consent: None,
        reference: None,
        order_names: Vec::new(),
        categories: categories.to_vec(),
        narrow: None,
        description: description.into(),
    }
}

/// Release `req` as `who`; it must succeed.
fn release(who: &Session, req: &DisclosureRequest) -> Made {
    let package = who.disclose(req).unwrap_or_else(|e| {
        panic!(
            "{} release by {} refused: {e:?}",
            req.basis,
            who.user_name()
        )
    });
    assert_eq!(package.manifest.legal_basis, req.basis.code());
    Made {
        basis: req.basis,
        recipient: req.recipient.clone(),
        purpose: req.purpose,
        description: req.description.clone(),
        package,
    }
}

/// A client with a general record, on dr.a's care team.
fn client_with_records(dr: &Session, name: &str) -> ClientId {
    let client = new_client(dr, name);
    let t = Purpose::Treatment;
    dr.create_record(
        &client,
        RecordKind::Diagnosis,
        &[("code", Value::code("F43.10"))],
        t,
    )
    .unwrap();
    dr.create_record(
        &client,
        RecordKind::ProgressNote,
        &[(
            "summary",
            Value::text("Voiced anger at former employer; safety plan reviewed"),
        )],
        t,
    )
    .unwrap();
    dr.create_record(
        &client,
        RecordKind::TreatmentPlan,
        &[("goals", Value::text("Trauma-focused CBT, 12 sessions"))],
        t,
    )
    .unwrap();
    client
}

fn attorney() -> OutsideParty {
    party(
        "Morgan Ellis, Esq.",
        "Ellis & Park LLP",
        "400 Court Street, Suite 12, Springfield",
    )
}
fn pcp() -> OutsideParty {
    party(
        "Dr. Priya Nair",
        "Lakeside Primary Care",
        "12 Harbor Road, Springfield",
    )
}
fn insurer() -> OutsideParty {
    party(
        "Claims Department",
        "Acme Health Insurance",
        "PO Box 9000, Hartford",
    )
}
fn police() -> OutsideParty {
    party(
        "Officer Dana Cole",
        "Springfield Police Department",
        "1 Main Street, Springfield",
    )
}
fn cps() -> OutsideParty {
    party(
        "Intake Worker R. Banks",
        "County Child Protective Services",
        "77 Elm Avenue, Springfield",
    )
}
fn court() -> OutsideParty {
    party(
        "Clerk of the Family Court",
        "Springfield County Superior Court",
        "200 Justice Plaza, Springfield",
    )
}
fn er() -> OutsideParty {
    party(
        "Dr. Lee Okafor",
        "St. Mary's Emergency Department",
        "5 Hospital Way, Springfield",
    )
}

fn outside(p: &OutsideParty) -> ConsentRecipient {
    ConsentRecipient::Outside {
        name: p.name.clone(),
        organisation: p.organisation.clone(),
        address: p.address.clone(),
    }
}

/// A practice where dr.a has released Jordan's information on seven bases (and the biller for
/// payment), and Riley's on one.
struct Released {
    p: Practice,
    jordan: ClientId,
    riley: ClientId,
    /// Jordan's releases listed in the accounting, oldest first.
    accountable: Vec<Made>,
    /// Jordan's releases the rule exempts.
    exempt: Vec<Made>,
    /// Riley's release.
    rileys: Made,
}

fn authorized(dr: &Session, client: ClientId) -> Made {
    let to = attorney();
    let consent = dr
        .record_consent(
            &client,
            &consent(
                outside(&to),
                &[Category::DiagnosisCodes, Category::TreatmentPlan],
                Purpose::Legal,
            ),
            Purpose::Treatment,
        )
        .unwrap();
    let mut req = request(
        client,
        LegalBasis::Authorization,
        Purpose::Legal,
        &to,
        &[Category::DiagnosisCodes, Category::TreatmentPlan],
        "for the client's disability claim, at the client's request",
    );
    req.consent = Some(consent);
    release(dr, &req)
}

fn with_consent_for_treatment(dr: &Session, client: ClientId) -> Made {
    let to = pcp();
    let consent = dr
        .record_consent(
            &client,
            &consent(
                outside(&to),
                &[Category::DiagnosisCodes],
                Purpose::Treatment,
            ),
            Purpose::Treatment,
        )
        .unwrap();
    let mut req = request(
        client,
        LegalBasis::TreatmentWithConsent,
        Purpose::Treatment,
        &to,
        &[Category::DiagnosisCodes],
        "to coordinate medication",
    );
    req.consent = Some(consent);
    release(dr, &req)
}

fn for_payment(biller: &Session, client: ClientId) -> Made {
    let req = request(
        client,
        LegalBasis::Payment,
        Purpose::Payment,
        &insurer(),
        &[Category::Demographics, Category::DiagnosisCodes],
        "claim for March sessions",
    );
    release(biller, &req)
}

fn duty_to_warn(dr: &Session, client: ClientId) -> Made {
    let req = request(
        client,
        LegalBasis::DutyToWarn,
        Purpose::Legal,
        &police(),
        &[Category::Demographics, Category::ProgressNotes],
        "serious and imminent threat against a named former supervisor",
    );
    release(dr, &req)
}

/// A duty-to-warn release for another client, to another officer.
fn rileys_warning(dr: &Session, client: ClientId) -> Made {
    let req = request(
        client,
        LegalBasis::DutyToWarn,
        Purpose::Legal,
        &party(
            "Sgt. Avery Lin",
            "Riverside Sheriff's Office",
            "9 County Road, Riverside",
        ),
        &[Category::Demographics, Category::ProgressNotes],
        "threat against a neighbour",
    );
    release(dr, &req)
}

fn abuse_report(dr: &Session, client: ClientId) -> Made {
    let mut req = request(
        client,
        LegalBasis::ChildAbuseReport,
        Purpose::Legal,
        &cps(),
        &[Category::Demographics, Category::ProgressNotes],
        "mandated report of suspected neglect of a child in the home",
    );
    req.reference = Some("CPS report 24-118".into());
    release(dr, &req)
}

fn court_order(dr: &Session, client: ClientId) -> Made {
    let mut req = request(
        client,
        LegalBasis::CourtOrder,
        Purpose::Legal,
        &court(),
        &[Category::DiagnosisCodes, Category::TreatmentPlan],
        "records named in the custody evaluation order",
    );
    req.reference = Some("Order No. 2025-FL-0192".into());
    req.order_names = vec![Category::DiagnosisCodes, Category::TreatmentPlan];
    release(dr, &req)
}

fn emergency(dr: &Session, client: ClientId) -> Made {
    let req = request(
        client,
        LegalBasis::MedicalEmergency,
        Purpose::EmergencyTreatment,
        &er(),
        &[Category::Demographics, Category::DiagnosisCodes],
        "overdose, client unconscious on arrival",
    );
    release(dr, &req)
}

fn released() -> Released {
    let p = Practice::new();
    let (accountable, exempt, jordan, riley, rileys) = {
        let dr = p.login("dr.a");
        let biller = p.login("biller");
        let jordan = client_with_records(&dr, "Jordan Blake");
        let riley = client_with_records(&dr, "Riley Moss");
        let a = authorized(&dr, jordan);
        let w = duty_to_warn(&dr, jordan);
        let t = with_consent_for_treatment(&dr, jordan);
        let c = abuse_report(&dr, jordan);
        let pay = for_payment(&biller, jordan);
        let o = court_order(&dr, jordan);
        let e = emergency(&dr, jordan);
        let rileys = rileys_warning(&dr, riley);
        (vec![w, c, o, e], vec![a, t, pay], jordan, riley, rileys)
    };
    Released {
        p,
        jordan,
        riley,
        accountable,
        exempt,
        rileys,
    }
}

/// The accounting line of `made`, checked field by field against what the releaser gave.
#[track_caller]
fn assert_line(line: &AccountingEntry, made: &Made, p: &Practice, client: &ClientId) {
    let m = &made.package.manifest;
    assert_eq!(line.legal_basis, made.basis.code());
    assert_eq!(line.audit_seq, m.audit_seq);
    assert_eq!(line.disclosed_at, m.released_at, "the date of the release");
    assert!(line.disclosed_at_ms > 0);
    assert!(
        line.disclosed_at_ms <= now_ms() && line.disclosed_at_ms > now_ms() - 60_000,
        "released within the last minute: {}",
        line.disclosed_at_ms
    );
    assert_eq!(line.recipient, made.recipient, "recipient as given");
    assert_eq!(line.purpose, made.purpose.code());
    // A brief description of what was disclosed: every category and field released, and the
    // releaser's own words.
    assert!(
        line.description.contains(&made.description),
        "{:?} lacks the request's description",
        line.description
    );
    assert!(
        !made.package.items.is_empty(),
        "{} released nothing",
        made.basis
    );
    for item in &made.package.items {
        assert!(
            line.description.contains(&item.category),
            "{:?} does not name category {}",
            line.description,
            item.category
        );
        for field in item.fields.keys() {
            assert!(
                line.description.contains(field.as_str()),
                "{:?} does not name field {field}",
                line.description
            );
        }
    }
    // No field value leaks into the description: it names what, it does not copy it.
    for item in &made.package.items {
        for value in item.fields.values() {
            if value.len() > 8 {
                assert!(
                    !line.description.contains(value.as_str()),
                    "the description copies a released value: {value:?}"
                );
            }
        }
    }
    // The audit log has the release at that sequence number.
    let tail = p.admin().audit_tail(100_000).unwrap();
    let entry = tail
        .iter()
        .find(|e| e.seq == line.audit_seq)
        .unwrap_or_else(|| panic!("no audit entry at seq {}", line.audit_seq));
    assert_eq!(entry.action, "disclosure.release");
    assert_eq!(entry.client.as_ref(), Some(client));
    assert_eq!(entry.outcome, format!("granted:{}", made.basis.code()));
    assert_eq!(entry.purpose, made.purpose.code());
    // The release is dated when it was decided; its audit entry when it committed, just after.
    let lag = entry.at_ms - line.disclosed_at_ms;
    assert!(
        (0..5_000).contains(&lag),
        "audit entry at {} for a release at {}",
        entry.at_ms,
        line.disclosed_at_ms
    );
    assert_eq!(
        entry.target.as_deref(),
        Some(m.disclosure_id.as_str()),
        "the audit entry names the ledger row"
    );
}

#[test]
fn lists_exactly_the_accountable_releases_with_every_element() {
    let r = released();
    let dr = r.p.login("dr.a");
    let lines = dr.accounting(&r.jordan, None).unwrap();
    let bases: Vec<&str> = lines.iter().map(|l| l.legal_basis.as_str()).collect();
    assert_eq!(
        bases,
        vec![
            "duty-to-warn",
            "child-abuse-report",
            "court-order",
            "medical-emergency"
        ],
        "exactly the accountable releases, oldest first: {lines:#?}"
    );
    for (line, made) in lines.iter().zip(&r.accountable) {
        assert_line(line, made, &r.p, &r.jordan);
    }
    // Treatment, payment and authorized releases are not listed, by any element.
    for made in &r.exempt {
        assert!(!made.basis.accountable());
        let seq = made.seq();
        assert!(
            lines.iter().all(|l| l.audit_seq != seq),
            "{} release listed",
            made.basis
        );
        assert!(
            lines
                .iter()
                .all(|l| l.recipient.name != made.recipient.name),
            "{} recipient listed",
            made.basis
        );
    }
    // Oldest first.
    assert!(
        lines.windows(2).all(
            |w| w[0].disclosed_at_ms <= w[1].disclosed_at_ms && w[0].audit_seq < w[1].audit_seq
        )
    );
    // Producing it is audited, as read at the client's request.
    let read = entries(&r.p, "accounting.read");
    let last = read.last().expect("an accounting.read entry");
    assert_eq!(last.actor, Some(dr.user_id()));
    assert_eq!(last.client, Some(r.jordan));
    assert!(last.outcome.starts_with("granted"), "{}", last.outcome);
    assert_eq!(last.purpose, Purpose::PatientRequest.code());
    assert_log_intact(&r.p);
}

#[test]
fn the_court_order_reference_and_recipient_address_survive() {
    let r = released();
    let dr = r.p.login("dr.a");
    let lines = dr.accounting(&r.jordan, None).unwrap();
    let order = lines
        .iter()
        .find(|l| l.legal_basis == "court-order")
        .unwrap();
    assert_eq!(order.recipient.address, "200 Justice Plaza, Springfield");
    assert_eq!(
        order.recipient.organisation,
        "Springfield County Superior Court"
    );
    assert_eq!(order.purpose, "HLEGAL");
    let manifest = &r.accountable[2].package.manifest;
    assert_eq!(
        manifest.reference.as_deref(),
        Some("Order No. 2025-FL-0192")
    );
}

#[test]
fn another_clients_releases_never_appear() {
    let r = released();
    let dr = r.p.login("dr.a");
    let jordans = dr.accounting(&r.jordan, None).unwrap();
    assert!(jordans.iter().all(|l| l.audit_seq != r.rileys.seq()));
    let rileys = dr.accounting(&r.riley, None).unwrap();
    assert_eq!(rileys.len(), 1, "{rileys:#?}");
    assert_line(&rileys[0], &r.rileys, &r.p, &r.riley);
    let jordan_seqs: Vec<u64> = r
        .accountable
        .iter()
        .chain(&r.exempt)
        .map(Made::seq)
        .collect();
    assert!(rileys.iter().all(|l| !jordan_seqs.contains(&l.audit_seq)));
    // A client with no release has an empty accounting.
    let quiet = client_with_records(&dr, "Quinn Avery");
    assert_eq!(dr.accounting(&quiet, None).unwrap(), vec![]);
}

#[test]
fn the_period_excludes_earlier_releases() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = client_with_records(&dr, "Jordan Blake");
    let early = [duty_to_warn(&dr, client), abuse_report(&dr, client)];
    std::thread::sleep(Duration::from_millis(5));
    let since = now_ms();
    std::thread::sleep(Duration::from_millis(5));
    let _exempt = authorized(&dr, client);
    let late = [court_order(&dr, client), emergency(&dr, client)];

    let everything = dr.accounting(&client, None).unwrap();
    assert_eq!(everything.len(), 4);

    let recent = dr.accounting(&client, Some(since)).unwrap();
    let seqs: Vec<u64> = recent.iter().map(|l| l.audit_seq).collect();
    assert_eq!(seqs, late.iter().map(Made::seq).collect::<Vec<_>>());
    for (line, made) in recent.iter().zip(&late) {
        assert!(line.disclosed_at_ms >= since);
        assert_line(line, made, &p, &client);
    }
    for made in &early {
        assert!(seqs.iter().all(|s| *s != made.seq()));
    }
    // The period is inclusive of its start.
    let from_first = dr
        .accounting(&client, Some(everything[2].disclosed_at_ms))
        .unwrap();
    assert_eq!(from_first.len(), 2);
    // A period that starts after every release is empty; one from the epoch lists everything.
    assert_eq!(
        dr.accounting(&client, Some(now_ms() + 60_000)).unwrap(),
        vec![]
    );
    assert_eq!(dr.accounting(&client, Some(0)).unwrap(), everything);
}

#[test]
fn only_the_treating_clinician_produces_it_and_every_refusal_is_audited() {
    let r = released();
    let before = entries(&r.p, "accounting.read").len();
    let mut refused = Vec::new();
    for name in ["dr.b", "biller", "front.desk", "auditor"] {
        let s = r.p.login(name);
        let got = s.accounting(&r.jordan, None);
        assert!(
            matches!(got, Err(Error::Denied { .. })),
            "{name} got {got:?}"
        );
        refused.push(s.user_id());
    }
    let admin = r.p.admin();
    let got = admin.accounting(&r.jordan, None);
    assert!(
        matches!(got, Err(Error::Denied { .. })),
        "admin got {got:?}"
    );
    refused.push(admin.user_id());

    let after = entries(&r.p, "accounting.read");
    let new = &after[before..];
    assert_eq!(new.len(), refused.len(), "one entry per attempt: {new:#?}");
    for (entry, who) in new.iter().zip(&refused) {
        assert_eq!(entry.actor.as_ref(), Some(who));
        assert_eq!(entry.client, Some(r.jordan));
        assert!(entry.outcome.starts_with("denied:"), "{}", entry.outcome);
        assert!(
            entry.fields.is_empty(),
            "a refusal touches no field: {:?}",
            entry.fields
        );
    }
    // dr.b, not on Jordan's care team, is refused for having no relationship.
    assert_denied(
        r.p.login("dr.b").accounting(&r.jordan, None),
        confide::DenyReason::NoRelationship,
    );
    assert_log_intact(&r.p);
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------

fn confide_cli(args: &[&str], passphrase: Option<&str>, stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_confide"));
    cmd.args(args)
        .env_remove("CONFIDE_PASSPHRASE")
        // The test vault's cheap KDF costs, so a login does not raise them to the defaults.
        .env("CONFIDE_KDF", "64,1,1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .stdin(Stdio::piped());
    if let Some(p) = passphrase {
        cmd.env("CONFIDE_PASSPHRASE", p);
    }
    let mut child = cmd.spawn().unwrap();
    {
        let mut input = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).unwrap();
        }
        // Dropped: stdin closes.
    }
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[track_caller]
fn assert_lists_accountable_only(r: &Released, out: &Output) {
    let stdout = text(&out.stdout);
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout}\nstderr {stderr}"
    );
    assert!(stdout.contains(&r.jordan.to_string()), "{stdout}");
    for made in &r.accountable {
        assert!(stdout.contains(&made.recipient.name), "{stdout}");
        assert!(stdout.contains(&made.recipient.address), "{stdout}");
        assert!(stdout.contains(made.basis.code()), "{stdout}");
        assert!(stdout.contains(&made.description), "{stdout}");
    }
    for made in r.exempt.iter().chain([&r.rileys]) {
        assert!(
            !stdout.contains(&made.recipient.name),
            "{} recipient in {stdout}",
            made.basis
        );
        assert!(
            !stdout.contains(&made.description),
            "{} release in {stdout}",
            made.basis
        );
    }
    for basis in ["authorization", "treatment-with-consent", "payment"] {
        assert!(
            !stdout.contains(&format!("basis {basis}")),
            "{basis} in {stdout}"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn cli_prints_the_accounting_while_the_vault_is_open() {
    let r = released();
    // Sessions and the vault stay open: WAL lets the command read alongside.
    let dr = r.p.login("dr.a");
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let args = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let out = confide_cli(&args, Some(CLIN_PASS), None);
    assert_lists_accountable_only(&r, &out);
    let stdout = text(&out.stdout);
    for made in &r.accountable {
        assert!(
            stdout.contains(&format!("(audit entry #{})", made.seq())),
            "{stdout}"
        );
    }
    // The command's own read is audited, under dr.a.
    let last = entries(&r.p, "accounting.read").pop().unwrap();
    assert_eq!(last.actor, Some(dr.user_id()));
    assert!(last.outcome.starts_with("granted"));
    assert_log_intact(&r.p);
}

#[test]
fn cli_json_parses_into_the_same_lines() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let out = confide_cli(
        &[
            "accounting",
            "--vault",
            &path,
            "--user",
            "dr.a",
            "--client",
            &client,
            "--json",
        ],
        Some(CLIN_PASS),
        None,
    );
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout {stdout}\nstderr {}",
        text(&out.stderr)
    );
    let parsed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let lines = parsed.as_array().expect("a JSON list");
    assert_eq!(lines.len(), r.accountable.len(), "{stdout}");
    for (line, made) in lines.iter().zip(&r.accountable) {
        assert_eq!(line["legal_basis"], made.basis.code());
        assert_eq!(line["audit_seq"], made.seq());
        assert_eq!(line["purpose"], made.purpose.code());
        assert_eq!(line["recipient"]["name"], made.recipient.name.as_str());
        assert_eq!(
            line["recipient"]["organisation"],
            made.recipient.organisation.as_str()
        );
        assert_eq!(
            line["recipient"]["address"],
            made.recipient.address.as_str()
        );
        assert_eq!(
            line["disclosed_at"],
            made.package.manifest.released_at.as_str()
        );
        assert!(
            line["description"]
                .as_str()
                .unwrap()
                .contains(&made.description)
        );
    }
    // The library gives the same lines.
    let library = r.p.login("dr.a").accounting(&r.jordan, None).unwrap();
    let via_library: serde_json::Value = serde_json::to_value(&library).unwrap();
    assert_eq!(&via_library, &parsed);
}

#[test]
fn cli_since_bounds_the_period() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let run = |since: &str| {
        confide_cli(
            &[
                "accounting",
                "--vault",
                &path,
                "--user",
                "dr.a",
                "--client",
                &client,
                "--since",
                since,
                "--json",
            ],
            Some(CLIN_PASS),
            None,
        )
    };
    let old = run("2000-01-01");
    assert_eq!(old.status.code(), Some(0), "{}", text(&old.stderr));
    let all: serde_json::Value = serde_json::from_slice(&old.stdout).unwrap();
    assert_eq!(all.as_array().unwrap().len(), r.accountable.len());

    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    let tomorrow = format!(
        "{:04}-{:02}-{:02}",
        tomorrow.year(),
        u8::from(tomorrow.month()),
        tomorrow.day()
    );
    let none = run(&tomorrow);
    assert_eq!(none.status.code(), Some(0), "{}", text(&none.stderr));
    let none: serde_json::Value = serde_json::from_slice(&none.stdout).unwrap();
    assert_eq!(none.as_array().unwrap().len(), 0);

    let bad = run("next tuesday");
    assert_ne!(bad.status.code(), Some(0));
    assert!(!text(&bad.stderr).contains("panicked"));
}

#[test]
fn cli_refuses_a_wrong_passphrase_without_panicking() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let args = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let out = confide_cli(&args, Some("not the passphrase"), None);
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        matches!(out.status.code(), Some(c) if c != 0),
        "exit {:?}",
        out.status
    );
    assert!(!stderr.trim().is_empty(), "no error on stderr");
    assert!(!stderr.contains("panicked"), "{stderr}");
    for made in &r.accountable {
        assert!(!stdout.contains(&made.recipient.name), "{stdout}");
    }
    // The failed login is audited, under dr.a.
    let dr_a = r.p.login("dr.a").user_id();
    let failed: Vec<_> = entries(&r.p, "login")
        .into_iter()
        .filter(|e| e.actor == Some(dr_a) && e.outcome.starts_with("failed"))
        .collect();
    assert_eq!(failed.len(), 1, "{failed:#?}");
    assert_eq!(failed[0].outcome, "failed:bad-passphrase");

    // A user who is refused the accounting also exits non-zero, with no line printed.
    let out = confide_cli(
        &[
            "accounting",
            "--vault",
            &path,
            "--user",
            "dr.b",
            "--client",
            &client,
        ],
        Some(CLIN_PASS),
        None,
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_ne!(out.status.code(), Some(0));
    assert!(!stderr.trim().is_empty());
    assert!(!stderr.contains("panicked"), "{stderr}");
    for made in &r.accountable {
        assert!(!stdout.contains(&made.recipient.name), "{stdout}");
    }
}

#[test]
fn cli_reads_the_passphrase_from_stdin_without_the_env_var() {
    let r = released();
    let path = r.p.path().to_str().unwrap().to_owned();
    let client = r.jordan.to_string();
    let args = [
        "accounting",
        "--vault",
        &path,
        "--user",
        "dr.a",
        "--client",
        &client,
    ];
    let out = confide_cli(&args, None, Some(&format!("{CLIN_PASS}\n")));
    assert_lists_accountable_only(&r, &out);
    // And a wrong one on stdin is refused.
    let out = confide_cli(&args, None, Some("wrong\n"));
    assert_ne!(out.status.code(), Some(0));
    assert!(!text(&out.stderr).contains("panicked"));
}
