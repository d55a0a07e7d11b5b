//! The demonstration's record history: a note signed, an overwrite refused, an addendum.

use confide::{
    Category, ClientId, DenialBasis, DisclosureRequest, EntryStatus, Error, LegalBasis,
    NewAmendment, NoteId, Order, OutsideParty, Purpose, RecordId, ReleaseScope, Session, Value,
};

use confide::scope::Fields as Scoped;

use crate::out::outln;
use crate::present::{section, show};

fn status(s: &EntryStatus) -> &'static str {
    match s {
        EntryStatus::Draft => "draft",
        EntryStatus::Signed { .. } => "signed",
        EntryStatus::SignedByUpgrade => "signed by the upgrade",
        _ => "other",
    }
}

/// Dr. Rivera corrects her draft progress note, signs it and her psychotherapy note, is refused
/// an overwrite, and adds an addendum instead.
pub(crate) fn run(rivera: &Session, progress: &RecordId, note: &NoteId) -> Result<(), Error> {
    let t = Purpose::Treatment;
    section("Record history: drafts, signing, addenda");
    rivera.update_record(
        progress,
        &[(
            "summary",
            Value::text("Session 4: completed imaginal exposure; SUDS 85 -> 45"),
        )],
        t,
    )?;
    let versions = rivera.record_versions(progress, t)?;
    outln!(
        "  the draft progress note was corrected: {} versions kept",
        versions.len()
    );
    rivera.sign_record(progress, t)?;
    rivera.sign_psychotherapy_note(note, t)?;
    let signed = rivera.read_record(progress, t)?;
    outln!(
        "  Dr. Rivera signs it and her psychotherapy note: {}",
        status(&signed.status)
    );
    show(
        "Dr. Rivera writes over the signed progress note",
        rivera.update_record(
            progress,
            &[("summary", Value::text("Session 4: (rewritten)"))],
            t,
        ),
        |()| "overwritten".into(),
    );
    rivera.add_addendum(
        progress,
        "late entry: client reported a panic attack while driving on 3 December",
        &[(
            "summary",
            Value::text("Panic attack while driving; rehearsed grounding for the next drive"),
        )],
        t,
    )?;
    show(
        "Dr. Rivera reads the progress note with its addenda",
        rivera.read_record(progress, t),
        |r| {
            let first = r.addenda.first().and_then(|a| a.get("reason"));
            format!(
                "{} addendum(s); the first says why: {:?}",
                r.addenda.len(),
                first
                    .map(|v| v.reveal().as_str().to_owned())
                    .unwrap_or_default()
            )
        },
    );
    Ok(())
}

/// Jordan asks to amend his diagnosis; Dr. Rivera denies it in writing; his statement of
/// disagreement then goes with a court-ordered release of the diagnosis.
pub(crate) fn amendment(rivera: &Session, jordan: &ClientId, dx: &RecordId) -> Result<(), Error> {
    let t = Purpose::Treatment;
    section("A request to amend (45 CFR 164.526), denied, and the statement that travels");
    rivera.sign_record(dx, t)?;
    let request = rivera.request_amendment(
        jordan,
        &NewAmendment {
            records: vec![*dx],
            what: "Remove the PTSD diagnosis".into(),
            why: "I had one bad month; it will follow me into job applications".into(),
        },
        t,
    )?;
    let listed = rivera.list_amendments(jordan, t)?;
    if let Some(r) = listed.first() {
        let days = (r.due_at_ms - r.received_at_ms) / 86_400_000;
        outln!(
            "  Jordan asks to remove his diagnosis; the practice must answer within {days} days"
        );
    }
    rivera.deny_amendment(
        &request,
        DenialBasis::AccurateAndComplete,
        "Criteria met over twelve weeks of assessment; documented at intake and in session 4",
        t,
    )?;
    rivera.file_disagreement(
        &request,
        "The symptoms were a reaction to the accident and are gone",
        t,
    )?;
    outln!(
        "  denied ({}); Jordan files a statement of disagreement",
        DenialBasis::AccurateAndComplete.code()
    );
    let court = OutsideParty {
        name: "Clerk of the Court".into(),
        organisation: "Springfield County Court".into(),
        address: "200 Court Street".into(),
    };
    let order = DisclosureRequest {
        client: *jordan,
        case: None,
        recipient: court,
        purpose: Purpose::Legal,
        basis: LegalBasis::CourtOrder,
        consent: None,
        reference: Some("Order 2026-CV-0412".into()),
        order: Some(Order {
            issuer: "Judge A. Moreno, Springfield County Court".into(),
            issued_on_ms: now_ms(),
            names: ReleaseScope::new().with(Category::DiagnosisCodes, Scoped::only(&["code"])),
        }),
        categories: vec![Category::DiagnosisCodes],
        narrow: None,
        protective: None,
        description: "Diagnosis codes, as the order names them".into(),
    };
    show(
        "A court-ordered release of Jordan's diagnosis",
        rivera.disclose(&order),
        |p| {
            let carried: Vec<String> = p
                .disputes
                .iter()
                .map(|d| format!("request {}: statement {:?}", &d.request[..8], d.statement))
                .collect();
            format!(
                "{} entry; the manifest names {} dispute(s); the package carries {}",
                p.items.len(),
                p.manifest.disputes.len(),
                carried.join("; ")
            )
        },
    );
    Ok(())
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
