//! The releases the accounting tests make (tests/accounting.rs, and through `confide accounting`
//! in cli/tests/accounting.rs): a practice where one client's information went out on every
//! basis the rule distinguishes, and another client's on one.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use confide::{
    Category, ClientId, ConsentRecipient, DisclosureRequest, LegalBasis, OutsideParty, Purpose,
    RecordKind, ReleasePackage, Session, Value,
};

use crate::common::*;
use crate::stories::*;

/// One release made in a fixture, as the releaser saw it.
#[derive(Clone, Debug)]
pub struct Made {
    pub basis: LegalBasis,
    pub recipient: OutsideParty,
    pub purpose: Purpose,
    pub description: String,
    pub package: ReleasePackage,
}

impl Made {
    pub fn seq(&self) -> u64 {
        self.package.manifest.audit_seq
    }
}

pub fn party(name: &str, organisation: &str, address: &str) -> OutsideParty {
    OutsideParty {
        name: name.into(),
        organisation: organisation.into(),
        address: address.into(),
    }
}

pub fn request(
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
        order: None,
        categories: categories.to_vec(),
        narrow: None,
        protective: None,
        description: description.into(),
    }
}

/// Release `req` as `who`; it must succeed.
pub fn release(who: &Session, req: &DisclosureRequest) -> Made {
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
pub fn client_with_records(dr: &Session, name: &str) -> ClientId {
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

pub fn attorney() -> OutsideParty {
    party(
        "Morgan Ellis, Esq.",
        "Ellis & Park LLP",
        "400 Court Street, Suite 12, Springfield",
    )
}
pub fn pcp() -> OutsideParty {
    party(
        "Dr. Priya Nair",
        "Lakeside Primary Care",
        "12 Harbor Road, Springfield",
    )
}
pub fn insurer() -> OutsideParty {
    party(
        "Claims Department",
        "Acme Health Insurance",
        "PO Box 9000, Hartford",
    )
}
pub fn police() -> OutsideParty {
    party(
        "Officer Dana Cole",
        "Springfield Police Department",
        "1 Main Street, Springfield",
    )
}
pub fn cps() -> OutsideParty {
    party(
        "Intake Worker R. Banks",
        "County Child Protective Services",
        "77 Elm Avenue, Springfield",
    )
}
pub fn court() -> OutsideParty {
    party(
        "Clerk of the Family Court",
        "Springfield County Superior Court",
        "200 Justice Plaza, Springfield",
    )
}
pub fn er() -> OutsideParty {
    party(
        "Dr. Lee Okafor",
        "St. Mary's Emergency Department",
        "5 Hospital Way, Springfield",
    )
}

pub fn outside(p: &OutsideParty) -> ConsentRecipient {
    ConsentRecipient::Outside {
        name: p.name.clone(),
        organisation: p.organisation.clone(),
        address: p.address.clone(),
    }
}

/// A practice where dr.a has released Jordan's information on seven bases (and the biller for
/// payment), and Riley's on one.
pub struct Released {
    pub p: Practice,
    pub jordan: ClientId,
    pub riley: ClientId,
    /// Jordan's releases listed in the accounting, oldest first.
    pub accountable: Vec<Made>,
    /// Jordan's releases the rule exempts.
    pub exempt: Vec<Made>,
    /// Riley's release.
    pub rileys: Made,
}

pub fn authorized(dr: &Session, client: ClientId) -> Made {
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

pub fn with_consent_for_treatment(dr: &Session, client: ClientId) -> Made {
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

pub fn for_payment(biller: &Session, client: ClientId) -> Made {
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

/// A protective release's particulars: the person at risk, the threat, and the progress
/// note's summary named with its reason.
pub fn protective(at_risk: &str, threat: &str) -> confide::Protective {
    confide::Protective {
        at_risk: confide::PersonAtRisk {
            name: at_risk.into(),
            contact: "555-0100".into(),
        },
        threat: threat.into(),
        named: vec![confide::NamedField {
            category: Category::ProgressNotes,
            field: "summary".into(),
            reason: "the threat as the client stated it in session".into(),
        }],
    }
}

pub fn duty_to_warn(dr: &Session, client: ClientId) -> Made {
    let mut req = request(
        client,
        LegalBasis::DutyToWarn,
        Purpose::Legal,
        &police(),
        &[Category::Demographics, Category::ProgressNotes],
        "serious and imminent threat against a named former supervisor",
    );
    req.protective = Some(protective(
        "Dana Voss",
        "said they would hurt their former supervisor",
    ));
    release(dr, &req)
}

/// A duty-to-warn release for another client, to another officer.
pub fn rileys_warning(dr: &Session, client: ClientId) -> Made {
    let mut req = request(
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
    req.protective = Some(protective(
        "Pat Greer",
        "threatened the neighbour with a weapon",
    ));
    release(dr, &req)
}

pub fn abuse_report(dr: &Session, client: ClientId) -> Made {
    let mut req = request(
        client,
        LegalBasis::ChildAbuseReport,
        Purpose::Legal,
        &cps(),
        &[Category::Demographics, Category::ProgressNotes],
        "mandated report of suspected neglect of a child in the home",
    );
    req.reference = Some("CPS report 24-118".into());
    req.protective = Some(protective(
        "the child in the home",
        "signs of neglect reported",
    ));
    release(dr, &req)
}

pub fn court_order(dr: &Session, client: ClientId) -> Made {
    let mut req = request(
        client,
        LegalBasis::CourtOrder,
        Purpose::Legal,
        &court(),
        &[Category::DiagnosisCodes, Category::TreatmentPlan],
        "records named in the custody evaluation order",
    );
    req.reference = Some("Order No. 2025-FL-0192".into());
    req.order = Some(confide::Order {
        issuer: "Superior Court".into(),
        issued_on_ms: 0,
        names: confide::ReleaseScope::categories(&[
            Category::DiagnosisCodes,
            Category::TreatmentPlan,
        ]),
    });
    release(dr, &req)
}

pub fn emergency(dr: &Session, client: ClientId) -> Made {
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

pub fn released() -> Released {
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
