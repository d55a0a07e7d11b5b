//! Record history, attacked: an addendum deleted, a draft's version put back, a signed entry's
//! row edited to reopen it, its signer or an addendum's link rewritten, by someone with SQLite
//! write access to the file and an ordinary login. Each edit must fail the next call that reads
//! the entry with a typed error, that failure must be audited, and `audit-verify` (no key) must
//! report it at the entry that last vouched for what was edited.
//!
//! The insider angles follow: an addendum is read only by whoever may read its entry, with the
//! fields they may see, and a psychotherapy note's addenda stay with the notes.

mod common;
#[path = "common/history.rs"]
mod history;
#[path = "common/tampered.rs"]
mod tampered;

use std::path::Path;

use common::*;
use confide::{
    ClientId, DenyReason, EntryStatus, Error, FindingKind, NoteId, Purpose, RecordId, RecordKind,
    Value,
};
use history::*;
use rusqlite::params;
use tampered::*;

const T: Purpose = Purpose::Treatment;

/// `audit-verify` reports exactly `want`, in any order (two findings at one entry are listed
/// in no order the report promises).
#[track_caller]
fn assert_findings_unordered(path: &Path, mut want: Vec<(u64, FindingKind)>) {
    let report = confide::verify_audit_log(path).unwrap();
    let mut found: Vec<_> = report.findings.iter().map(|f| (f.seq, f.kind)).collect();
    let key = |(seq, kind): &(u64, FindingKind)| (*seq, format!("{kind:?}"));
    found.sort_by_key(key);
    want.sort_by_key(key);
    assert_eq!(found, want, "{report:?}");
}

/// `result` is the integrity failure of a link in `addenda` whose addendum is gone.
#[track_caller]
fn assert_link_failed<T: std::fmt::Debug>(result: Result<T, Error>, addendum: &[u8; 16]) {
    match result {
        Err(Error::Integrity { place }) => assert_eq!(
            (place.table, place.record.as_str(), place.field.as_str()),
            ("addenda", hex(addendum).as_str(), "(the addendum)"),
            "another place failed: {place:?}"
        ),
        other => panic!(
            "expected the addendum {} to fail, got {other:?}",
            hex(addendum)
        ),
    }
}

