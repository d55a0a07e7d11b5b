//! No plaintext in `Debug` (or `Display`): every public type that can hold a name, a date of
//! birth, a recipient, a description or a field value is filled with canaries, the ones the
//! vault returns produced through the API on a temporary vault, and each is formatted; no canary
//! may appear. `Debug` output ends up in logs, panic messages and crash reports the practice
//! does not control.

mod common;

use std::fmt::Debug;

use common::*;
use confide::{
    AuditFilter, CaseKind, Category, ConsentRecipient, Date, DisclosureRequest, Error, LegalBasis,
    NewClient, NewConsent, NewRestriction, OutsideParty, Passphrase, Purpose, RecordKind,
    ReleaseScope, SecretsPolicy, Session, Value, read_audit_log, verify_audit_log,
};

const NAME: &str = "CANARY-NAME-7731";
const OTHER_NAME: &str = "CANARY-PARTNER-7732";
/// A date of birth as it would print: no id (hex) or time (digits) contains a '-'.
const DOB: (i16, u8, u8) = (1931, 7, 31);
const DOB_TEXT: &str = "1931-07-31";
const RECIPIENT: &str = "CANARY-RECIPIENT-7733";
const ORGANISATION: &str = "CANARY-ORGANISATION-7734";
const ADDRESS: &str = "CANARY-ADDRESS-7735";
const DESCRIPTION: &str = "CANARY-DESCRIPTION-7736";
const CONSENT_TEXT: &str = "CANARY-CONSENT-7737";
const REFERENCE: &str = "CANARY-REFERENCE-7738";
const CONDITION: &str = "CANARY-CONDITION-7739";
const NOTE: &str = "CANARY-NOTE-7740";
const CODE: &str = "CANARY-CODE-7741";
const SUD: &str = "CANARY-SUBSTANCE-7742";
const JOINT: &str = "CANARY-JOINT-7743";
const PSYCHOTHERAPY: &str = "CANARY-PSYCHOTHERAPY-7744";
const PASSPHRASE: &str = "CANARY-PASSPHRASE-7745";
/// A number no id or time in the output is likely to contain (13-digit times, 32-digit hex).
const NUMBER: i64 = 424_242_424_242;

const CANARIES: &[&str] = &[
    NAME,
    OTHER_NAME,
    DOB_TEXT,
    RECIPIENT,
    ORGANISATION,
    ADDRESS,
    DESCRIPTION,
    CONSENT_TEXT,
    REFERENCE,
    CONDITION,
    NOTE,
    CODE,
    SUD,
    JOINT,
    PSYCHOTHERAPY,
    PASSPHRASE,
    "424242424242",
];

const T: Purpose = Purpose::Treatment;

/// Everything formatted so far, by what it was.
#[derive(Default)]
struct Shown(Vec<(String, String)>);

impl Shown {
    fn debug(&mut self, what: &str, v: &impl Debug) {
        self.0.push((format!("{what} {{:?}}"), format!("{v:?}")));
        self.0.push((format!("{what} {{:#?}}"), format!("{v:#?}")));
    }

    fn both(&mut self, what: &str, v: &(impl Debug + std::fmt::Display)) {
        self.debug(what, v);
        self.0.push((format!("{what} {{}}"), v.to_string()));
    }

    fn error<T: Debug>(&mut self, what: &str, r: confide::Result<T>) -> Error {
        let err = r.expect_err(what);
        self.both(what, &err);
        err
    }

    #[track_caller]
    fn assert_clean(&self) {
        for (what, text) in &self.0 {
            for canary in CANARIES {
                assert!(!text.contains(canary), "{what} shows {canary}: {text}");
            }
        }
    }
}

fn party() -> OutsideParty {
    OutsideParty {
        name: RECIPIENT.into(),
        organisation: ORGANISATION.into(),
        address: ADDRESS.into(),
    }
}

