//! The last part of the demo: what leaves the vault, and the accounting of disclosures.

use confide::{
    Category, ClientId, ConsentRecipient, DisclosureRequest, Error, LegalBasis, NewConsent,
    OutsideParty, Purpose, Session,
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
    format!(
        "{} entries {} -- ledger entry {}, audit #{}",
        p.manifest.entries,
        fields.join(" "),
        &p.manifest.disclosure_id[..8],
        p.manifest.audit_seq
    )
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
    let request = |basis, categories: Vec<Category>, recipient: &OutsideParty| DisclosureRequest {
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
    };
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
    show(
        "Duty to warn: Jordan threatened a named person",
        rivera.disclose(&warn),
        |p| summary(&p),
    );
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