/// An addendum deleted from the file with its fields, its link left in place: reading the
/// diagnosis fails on the link rather than showing the uncorrected code, and `audit-verify`
/// reports the addendum missing at the entry that wrote it.
#[test]
fn a_deleted_addendum_fails_its_entry_and_is_reported_missing() {
    let c = chart();
    let wrote = granted_on(c.p.path(), "record.addendum", c.addendum.as_bytes());
    delete_entry(c.p.path(), "records", c.addendum.as_bytes());
    let dr = c.p.login("dr.a");
    assert_link_failed(dr.read_record(&c.dx, T), c.addendum.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    // Batched with an untouched entry, only the diagnosis fails.
    let both = dr.read_records(&[c.note, c.dx], T).unwrap();
    assert!(both[0].is_ok(), "{:?}", both[0]);
    assert_link_failed(both.into_iter().nth(1).unwrap(), c.addendum.as_bytes());
    assert_findings(
        c.p.path(),
        &[record_missing(wrote.seq, c.addendum.as_bytes())],
    );
}

/// The addendum deleted with its link too: the client's facts no longer match their MAC, so
/// nothing of the client is decided on, and `audit-verify` reports both the facts and the
/// missing addendum at the entry that wrote it (the last to vouch for either).
#[test]
fn a_deleted_addendum_and_its_link_fail_the_clients_facts() {
    let c = chart();
    let wrote = granted_on(c.p.path(), "record.addendum", c.addendum.as_bytes());
    delete_entry(c.p.path(), "records", c.addendum.as_bytes());
    raw(c.p.path())
        .execute(
            "DELETE FROM addenda WHERE addendum_id = ?1",
            [c.addendum.as_bytes()],
        )
        .unwrap();
    let dr = c.p.login("dr.a");
    assert_scope_failed(dr.read_record(&c.dx, T), "clients", c.client.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_scope_failed(
        dr.add_addendum(&c.dx, "again", &[("code", Value::code("F43.10"))], T),
        "clients",
        c.client.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.addendum", &dr.user_id());
    // The client's facts were last vouched for by the progress note's signature.
    let vouch = vouched_for(c.p.path(), "client", c.client.as_bytes());
    assert_eq!(vouch.action, "record.sign");
    assert_findings_unordered(
        c.p.path(),
        vec![
            facts_changed(vouch.seq, "client", c.client.as_bytes()),
            record_missing(wrote.seq, c.addendum.as_bytes()),
        ],
    );
}

/// The first draft's envelope (`summary@1`) put back as the current summary, its version row
/// deleted: the note's set of fields fails its MAC, and the log's last word on the note, its
/// signature, no longer matches.
#[test]
fn a_draft_version_put_back_as_the_current_value_fails_the_read() {
    let c = chart();
    let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes());
    let db = raw(c.p.path());
    let kept: Vec<String> = db
        .prepare("SELECT field FROM record_fields WHERE record_id = ?1 ORDER BY field")
        .unwrap()
        .query_map([c.note.as_bytes()], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(kept, ["summary", "summary@1"]);
    db.execute(
        "DELETE FROM record_fields WHERE record_id = ?1 AND field = 'summary'",
        [c.note.as_bytes()],
    )
    .unwrap();
    db.execute(
        "UPDATE record_fields SET field = 'summary' WHERE record_id = ?1 AND field = 'summary@1'",
        [c.note.as_bytes()],
    )
    .unwrap();
    let dr = c.p.login("dr.a");
    assert_set_failed(
        dr.read_record(&c.note, T),
        "record_fields",
        c.note.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_set_failed(
        dr.record_versions(&c.note, T),
        "record_fields",
        c.note.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_findings(c.p.path(), &[record_changed(signed.seq, c.note.as_bytes())]);
}

/// Only the version row deleted: the history is shortened, and that fails the same way.
#[test]
fn a_draft_version_deleted_fails_the_read() {
    let c = chart();
    let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes());
    raw(c.p.path())
        .execute(
            "DELETE FROM record_fields WHERE record_id = ?1 AND field = 'summary@1'",
            [c.note.as_bytes()],
        )
        .unwrap();
    let dr = c.p.login("dr.a");
    assert_set_failed(
        dr.read_record(&c.note, T),
        "record_fields",
        c.note.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_findings(c.p.path(), &[record_changed(signed.seq, c.note.as_bytes())]);
}

/// The whole progress note put back as it was before its second draft and its signature: row
/// (status, write count and MAC) and envelopes from the older copy, a state the vault once
/// authenticated. The note reads as a draft, but the client's facts no longer list it among
/// its drafts, so neither the overwrite this would open nor a read is let through, and
/// `audit-verify` reports the note at the signature.
#[test]
fn a_signed_entry_rolled_back_whole_to_its_draft_is_not_reopened() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first draft"))],
            T,
        )
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "records", "record_id", note.as_bytes());
    save_row(&db, "record_fields", "record_id", note.as_bytes());
    dr.update_record(&note, &[("summary", Value::text("second draft"))], T)
        .unwrap();
    dr.sign_record(&note, T).unwrap();
    let signed = granted_on(p.path(), "record.sign", note.as_bytes());
    restore_row(
        &db,
        "records",
        "record_fields",
        "record_id",
        note.as_bytes(),
    );

    let overwrite = dr.update_record(&note, &[("summary", Value::text("rewritten"))], T);
    assert_scope_failed(overwrite, "clients", client.as_bytes());
    assert_failure_audited(p.path(), "record.update", &dr.user_id());
    assert_scope_failed(dr.read_record(&note, T), "clients", client.as_bytes());
    assert_eq!(
        vouched_for(p.path(), "client", client.as_bytes()).seq,
        signed.seq
    );
    assert_findings(p.path(), &[record_changed(signed.seq, note.as_bytes())]);
}

/// A draft rolled back whole to before its last update is the known limit of the read path (a
/// state the vault once authenticated reads as it was then); `audit-verify` reports it at the
/// update.
#[test]
fn a_draft_rolled_back_whole_reads_as_it_was_and_audit_verify_catches_it() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let plan = dr
        .create_record(
            &client,
            RecordKind::TreatmentPlan,
            &[("goals", Value::text("sleep"))],
            T,
        )
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "records", "record_id", plan.as_bytes());
    save_row(&db, "record_fields", "record_id", plan.as_bytes());
    dr.update_record(&plan, &[("goals", Value::text("sleep, work"))], T)
        .unwrap();
    let updated = granted_on(p.path(), "record.update", plan.as_bytes());
    restore_row(
        &db,
        "records",
        "record_fields",
        "record_id",
        plan.as_bytes(),
    );
    let read = dr.read_record(&plan, T).unwrap();
    assert_eq!(read.get("goals"), Some(&Value::text("sleep")));
    assert_eq!(dr.record_versions(&plan, T).unwrap().len(), 1);
    assert_findings(p.path(), &[record_changed(updated.seq, plan.as_bytes())]);
}

