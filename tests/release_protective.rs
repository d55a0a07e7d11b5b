//! Protective releases: the duty to warn (45 CFR 164.512(j)(1)(i)) and reports of child or elder
//! abuse (164.512(b)(1)(ii), (c)). A release names the person at risk and the threat; it
//! carries the minimum to identify and locate the client (name, phone, address) and, beyond it,
//! only the fields named one by one with a reason. Each is in the accounting (164.528).

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/manifests.rs"]
mod manifests;

use confide::Category::{
    Demographics, DiagnosisCodes, ProgressNotes, PsychotherapyNotes, SubstanceUse,
};
use confide::{
    Category, DenyReason, DisclosureRequest, LegalBasis, NamedField, OutsideParty, PersonAtRisk,
    Protective, Purpose, RecordKind, Value, fields::PROTECTIVE_MINIMUM,
};
use disclosing::*;
use manifests::*;

const EMAIL: &str = "jordan.reyes@example.net";
const EMPLOYER: &str = "Springfield Tool & Die";
const AT_RISK: &str = "Dana Voss";
const AT_RISK_CONTACT: &str = "555-0199, 14 Birch Lane, Springfield";
const THREAT: &str = "said they would shoot their former supervisor this week";
const WHY_SUMMARY: &str = "the session notes record the threat as the client stated it";
const WHY_BIRTH: &str = "the officer must tell the client apart from a namesake";

/// Jordan's chart, with an email address and an employer on file besides.
fn chart() -> Chart {
    let mut c = Chart::new();
    let dr = c.dr();
    add_entry(
        &mut c,
        &dr,
        RecordKind::Demographics,
        vec![
            ("email", Value::text(EMAIL)),
            ("employer", Value::text(EMPLOYER)),
        ],
    );
    c
}

fn cps() -> OutsideParty {
    party(
        "Intake Worker",
        "County Child Protective Services",
        "55 Elm Street, Springfield",
    )
}

/// `basis` for `categories`, naming the person at risk, the threat, and `named` with reasons.
fn protective(
    c: &Chart,
    to: &OutsideParty,
    basis: LegalBasis,
    categories: &[Category],
    named: &[(Category, &str, &str)],
) -> DisclosureRequest {
    DisclosureRequest {
        reference: Some("Report 2024-0612".into()),
        protective: Some(Protective {
            at_risk: PersonAtRisk {
                name: AT_RISK.into(),
                contact: AT_RISK_CONTACT.into(),
            },
            threat: THREAT.into(),
            named: named
                .iter()
                .map(|(category, field, reason)| NamedField {
                    category: *category,
                    field: (*field).into(),
                    reason: (*reason).into(),
                })
                .collect(),
        }),
        ..ask(c.client, to, basis, Purpose::Legal, categories)
    }
}

fn at_risk() -> Option<PersonAtRisk> {
    Some(PersonAtRisk {
        name: AT_RISK.into(),
        contact: AT_RISK_CONTACT.into(),
    })
}

fn named(category: Category, field: &str, reason: &str) -> NamedField {
    NamedField {
        category,
        field: field.into(),
        reason: reason.into(),
    }
}

