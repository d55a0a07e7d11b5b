//! Releases outside the vault (45 CFR 164.508, 164.512, 164.528; 42 CFR Part 2): each legal
//! basis releases exactly the categories and fields it permits, as the real plaintext, with a
//! manifest naming recipient, purpose, basis, releaser and audit entry; every release leaves one
//! append-only ledger row and a `disclosure.release` audit entry that names the released fields
//! and never a value; every refusal is audited and leaves no ledger row.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use confide::{
    CaseId, CaseKind, Category, ClientId, ConsentId, ConsentRecipient, Date, DenyReason,
    DisclosureRequest, Error, LegalBasis, Narrow, NewClient, NewConsent, OutsideParty, Purpose,
    RecordKind, ReleasePackage, SecretsPolicy, Session, Value,
};

const T: Purpose = Purpose::Treatment;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

const NAME: &str = "Jordan Avery Reyes";
const PHONE: &str = "555-0142";
const ADDRESS: &str = "12 Alder Lane, Springfield";
const INSURANCE: &str = "INS-77341-Q";
const DX_TEXT: &str = "Generalized anxiety disorder, chronic worry since job loss";
const PLAN: &str = "CBT for worry; reduce episodes to under two a week by March";
const PROGRESS_1: &str = "Session 3: worry log reviewed; sleep improving";
const PROGRESS_2: &str = "Session 4: disclosed panic attack at work; rehearsed breathing";
const REASON_1: &str = "Follow-up after panic attack at sister's wedding";
const REASON_2: &str = "Missed: client in hospital after overdose scare";
const SUD: &str = "Alcohol use disorder, mild; drinks to fall asleep most nights";
const IMPRESSIONS: &str = "Transference: casts therapist as critical father; explore shame";
const CONSENT_TEXT: &str = "Diagnosis and treatment plan, for coordination of care with \
Riverside Psychiatry, until revoked";

/// Which fields of a category a release may hold.
#[derive(Clone, Copy)]
enum Fields {
    All,
    Only(&'static [&'static str]),
}
use Fields::{All, Only};

/// A released entry as compared: (id, category, kind, field name -> plaintext).
type Item = (String, String, String, BTreeMap<String, String>);

/// One entry of the chart and its plaintext.
struct Entry {
    id: String,
    category: Category,
    kind: &'static str,
    fields: Vec<(&'static str, String)>,
}

/// Jordan, treated by dr.a: a full chart.
struct Chart {
    p: Practice,
    client: ClientId,
    entries: Vec<Entry>,
}

fn date(y: i16, m: u8, d: u8) -> Value {
    Value::Date(Date::new(y, m, d).unwrap())
}

impl Chart {
    fn new() -> Chart {
        let p = Practice::new();
        let dr = p.login("dr.a");
        let client = dr
            .create_client(
                &NewClient {
                    full_name: NAME.into(),
                    date_of_birth: Date::new(1988, 3, 14).unwrap(),
                },
                T,
            )
            .unwrap();
        let demographics = dr.list_records(&client, T).unwrap();
        assert_eq!(demographics.len(), 1);
        let mut chart = Chart {
            p,
            client,
            entries: vec![Entry {
                id: demographics[0].id.to_string(),
                category: Category::Demographics,
                kind: "demographics",
                fields: vec![
                    ("full_name", NAME.to_owned()),
                    ("date_of_birth", "1988-03-14".to_owned()),
                ],
            }],
        };
        chart.add(
            &dr,
            RecordKind::Demographics,
            vec![
                ("phone", Value::text(PHONE)),
                ("address", Value::text(ADDRESS)),
                ("insurance_id", Value::text(INSURANCE)),
            ],
        );
        chart.add(
            &dr,
            RecordKind::Diagnosis,
            vec![
                ("code", Value::code("F41.1")),
                ("description", Value::text(DX_TEXT)),
            ],
        );
        chart.add(
            &dr,
            RecordKind::TreatmentPlan,
            vec![("goals", Value::text(PLAN))],
        );
        chart.add(
            &dr,
            RecordKind::ProgressNote,
            vec![("summary", Value::text(PROGRESS_1))],
        );
        chart.add(
            &dr,
            RecordKind::ProgressNote,
            vec![("summary", Value::text(PROGRESS_2))],
        );
        chart.add(
            &dr,
            RecordKind::Appointment,
            vec![
                ("date", date(2024, 5, 2)),
                ("minutes", Value::Number(53)),
                ("service_code", Value::code("90837")),
                ("status", Value::text("attended")),
                ("reason", Value::text(REASON_1)),
            ],
        );
        chart.add(
            &dr,
            RecordKind::Appointment,
            vec![
                ("date", date(2024, 5, 9)),
                ("minutes", Value::Number(45)),
                ("service_code", Value::code("90834")),
                ("status", Value::text("no-show")),
                ("reason", Value::text(REASON_2)),
            ],
        );
        chart.add(
            &dr,
            RecordKind::Billing,
            vec![
                ("date", date(2024, 5, 2)),
                ("service_code", Value::code("90837")),
                ("fee", Value::Number(18_500)),
            ],
        );
        chart.add(
            &dr,
            RecordKind::SubstanceUse,
            vec![("assessment", Value::text(SUD))],
        );
        let note = dr
            .write_psychotherapy_note(&client, &[("impressions", Value::text(IMPRESSIONS))], T)
            .unwrap();
        chart.entries.push(Entry {
            id: note.to_string(),
            category: Category::PsychotherapyNotes,
            kind: "psychotherapy_note",
            fields: vec![("impressions", IMPRESSIONS.to_owned())],
        });
        chart
    }