fn outside() -> ConsentRecipient {
    ConsentRecipient::Outside {
        name: RECIPIENT.into(),
        organisation: ORGANISATION.into(),
        address: ADDRESS.into(),
    }
}

fn new_consent(categories: &[Category]) -> NewConsent {
    let yesterday = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
        - 86_400_000;
    NewConsent {
        recipient: outside(),
        categories: categories.to_vec(),
        purpose: T,
        start_ms: yesterday,
        expires_ms: None,
        signed_on_ms: yesterday,
        description: CONSENT_TEXT.into(),
        scope: None,
        case: None,
        expiry_event: None,
        signed_by: None,
    }
}

fn request(
    client: confide::ClientId,
    basis: LegalBasis,
    categories: &[Category],
) -> DisclosureRequest {
    DisclosureRequest {
        client,
        case: None,
        recipient: party(),
        purpose: T,
        basis,
        consent: None,
        reference: None,
        order: None,
        categories: categories.to_vec(),
        narrow: None,
        protective: None,
        description: DESCRIPTION.into(),
    }
}

fn new_client(name: &str) -> NewClient {
    NewClient {
        full_name: name.into(),
        date_of_birth: Date::new(DOB.0, DOB.1, DOB.2).unwrap(),
    }
}

/// A client with a general record holding every kind of value, a substance-use record, a
/// psychotherapy note and a joint record with a partner.
struct Chart {
    client: confide::ClientId,
    records: Vec<confide::RecordId>,
    note: confide::NoteId,
    joint: confide::JointRecordId,
}

fn chart(dr: &Session, shown: &mut Shown) -> Chart {
    let input = new_client(NAME);
    shown.debug("NewClient", &input);
    let client = dr.create_client(&input, T).unwrap();
    let partner = dr.create_client(&new_client(OTHER_NAME), T).unwrap();
    let values = [
        ("summary", Value::text(NOTE)),
        ("code", Value::code(CODE)),
        ("codes", Value::Codes(vec![CODE.into(), CODE.into()])),
        ("date", Value::Date(Date::new(DOB.0, DOB.1, DOB.2).unwrap())),
        ("minutes", Value::Number(NUMBER)),
    ];
    for (name, v) in &values {
        shown.debug(&format!("Value {name}"), v);
    }
    let progress = dr
        .create_record(&client, RecordKind::ProgressNote, &values, T)
        .unwrap();
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[
                ("code", Value::code(CODE)),
                ("description", Value::text(NOTE)),
            ],
            T,
        )
        .unwrap();
    let sud = dr
        .create_record(
            &client,
            RecordKind::SubstanceUse,
            &[("assessment", Value::text(SUD))],
            T,
        )
        .unwrap();
    let note = dr
        .write_psychotherapy_note(&client, &[("impressions", Value::text(PSYCHOTHERAPY))], T)
        .unwrap();
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::NoSecrets,
            &[client, partner],
            T,
        )
        .unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text(JOINT))], T)
        .unwrap();
    Chart {
        client,
        records: vec![progress, dx, sud],
        note,
        joint,
    }
}