/// The statuses a tamperer may write over a signed entry's to reopen it: a draft with the
/// signer left, a draft with the signature cleared, and NULL (written before format 10).
const REOPENINGS: [&str; 3] = [
    "status = 1",
    "status = 1, signed_by = NULL, signed_at = NULL",
    "status = NULL, signed_by = NULL, signed_at = NULL",
];

/// A signed entry's status cleared, each way: the overwrite is refused on integrity (audited),
/// the entry is never read as a draft, and `audit-verify` reports it at its signature.
#[test]
fn a_signed_entrys_status_cleared_fails_the_overwrite() {
    for reopen in REOPENINGS {
        let c = chart();
        let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes());
        raw(c.p.path())
            .execute(
                &format!("UPDATE records SET {reopen} WHERE record_id = ?1"),
                [c.note.as_bytes()],
            )
            .unwrap();
        let dr = c.p.login("dr.a");
        let overwrite = dr.update_record(&c.note, &[("summary", Value::text("x"))], T);
        assert!(
            matches!(&overwrite, Err(Error::Integrity { .. })),
            "{reopen}: {overwrite:?}"
        );
        assert_failure_audited(c.p.path(), "record.update", &dr.user_id());
        let read = dr.read_record(&c.note, T);
        assert!(
            matches!(&read, Err(Error::Integrity { .. })),
            "{reopen}: {read:?}"
        );
        assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
        assert_findings(c.p.path(), &[record_changed(signed.seq, c.note.as_bytes())]);
    }
}

/// The signer rewritten to another clinician: the entry fails its MAC.
#[test]
fn a_signer_rewritten_fails_the_read() {
    let c = chart();
    let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes());
    let dr_b = confide::staff_user_id(c.p.path(), "dr.b").unwrap();
    raw(c.p.path())
        .execute(
            "UPDATE records SET signed_by = ?2 WHERE record_id = ?1",
            params![c.note.as_bytes(), dr_b.as_bytes()],
        )
        .unwrap();
    let dr = c.p.login("dr.a");
    assert_set_failed(
        dr.read_record(&c.note, T),
        "record_fields",
        c.note.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_findings(c.p.path(), &[record_changed(signed.seq, c.note.as_bytes())]);
}

