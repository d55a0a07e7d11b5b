//! The practice, charts and release helpers of the disclosure tests (tests/disclosures_*.rs).

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::collections::{BTreeMap, BTreeSet};

use crate::common::*;
use confide::{
    CaseId, CaseKind, Category, ClientId, ConsentId, ConsentRecipient, Date, DenyReason,
    DisclosureRequest, Error, LegalBasis, NewClient, NewConsent, OutsideParty, Purpose, RecordKind,
    ReleasePackage, SecretsPolicy, Session, Value,
};

pub const T: Purpose = Purpose::Treatment;
pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

pub const NAME: &str = "Jordan Avery Reyes";
pub const PHONE: &str = "555-0142";
pub const ADDRESS: &str = "12 Alder Lane, Springfield";
pub const INSURANCE: &str = "INS-77341-Q";
pub const DX_TEXT: &str = "Generalized anxiety disorder, chronic worry since job loss";
pub const PLAN: &str = "CBT for worry; reduce episodes to under two a week by March";
pub const PROGRESS_1: &str = "Session 3: worry log reviewed; sleep improving";
pub const PROGRESS_2: &str = "Session 4: disclosed panic attack at work; rehearsed breathing";
pub const REASON_1: &str = "Follow-up after panic attack at sister's wedding";
pub const REASON_2: &str = "Missed: client in hospital after overdose scare";
pub const SUD: &str = "Alcohol use disorder, mild; drinks to fall asleep most nights";
pub const IMPRESSIONS: &str = "Transference: casts therapist as critical father; explore shame";
pub const CONSENT_TEXT: &str = "Diagnosis and treatment plan, for coordination of care with \
Riverside Psychiatry, until revoked";

/// Which fields of a category a release may hold.
#[derive(Clone, Copy)]
pub enum Fields {
    All,
    Only(&'static [&'static str]),
}
pub use Fields::{All, Only};

/// A released entry as compared: (id, category, kind, field name -> plaintext).
pub type Item = (String, String, String, BTreeMap<String, String>);

/// One entry of the chart and its plaintext.
pub struct Entry {
    pub id: String,
    pub category: Category,
    pub kind: &'static str,
    pub fields: Vec<(&'static str, String)>,
}

/// Jordan, treated by dr.a: a full chart.
pub struct Chart {
    pub p: Practice,
    pub client: ClientId,
    pub entries: Vec<Entry>,
}

pub fn date(y: i16, m: u8, d: u8) -> Value {
    Value::Date(Date::new(y, m, d).unwrap())
}

impl Chart {
    pub fn new() -> Chart {
        Chart::in_practice(Practice::new())
    }

    /// The same chart, in `p` (a practice on a test clock, say).
    pub fn in_practice(p: Practice) -> Chart {
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
                ("status", Value::code("attended")),
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
                ("status", Value::code("no-show")),
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
    pub fn add(&mut self, dr: &Session, kind: RecordKind, fields: Vec<(&'static str, Value)>) {
        let id = dr.create_record(&self.client, kind, &fields, T).unwrap();
        self.entries.push(Entry {
            id: id.to_string(),
            category: kind.category(),
            kind: kind.code(),
            fields: fields
                .iter()
                .map(|(n, v)| (*n, v.reveal().as_str().to_owned()))
                .collect(),
        });
    }

    /// The entries of the named categories, with the named fields, as the release must hold them.
    pub fn expect(&self, want: &[(Category, Fields)]) -> Vec<Item> {
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
                    .collect::<BTreeMap<_, _>>();
                if fields.is_empty() {
                    // An entry none of whose fields may leave is not in the package.
                    return None;
                }
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
    pub fn plaintext(&self) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|e| e.fields.iter().map(|(_, v)| v.clone()))
            .collect()
    }

    pub fn dr(&self) -> Session {
        self.p.login("dr.a")
    }
}

pub fn party(name: &str, organisation: &str, address: &str) -> OutsideParty {
    OutsideParty {
        name: name.into(),
        organisation: organisation.into(),
        address: address.into(),
    }
}

pub fn psychiatrist() -> OutsideParty {
    party(
        "Dr. Priya Natarajan",
        "Riverside Psychiatry",
        "400 River Road, Springfield",
    )
}

pub fn insurer() -> OutsideParty {
    party(
        "Claims Department",
        "Blue Harbor Health Plan",
        "PO Box 1200, Capitol City",
    )
}

pub fn court() -> OutsideParty {
    party(
        "Clerk of Court",
        "Springfield County Superior Court",
        "1 Courthouse Square, Springfield",
    )
}

pub fn police() -> OutsideParty {
    party(
        "Det. Sam Ortiz",
        "Springfield Police Department",
        "200 Main Street, Springfield",
    )
}

pub fn outside(to: &OutsideParty) -> ConsentRecipient {
    ConsentRecipient::Outside {
        name: to.name.clone(),
        organisation: to.organisation.clone(),
        address: to.address.clone(),
    }
}

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// A signed consent to release `categories` to `to` for `purpose`, in force from `start_ms`.
pub fn signed(
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
        scope: None,
        case: None,
        expiry_event: None,
        signed_by: None,
    }
}

/// Record a consent signed yesterday, in force until revoked.
pub fn consent(
    dr: &Session,
    client: &ClientId,
    to: &OutsideParty,
    categories: &[Category],
    purpose: Purpose,
) -> ConsentId {
    let c = signed(to, categories, purpose, now_ms() - DAY_MS, None);
    dr.record_consent(client, &c, T).unwrap()
}

/// `req` on a protective basis: the person at risk, the threat, and `named` fields with reasons.
pub fn protect(req: DisclosureRequest, named: &[(Category, &str)]) -> DisclosureRequest {
    DisclosureRequest {
        protective: Some(confide::Protective {
            at_risk: confide::PersonAtRisk {
                name: "Dana Voss".into(),
                contact: "555-0177, 12 Birch Lane".into(),
            },
            threat: "said they would shoot their former supervisor this week".into(),
            named: named
                .iter()
                .map(|(category, field)| confide::NamedField {
                    category: *category,
                    field: (*field).into(),
                    reason: "the officer needs the threat as stated".into(),
                })
                .collect(),
        }),
        ..req
    }
}

/// Record a consent to release the joint content of `case`, signed yesterday.
pub fn joint_consent(
    dr: &Session,
    client: &ClientId,
    case: confide::CaseId,
    to: &OutsideParty,
    purpose: Purpose,
) -> ConsentId {
    let mut c = signed(
        to,
        &[Category::JointRecord],
        purpose,
        now_ms() - DAY_MS,
        None,
    );
    c.case = Some(case);
    dr.record_consent(client, &c, T).unwrap()
}

/// A request with no consent, reference, order, case or narrower scope.
pub fn ask(
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
        order: None,
        categories: categories.to_vec(),
        narrow: None,
        protective: None,
        description: "records requested in writing".into(),
    }
}