    /// Write a general-record entry as `dr` and remember its plaintext.
    fn add(&mut self, dr: &Session, kind: RecordKind, fields: Vec<(&'static str, Value)>) {
        let id = dr.create_record(&self.client, kind, &fields, T).unwrap();
        self.entries.push(Entry {
            id: id.to_string(),
            category: kind.category(),
            kind: kind.code(),
            fields: fields.iter().map(|(n, v)| (*n, v.reveal())).collect(),
        });
    }

    /// The entries of the named categories, with the named fields, as the release must hold them.
    fn expect(&self, want: &[(Category, Fields)]) -> Vec<Item> {
        let mut out: Vec<Item> = self
            .entries
            .iter()
            .filter_map(|e| {
                let (_, scope) = want.iter().find(|(c, _)| *c == e.category)?;
                let fields = e
                    .fields
                    .iter()
                    .filter(|(n, _)| match scope {
                        All => true,
                        Only(names) => names.contains(n),
                    })
                    .map(|(n, v)| ((*n).to_owned(), v.clone()))
                    .collect();
                Some((
                    e.id.clone(),
                    e.category.code().to_owned(),
                    e.kind.to_owned(),
                    fields,
                ))
            })
            .collect();
        out.sort();
        out
    }

    /// Every plaintext value of the chart.
    fn plaintext(&self) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|e| e.fields.iter().map(|(_, v)| v.clone()))
            .collect()
    }

    fn dr(&self) -> Session {
        self.p.login("dr.a")
    }
}

fn party(name: &str, organisation: &str, address: &str) -> OutsideParty {
    OutsideParty {
        name: name.into(),
        organisation: organisation.into(),
        address: address.into(),
    }
}

fn psychiatrist() -> OutsideParty {
    party(
        "Dr. Priya Natarajan",
        "Riverside Psychiatry",
        "400 River Road, Springfield",
    )
}

fn insurer() -> OutsideParty {
    party(
        "Claims Department",
        "Blue Harbor Health Plan",
        "PO Box 1200, Capitol City",
    )
}

fn court() -> OutsideParty {
    party(
        "Clerk of Court",
        "Springfield County Superior Court",
        "1 Courthouse Square, Springfield",
    )
}

fn police() -> OutsideParty {
    party(
        "Det. Sam Ortiz",
        "Springfield Police Department",
        "200 Main Street, Springfield",
    )
}

