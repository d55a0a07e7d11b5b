//! The last part of the demo: what leaves the vault, and the accounting of disclosures.

use confide::{
    Category, ClientId, ConsentRecipient, Date, DisclosureRequest, Error, LegalBasis, NamedField,
    NewConsent, NewRestriction, OutsideParty, PersonAtRisk, Protective, Purpose, RecordKind,
    ReleaseScope, Session, Value,
};

use crate::out::outln;
use crate::present::{section, show};

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

fn party(name: &str, organisation: &str, address: &str) -> OutsideParty {
    OutsideParty {
        name: name.into(),
        organisation: organisation.into(),
        address: address.into(),
    }
}

fn summary(p: &confide::ReleasePackage) -> String {
    let fields: Vec<String> = p
        .items
        .iter()
        .map(|i| {
            format!(
                "{}[{}]",
                i.kind,
                i.fields.keys().cloned().collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    let limits: Vec<String> = p
        .manifest
        .released
        .iter()
        .map(|r| format!("{} under {}", r.category, r.limit))
        .collect();
    let withheld = if p.manifest.withheld.is_empty() {
        String::new()
    } else {
        let why: Vec<&str> = p
            .manifest
            .withheld
            .iter()
            .map(|w| w.reason.as_str())
            .collect();
        format!("; withheld: {}", why.join(", "))
    };
    format!(
        "{} entries {} ({}){withheld} -- ledger entry {}, audit #{}",
        p.manifest.entries,
        fields.join(" "),
        limits.join("; "),
        &p.manifest.disclosure_id[..8],
        p.manifest.audit_seq
    )
}

/// An employee-assistance programme's authorization reads "attendance only": the release
/// carries what the authorization names, whatever the request asks.
fn scoped_authorization(rivera: &Session, jordan: &ClientId, now: i64) -> Result<(), Error> {
    let t = Purpose::Treatment;
    rivera.create_record(
        jordan,
        RecordKind::Appointment,
        &[
            ("date", Value::Date(Date::new(2026, 11, 24)?)),
            ("status", Value::code("attended")),
            ("location", Value::text("Office 2")),
            ("reason", Value::text("Nightmares after the accident")),
        ],
        t,
    )?;
    let eap = party(
        "Case Manager",
        "Acme Employee Assistance",
        "PO Box 7, Springfield",
    );
    let consent = rivera.record_consent(
        jordan,
        &NewConsent {
            recipient: ConsentRecipient::Outside {
                name: eap.name.clone(),
                organisation: eap.organisation.clone(),
                address: eap.address.clone(),
            },
            categories: vec![Category::Appointments],
            purpose: t,
            start_ms: now,
            expires_ms: None,
            signed_on_ms: now,
            description: "Attendance only, for the employer's programme".into(),
            scope: Some(ReleaseScope::attendance_only()),
            case: None,
            expiry_event: Some("the end of the programme referral".into()),
            signed_by: None,
        },
        t,
    )?;
    let req = DisclosureRequest {
        consent: Some(consent),
        ..request(
            jordan,
            LegalBasis::Authorization,
            vec![Category::Appointments],
            &eap,
        )
    };
    show(
        "Release to the employee-assistance programme under an attendance-only authorization",
        rivera.disclose(&req),
        |p| summary(&p),
    );
    Ok(())
}

/// Jordan paid one session out of pocket and asked that his health plan not be told of it
/// (45 CFR 164.522(a)(1)(vi)): a payment release to that plan leaves it out and says so.
fn self_pay_restriction(rivera: &Session, jordan: &ClientId) -> Result<(), Error> {
    let t = Purpose::Treatment;
    let bill = |date: Date, memo: &str| {
        rivera.create_record(
            jordan,
            RecordKind::Billing,
            &[
                ("date", Value::Date(date)),
                ("service_code", Value::code("90837")),
                ("fee", Value::Number(18_000)),
                ("memo", Value::text(memo)),
            ],
            t,
        )
    };
    bill(Date::new(2026, 11, 3)?, "billed to plan")?;
    let paid = bill(Date::new(2026, 11, 10)?, "paid in full by the client")?;
    let restriction = NewRestriction::SelfPay {
        plan_name: "Claims".into(),
        plan_organisation: "Springfield Health Plan".into(),
        records: vec![paid],
    };
    rivera.record_restriction(jordan, &restriction, t)?;
    let plan = party("Claims", "Springfield Health Plan", "PO Box 9, Springfield");
    let mut req = request(jordan, LegalBasis::Payment, vec![Category::Billing], &plan);
    req.purpose = Purpose::Payment;
    show(
        "Payment release to Jordan's health plan, with one session restricted (self-pay)",
        rivera.disclose(&req),
        |p| summary(&p),
    );
    Ok(())
}

fn request(
    jordan: &ClientId,
    basis: LegalBasis,
    categories: Vec<Category>,
    recipient: &OutsideParty,
) -> DisclosureRequest {
    DisclosureRequest {
        client: *jordan,
        case: None,
        recipient: recipient.clone(),
        purpose: Purpose::Treatment,
        basis,
        consent: None,
        reference: None,
        order: None,
        categories,
        narrow: None,
        protective: None,
        description: String::new(),
    }
}

pub(crate) fn run(rivera: &Session, jordan: &ClientId) -> Result<(), Error> {
    section("Releases outside the vault, and the accounting of disclosures");
    let now = now_ms();
    let pcp = party(
        "Dr. Priya Nair",
        "Lakeside Primary Care",
        "12 Harbor Road, Springfield",
    );
    let consent = rivera.record_consent(
        jordan,
        &NewConsent {
            recipient: ConsentRecipient::Outside {
                name: pcp.name.clone(),
                organisation: pcp.organisation.clone(),
                address: pcp.address.clone(),
            },
            categories: vec![Category::DiagnosisCodes, Category::TreatmentPlan],
            purpose: Purpose::Treatment,
            start_ms: now,
            expires_ms: Some(now + 180 * 24 * 3600 * 1000),
            signed_on_ms: now,
            description: "Diagnosis and treatment plan, to coordinate medication".into(),
            scope: None,
            case: None,
            expiry_event: None,
            signed_by: None,
        },
        Purpose::Treatment,
    )?;
    let request =
        |basis, categories, recipient: &OutsideParty| request(jordan, basis, categories, recipient);
    let mut authorized = request(
        LegalBasis::Authorization,
        vec![Category::DiagnosisCodes, Category::TreatmentPlan],
        &pcp,
    );
    authorized.consent = Some(consent);
    show(
        "Release to Jordan's primary-care doctor under his authorization",
        rivera.disclose(&authorized),
        |p| summary(&p),
    );
    let mut too_much = authorized.clone();
    too_much.categories.push(Category::ProgressNotes);
    show(
        "The same, asking also for progress notes the authorization does not name",
        rivera.disclose(&too_much),
        |p| summary(&p),
    );
    let police = party(
        "Officer Dana Cole",
        "Springfield Police Department",
        "1 Main Street",
    );
    let mut warn = request(
        LegalBasis::DutyToWarn,
        vec![Category::Demographics, Category::ProgressNotes],
        &police,
    );
    warn.purpose = Purpose::Legal;
    warn.description = "Serious and imminent threat against a named person".into();
    // The person at risk and the threat travel in the manifest; of the client, name and
    // contact, and the one field named with its reason.
    warn.protective = Some(Protective {
        at_risk: PersonAtRisk {
            name: "Sam Ortiz".into(),
            contact: "555-0199".into(),
        },
        threat: "Said he would hurt the driver who hit him, and knows where he lives".into(),
        named: vec![NamedField {
            category: Category::ProgressNotes,
            field: "summary".into(),
            reason: "the threat as Jordan stated it".into(),
        }],
    });
    show(
        "Duty to warn: Jordan threatened a named person",
        rivera.disclose(&warn),
        |p| summary(&p),
    );
    scoped_authorization(rivera, jordan, now)?;
    self_pay_restriction(rivera, jordan)?;
    outln!("  Jordan's accounting of disclosures (authorized releases are not listed):");
    for e in rivera.accounting(jordan, None)? {
        outln!(
            "    {}  {} ({}), basis {}: {}",
            &e.disclosed_at[..10],
            e.recipient.name,
            e.recipient.organisation,
            e.legal_basis,
            e.description
        );
    }
    Ok(())
}