/// An addendum relabelled (`addendum_of`) to correct the progress note instead: reading the
/// diagnosis fails on the addendum rather than dropping it; `audit-verify` reports the addendum
/// at the entry that wrote it.
#[test]
fn an_addendum_relabelled_to_another_entry_fails_the_read() {
    let c = chart();
    let wrote = granted_on(c.p.path(), "record.addendum", c.addendum.as_bytes());
    raw(c.p.path())
        .execute(
            "UPDATE records SET addendum_of = ?2 WHERE record_id = ?1",
            params![c.addendum.as_bytes(), c.note.as_bytes()],
        )
        .unwrap();
    let dr = c.p.login("dr.a");
    assert_set_failed(
        dr.read_record(&c.dx, T),
        "record_fields",
        c.addendum.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_findings(
        c.p.path(),
        &[record_changed(wrote.seq, c.addendum.as_bytes())],
    );
}

/// The link moved instead (`addenda.of_id`): a fact of the client, so the client's facts fail.
#[test]
fn an_addendums_link_moved_to_another_entry_fails_the_clients_facts() {
    let c = chart();
    let vouch = vouched_for(c.p.path(), "client", c.client.as_bytes());
    raw(c.p.path())
        .execute(
            "UPDATE addenda SET of_id = ?2 WHERE addendum_id = ?1",
            params![c.addendum.as_bytes(), c.note.as_bytes()],
        )
        .unwrap();
    let dr = c.p.login("dr.a");
    assert_scope_failed(dr.read_record(&c.note, T), "clients", c.client.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_findings(
        c.p.path(),
        &[facts_changed(vouch.seq, "client", c.client.as_bytes())],
    );
}

/// dr.a's psychotherapy note, drafted twice and signed, with one addendum.
struct Notes {
    p: Practice,
    client: ClientId,
    note: NoteId,
    addendum: NoteId,
}

fn notes() -> Notes {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .write_psychotherapy_note(&client, &[("process", Value::text("first draft"))], T)
        .unwrap();
    dr.update_psychotherapy_note(&note, &[("process", Value::text("second draft"))], T)
        .unwrap();
    dr.sign_psychotherapy_note(&note, T).unwrap();
    let addendum = dr
        .add_note_addendum(
            &note,
            "recalled after the session",
            &[("process", Value::text("transference noted"))],
            T,
        )
        .unwrap();
    Notes {
        p,
        client,
        note,
        addendum,
    }
}

const NOTE_FIELDS: &str = "psychotherapy_note_fields";

#[test]
fn a_deleted_note_addendum_fails_the_note_and_is_reported_missing() {
    let n = notes();
    let wrote = granted_on(n.p.path(), "note.addendum", n.addendum.as_bytes());
    delete_entry(n.p.path(), "psychotherapy_notes", n.addendum.as_bytes());
    let dr = n.p.login("dr.a");
    assert_link_failed(
        dr.read_psychotherapy_note(&n.note, T),
        n.addendum.as_bytes(),
    );
    assert_failure_audited(n.p.path(), "note.read", &dr.user_id());
    assert_findings(
        n.p.path(),
        &[record_missing(wrote.seq, n.addendum.as_bytes())],
    );
}

#[test]
fn a_deleted_note_addendum_and_its_link_fail_the_clients_facts() {
    let n = notes();
    let wrote = granted_on(n.p.path(), "note.addendum", n.addendum.as_bytes());
    delete_entry(n.p.path(), "psychotherapy_notes", n.addendum.as_bytes());
    raw(n.p.path())
        .execute(
            "DELETE FROM addenda WHERE addendum_id = ?1",
            [n.addendum.as_bytes()],
        )
        .unwrap();
    let dr = n.p.login("dr.a");
    assert_scope_failed(
        dr.read_psychotherapy_note(&n.note, T),
        "clients",
        n.client.as_bytes(),
    );
    assert_failure_audited(n.p.path(), "note.read", &dr.user_id());
    assert_findings_unordered(
        n.p.path(),
        vec![
            facts_changed(wrote.seq, "client", n.client.as_bytes()),
            record_missing(wrote.seq, n.addendum.as_bytes()),
        ],
    );
}

#[test]
fn a_note_draft_version_put_back_fails_the_read() {
    let n = notes();
    let signed = granted_on(n.p.path(), "note.sign", n.note.as_bytes());
    let db = raw(n.p.path());
    db.execute(
        &format!("DELETE FROM {NOTE_FIELDS} WHERE note_id = ?1 AND field = 'process'"),
        [n.note.as_bytes()],
    )
    .unwrap();
    let moved = db
        .execute(
            &format!(
                "UPDATE {NOTE_FIELDS} SET field = 'process' WHERE note_id = ?1 \
                 AND field = 'process@1'"
            ),
            [n.note.as_bytes()],
        )
        .unwrap();
    assert_eq!(moved, 1);
    let dr = n.p.login("dr.a");
    assert_set_failed(
        dr.read_psychotherapy_note(&n.note, T),
        NOTE_FIELDS,
        n.note.as_bytes(),
    );
    assert_failure_audited(n.p.path(), "note.read", &dr.user_id());
    assert_findings(n.p.path(), &[record_changed(signed.seq, n.note.as_bytes())]);
}

#[test]
fn a_signed_note_rolled_back_whole_to_its_draft_is_not_reopened() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .write_psychotherapy_note(&client, &[("process", Value::text("first draft"))], T)
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "psychotherapy_notes", "note_id", note.as_bytes());
    save_row(&db, NOTE_FIELDS, "note_id", note.as_bytes());
    dr.sign_psychotherapy_note(&note, T).unwrap();
    let signed = granted_on(p.path(), "note.sign", note.as_bytes());
    restore_row(
        &db,
        "psychotherapy_notes",
        NOTE_FIELDS,
        "note_id",
        note.as_bytes(),
    );
    let overwrite =
        dr.update_psychotherapy_note(&note, &[("process", Value::text("rewritten"))], T);
    assert_scope_failed(overwrite, "clients", client.as_bytes());
    assert_failure_audited(p.path(), "note.update", &dr.user_id());
    assert_findings(p.path(), &[record_changed(signed.seq, note.as_bytes())]);
}