fn outside(to: &OutsideParty) -> ConsentRecipient {
    ConsentRecipient::Outside {
        name: to.name.clone(),
        organisation: to.organisation.clone(),
        address: to.address.clone(),
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// A signed consent to release `categories` to `to` for `purpose`, in force from `start_ms`.
fn signed(
    to: &OutsideParty,
    categories: &[Category],
    purpose: Purpose,
    start_ms: i64,
    expires_ms: Option<i64>,
) -> NewConsent {
    NewConsent {
        recipient: outside(to),
        categories: categories.to_vec(),
        purpose,
        start_ms,
        expires_ms,
        signed_on_ms: start_ms,
        description: CONSENT_TEXT.into(),
    }
}

/// Record a consent signed yesterday, in force until revoked.
fn consent(
    dr: &Session,
    client: &ClientId,
    to: &OutsideParty,
    categories: &[Category],
    purpose: Purpose,
) -> ConsentId {
    let c = signed(to, categories, purpose, now_ms() - DAY_MS, None);
    dr.record_consent(client, &c, T).unwrap()
}

/// A request with no consent, reference, order, case or narrower scope.
fn ask(
    client: ClientId,
    to: &OutsideParty,
    basis: LegalBasis,
    purpose: Purpose,
    categories: &[Category],
) -> DisclosureRequest {
    DisclosureRequest {
        client,
        case: None,
        recipient: to.clone(),
        purpose,
        basis,
        consent: None,
        reference: None,
        order_names: Vec::new(),
        categories: categories.to_vec(),
        narrow: None,
        description: "records requested in writing".into(),
    }
}

fn with_consent(req: DisclosureRequest, consent: ConsentId) -> DisclosureRequest {
    DisclosureRequest {
        consent: Some(consent),
        ..req
    }
}

fn with_order(req: DisclosureRequest, reference: &str, names: &[Category]) -> DisclosureRequest {
    DisclosureRequest {
        reference: Some(reference.into()),
        order_names: names.to_vec(),
        ..req
    }
}

fn count(p: &Practice, sql: &str) -> i64 {
    raw(p.path()).query_row(sql, [], |r| r.get(0)).unwrap()
}

fn ledger_rows(p: &Practice) -> i64 {
    count(p, "SELECT COUNT(*) FROM disclosures")
}

fn audit_rows(p: &Practice) -> i64 {
    count(p, "SELECT COUNT(*) FROM audit_log")
}

#[track_caller]
fn assert_intact(p: &Practice) {
    let report = confide::verify_audit_log(p.path()).unwrap();
    assert!(report.is_intact(), "audit log broken: {report:?}");
}

fn items_of(pkg: &ReleasePackage) -> Vec<Item> {
    let mut items: Vec<Item> = pkg
        .items
        .iter()
        .map(|i| {
            (
                i.id.clone(),
                i.category.clone(),
                i.kind.clone(),
                i.fields.clone(),
            )
        })
        .collect();
    items.sort();
    items
}

/// (category, field names) of each item, sorted.
fn shape(items: &[Item]) -> Vec<(String, Vec<String>)> {
    let mut s: Vec<(String, Vec<String>)> = items
        .iter()
        .map(|(_, c, _, f)| (c.clone(), f.keys().cloned().collect()))
        .collect();
    s.sort();
    s
}

/// The audit entry at `seq`.
fn entry_at(p: &Practice, seq: u64) -> confide::AuditEntry {
    p.admin()
        .audit_tail(100_000)
        .unwrap()
        .into_iter()
        .find(|e| e.seq == seq)
        .unwrap_or_else(|| panic!("no audit entry {seq}"))
}

/// `who` releases `req`: the package holds exactly `want`, its manifest names the release, the
/// audit entry at its seq names the fields and no value, and one ledger row records it.
#[track_caller]
fn release(
    p: &Practice,
    who: &Session,
    req: &DisclosureRequest,
    want: Vec<Item>,
    secrets: &[String],
) -> ReleasePackage {
    let ledger_before = ledger_rows(p);
    let pkg = match who.disclose(req) {
        Ok(pkg) => pkg,
        Err(e) => panic!("release on {} refused: {e}", req.basis),
    };
    let got = items_of(&pkg);
    assert_eq!(
        shape(&got),
        shape(&want),
        "released (category, fields) on {}",
        req.basis
    );
    assert_eq!(got, want, "released entries and values on {}", req.basis);

    let m = &pkg.manifest;
    assert_eq!(m.client, req.client.to_string());
    assert_eq!(m.recipient, req.recipient);
    assert_eq!(m.purpose, req.purpose.code());
    assert_eq!(m.legal_basis, req.basis.code());
    assert_eq!(m.reference, req.reference);
    assert_eq!(m.released_by, who.user_name());
    assert_eq!(m.entries, pkg.items.len());
    let categories: BTreeSet<String> = want.iter().map(|(_, c, _, _)| c.clone()).collect();
    let named: BTreeSet<String> = m.categories.iter().cloned().collect();
    assert_eq!(named, categories, "manifest categories");
    assert_eq!(m.disclosure_id.len(), 32);
    assert!(m.released_at.ends_with('Z'), "released_at in UTC");

    let e = entry_at(p, m.audit_seq);
    assert_eq!(e.action, "disclosure.release");
    assert_eq!(e.outcome, format!("granted:{}", req.basis.code()));
    assert_eq!(e.actor, Some(who.user_id()));
    assert_eq!(e.client, Some(req.client));
    assert_eq!(e.target.as_deref(), Some(m.disclosure_id.as_str()));
    assert_eq!(e.purpose, req.purpose.code());
    let fields: BTreeSet<String> = want
        .iter()
        .flat_map(|(_, _, _, f)| f.keys().cloned())
        .collect();
    let logged: BTreeSet<String> = e.fields.iter().cloned().collect();
    assert_eq!(logged, fields, "the audit entry names the released fields");
    let mut values: Vec<&String> = secrets.iter().collect();
    values.extend(want.iter().flat_map(|(_, _, _, f)| f.values()));
    for v in values.into_iter().filter(|v| v.len() >= 4) {
        assert!(
            !e.fields.iter().any(|f| f.contains(v.as_str())) && !e.outcome.contains(v.as_str()),
            "the audit entry holds a value"
        );
    }
    // The raw row too: field names and outcome are the only text it holds.
    let (raw_fields, raw_outcome): (String, String) = raw(p.path())
        .query_row(
            "SELECT audit_part(entry, 'fields'), audit_part(entry, 'outcome') \
             FROM audit_log WHERE seq = ?1",
            [i64::try_from(m.audit_seq).unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    for v in secrets.iter().filter(|v| v.len() >= 4) {
        assert!(!raw_fields.contains(v.as_str()) && !raw_outcome.contains(v.as_str()));
    }

    assert_eq!(
        ledger_rows(p),
        ledger_before + 1,
        "one ledger row per release"
    );
    let (id, basis, purpose, accountable): (String, String, String, i64) = raw(p.path())
        .query_row(
            "SELECT lower(hex(disclosure_id)), legal_basis, purpose, accountable \
             FROM disclosures WHERE audit_seq = ?1",
            [i64::try_from(m.audit_seq).unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(id, m.disclosure_id);
    assert_eq!(basis, req.basis.code());
    assert_eq!(purpose, req.purpose.code());
    assert_eq!(accountable != 0, req.basis.accountable());
    let granted = count(
        p,
        "SELECT COUNT(*) FROM audit_log \
         WHERE audit_part(entry, 'action') = 'disclosure.release' \
         AND audit_part(entry, 'outcome') LIKE 'granted:%'",
    );
    assert_eq!(
        ledger_rows(p),
        granted,
        "a ledger row for every granted release"
    );
    assert_intact(p);
    pkg
}

/// `who` asks for `req` and is refused: the refusal is audited, nothing reaches the ledger.
#[track_caller]
fn refuse(p: &Practice, who: &Session, req: &DisclosureRequest) -> DenyReason {
    let (ledger, audit) = (ledger_rows(p), audit_rows(p));
    let reason = match who.disclose(req) {
        Err(Error::Denied { reason }) => reason,
        other => panic!(
            "expected a refusal on {}, got {:?}",
            req.basis,
            other.map(|pkg| pkg.manifest)
        ),
    };
    assert_eq!(ledger_rows(p), ledger, "a refusal writes no ledger row");
    assert_eq!(audit_rows(p), audit + 1, "a refusal is audited once");
    let e = last_entry(p, "disclosure.release");
    assert_eq!(e.outcome, format!("denied:{}", reason.code()));
    assert_eq!(e.actor, Some(who.user_id()));
    assert_eq!(e.client, Some(req.client));
    assert_eq!(e.purpose, req.purpose.code());
    assert!(e.fields.is_empty(), "a refusal names no released field");
    assert_intact(p);
    reason
}

#[track_caller]
fn refused_for(p: &Practice, who: &Session, req: &DisclosureRequest, want: DenyReason) {
    assert_eq!(refuse(p, who, req), want, "refused for another reason");
}

/// `req` is not a request at all: a typed error, nothing audited, nothing in the ledger.
#[track_caller]
fn invalid(p: &Practice, who: &Session, req: &DisclosureRequest) {
    let (ledger, audit) = (ledger_rows(p), audit_rows(p));
    match who.disclose(req) {
        Err(Error::InvalidInput { .. }) => {}
        other => panic!(
            "expected invalid input, got {:?}",
            other.map(|pkg| pkg.manifest)
        ),
    }
    assert_eq!(ledger_rows(p), ledger, "nothing reaches the ledger");
    assert_eq!(audit_rows(p), audit, "nothing is written");
}

use Category::{
    Appointments, Billing, Demographics, DiagnosisCodes, JointRecord, ProgressNotes,
    PsychotherapyNotes, SubstanceUse, TreatmentPlan,
};

const DATES_OF_SERVICE: &[&str] = &["date", "minutes", "service_code", "status"];

// ---------------------------------------------------------------------------------------------
// One test per legal basis.
// ---------------------------------------------------------------------------------------------

#[test]
fn authorization_releases_exactly_what_the_consent_names() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes, TreatmentPlan], T);
    let basis = LegalBasis::Authorization;
    let req = with_consent(
        ask(c.client, &to, basis, T, &[DiagnosisCodes, TreatmentPlan]),
        id,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (TreatmentPlan, All)]);
    let secrets = c.plaintext();
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert!(pkg.redisclosure_notice.is_none() && pkg.consent_copy.is_none());

    // A category the consent does not name: refused, whatever else is asked.
    for extra in [ProgressNotes, PsychotherapyNotes, SubstanceUse, Billing] {
        let req = with_consent(ask(c.client, &to, basis, T, &[DiagnosisCodes, extra]), id);
        refuse(&c.p, &dr, &req);
    }
    // The consent is for treatment, not for payment.
    let req = with_consent(
        ask(c.client, &to, basis, Purpose::Payment, &[DiagnosisCodes]),
        id,
    );
    refuse(&c.p, &dr, &req);
    // Psychotherapy notes need their own authorization, naming them alone (164.508(b)(3)(ii)).
    let notes = consent(&dr, &c.client, &to, &[PsychotherapyNotes], T);
    let req = with_consent(ask(c.client, &to, basis, T, &[PsychotherapyNotes]), notes);
    let want = c.expect(&[(PsychotherapyNotes, All)]);
    release(&c.p, &dr, &req, want, &secrets);
}

/// 164.508(c)(1)(iii): an authorization names who may receive; it releases to them and no one
/// else. (The recipient is sealed in the consent; the vault must still hold the release to it.)
#[test]
fn an_authorization_releases_only_to_the_recipient_it_names() {
    let c = Chart::new();
    let dr = c.dr();
    let id = consent(&dr, &c.client, &psychiatrist(), &[DiagnosisCodes], T);
    for basis in [LegalBasis::Authorization, LegalBasis::TreatmentWithConsent] {
        let req = with_consent(ask(c.client, &police(), basis, T, &[DiagnosisCodes]), id);
        refuse(&c.p, &dr, &req);
    }
    assert_eq!(ledger_rows(&c.p), 0);
}

#[test]
fn treatment_with_consent_is_for_treatment_only() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes, ProgressNotes], T);
    let basis = LegalBasis::TreatmentWithConsent;
    let req = with_consent(
        ask(c.client, &to, basis, T, &[DiagnosisCodes, ProgressNotes]),
        id,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (ProgressNotes, All)]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    for purpose in [Purpose::Payment, Purpose::Operations, Purpose::Legal] {
        let req = with_consent(ask(c.client, &to, basis, purpose, &[DiagnosisCodes]), id);
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    }
    // Still only what the consent names.
    let req = with_consent(ask(c.client, &to, basis, T, &[TreatmentPlan]), id);
    refuse(&c.p, &dr, &req);
}