#[test]
fn a_warning_carries_name_and_contact_and_each_field_named_with_its_reason() {
    assert_eq!(PROTECTIVE_MINIMUM, ["full_name", "phone", "address"]);
    let c = chart();
    let dr = c.dr();
    let req = protective(
        &c,
        &police(),
        LegalBasis::DutyToWarn,
        &[Demographics, ProgressNotes],
        &[(ProgressNotes, "summary", WHY_SUMMARY)],
    );
    // Name, phone and address; not the date of birth, insurance id, email or employer. Both
    // progress notes' summaries, the one field named.
    let want = c.expect(&[
        (Demographics, Only(PROTECTIVE_MINIMUM)),
        (ProgressNotes, Only(&["summary"])),
    ]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    let json = pkg.to_json();
    for never in [
        "1988-03-14",
        INSURANCE,
        EMAIL,
        EMPLOYER,
        DX_TEXT,
        IMPRESSIONS,
    ] {
        assert!(!json.contains(never), "{never:?} left in a warning");
    }

    let m = &pkg.manifest;
    assert_eq!(
        released(&pkg),
        [
            part(
                Demographics,
                &["full_name", "phone", "address"],
                "protective-minimum"
            ),
            part(ProgressNotes, &["summary"], "named-with-reason"),
        ]
    );
    assert!(m.withheld.is_empty());
    assert_eq!(m.at_risk, at_risk());
    assert_eq!(m.threat.as_deref(), Some(THREAT));
    assert_eq!(m.named, [named(ProgressNotes, "summary", WHY_SUMMARY)]);
    assert_eq!(m.order, None);
    assert_eq!(m.authorization_scope, None);
    let v = json_matches(&pkg);
    assert_eq!(v["manifest"]["at_risk"]["name"], AT_RISK);
    assert_eq!(v["manifest"]["at_risk"]["contact"], AT_RISK_CONTACT);
    assert_eq!(v["manifest"]["threat"], THREAT);
    assert_eq!(v["manifest"]["named"][0]["reason"], WHY_SUMMARY);
    assert_eq!(v["manifest"]["named"][0]["category"], "progress_notes");

    // 164.528: accounted for, to the police.
    let lines = accounting(&c.p, &c.client);
    assert_eq!(lines.len(), 1);
    let line = line_of(&lines, &pkg).expect("the warning is in the accounting");
    assert_eq!(line.recipient, police());
    assert_eq!(line.legal_basis, "duty-to-warn");
    assert_eq!(line.purpose, Purpose::Legal.code());
    for said in ["demographics", "progress_notes", "named-with-reason"] {
        assert!(line.description.contains(said), "{said} in the accounting");
    }
    assert!(!line.description.contains(PROGRESS_1));
}

#[test]
fn a_demographic_beyond_the_minimum_leaves_only_when_named_with_its_reason() {
    let c = chart();
    let dr = c.dr();
    let req = protective(
        &c,
        &police(),
        LegalBasis::DutyToWarn,
        &[Demographics],
        &[(Demographics, "date_of_birth", WHY_BIRTH)],
    );
    let want = c.expect(&[(
        Demographics,
        Only(&["full_name", "phone", "address", "date_of_birth"]),
    )]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(
        released(&pkg),
        [
            part(
                Demographics,
                &["full_name", "phone", "address"],
                "protective-minimum"
            ),
            part(Demographics, &["date_of_birth"], "named-with-reason"),
        ]
    );
    assert_eq!(
        pkg.manifest.named,
        [named(Demographics, "date_of_birth", WHY_BIRTH)]
    );
    let json = pkg.to_json();
    for never in [INSURANCE, EMAIL, EMPLOYER] {
        assert!(!json.contains(never), "{never:?} left unnamed");
    }
    assert!(line_of(&accounting(&c.p, &c.client), &pkg).is_some());
}

#[test]
fn a_protective_release_names_the_person_the_threat_and_a_reason_for_each_field() {
    let c = chart();
    let dr = c.dr();
    let basis = LegalBasis::DutyToWarn;
    let good = || {
        protective(
            &c,
            &police(),
            basis,
            &[Demographics, ProgressNotes],
            &[(ProgressNotes, "summary", WHY_SUMMARY)],
        )
    };
    let edit = |f: &dyn Fn(&mut Protective)| {
        let mut req = good();
        f(req.protective.as_mut().unwrap());
        req
    };
    // No person at risk and threat at all.
    invalid(
        &c.p,
        &dr,
        &DisclosureRequest {
            protective: None,
            ..good()
        },
    );
    // A person at risk with no name; a threat left blank.
    invalid(&c.p, &dr, &edit(&|p| p.at_risk.name = "  ".into()));
    invalid(&c.p, &dr, &edit(&|p| p.threat = String::new()));
    invalid(&c.p, &dr, &edit(&|p| p.threat = " \n ".into()));
    // A category asked for with no field of it named.
    invalid(&c.p, &dr, &edit(&|p| p.named.clear()));
    let unnamed = protective(
        &c,
        &police(),
        basis,
        &[Demographics, ProgressNotes, DiagnosisCodes],
        &[(ProgressNotes, "summary", WHY_SUMMARY)],
    );
    invalid(&c.p, &dr, &unnamed);
    // A field named without a reason.
    invalid(&c.p, &dr, &edit(&|p| p.named[0].reason = String::new()));
    invalid(&c.p, &dr, &edit(&|p| p.named[0].reason = "   ".into()));
    let second = edit(&|p| p.named.push(named(Demographics, "date_of_birth", "")));
    invalid(&c.p, &dr, &second);
    // Only a protective basis names a person at risk.
    let on_payment = DisclosureRequest {
        basis: LegalBasis::Payment,
        purpose: Purpose::Payment,
        ..good()
    };
    invalid(&c.p, &dr, &on_payment);
    assert_eq!(ledger_rows(&c.p), 0);
    assert!(accounting(&c.p, &c.client).is_empty());

    // The same request, whole: released.
    let want = c.expect(&[
        (Demographics, Only(PROTECTIVE_MINIMUM)),
        (ProgressNotes, Only(&["summary"])),
    ]);
    release(&c.p, &dr, &good(), want, &c.plaintext());
}

#[test]
fn a_child_abuse_report_carries_the_minimum_and_named_fields_of_the_general_record() {
    let c = chart();
    let dr = c.dr();
    let basis = LegalBasis::ChildAbuseReport;
    let why_code = "the agency assesses the caregiver's capacity";
    let req = protective(
        &c,
        &cps(),
        basis,
        &[Demographics, DiagnosisCodes, ProgressNotes],
        &[
            (DiagnosisCodes, "code", why_code),
            (ProgressNotes, "summary", WHY_SUMMARY),
        ],
    );
    let want = c.expect(&[
        (Demographics, Only(PROTECTIVE_MINIMUM)),
        (DiagnosisCodes, Only(&["code"])),
        (ProgressNotes, Only(&["summary"])),
    ]);
    let pkg = release(&c.p, &dr, &req, want, &c.plaintext());
    assert_eq!(
        released(&pkg),
        [
            part(
                Demographics,
                &["full_name", "phone", "address"],
                "protective-minimum"
            ),
            part(DiagnosisCodes, &["code"], "named-with-reason"),
            part(ProgressNotes, &["summary"], "named-with-reason"),
        ]
    );
    let m = &pkg.manifest;
    assert!(m.withheld.is_empty());
    assert_eq!(m.at_risk, at_risk());
    assert_eq!(m.threat.as_deref(), Some(THREAT));
    assert_eq!(
        m.named,
        [
            named(DiagnosisCodes, "code", why_code),
            named(ProgressNotes, "summary", WHY_SUMMARY),
        ]
    );
    let json = pkg.to_json();
    for never in [DX_TEXT, "1988-03-14", INSURANCE, EMAIL, EMPLOYER] {
        assert!(!json.contains(never), "{never:?} left in the report");
    }
    let lines = accounting(&c.p, &c.client);
    let line = line_of(&lines, &pkg).expect("the report is in the accounting");
    assert_eq!(line.recipient, cps());
    assert_eq!(line.legal_basis, "child-abuse-report");

    // Psychotherapy notes and substance-use records are never in a report, even named with a
    // reason: refused whole, audited.
    for never in [
        (PsychotherapyNotes, "impressions"),
        (SubstanceUse, "assessment"),
    ] {
        let req = protective(
            &c,
            &cps(),
            basis,
            &[Demographics, ProgressNotes, never.0],
            &[
                (ProgressNotes, "summary", WHY_SUMMARY),
                (never.0, never.1, "the agency asked for everything"),
            ],
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
        let req = protective(
            &c,
            &cps(),
            basis,
            &[never.0],
            &[(never.0, never.1, "the agency asked for everything")],
        );
        refused_for(&c.p, &dr, &req, DenyReason::PurposeNotPermitted);
    }
    assert_eq!(ledger_rows(&c.p), 1);
    assert_eq!(accounting(&c.p, &c.client).len(), 1);
}