#[test]
fn a_signed_notes_status_cleared_fails_the_overwrite() {
    for reopen in REOPENINGS {
        let n = notes();
        raw(n.p.path())
            .execute(
                &format!("UPDATE psychotherapy_notes SET {reopen} WHERE note_id = ?1"),
                [n.note.as_bytes()],
            )
            .unwrap();
        let dr = n.p.login("dr.a");
        let overwrite = dr.update_psychotherapy_note(&n.note, &[("process", Value::text("x"))], T);
        assert!(
            matches!(&overwrite, Err(Error::Integrity { .. })),
            "{reopen}: {overwrite:?}"
        );
        assert_failure_audited(n.p.path(), "note.update", &dr.user_id());
        let signed = granted_on(n.p.path(), "note.sign", n.note.as_bytes());
        let found = confide::verify_audit_log(n.p.path()).unwrap().findings;
        assert!(
            found.iter().any(|f| f.seq == signed.seq
                && f.kind
                    == FindingKind::RecordChanged {
                        id: *n.note.as_bytes()
                    }),
            "{reopen}: {found:?}"
        );
    }
}

#[test]
fn a_note_signer_rewritten_or_addendum_relabelled_fails_the_read() {
    let n = notes();
    let signed = granted_on(n.p.path(), "note.sign", n.note.as_bytes());
    let dr_b = confide::staff_user_id(n.p.path(), "dr.b").unwrap();
    raw(n.p.path())
        .execute(
            "UPDATE psychotherapy_notes SET signed_by = ?2 WHERE note_id = ?1",
            params![n.note.as_bytes(), dr_b.as_bytes()],
        )
        .unwrap();
    let dr = n.p.login("dr.a");
    assert_set_failed(
        dr.read_psychotherapy_note(&n.note, T),
        NOTE_FIELDS,
        n.note.as_bytes(),
    );
    assert_failure_audited(n.p.path(), "note.read", &dr.user_id());
    assert_findings(n.p.path(), &[record_changed(signed.seq, n.note.as_bytes())]);

    let n = notes();
    let other =
        n.p.login("dr.a")
            .write_psychotherapy_note(&n.client, &[("process", Value::text("another"))], T)
            .unwrap();
    let wrote = granted_on(n.p.path(), "note.addendum", n.addendum.as_bytes());
    raw(n.p.path())
        .execute(
            "UPDATE psychotherapy_notes SET addendum_of = ?2 WHERE note_id = ?1",
            params![n.addendum.as_bytes(), other.as_bytes()],
        )
        .unwrap();
    let dr = n.p.login("dr.a");
    assert_set_failed(
        dr.read_psychotherapy_note(&n.note, T),
        NOTE_FIELDS,
        n.addendum.as_bytes(),
    );
    assert_failure_audited(n.p.path(), "note.read", &dr.user_id());
    assert_findings(
        n.p.path(),
        &[record_changed(wrote.seq, n.addendum.as_bytes())],
    );
}

