//! The second half of the demo: a couples case held in confidence, and emergency access.

use confide::{
    CaseKind, Category, ClientId, ConsentRecipient, Error, NewConsent, NoteId, Purpose, RecordId,
    SecretsPolicy, Session, Value,
};

use crate::out::outln;
use crate::present::{client, section, show};

/// Field names and revealed values of an export, one line per entry.
fn describe(e: &confide::Export) -> String {
    let mut lines = Vec::new();
    for r in &e.records {
        lines.push(format!("{} ({} fields)", r.kind, r.fields.len()));
    }
    for j in &e.joint_records {
        let text: Vec<String> = j
            .fields
            .values()
            .map(|v| v.reveal().as_str().to_owned())
            .collect();
        lines.push(format!("joint record: {:?}", text.join("; ")));
    }
    format!("{}; withheld {}", lines.join(", "), e.withheld.len())
}

fn mentions_affair(e: &confide::Export) -> bool {
    let records = e.records.iter().flat_map(|r| r.fields.values());
    let joint = e.joint_records.iter().flat_map(|j| j.fields.values());
    records.chain(joint).any(|v| v.reveal().contains("affair"))
}

pub(crate) fn run(
    rivera: &Session,
    chen: &Session,
    jordan: &ClientId,
    progress: &RecordId,
    note: &NoteId,
) -> Result<(), Error> {
    let t = Purpose::Treatment;
    section("A couples case, held in confidence");
    let riley = client(rivera, "Riley Avery", (1988, 8, 30))?;
    let case = rivera.create_case(
        CaseKind::Couple,
        SecretsPolicy::HeldInConfidence,
        &[*jordan, riley],
        t,
    )?;
    rivera.write_joint_record(
        &case,
        &[(
            "summary",
            Value::text("Joint session 1: both want to rebuild trust after the move"),
        )],
        t,
    )?;
    let disclosure = rivera.write_case_note(
        &case,
        jordan,
        &[(
            "disclosure",
            Value::text("Individual session: Jordan disclosed an affair; Riley does not know"),
        )],
        t,
    )?;
    outln!("  case {case}: Jordan and Riley; one joint entry; one individual note of Jordan's");
    let jordan_export = rivera.export_for_client(jordan)?;
    let riley_export = rivera.export_for_client(&riley)?;
    outln!("  Jordan's export: {}", describe(&jordan_export));
    outln!("  Riley's export:  {}", describe(&riley_export));
    outln!(
        "  the disclosure reaches Jordan: {}; reaches Riley: {}",
        mentions_affair(&jordan_export),
        mentions_affair(&riley_export)
    );
    show(
        "Dr. Rivera brings Jordan's disclosure into the joint record",
        rivera.share_into_joint(&disclosure, t),
        |id| id.to_string(),
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    rivera.record_consent(
        jordan,
        &NewConsent {
            recipient: ConsentRecipient::JointRecord,
            categories: vec![Category::IndividualCaseNotes],
            purpose: t,
            start_ms: now,
            expires_ms: None,
            signed_on_ms: now,
            description: "Jordan agrees to discuss the disclosure in joint sessions".into(),
            scope: None,
            case: None,
            expiry_event: None,
            signed_by: None,
        },
        t,
    )?;
    outln!("  (Jordan signs a consent to bring it into the joint record)");
    show(
        "Dr. Rivera brings Jordan's disclosure into the joint record",
        rivera.share_into_joint(&disclosure, t),
        |id| format!("joint entry {id}"),
    );
    outln!(
        "  the disclosure now reaches Riley: {}",
        mentions_affair(&rivera.export_for_client(&riley)?)
    );

    section("Emergency access (break-glass): flagged for review, never notes");
    let e = Purpose::EmergencyTreatment;
    show(
        "Dr. Chen reads Jordan's progress note in an emergency, without break-glass",
        chen.read_record(progress, e),
        |r| format!("{} fields", r.fields.len()),
    );
    chen.break_glass(
        jordan,
        "Client brought to the emergency room; on-call needs the current plan",
        60,
    )?;
    outln!("  Dr. Chen opens break-glass on Jordan for 60 minutes, with a reason");
    show(
        "Dr. Chen reads Jordan's progress note under break-glass",
        chen.read_record(progress, e),
        |r| format!("{} fields, basis {}", r.fields.len(), r.basis),
    );
    show(
        "Dr. Chen reads Dr. Rivera's psychotherapy note under break-glass",
        chen.read_psychotherapy_note(note, e),
        |_| "note".into(),
    );
    chen.end_break_glass(jordan)?;
    show(
        "Dr. Chen reads the progress note after closing break-glass",
        chen.read_record(progress, e),
        |r| format!("{} fields", r.fields.len()),
    );
    Ok(())
}