#[test]
fn payment_releases_the_minimum_necessary() {
    let c = Chart::new();
    let biller = c.p.login("biller");
    let to = insurer();
    let basis = LegalBasis::Payment;
    let pay = Purpose::Payment;
    let req = ask(
        c.client,
        &to,
        basis,
        pay,
        &[DiagnosisCodes, Appointments, Billing],
    );
    let want = c.expect(&[
        (DiagnosisCodes, Only(&["code", "codes"])),
        (Appointments, Only(DATES_OF_SERVICE)),
        (Billing, All),
    ]);
    let secrets = c.plaintext();
    release(&c.p, &biller, &req, want, &secrets);

    // The treating clinician may release for payment too; demographics an insurer needs, no phone.
    let dr = c.dr();
    let req = ask(c.client, &to, basis, pay, &[Demographics, Billing]);
    let want = c.expect(&[
        (
            Demographics,
            Only(&[
                "full_name",
                "date_of_birth",
                "address",
                "insurance_id",
                "insurance_group",
            ]),
        ),
        (Billing, All),
    ]);
    release(&c.p, &dr, &req, want, &secrets);

    // Notes and plans never go for payment, whatever else is asked.
    for notes in [ProgressNotes, TreatmentPlan, PsychotherapyNotes] {
        for who in [&biller, &dr] {
            let req = ask(c.client, &to, basis, pay, &[Billing, DiagnosisCodes, notes]);
            refused_for(&c.p, who, &req, DenyReason::PurposeNotPermitted);
            let req = ask(c.client, &to, basis, pay, &[notes]);
            refused_for(&c.p, who, &req, DenyReason::PurposeNotPermitted);
        }
    }
    // A clinician who does not treat the client may not release.
    let dr_b = c.p.login("dr.b");
    let req = ask(c.client, &to, basis, pay, &[Billing]);
    refused_for(&c.p, &dr_b, &req, DenyReason::NoRelationship);
    // Billing releases for payment only.
    let req = ask(
        c.client,
        &police(),
        LegalBasis::DutyToWarn,
        Purpose::Legal,
        &[Demographics],
    );
    refused_for(&c.p, &biller, &req, DenyReason::RoleNotPermitted);
    let desk = c.p.login("front.desk");
    let req = ask(c.client, &to, basis, pay, &[Billing]);
    refused_for(&c.p, &desk, &req, DenyReason::RoleNotPermitted);
}

/// 164.506: the payment basis covers payment, nothing else; a release to the police "for
/// payment" with a legal purpose would also escape the accounting of disclosures.
#[test]
fn the_payment_basis_is_for_the_payment_purpose_only() {
    let c = Chart::new();
    let biller = c.p.login("biller");
    let dr = c.dr();
    for purpose in [Purpose::Legal, Purpose::Treatment, Purpose::Operations] {
        for who in [&biller, &dr] {
            let req = ask(
                c.client,
                &police(),
                LegalBasis::Payment,
                purpose,
                &[Billing],
            );
            refused_for(&c.p, who, &req, DenyReason::PurposeNotPermitted);
        }
    }
    assert_eq!(ledger_rows(&c.p), 0);
}