/// An insider who does not treat the client: neither the entry nor its addendum, read by its
/// own id, opens for them, and each refusal is audited.
#[test]
fn an_addendum_is_refused_to_a_clinician_who_does_not_treat_the_client() {
    let c = chart();
    let dr_b = c.p.login("dr.b");
    for id in [c.dx, c.addendum] {
        let read = dr_b.read_record(&id, T);
        assert!(
            matches!(
                read,
                Err(Error::Denied {
                    reason: DenyReason::NoRelationship,
                    ..
                })
            ),
            "{read:?}"
        );
        let last = log(c.p.path()).pop().unwrap();
        assert_eq!(
            (last.action.as_str(), last.outcome.as_str(), last.actor),
            (
                "record.read",
                "denied:no-relationship",
                Some(dr_b.user_id())
            )
        );
    }
    let versions = dr_b.record_versions(&c.addendum, T);
    assert!(
        matches!(versions, Err(Error::Denied { .. })),
        "{versions:?}"
    );
    let add = dr_b.add_addendum(&c.dx, "mine", &[("code", Value::code("F32.0"))], T);
    assert!(matches!(add, Err(Error::Denied { .. })), "{add:?}");
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

/// The biller, reading the diagnosis or its addendum for payment, gets the corrected code and
/// never the reason (a clinical narrative), whichever way they ask.
#[test]
fn a_biller_sees_an_addendums_code_and_never_its_reason() {
    let c = chart();
    let biller = c.p.login("biller");
    let names =
        |r: &confide::Record| -> Vec<String> { r.fields.keys().map(|k| k.to_string()).collect() };
    let dx = biller.read_record(&c.dx, Purpose::Payment).unwrap();
    assert_eq!(dx.addenda.len(), 1);
    assert_eq!(names(&dx.addenda[0]), ["code"]);
    assert_eq!(dx.addenda[0].get("code"), Some(&Value::code("F43.10")));
    let direct = biller.read_record(&c.addendum, Purpose::Payment).unwrap();
    assert_eq!(names(&direct), ["code"]);
    assert_eq!(direct.addendum_of, Some(c.dx));
    let versions = biller
        .record_versions(&c.addendum, Purpose::Payment)
        .unwrap();
    assert!(
        versions
            .iter()
            .all(|v| v.fields.keys().all(|k| k.as_str() == "code"))
    );
    let fields: Vec<Vec<String>> = log(c.p.path())
        .into_iter()
        .filter(|e| e.actor == Some(biller.user_id()) && e.action == "record.read")
        .map(|e| e.fields)
        .collect();
    assert!(
        fields.iter().flatten().all(|f| !f.starts_with("reason")),
        "{fields:?}"
    );
}

/// A psychotherapy note's addendum is a psychotherapy note: no general-record call lists it,
/// reads it or exports it.
#[test]
fn a_note_addendum_never_leaves_the_notes() {
    let n = notes();
    let dr = n.p.login("dr.a");
    let as_record: RecordId = n.addendum.to_string().parse().unwrap();
    let read = dr.read_record(&as_record, T);
    assert!(
        matches!(
            read,
            Err(Error::Denied {
                reason: DenyReason::NoRelationship,
                ..
            })
        ),
        "{read:?}"
    );
    let listed = dr.list_records(&n.client, T).unwrap();
    assert_eq!(
        listed.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [RecordKind::Demographics]
    );
    let export = dr.export_for_client(&n.client).unwrap();
    let exported: Vec<String> = export.records.iter().map(|r| r.id.to_string()).collect();
    assert_eq!(exported.len(), 1);
    assert!(!exported.contains(&n.addendum.to_string()) && !exported.contains(&n.note.to_string()));
    assert!(export.records.iter().all(|r| r.addenda.is_empty()));
    assert_eq!(
        dr.list_psychotherapy_notes(&n.client, T)
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect::<Vec<_>>(),
        [n.note]
    );
    let read = dr.read_psychotherapy_note(&n.note, T).unwrap();
    assert_eq!(
        read.addenda.iter().map(|a| a.id).collect::<Vec<_>>(),
        [n.addendum]
    );
    assert!(!read.status.is_draft());
    assert!(matches!(read.addenda[0].status, EntryStatus::Signed { .. }));
}
