//! The demonstration's record history: a note signed, an overwrite refused, an addendum.

use confide::{EntryStatus, Error, NoteId, Purpose, RecordId, Session, Value};

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