#[test]
fn duty_to_warn_may_include_psychotherapy_notes_but_never_substance_use() {
    let c = Chart::new();
    let dr = c.dr();
    let to = police();
    let basis = LegalBasis::DutyToWarn;
    let req = DisclosureRequest {
        reference: Some("Threat report 2024-0612".into()),
        ..ask(
            c.client,
            &to,
            basis,
            Purpose::Legal,
            &[Demographics, ProgressNotes, PsychotherapyNotes],
        )
    };
    let want = c.expect(&[
        (Demographics, All),
        (ProgressNotes, All),
        (PsychotherapyNotes, All),
    ]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    let req = ask(
        c.client,
        &to,
        basis,
        Purpose::Legal,
        &[Demographics, SubstanceUse],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    let req = ask(c.client, &to, basis, Purpose::Legal, &[SubstanceUse]);
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    let dr_b = c.p.login("dr.b");
    let req = ask(c.client, &to, basis, Purpose::Legal, &[Demographics]);
    refused_for(&c.p, &dr_b, &req, DenyReason::NoRelationship);
}

#[test]
fn abuse_reports_release_the_general_record_only() {
    let c = Chart::new();
    let dr = c.dr();
    let agency = party(
        "Intake Worker",
        "County Adult and Child Protective Services",
        "55 Elm Street, Springfield",
    );
    let secrets = c.plaintext();
    for (basis, reference) in [
        (LegalBasis::ChildAbuseReport, "CPS intake 24-118"),
        (LegalBasis::ElderAbuseReport, "APS intake 24-907"),
    ] {
        let req = DisclosureRequest {
            reference: Some(reference.into()),
            ..ask(
                c.client,
                &agency,
                basis,
                Purpose::Legal,
                &[Demographics, DiagnosisCodes, ProgressNotes],
            )
        };
        let want = c.expect(&[
            (Demographics, All),
            (DiagnosisCodes, All),
            (ProgressNotes, All),
        ]);
        release(&c.p, &dr, &req, want, &secrets);
        for never in [PsychotherapyNotes, SubstanceUse] {
            let req = ask(
                c.client,
                &agency,
                basis,
                Purpose::Legal,
                &[ProgressNotes, never],
            );
            refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
        }
    }
}

#[test]
fn a_court_order_releases_only_what_it_names() {
    let c = Chart::new();
    let dr = c.dr();
    let to = court();
    let basis = LegalBasis::CourtOrder;
    let secrets = c.plaintext();
    let named = [DiagnosisCodes, TreatmentPlan];
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &named),
        "Order 2024-CV-0193",
        &named,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (TreatmentPlan, All)]);
    release(&c.p, &dr, &req, want, &secrets);

    // A third category the order does not name: refused.
    let req = with_order(
        ask(
            c.client,
            &to,
            basis,
            Purpose::Legal,
            &[DiagnosisCodes, TreatmentPlan, ProgressNotes],
        ),
        "Order 2024-CV-0193",
        &named,
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);

    // An order naming psychotherapy notes releases them (164.508(a)(2), 164.512(e)).
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &[PsychotherapyNotes]),
        "Order 2024-CV-0201",
        &[PsychotherapyNotes],
    );
    let want = c.expect(&[(PsychotherapyNotes, All)]);
    release(&c.p, &dr, &req, want, &secrets);
}

#[test]
fn a_subpoena_releases_neither_psychotherapy_notes_nor_substance_use() {
    let c = Chart::new();
    let dr = c.dr();
    let to = party(
        "Dana Whitfield, Esq.",
        "Whitfield & Cole LLP",
        "9 Market Street, Springfield",
    );
    let basis = LegalBasis::Subpoena;
    let named = [Appointments, ProgressNotes];
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &named),
        "Subpoena duces tecum 24-S-331",
        &named,
    );
    let want = c.expect(&[(Appointments, All), (ProgressNotes, All)]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    for never in [PsychotherapyNotes, SubstanceUse] {
        let named = [ProgressNotes, never];
        let req = with_order(
            ask(c.client, &to, basis, Purpose::Legal, &named),
            "Subpoena duces tecum 24-S-332",
            &named,
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
        let req = with_order(
            ask(c.client, &to, basis, Purpose::Legal, &[never]),
            "Subpoena duces tecum 24-S-333",
            &[never],
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    }
    // Nor anything it does not name.
    let req = with_order(
        ask(c.client, &to, basis, Purpose::Legal, &[DiagnosisCodes]),
        "Subpoena duces tecum 24-S-334",
        &[Appointments],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
}

#[test]
fn a_medical_emergency_releases_the_general_record_never_psychotherapy_notes() {
    let c = Chart::new();
    let dr = c.dr();
    let to = party(
        "Attending physician",
        "Springfield General Emergency Department",
        "1 Hospital Drive, Springfield",
    );
    let basis = LegalBasis::MedicalEmergency;
    let cats = [
        Demographics,
        DiagnosisCodes,
        TreatmentPlan,
        ProgressNotes,
        Appointments,
    ];
    let req = ask(c.client, &to, basis, Purpose::EmergencyTreatment, &cats);
    let want = c.expect(&[
        (Demographics, All),
        (DiagnosisCodes, All),
        (TreatmentPlan, All),
        (ProgressNotes, All),
        (Appointments, All),
    ]);
    release(&c.p, &dr, &req, want, &c.plaintext());

    let req = ask(
        c.client,
        &to,
        basis,
        Purpose::EmergencyTreatment,
        &[DiagnosisCodes, PsychotherapyNotes],
    );
    refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
}

// ---------------------------------------------------------------------------------------------
// 42 CFR Part 2.
// ---------------------------------------------------------------------------------------------

#[test]
fn substance_use_releases_carry_the_notice_and_a_copy_of_the_consent() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[SubstanceUse, DiagnosisCodes], T);
    let basis = LegalBasis::Authorization;
    let secrets = c.plaintext();

    let req = with_consent(
        ask(c.client, &to, basis, T, &[SubstanceUse, DiagnosisCodes]),
        id,
    );
    let want = c.expect(&[(SubstanceUse, All), (DiagnosisCodes, All)]);
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert_eq!(
        pkg.redisclosure_notice.as_deref(),
        Some(confide::REDISCLOSURE_NOTICE)
    );
    let copy = pkg.consent_copy.as_ref().expect("a copy of the consent");
    assert_eq!(copy.id, id.to_string());
    let categories: BTreeSet<&str> = copy.categories.iter().map(String::as_str).collect();
    assert_eq!(
        categories,
        BTreeSet::from(["substance_use", "diagnosis_codes"])
    );
    assert_eq!(copy.description, CONSENT_TEXT);
    assert_eq!(copy.purpose, T.code());
    assert_eq!(copy.expires, None);
    assert!(copy.signed_on.ends_with('Z'));

    // Without substance-use records: neither.
    let req = with_consent(ask(c.client, &to, basis, T, &[DiagnosisCodes]), id);
    let want = c.expect(&[(DiagnosisCodes, All)]);
    let pkg = release(&c.p, &dr, &req, want, &secrets);
    assert!(pkg.redisclosure_notice.is_none());
    assert!(pkg.consent_copy.is_none());
    let req = with_order(
        ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &[TreatmentPlan],
        ),
        "Order 2024-CV-0193",
        &[TreatmentPlan],
    );
    let pkg = release(&c.p, &dr, &req, c.expect(&[(TreatmentPlan, All)]), &secrets);
    assert!(pkg.redisclosure_notice.is_none());
    assert!(pkg.consent_copy.is_none());
}