pub fn with_consent(req: DisclosureRequest, consent: ConsentId) -> DisclosureRequest {
    DisclosureRequest {
        consent: Some(consent),
        ..req
    }
}

pub fn with_order(
    req: DisclosureRequest,
    reference: &str,
    names: &[Category],
) -> DisclosureRequest {
    DisclosureRequest {
        reference: Some(reference.into()),
        order: Some(confide::Order {
            issuer: "Superior Court of the County".into(),
            issued_on_ms: now_ms() - 86_400_000,
            names: confide::ReleaseScope::categories(names),
        }),
        ..req
    }
}

pub fn count(p: &Practice, sql: &str) -> i64 {
    raw(p.path()).query_row(sql, [], |r| r.get(0)).unwrap()
}

pub fn ledger_rows(p: &Practice) -> i64 {
    count(p, "SELECT COUNT(*) FROM disclosures")
}

pub fn audit_rows(p: &Practice) -> i64 {
    count(p, "SELECT COUNT(*) FROM audit_log")
}

#[track_caller]
pub fn assert_intact(p: &Practice) {
    let report = confide::verify_audit_log(p.path()).unwrap();
    assert!(report.is_intact(), "audit log broken: {report:?}");
}

pub fn items_of(pkg: &ReleasePackage) -> Vec<Item> {
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
pub fn shape(items: &[Item]) -> Vec<(String, Vec<String>)> {
    let mut s: Vec<(String, Vec<String>)> = items
        .iter()
        .map(|(_, c, _, f)| (c.clone(), f.keys().cloned().collect()))
        .collect();
    s.sort();
    s
}

/// The audit entry at `seq`.
pub fn entry_at(p: &Practice, seq: u64) -> confide::AuditEntry {
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
pub fn release(
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
pub fn refuse(p: &Practice, who: &Session, req: &DisclosureRequest) -> DenyReason {
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
pub fn refused_for(p: &Practice, who: &Session, req: &DisclosureRequest, want: DenyReason) {
    assert_eq!(refuse(p, who, req), want, "refused for another reason");
}

/// `req` is not a request at all: a typed error, nothing audited, nothing in the ledger.
#[track_caller]
pub fn invalid(p: &Practice, who: &Session, req: &DisclosureRequest) {
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

pub const DATES_OF_SERVICE: &[&str] = &["date", "minutes", "service_code", "status"];

// ---------------------------------------------------------------------------------------------
// One test per legal basis.
// ---------------------------------------------------------------------------------------------

pub const JOINT: &str = "Joint session 2: pursue-withdraw cycle around money; homework agreed";
pub const AFFAIR: &str = "Disclosed an ongoing affair with a coworker; has not told partner";

pub struct Couple {
    pub p: Practice,
    pub alex: ClientId,
    pub blake: ClientId,
    pub case: CaseId,
    pub want: Vec<Item>,
}

pub fn couple() -> Couple {
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

pub fn keys(v: &serde_json::Value) -> BTreeSet<&str> {
    v.as_object()
        .expect("an object")
        .keys()
        .map(String::as_str)
        .collect()
}

#[track_caller]
pub fn json_matches(pkg: &ReleasePackage) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&pkg.to_json()).unwrap();
    assert_eq!(
        keys(&v),
        BTreeSet::from([
            "manifest",
            "items",
            "redisclosure_notice",
            "consent_copy",
            "disputes"
        ])
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
            "released",
            "withheld",
            "authorization_scope",
            "order",
            "at_risk",
            "threat",
            "named",
            "disputes",
        ])
    );
    assert_eq!(
        m["disputes"].as_array().unwrap().len(),
        pkg.manifest.disputes.len()
    );
    assert_eq!(v["disputes"].as_array().unwrap().len(), pkg.disputes.len());
    let pm = &pkg.manifest;
    assert_eq!(m["released"].as_array().unwrap().len(), pm.released.len());
    for (j, part) in m["released"].as_array().unwrap().iter().zip(&pm.released) {
        assert_eq!(j["category"], part.category.as_str());
        assert_eq!(j["limit"], part.limit.as_str());
    }
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
        // An addendum also names its entry, and an amendment it carries out.
        let mut want = BTreeSet::from(["id", "category", "kind", "written", "fields"]);
        want.extend(i.addendum_of.as_ref().map(|_| "addendum_of"));
        want.extend(i.amends.as_ref().map(|_| "amends"));
        assert_eq!(keys(j), want);
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