#[test]
fn no_public_type_shows_plaintext_in_debug_or_display() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let mut shown = Shown::default();
    let c = chart(&dr, &mut shown);

    // What the vault returns from reads.
    let record = dr.read_record(&c.records[0], T).unwrap();
    assert_eq!(
        record.get("summary").map(|v| v.reveal()).unwrap().as_str(),
        NOTE
    );
    shown.debug("Record", &record);
    shown.debug("Vec<Record>", &dr.read_records(&c.records, T).unwrap());
    shown.debug("RecordSummary", &dr.list_records(&c.client, T).unwrap());
    let note = dr.read_psychotherapy_note(&c.note, T).unwrap();
    assert_eq!(
        note.get("impressions").unwrap().reveal().as_str(),
        PSYCHOTHERAPY
    );
    shown.debug("Note", &note);
    let joint = dr.read_joint_record(&c.joint, T).unwrap();
    assert_eq!(joint.get("summary").unwrap().reveal().as_str(), JOINT);
    shown.debug("JointRecord", &joint);
    let export = dr.export_for_client(&c.client).unwrap();
    assert!(!export.records.is_empty() && !export.joint_records.is_empty());
    shown.debug("Export", &export);
    // The same client as a minor, released to a parent: the withheld entries are listed.
    dr.set_minor_status(&c.client, Some(confide::MinorFacts::default()), T)
        .unwrap();
    let custody = confide::NewGuardian {
        basis: confide::GuardianBasis::Parent,
        may_access: true,
        may_authorize: false,
        until_ms: Some(i64::MAX),
    };
    shown.debug("NewGuardian", &custody);
    let parent = dr.record_guardian(&c.client, &custody, T).unwrap();
    shown.debug("GuardianSummary", &dr.list_guardians(&c.client, T).unwrap());
    let to_parent = dr.export_for_guardian(&c.client, &parent).unwrap();
    assert!(!to_parent.records.is_empty() && !to_parent.withheld.is_empty());
    shown.debug("Export to a guardian", &to_parent);
    shown.debug("Withheld", &to_parent.withheld);
    shown.error(
        "Error (not a personal representative)",
        dr.export_for_guardian(
            &c.client,
            &"00000000000000000000000000000000".parse().unwrap(),
        ),
    );
    dr.set_minor_status(&c.client, None, T).unwrap();
    let dob = Date::new(DOB.0, DOB.1, DOB.2).unwrap();
    // Only `Debug`: a date's `Display` is how a released date is shown, as `Value::reveal` is.
    shown.debug("Date", &dob);
    shown.debug("find_client", &dr.find_client(NAME, &dob, T).unwrap());

    // Consents: what is recorded and what is listed.
    let sud_consent = new_consent(&[Category::SubstanceUse]);
    shown.debug("ConsentRecipient", &sud_consent.recipient);
    shown.debug("NewConsent", &sud_consent);
    let consent = dr.record_consent(&c.client, &sud_consent, T).unwrap();
    shown.debug("ConsentSummary", &dr.list_consents(&c.client, T).unwrap());

    // Restrictions: the plan or recipient a restriction names is never shown.
    let self_pay = NewRestriction::SelfPay {
        plan_name: RECIPIENT.into(),
        plan_organisation: ORGANISATION.into(),
        records: c.records.clone(),
    };
    shown.debug("NewRestriction (self-pay)", &self_pay);
    dr.record_restriction(&c.client, &self_pay, T).unwrap();
    let other = NewRestriction::Other {
        recipient: Some((RECIPIENT.into(), ORGANISATION.into())),
        purposes: vec![Purpose::Legal],
        categories: vec![Category::ProgressNotes],
        records: vec![],
        agreed: false,
    };
    shown.debug("NewRestriction (other)", &other);
    dr.record_restriction(&c.client, &other, T).unwrap();
    shown.debug(
        "RestrictionSummary",
        &dr.list_restrictions(&c.client, T).unwrap(),
    );

    // Releases: a Part 2 record under the client's authorization (its package carries a copy of
    // the consent), and a court order (listed in the accounting).
    let mut authorized = request(
        c.client,
        LegalBasis::Authorization,
        &[Category::SubstanceUse],
    );
    authorized.consent = Some(consent);
    shown.debug("DisclosureRequest", &authorized);
    let package = dr.disclose(&authorized).unwrap();
    assert!(
        package.to_json().contains(SUD),
        "the package itself holds the plaintext"
    );
    assert!(package.consent_copy.is_some());
    shown.debug("ReleasePackage", &package);
    shown.debug("Manifest", &package.manifest);
    shown.debug("PackageItem", &package.items);
    shown.debug("ConsentCopy", &package.consent_copy);
    let mut ordered = request(
        c.client,
        LegalBasis::CourtOrder,
        &[Category::DiagnosisCodes],
    );
    ordered.purpose = Purpose::Legal;
    ordered.reference = Some(REFERENCE.into());
    ordered.order = Some(confide::Order {
        issuer: format!("{REFERENCE} court"),
        issued_on_ms: 0,
        names: confide::ReleaseScope::categories(&[Category::DiagnosisCodes]),
    });
    shown.debug("DisclosureRequest (court order)", &ordered);
    shown.debug(
        "ReleasePackage (court order)",
        &dr.disclose(&ordered).unwrap(),
    );
    let accounting = dr.accounting(&c.client, None).unwrap();
    assert_eq!(accounting.len(), 1);
    assert_eq!(accounting[0].recipient.name, RECIPIENT);
    shown.debug("AccountingEntry", &accounting);
    let mut narrow = request(
        c.client,
        LegalBasis::Authorization,
        &[Category::DiagnosisCodes],
    );
    narrow.narrow = Some(ReleaseScope::condition(CONDITION));
    shown.debug("Narrow", &narrow.narrow);
    shown.debug("DisclosureRequest (narrow)", &narrow);
    shown.error("refused release", dr.disclose(&narrow));
    shown.debug("OutsideParty", &party());

    // The de-identified extract, erasure's answer, the log and its verification.
    shown.debug(
        "ConsultationExtract",
        &dr.consultation_extract(&c.client).unwrap(),
    );
    let admin = p.admin();
    shown.debug("ErasureAnswer", &admin.request_erasure(&c.client));
    shown.debug("AuditEntry", &admin.audit_tail(1000).unwrap());
    shown.debug(
        "AuditLog",
        &read_audit_log(p.path(), &AuditFilter::default()).unwrap(),
    );
    shown.debug("VerifyReport", &verify_audit_log(p.path()).unwrap());

    // Errors, with canaries in what was asked.
    shown.error(
        "unknown user",
        p.vault.unlock(NAME, &Passphrase::new(PASSPHRASE)),
    );
    shown.error(
        "bad field name",
        dr.create_record(
            &c.client,
            RecordKind::ProgressNote,
            &[(NAME, Value::text(NOTE))],
            T,
        ),
    );
    shown.error(
        "value too large",
        dr.create_record(
            &c.client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(NOTE.repeat(80_000)))],
            T,
        ),
    );
    shown.error(
        "biller reads a note",
        p.login("biller")
            .read_record(&c.records[0], Purpose::Payment),
    );
    let envelope: Vec<u8> = raw(p.path())
        .query_row(
            "SELECT envelope FROM record_fields WHERE record_id = ?1 AND field = 'summary'",
            [c.records[0].as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    let mut flipped = envelope.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 0x01;
    raw(p.path())
        .execute(
            "UPDATE record_fields SET envelope = ?2 WHERE record_id = ?1 AND field = 'summary'",
            rusqlite::params![c.records[0].as_bytes(), flipped],
        )
        .unwrap();
    let err = shown.error("damaged envelope", dr.read_record(&c.records[0], T));
    let Error::Integrity { place } = err else {
        panic!("expected an integrity error");
    };
    shown.both("Place", &place);

    // Secrets and handles.
    shown.debug("Passphrase", &Passphrase::new(PASSPHRASE));
    shown.debug("Session", &dr);
    shown.debug("Vault", &p.vault);
    shown.debug("KeyStats", &dr.key_stats());

    assert!(shown.0.len() > 80, "{} outputs", shown.0.len());
    shown.assert_clean();
}

#[test]
fn the_check_would_see_a_canary() {
    // The same check on a type that prints its text: it must fail, so a pass above means
    // something.
    #[derive(Debug)]
    #[allow(dead_code, reason = "only formatted")]
    struct Leaky(String);
    let mut shown = Shown::default();
    shown.debug("Leaky", &Leaky(NAME.into()));
    let caught = std::panic::catch_unwind(|| shown.assert_clean());
    assert!(caught.is_err());
}