// ---------------------------------------------------------------------------------------------
// Narrower scopes.
// ---------------------------------------------------------------------------------------------

#[test]
fn attendance_only_releases_dates_and_status() {
    let c = Chart::new();
    let dr = c.dr();
    let eap = party(
        "Case Manager",
        "Acme Employee Assistance Program",
        "77 Industrial Way, Springfield",
    );
    let id = consent(&dr, &c.client, &eap, &[Appointments], Purpose::Operations);
    let req = DisclosureRequest {
        narrow: Some(Narrow::AttendanceOnly),
        ..with_consent(
            ask(
                c.client,
                &eap,
                LegalBasis::Authorization,
                Purpose::Operations,
                &[Appointments],
            ),
            id,
        )
    };
    let want = c.expect(&[(Appointments, Only(&["date", "status"]))]);
    release(&c.p, &dr, &req, want, &c.plaintext());
}

#[test]
fn dates_of_service_and_fees_only() {
    let c = Chart::new();
    let dr = c.dr();
    let to = insurer();
    let pay = Purpose::Payment;
    let id = consent(&dr, &c.client, &to, &[Appointments, Billing], pay);
    let req = DisclosureRequest {
        narrow: Some(Narrow::DatesOfServiceAndFees),
        ..with_consent(
            ask(
                c.client,
                &to,
                LegalBasis::Authorization,
                pay,
                &[Appointments, Billing],
            ),
            id,
        )
    };
    let want = c.expect(&[
        (Appointments, Only(&["date", "service_code"])),
        (Billing, Only(&["date", "service_code", "fee"])),
    ]);
    release(&c.p, &dr, &req, want, &c.plaintext());
}

#[test]
fn one_condition_releases_only_its_diagnosis() {
    let mut c = Chart::new();
    let dr = c.dr();
    c.add(
        &dr,
        RecordKind::Diagnosis,
        vec![
            ("code", Value::code("F32.0")),
            ("description", Value::text("Major depressive episode, mild")),
        ],
    );
    let to = party(
        "Adjuster",
        "Statewide Workers' Compensation Fund",
        "3 Insurance Plaza, Capitol City",
    );
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], Purpose::Legal);
    let req = DisclosureRequest {
        narrow: Some(Narrow::Condition("F41.1".into())),
        ..with_consent(
            ask(
                c.client,
                &to,
                LegalBasis::Authorization,
                Purpose::Legal,
                &[DiagnosisCodes],
            ),
            id,
        )
    };
    let want: Vec<Item> = c
        .expect(&[(DiagnosisCodes, All)])
        .into_iter()
        .filter(|(_, _, _, f)| f.get("code").map(String::as_str) == Some("F41.1"))
        .collect();
    assert_eq!(want.len(), 1);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(pkg.items.len(), 1);
    assert!(!pkg.to_json().contains("F32.0"));
}

// ---------------------------------------------------------------------------------------------
// Joint content.
// ---------------------------------------------------------------------------------------------

const JOINT: &str = "Joint session 2: pursue-withdraw cycle around money; homework agreed";
const AFFAIR: &str = "Disclosed an ongoing affair with a coworker; has not told partner";

struct Couple {
    p: Practice,
    alex: ClientId,
    blake: ClientId,
    case: CaseId,
    want: Vec<Item>,
}

fn couple() -> Couple {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let alex = new_client(&dr, "Alex Morgan");
    let blake = new_client(&dr, "Blake Morgan");
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::HeldInConfidence,
            &[alex, blake],
            T,
        )
        .unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text(JOINT))], T)
        .unwrap();
    dr.write_case_note(&case, &alex, &[("disclosure", Value::text(AFFAIR))], T)
        .unwrap();
    let want = vec![(
        joint.to_string(),
        "joint_record".to_owned(),
        "joint_record".to_owned(),
        BTreeMap::from([("summary".to_owned(), JOINT.to_owned())]),
    )];
    Couple {
        p,
        alex,
        blake,
        case,
        want,
    }
}

#[test]
fn joint_content_leaves_with_every_members_authorization() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let to = party(
        "Dr. Lee Hart",
        "Hart Family Therapy",
        "18 Birch Court, Springfield",
    );
    let secrets = vec![JOINT.to_owned(), AFFAIR.to_owned()];
    let alex = consent(&dr, &c.alex, &to, &[JointRecord], T);
    let req = DisclosureRequest {
        case: Some(c.case),
        ..with_consent(
            ask(c.alex, &to, LegalBasis::Authorization, T, &[JointRecord]),
            alex,
        )
    };
    // One partner alone cannot release what belongs to both.
    refused_for(&c.p, &dr, &req, DenyReason::HeldInConfidence);
    // Blake's consent for another purpose does not count.
    consent(&dr, &c.blake, &to, &[JointRecord], Purpose::Legal);
    refused_for(&c.p, &dr, &req, DenyReason::HeldInConfidence);
    consent(&dr, &c.blake, &to, &[JointRecord], T);
    let pkg = release(&c.p, &dr, &req, c.want.clone(), &secrets);
    assert!(!pkg.to_json().contains(AFFAIR));
}

#[test]
fn joint_content_leaves_on_a_duty_to_warn_without_consents() {
    let c = couple();
    let dr = c.p.login("dr.a");
    let req = DisclosureRequest {
        case: Some(c.case),
        ..ask(
            c.blake,
            &police(),
            LegalBasis::DutyToWarn,
            Purpose::Legal,
            &[JointRecord],
        )
    };
    let secrets = vec![JOINT.to_owned(), AFFAIR.to_owned()];
    let pkg = release(&c.p, &dr, &req, c.want.clone(), &secrets);
    assert!(!pkg.to_json().contains(AFFAIR));
}

// ---------------------------------------------------------------------------------------------
// Consents out of force.
// ---------------------------------------------------------------------------------------------

#[test]
fn a_revoked_consent_blocks_the_next_release() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        id,
    );
    release(
        &c.p,
        &dr,
        &req,
        c.expect(&[(DiagnosisCodes, All)]),
        &c.plaintext(),
    );
    dr.revoke_consent(&id, T).unwrap();
    refused_for(&c.p, &dr, &req, DenyReason::ConsentRevoked);
    let twc = DisclosureRequest {
        basis: LegalBasis::TreatmentWithConsent,
        ..req.clone()
    };
    refused_for(&c.p, &dr, &twc, DenyReason::ConsentRevoked);
}

#[test]
fn an_expired_or_future_consent_blocks_the_release() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let now = now_ms();
    let expired = signed(
        &to,
        &[DiagnosisCodes],
        T,
        now - 30 * DAY_MS,
        Some(now - DAY_MS),
    );
    let future = signed(&to, &[DiagnosisCodes], T, now + DAY_MS, None);
    for consent in [expired, future] {
        let id = dr.record_consent(&c.client, &consent, T).unwrap();
        let req = with_consent(
            ask(
                c.client,
                &to,
                LegalBasis::Authorization,
                T,
                &[DiagnosisCodes],
            ),
            id,
        );
        refused_for(&c.p, &dr, &req, DenyReason::ConsentNotInForce);
    }
    assert_eq!(ledger_rows(&c.p), 0);
}

// ---------------------------------------------------------------------------------------------
// Invalid requests.
// ---------------------------------------------------------------------------------------------

#[test]
fn invalid_requests_are_typed_errors_and_write_nothing() {
    let c = Chart::new();
    let dr = c.dr();
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let other = new_client(&dr, "Morgan Ellis");
    let others = consent(&dr, &other, &to, &[DiagnosisCodes], T);
    let auth = LegalBasis::Authorization;
    let good = with_consent(ask(c.client, &to, auth, T, &[DiagnosisCodes]), id);

    // No categories.
    invalid(
        &c.p,
        &dr,
        &DisclosureRequest {
            categories: Vec::new(),
            ..good.clone()
        },
    );
    // No recipient name.
    for name in ["", "   "] {
        let nameless = party(name, "Riverside Psychiatry", "400 River Road");
        invalid(
            &c.p,
            &dr,
            &DisclosureRequest {
                recipient: nameless,
                ..good.clone()
            },
        );
    }
    // A court order or subpoena without its reference.
    for basis in [LegalBasis::CourtOrder, LegalBasis::Subpoena] {
        for reference in [None, Some("  ".to_owned())] {
            let req = DisclosureRequest {
                reference,
                order_names: vec![DiagnosisCodes],
                ..ask(c.client, &court(), basis, Purpose::Legal, &[DiagnosisCodes])
            };
            invalid(&c.p, &dr, &req);
        }
    }
    // An authorization without its consent; a consent cited where none is relied on.
    for basis in [auth, LegalBasis::TreatmentWithConsent] {
        invalid(&c.p, &dr, &ask(c.client, &to, basis, T, &[DiagnosisCodes]));
    }
    invalid(
        &c.p,
        &dr,
        &with_consent(
            ask(
                c.client,
                &police(),
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                &[DiagnosisCodes],
            ),
            id,
        ),
    );
    // Another client's consent.
    invalid(
        &c.p,
        &dr,
        &with_consent(ask(c.client, &to, auth, T, &[DiagnosisCodes]), others),
    );
    // Joint-record content without its case.
    invalid(
        &c.p,
        &dr,
        &ask(
            c.client,
            &police(),
            LegalBasis::DutyToWarn,
            Purpose::Legal,
            &[JointRecord],
        ),
    );
    assert_eq!(ledger_rows(&c.p), 0);

    // The well-formed request still goes through.
    release(
        &c.p,
        &dr,
        &good,
        c.expect(&[(DiagnosisCodes, All)]),
        &c.plaintext(),
    );
}

// ---------------------------------------------------------------------------------------------
// The package as JSON.
// ---------------------------------------------------------------------------------------------

fn keys(v: &serde_json::Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[track_caller]
fn json_matches(pkg: &ReleasePackage) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&pkg.to_json()).unwrap();
    assert_eq!(
        keys(&v),
        BTreeSet::from(["manifest", "items", "redisclosure_notice", "consent_copy"])
    );
    let m = &v["manifest"];
    assert_eq!(
        keys(m),
        BTreeSet::from([
            "disclosure_id",
            "client",
            "recipient",
            "purpose",
            "legal_basis",
            "reference",
            "categories",
            "entries",
            "released_at",
            "released_by",
            "audit_seq",
        ])
    );
    let pm = &pkg.manifest;
    assert_eq!(m["disclosure_id"], pm.disclosure_id.as_str());
    assert_eq!(m["client"], pm.client.as_str());
    assert_eq!(
        keys(&m["recipient"]),
        BTreeSet::from(["name", "organisation", "address"])
    );
    assert_eq!(m["recipient"]["name"], pm.recipient.name.as_str());
    assert_eq!(
        m["recipient"]["organisation"],
        pm.recipient.organisation.as_str()
    );
    assert_eq!(m["recipient"]["address"], pm.recipient.address.as_str());
    assert_eq!(m["purpose"], pm.purpose.as_str());
    assert_eq!(m["legal_basis"], pm.legal_basis.as_str());
    match &pm.reference {
        Some(r) => assert_eq!(m["reference"], r.as_str()),
        None => assert!(m["reference"].is_null()),
    }
    let cats: Vec<&str> = m["categories"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(cats, pm.categories);
    assert_eq!(m["entries"].as_u64(), Some(pm.entries as u64));
    assert_eq!(m["released_at"], pm.released_at.as_str());
    assert_eq!(m["released_by"], pm.released_by.as_str());
    assert_eq!(m["audit_seq"].as_u64(), Some(pm.audit_seq));

    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), pkg.items.len());
    for (j, i) in items.iter().zip(&pkg.items) {
        assert_eq!(
            keys(j),
            BTreeSet::from(["id", "category", "kind", "written", "fields"])
        );
        assert_eq!(j["id"], i.id.as_str());
        assert_eq!(j["category"], i.category.as_str());
        assert_eq!(j["kind"], i.kind.as_str());
        assert_eq!(j["written"], i.written.as_str());
        let fields: BTreeMap<String, String> = serde_json::from_value(j["fields"].clone()).unwrap();
        assert_eq!(fields, i.fields);
    }
    match &pkg.redisclosure_notice {
        Some(n) => assert_eq!(v["redisclosure_notice"], n.as_str()),
        None => assert!(v["redisclosure_notice"].is_null()),
    }
    match &pkg.consent_copy {
        Some(copy) => {
            let j = &v["consent_copy"];
            assert_eq!(
                keys(j),
                BTreeSet::from([
                    "id",
                    "categories",
                    "purpose",
                    "signed_on",
                    "expires",
                    "description"
                ])
            );
            assert_eq!(j["id"], copy.id.as_str());
            assert_eq!(j["description"], copy.description.as_str());
            assert_eq!(j["purpose"], copy.purpose.as_str());
            let cats: Vec<String> = serde_json::from_value(j["categories"].clone()).unwrap();
            assert_eq!(cats, copy.categories);
        }
        None => assert!(v["consent_copy"].is_null()),
    }
    v
}

#[test]
fn the_package_as_json_holds_the_package_and_nothing_else() {
    let c = Chart::new();
    let dr = c.dr();
    let named = [DiagnosisCodes, Appointments];
    let req = with_order(
        ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &named,
        ),
        "Order 2024-CV-0193",
        &named,
    );
    let want = c.expect(&[(DiagnosisCodes, All), (Appointments, All)]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    json_matches(&pkg);
    let text = pkg.to_json();
    for absent in [
        PHONE,
        ADDRESS,
        INSURANCE,
        PLAN,
        PROGRESS_1,
        PROGRESS_2,
        SUD,
        IMPRESSIONS,
    ] {
        assert!(
            !text.contains(absent),
            "the JSON holds a value not released"
        );
    }
    assert!(text.contains(DX_TEXT) && text.contains(REASON_1) && text.contains(REASON_2));

    // With the Part 2 notice and the consent copy.
    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[SubstanceUse], T);
    let req = with_consent(
        ask(c.client, &to, LegalBasis::Authorization, T, &[SubstanceUse]),
        id,
    );
    let pkg = release(
        &c.p,
        &dr,
        &req,
        c.expect(&[(SubstanceUse, All)]),
        &c.plaintext(),
    );
    let v = json_matches(&pkg);
    assert_eq!(v["redisclosure_notice"], confide::REDISCLOSURE_NOTICE);
    let text = pkg.to_json();
    for absent in [DX_TEXT, PLAN, PROGRESS_1, IMPRESSIONS, REASON_1] {
        assert!(
            !text.contains(absent),
            "the JSON holds a value not released"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The ledger.
// ---------------------------------------------------------------------------------------------

#[test]
fn the_ledger_has_one_row_per_release_and_is_append_only() {
    let c = Chart::new();
    let dr = c.dr();
    let secrets = c.plaintext();
    assert_eq!(ledger_rows(&c.p), 0);

    let to = psychiatrist();
    let id = consent(&dr, &c.client, &to, &[DiagnosisCodes], T);
    let req = with_consent(
        ask(
            c.client,
            &to,
            LegalBasis::Authorization,
            T,
            &[DiagnosisCodes],
        ),
        id,
    );
    release(
        &c.p,
        &dr,
        &req,
        c.expect(&[(DiagnosisCodes, All)]),
        &secrets,
    );
    assert_eq!(ledger_rows(&c.p), 1);

    let req = with_order(
        ask(
            c.client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            &[TreatmentPlan],
        ),
        "Order 2024-CV-0193",
        &[TreatmentPlan],
    );
    let order = release(&c.p, &dr, &req, c.expect(&[(TreatmentPlan, All)]), &secrets);
    assert_eq!(ledger_rows(&c.p), 2);

    let biller = c.p.login("biller");
    let req = ask(
        c.client,
        &insurer(),
        LegalBasis::Payment,
        Purpose::Payment,
        &[Billing],
    );
    release(&c.p, &biller, &req, c.expect(&[(Billing, All)]), &secrets);
    assert_eq!(ledger_rows(&c.p), 3);

    let req = ask(
        c.client,
        &police(),
        LegalBasis::DutyToWarn,
        Purpose::Legal,
        &[Demographics],
    );
    let warn = release(&c.p, &dr, &req, c.expect(&[(Demographics, All)]), &secrets);
    assert_eq!(ledger_rows(&c.p), 4);

    // A refusal adds nothing.
    let req = ask(
        c.client,
        &police(),
        LegalBasis::DutyToWarn,
        Purpose::Legal,
        &[SubstanceUse],
    );
    refuse(&c.p, &dr, &req);
    assert_eq!(ledger_rows(&c.p), 4);

    // Append-only, even through SQL.
    let conn = raw(c.p.path());
    for sql in [
        "UPDATE disclosures SET legal_basis = 'authorization'",
        "UPDATE disclosures SET accountable = 0",
        "DELETE FROM disclosures",
        "UPDATE disclosure_fields SET envelope = x'00'",
        "DELETE FROM disclosure_fields",
    ] {
        let err = conn.execute(sql, []).expect_err(sql);
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    assert_eq!(ledger_rows(&c.p), 4);
    assert_eq!(
        count(
            &c.p,
            "SELECT COUNT(*) FROM disclosures WHERE accountable = 1"
        ),
        2
    );
    assert_intact(&c.p);

    // The accounting of disclosures lists the court order and the warning, not the releases
    // under authorization or for payment (164.528(a)(1)).
    let accounting = dr.accounting(&c.client, None).unwrap();
    let seqs: BTreeSet<u64> = accounting.iter().map(|a| a.audit_seq).collect();
    assert_eq!(
        seqs,
        BTreeSet::from([order.manifest.audit_seq, warn.manifest.audit_seq])
    );
    for a in &accounting {
        assert!(!a.description.is_empty());
        assert!(a.recipient == court() || a.recipient == police());
    }
    assert_intact(&c.p);
}
