//! Record history and amendments, attacked once more: by someone with SQLite write access to the
//! file and an ordinary login (the drafts blob, the addenda links, `field@write` names, the
//! requests to amend), by someone releasing under a narrow authorization (what of an entry's
//! history leaves, and that a dispute always goes with what it disputes), and by a partner in a
//! couples case (nothing of one member's corrections or requests reaches the other).
//!
//! An edit in the file must fail the next call that reads what it touched with a typed error,
//! that failure must be audited, and `audit-verify` (no key) must report it at the entry that
//! last vouched for what was edited.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/history.rs"]
mod history;
#[path = "common/joint.rs"]
mod joint;
#[path = "common/tampered.rs"]
mod tampered;

use std::path::Path;

use common::*;
use confide::{
    AmendmentId, CaseKind, Category, ClientId, DenialBasis, DisclosureRequest, Error, FindingKind,
    LegalBasis, NewAmendment, Purpose, RecordId, RecordKind, ReleaseScope, SecretsPolicy, Value,
};
use disclosing::{ask, consent, court, party, with_consent, with_order};
use history::*;
use rusqlite::params;
use tampered::*;

const T: Purpose = Purpose::Treatment;

/// `audit-verify` reports at least `want`.
#[track_caller]
fn assert_finding(path: &Path, want: (u64, FindingKind)) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(
        report.findings.iter().any(|f| (f.seq, f.kind) == want),
        "no {want:?} in {report:?}"
    );
}

/// `result` is the integrity failure of the link in `addenda` whose addendum is `addendum`.
#[track_caller]
fn assert_link_failed<T: std::fmt::Debug>(result: Result<T, Error>, addendum: &[u8; 16]) {
    match result {
        Err(Error::Integrity { place }) => assert_eq!(
            (place.table, place.record.as_str()),
            ("addenda", hex(addendum).as_str()),
            "another place failed: {place:?}"
        ),
        other => panic!(
            "expected the addendum {} to fail, got {other:?}",
            hex(addendum)
        ),
    }
}

fn order(client: ClientId, categories: &[Category]) -> DisclosureRequest {
    with_order(
        ask(
            client,
            &court(),
            LegalBasis::CourtOrder,
            Purpose::Legal,
            categories,
        ),
        "Order 2026-CV-0099",
        categories,
    )
}

fn field_names(db: &rusqlite::Connection, table: &str, key: &str, id: &[u8; 16]) -> Vec<String> {
    db.prepare(&format!(
        "SELECT field FROM {table} WHERE {key} = ?1 ORDER BY field"
    ))
    .unwrap()
    .query_map([id], |r| r.get(0))
    .unwrap()
    .collect::<rusqlite::Result<_>>()
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// A signed entry rolled back whole to its draft: refused on every path that opens it, not only
// on a read.
// ---------------------------------------------------------------------------------------------

const FIRST_DRAFT: &str = "Client minimised the drinking; first impression only";

/// A progress note drafted, saved aside by the tamperer, written again, signed, and then put
/// back (row and envelopes) as the first draft was.
struct RolledBack {
    p: Practice,
    client: ClientId,
    note: RecordId,
    signed: u64,
}

fn rolled_back() -> RolledBack {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(FIRST_DRAFT))],
            T,
        )
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "records", "record_id", note.as_bytes());
    save_row(&db, "record_fields", "record_id", note.as_bytes());
    dr.update_record(&note, &[("summary", Value::text("Reviewed worry log"))], T)
        .unwrap();
    dr.sign_record(&note, T).unwrap();
    let signed = granted_on(p.path(), "record.sign", note.as_bytes()).seq;
    restore_row(
        &db,
        "records",
        "record_fields",
        "record_id",
        note.as_bytes(),
    );
    drop(db);
    drop(dr);
    RolledBack {
        p,
        client,
        note,
        signed,
    }
}

fn assert_rollback_reported(r: &RolledBack) {
    assert_finding(r.p.path(), record_changed(r.signed, r.note.as_bytes()));
}

#[test]
fn a_signed_entry_rolled_back_to_its_draft_never_leaves_in_a_release() {
    let r = rolled_back();
    let dr = r.p.login("dr.a");
    let pkg = dr.disclose(&order(r.client, &[Category::ProgressNotes]));
    assert_scope_failed(pkg, "clients", r.client.as_bytes());
    assert_failure_audited(r.p.path(), "disclosure.release", &dr.user_id());
    assert_rollback_reported(&r);
}

#[test]
fn a_signed_entry_rolled_back_to_its_draft_never_leaves_in_the_clients_export() {
    let r = rolled_back();
    let dr = r.p.login("dr.a");
    let export = dr.export_for_client(&r.client);
    assert_scope_failed(export, "clients", r.client.as_bytes());
    assert_failure_audited(r.p.path(), "export.release", &dr.user_id());
    assert_rollback_reported(&r);
}

#[test]
fn a_signed_entry_rolled_back_to_its_draft_never_leaves_in_an_extract() {
    let r = rolled_back();
    let dr = r.p.login("dr.a");
    let extract = dr.consultation_extract(&r.client);
    assert_scope_failed(extract, "clients", r.client.as_bytes());
    assert_failure_audited(r.p.path(), "extract.deidentified", &dr.user_id());
    assert_rollback_reported(&r);
}

/// Nor is it sealed again, and so vouched for, by a key rotation.
#[test]
fn a_signed_entry_rolled_back_to_its_draft_is_not_resealed_by_a_key_rotation() {
    let r = rolled_back();
    let admin = r.p.admin();
    assert_scope_failed(
        admin.rotate_client_keys(&r.client, None),
        "clients",
        r.client.as_bytes(),
    );
    assert_failure_audited(r.p.path(), "keys.rotate", &admin.user_id());
    // Nothing vouches for the draft as the note.
    let note = hex(r.note.as_bytes());
    assert!(
        !log(r.p.path())
            .iter()
            .any(|e| e.action == "record.rekey" && e.target.as_deref() == Some(note.as_str())),
        "the rotation vouched for the rolled-back draft"
    );
    assert_rollback_reported(&r);
}

/// A couple's individual case note, signed, rolled back to its draft: not shared into the
/// joint record, where the partner would read the draft.
#[test]
fn a_signed_case_note_rolled_back_to_its_draft_is_not_shared_into_the_joint_record() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let alex = new_client(&dr, "Alex Morgan");
    let blake = new_client(&dr, "Blake Morgan");
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::NoSecrets,
            &[alex, blake],
            T,
        )
        .unwrap();
    let note = dr
        .write_case_note(&case, &alex, &[("disclosure", Value::text(FIRST_DRAFT))], T)
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "records", "record_id", note.as_bytes());
    save_row(&db, "record_fields", "record_id", note.as_bytes());
    dr.update_record(&note, &[("disclosure", Value::text("Money worries"))], T)
        .unwrap();
    dr.sign_record(&note, T).unwrap();
    let signed = granted_on(p.path(), "record.sign", note.as_bytes()).seq;
    restore_row(
        &db,
        "records",
        "record_fields",
        "record_id",
        note.as_bytes(),
    );
    drop(db);
    let shared = dr.share_into_joint(&note, T);
    assert_scope_failed(shared, "clients", alex.as_bytes());
    assert_failure_audited(p.path(), "joint.share", &dr.user_id());
    assert_eq!(
        count_rows(&p, "SELECT COUNT(*) FROM case_records"),
        0,
        "the draft reached the joint record"
    );
    assert_finding(p.path(), record_changed(signed, note.as_bytes()));
}

fn count_rows(p: &Practice, sql: &str) -> i64 {
    raw(p.path()).query_row(sql, [], |r| r.get(0)).unwrap()
}

// ---------------------------------------------------------------------------------------------
// The drafts blob.
// ---------------------------------------------------------------------------------------------

/// The signed progress note put back as a draft, and another client's drafts blob (which lists
/// a draft of theirs) copied over this client's, or the note's own id written in: the client's
/// facts fail, nothing is reopened.
#[test]
fn a_drafts_blob_copied_or_forged_fails_the_clients_facts() {
    for forge in ["copied", "listing the note"] {
        let c = chart();
        let dr = c.p.login("dr.a");
        let other = new_client(&dr, "Casey Lin");
        let _draft = dr
            .create_record(
                &other,
                RecordKind::TreatmentPlan,
                &[("goals", Value::text("sleep"))],
                T,
            )
            .unwrap();
        let vouch = vouched_for(c.p.path(), "client", c.client.as_bytes()).seq;
        let db = raw(c.p.path());
        db.execute(
            "UPDATE records SET status = 1, signed_by = NULL, signed_at = NULL \
             WHERE record_id = ?1",
            [c.note.as_bytes()],
        )
        .unwrap();
        match forge {
            "copied" => db.execute(
                "UPDATE clients SET drafts = (SELECT drafts FROM clients WHERE client_id = ?2) \
                 WHERE client_id = ?1",
                params![c.client.as_bytes(), other.as_bytes()],
            ),
            _ => db.execute(
                "UPDATE clients SET drafts = ?2 WHERE client_id = ?1",
                params![c.client.as_bytes(), &c.note.as_bytes()[..]],
            ),
        }
        .unwrap();
        drop(db);
        let overwrite = dr.update_record(&c.note, &[("summary", Value::text("x"))], T);
        assert_scope_failed(overwrite, "clients", c.client.as_bytes());
        assert_failure_audited(c.p.path(), "record.update", &dr.user_id());
        assert_scope_failed(dr.read_record(&c.dx, T), "clients", c.client.as_bytes());
        assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
        assert_finding(
            c.p.path(),
            facts_changed(vouch, "client", c.client.as_bytes()),
        );
    }
}

/// A client's drafts cleared: the draft is no longer listed, which fails the facts, not the
/// draft's own row.
#[test]
fn the_drafts_blob_cleared_fails_the_clients_facts() {
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
    let created = granted_on(p.path(), "record.create", plan.as_bytes()).seq;
    raw(p.path())
        .execute(
            "UPDATE clients SET drafts = NULL WHERE client_id = ?1",
            [client.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(dr.read_record(&plan, T), "clients", client.as_bytes());
    assert_failure_audited(p.path(), "record.read", &dr.user_id());
    let update = dr.update_record(&plan, &[("goals", Value::text("work"))], T);
    assert_scope_failed(update, "clients", client.as_bytes());
    assert_findings(
        p.path(),
        &[facts_changed(created, "client", client.as_bytes())],
    );
}

// ---------------------------------------------------------------------------------------------
// Addenda links.
// ---------------------------------------------------------------------------------------------

/// Two addenda of the diagnosis swapped in order: the client's facts fail.
#[test]
fn addenda_reordered_fail_the_clients_facts() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let second = dr
        .add_addendum(
            &c.dx,
            "rule-out resolved",
            &[("code", Value::code("F43.12"))],
            T,
        )
        .unwrap();
    let vouch = granted_on(c.p.path(), "record.addendum", second.as_bytes()).seq;
    let db = raw(c.p.path());
    for (from, to) in [(1, 99), (2, 1), (99, 2)] {
        db.execute(
            "UPDATE addenda SET ordinal = ?3 WHERE of_id = ?1 AND ordinal = ?2",
            params![c.dx.as_bytes(), from, to],
        )
        .unwrap();
    }
    drop(db);
    assert_scope_failed(dr.read_record(&c.dx, T), "clients", c.client.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_finding(
        c.p.path(),
        facts_changed(vouch, "client", c.client.as_bytes()),
    );
}

/// An addendum moved to another client (its link and its row): both clients' facts fail.
#[test]
fn an_addendum_moved_to_another_client_fails_both_clients() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let other = new_client(&dr, "Casey Lin");
    let vouch = vouched_for(c.p.path(), "client", c.client.as_bytes()).seq;
    let vouch_other = vouched_for(c.p.path(), "client", other.as_bytes()).seq;
    let db = raw(c.p.path());
    for table in ["addenda", "records"] {
        let key = if table == "addenda" {
            "addendum_id"
        } else {
            "record_id"
        };
        db.execute(
            &format!("UPDATE {table} SET client_id = ?2 WHERE {key} = ?1"),
            params![c.addendum.as_bytes(), other.as_bytes()],
        )
        .unwrap();
    }
    drop(db);
    assert_scope_failed(dr.read_record(&c.dx, T), "clients", c.client.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    let theirs = dr.read_record(&c.addendum, T);
    assert_scope_failed(theirs, "clients", other.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_finding(
        c.p.path(),
        facts_changed(vouch, "client", c.client.as_bytes()),
    );
    assert_finding(
        c.p.path(),
        facts_changed(vouch_other, "client", other.as_bytes()),
    );
}

/// A link forged in another client's scope (which the note's client never checks), naming
/// another signed note of the same client as an addendum of the first: the note is not read
/// with a correction its author never wrote.
#[test]
fn a_note_addendum_link_forged_under_another_client_is_refused() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let other = new_client(&dr, "Casey Lin");
    let first = dr
        .write_psychotherapy_note(&client, &[("process", Value::text("first session"))], T)
        .unwrap();
    let second = dr
        .write_psychotherapy_note(&client, &[("process", Value::text("second session"))], T)
        .unwrap();
    dr.sign_psychotherapy_note(&first, T).unwrap();
    dr.sign_psychotherapy_note(&second, T).unwrap();
    let vouch_other = vouched_for(p.path(), "client", other.as_bytes()).seq;
    raw(p.path())
        .execute(
            "INSERT INTO addenda (addendum_id, client_id, of_kind, of_id, ordinal, author_id, \
             added_at) VALUES (?1, ?2, 'note', ?3, 1, ?4, 0)",
            params![
                second.as_bytes(),
                other.as_bytes(),
                first.as_bytes(),
                dr.user_id().as_bytes()
            ],
        )
        .unwrap();
    let read = dr.read_psychotherapy_note(&first, T);
    assert_link_failed(read, second.as_bytes());
    assert_failure_audited(p.path(), "note.read", &dr.user_id());
    assert_finding(
        p.path(),
        facts_changed(vouch_other, "client", other.as_bytes()),
    );
}

/// An addendum deleted from the file with its fields, its link left in place: a release of the
/// diagnosis does not go out uncorrected, it fails.
#[test]
fn a_deleted_addendum_fails_a_release_of_its_entry() {
    let c = chart();
    let wrote = granted_on(c.p.path(), "record.addendum", c.addendum.as_bytes()).seq;
    delete_entry(c.p.path(), "records", c.addendum.as_bytes());
    let dr = c.p.login("dr.a");
    let pkg = dr.disclose(&order(c.client, &[Category::DiagnosisCodes]));
    assert_link_failed(pkg, c.addendum.as_bytes());
    assert_failure_audited(c.p.path(), "disclosure.release", &dr.user_id());
    assert_findings(c.p.path(), &[record_missing(wrote, c.addendum.as_bytes())]);
}

/// The same, for the client's own export.
#[test]
fn a_deleted_addendum_fails_the_clients_export() {
    let c = chart();
    let wrote = granted_on(c.p.path(), "record.addendum", c.addendum.as_bytes()).seq;
    delete_entry(c.p.path(), "records", c.addendum.as_bytes());
    let dr = c.p.login("dr.a");
    assert_link_failed(dr.export_for_client(&c.client), c.addendum.as_bytes());
    assert_failure_audited(c.p.path(), "export.release", &dr.user_id());
    assert_findings(c.p.path(), &[record_missing(wrote, c.addendum.as_bytes())]);
}

// ---------------------------------------------------------------------------------------------
// Versions (`field@write`).
// ---------------------------------------------------------------------------------------------

/// The progress note's first-draft version moved to another signed entry of the client (the
/// diagnosis): both entries' sets fail.
#[test]
fn a_version_row_moved_to_another_entry_fails_both() {
    let c = chart();
    let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes()).seq;
    let wrote = granted_on(c.p.path(), "record.sign", c.dx.as_bytes()).seq;
    raw(c.p.path())
        .execute(
            "UPDATE record_fields SET record_id = ?2 WHERE record_id = ?1 AND field = 'summary@1'",
            params![c.note.as_bytes(), c.dx.as_bytes()],
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
        dr.record_versions(&c.dx, T),
        "record_fields",
        c.dx.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_finding(c.p.path(), record_changed(signed, c.note.as_bytes()));
    assert_finding(c.p.path(), record_changed(wrote, c.dx.as_bytes()));
}

/// The current envelope renamed to a forged version name, or a copy of it added under one:
/// every read of the entry fails on its set, never shows the envelope as a version or hides it.
#[test]
fn forged_version_names_fail_the_entry() {
    for forged in [
        "summary@999",
        "summary@",
        "summary@abc",
        "summary@2@2",
        "@2",
    ] {
        for copy in [false, true] {
            let c = chart();
            let signed = granted_on(c.p.path(), "record.sign", c.note.as_bytes()).seq;
            let db = raw(c.p.path());
            if copy {
                db.execute(
                    "INSERT INTO record_fields (record_id, field, key_version, envelope) \
                     SELECT record_id, ?2, key_version, envelope FROM record_fields \
                     WHERE record_id = ?1 AND field = 'summary'",
                    params![c.note.as_bytes(), forged],
                )
                .unwrap();
            } else {
                db.execute(
                    "UPDATE record_fields SET field = ?2 WHERE record_id = ?1 AND field = 'summary'",
                    params![c.note.as_bytes(), forged],
                )
                .unwrap();
            }
            assert!(
                field_names(&db, "record_fields", "record_id", c.note.as_bytes())
                    .contains(&forged.to_owned())
            );
            drop(db);
            let dr = c.p.login("dr.a");
            let what = format!("{forged} (copy: {copy})");
            let read = dr.read_record(&c.note, T);
            assert!(
                matches!(&read, Err(Error::Integrity { .. })),
                "{what}: {read:?}"
            );
            assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
            let versions = dr.record_versions(&c.note, T);
            assert!(
                matches!(&versions, Err(Error::Integrity { .. })),
                "{what}: {versions:?}"
            );
            assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
            let pkg = dr.disclose(&order(c.client, &[Category::ProgressNotes]));
            assert!(
                matches!(&pkg, Err(Error::Integrity { .. })),
                "{what}: {pkg:?}"
            );
            assert_failure_audited(c.p.path(), "disclosure.release", &dr.user_id());
            assert_findings(c.p.path(), &[record_changed(signed, c.note.as_bytes())]);
        }
    }
}

/// An entry's earlier versions, untampered, never leave: not in a release, not in the client's
/// export, not in a de-identified extract; only the current value does.
#[test]
fn earlier_versions_never_leave_in_a_release_an_export_or_an_extract() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(FIRST_DRAFT))],
            T,
        )
        .unwrap();
    dr.update_record(&note, &[("summary", Value::text("Reviewed worry log"))], T)
        .unwrap();
    dr.sign_record(&note, T).unwrap();
    let pkg = dr
        .disclose(&order(client, &[Category::ProgressNotes]))
        .unwrap();
    let json = pkg.to_json();
    assert!(json.contains("Reviewed worry log"));
    assert!(!json.contains("first impression"), "{json}");
    assert!(!json.contains('@'), "a version name left: {json}");
    let export = dr.export_for_client(&client).unwrap();
    let mine = export.records.iter().find(|r| r.id == note).unwrap();
    assert_eq!(
        mine.get("summary"),
        Some(&Value::text("Reviewed worry log"))
    );
    assert_eq!(mine.fields.len(), 1);
    let extract = dr.consultation_extract(&client).unwrap();
    assert!(extract.items.iter().all(|i| {
        i.fields
            .iter()
            .all(|(k, v)| !k.contains('@') && !v.contains("first impression"))
    }));
    assert!(confide::verify_audit_log(p.path()).unwrap().is_intact());
}

// ---------------------------------------------------------------------------------------------
// Disputes.
// ---------------------------------------------------------------------------------------------

const STATEMENT: &str = "I was never assessed for panic disorder";

/// Sam's diagnosis (code and description), signed, disputed: denied, with a statement.
struct Disputed {
    p: Practice,
    client: ClientId,
    dx: RecordId,
    request: AmendmentId,
}

fn disputed() -> Disputed {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[
                ("code", Value::code("F41.1")),
                ("description", Value::text("Generalized anxiety")),
            ],
            T,
        )
        .unwrap();
    dr.sign_record(&dx, T).unwrap();
    let request = dr
        .request_amendment(
            &client,
            &NewAmendment {
                records: vec![dx],
                what: "It was a one-off reaction, not an anxiety disorder".into(),
                why: "I never had symptoms before".into(),
            },
            T,
        )
        .unwrap();
    dr.deny_amendment(
        &request,
        DenialBasis::AccurateAndComplete,
        "The diagnosis reflects the assessment of 2 March",
        T,
    )
    .unwrap();
    dr.file_disagreement(&request, STATEMENT, T).unwrap();
    drop(dr);
    Disputed {
        p,
        client,
        dx,
        request,
    }
}

/// A release narrowed to the code alone still carries the dispute in full.
#[test]
fn a_dispute_travels_with_a_release_narrowed_to_some_fields() {
    let d = disputed();
    let dr = d.p.login("dr.a");
    let mut req = order(d.client, &[Category::DiagnosisCodes]);
    if let Some(o) = req.order.as_mut() {
        o.names = ReleaseScope::new().with(
            Category::DiagnosisCodes,
            confide::scope::Fields::only(&["code"]),
        );
    }
    let pkg = dr.disclose(&req).unwrap();
    assert_eq!(pkg.items.len(), 1);
    assert_eq!(pkg.items[0].fields.keys().collect::<Vec<_>>(), ["code"]);
    assert_eq!(pkg.disputes.len(), 1);
    assert_eq!(pkg.disputes[0].statement, STATEMENT);
    assert_eq!(pkg.manifest.disputes[0].records, [d.dx.to_string()]);
}

/// The disputed diagnosis corrected later by an addendum about another condition, released
/// under an authorization for that condition only: the addendum is part of the disputed entry,
/// and the client's statement goes with it.
#[test]
fn a_dispute_travels_with_a_release_of_only_an_addendum_of_the_disputed_entry() {
    let d = disputed();
    let dr = d.p.login("dr.a");
    let addendum = dr
        .add_addendum(
            &d.dx,
            "trauma history disclosed",
            &[("code", Value::code("F43.10"))],
            T,
        )
        .unwrap();
    let to = party(
        "Adjuster",
        "Statewide Workers' Compensation Fund",
        "3 Insurance Plaza, Capitol City",
    );
    let id = consent(
        &dr,
        &d.client,
        &to,
        &[Category::DiagnosisCodes],
        Purpose::Legal,
    );
    let req = DisclosureRequest {
        narrow: Some(ReleaseScope::condition("F43.10")),
        protective: None,
        ..with_consent(
            ask(
                d.client,
                &to,
                LegalBasis::Authorization,
                Purpose::Legal,
                &[Category::DiagnosisCodes],
            ),
            id,
        )
    };
    let pkg = dr.disclose(&req).unwrap();
    let ids: Vec<&str> = pkg.items.iter().map(|i| i.id.as_str()).collect();
    assert_eq!(ids, [addendum.to_string().as_str()]);
    assert_eq!(pkg.items[0].addendum_of, Some(d.dx.to_string()));
    assert_eq!(pkg.disputes.len(), 1, "the statement was left behind");
    assert_eq!(pkg.disputes[0].request, d.request.to_string());
    assert_eq!(pkg.disputes[0].statement, STATEMENT);
    assert_eq!(pkg.manifest.disputes.len(), 1);
    assert_eq!(pkg.manifest.disputes[0].records, [d.dx.to_string()]);
    assert!(pkg.to_json().contains(STATEMENT));
}

/// The statement's filing cleared from the request's row, so the release would go without it:
/// the client's facts fail, and the release does not go.
#[test]
fn a_dispute_dropped_by_clearing_its_statement_fails_the_release() {
    for edit in [
        "statement_at = NULL",
        "decision = NULL, decided_at = NULL, decided_by = NULL, statement_at = NULL",
        "records = ''",
        "records = 'zz'",
    ] {
        let d = disputed();
        let vouch = granted(d.p.path(), "amendment.disagreement").seq;
        raw(d.p.path())
            .execute(
                &format!("UPDATE amendment_requests SET {edit} WHERE request_id = ?1"),
                [d.request.as_bytes()],
            )
            .unwrap();
        let dr = d.p.login("dr.a");
        let pkg = dr.disclose(&order(d.client, &[Category::DiagnosisCodes]));
        assert_scope_failed(pkg, "clients", d.client.as_bytes());
        assert_failure_audited(d.p.path(), "disclosure.release", &dr.user_id());
        assert_findings(
            d.p.path(),
            &[facts_changed(vouch, "client", d.client.as_bytes())],
        );
    }
}

/// `result` is an integrity failure of the sealed fields of `request` (its set, or the field
/// renamed, whose envelope is bound to its name).
#[track_caller]
fn assert_request_failed<T: std::fmt::Debug>(result: Result<T, Error>, request: &AmendmentId) {
    match result {
        Err(Error::Integrity { place }) => assert_eq!(
            (place.table, place.record.as_str()),
            ("amendment_fields", hex(request.as_bytes()).as_str()),
            "another place failed: {place:?}"
        ),
        other => panic!("expected the request to fail, got {other:?}"),
    }
}

/// The statement's sealed text deleted, or renamed the rebuttal: the request's fields fail, and
/// the release does not go.
#[test]
fn a_dispute_dropped_from_its_sealed_fields_fails_the_release() {
    for edit in ["delete", "rename"] {
        let d = disputed();
        let vouch = granted(d.p.path(), "amendment.disagreement").seq;
        let db = raw(d.p.path());
        let sql = match edit {
            "delete" => {
                "DELETE FROM amendment_fields WHERE request_id = ?1 AND field = 'statement'"
            }
            _ => {
                "UPDATE amendment_fields SET field = 'rebuttal' \
                  WHERE request_id = ?1 AND field = 'statement'"
            }
        };
        db.execute(sql, [d.request.as_bytes()]).unwrap();
        drop(db);
        let dr = d.p.login("dr.a");
        let pkg = dr.disclose(&order(d.client, &[Category::DiagnosisCodes]));
        assert_request_failed(pkg, &d.request);
        assert_failure_audited(d.p.path(), "disclosure.release", &dr.user_id());
        let export = dr.export_for_client(&d.client);
        assert_request_failed(export, &d.request);
        assert_failure_audited(d.p.path(), "export.release", &dr.user_id());
        assert_findings(d.p.path(), &[record_changed(vouch, d.request.as_bytes())]);
    }
}

/// The request's row and its sealed fields put back as they were before the statement (a state
/// the vault once vouched for): the client's facts no longer match, the release does not go.
#[test]
fn a_request_rolled_back_to_before_the_statement_fails_the_release() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    dr.sign_record(&dx, T).unwrap();
    let request = dr
        .request_amendment(
            &client,
            &NewAmendment {
                records: vec![dx],
                what: "Not anxiety".into(),
                why: "No symptoms".into(),
            },
            T,
        )
        .unwrap();
    dr.deny_amendment(&request, DenialBasis::AccurateAndComplete, "It stands", T)
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "amendment_requests", "request_id", request.as_bytes());
    save_row(&db, "amendment_fields", "request_id", request.as_bytes());
    dr.file_disagreement(&request, STATEMENT, T).unwrap();
    let vouch = granted(p.path(), "amendment.disagreement").seq;
    restore_row(
        &db,
        "amendment_requests",
        "amendment_fields",
        "request_id",
        request.as_bytes(),
    );
    drop(db);
    let pkg = dr.disclose(&order(client, &[Category::DiagnosisCodes]));
    assert_scope_failed(pkg, "clients", client.as_bytes());
    assert_failure_audited(p.path(), "disclosure.release", &dr.user_id());
    assert_finding(p.path(), facts_changed(vouch, "client", client.as_bytes()));
    assert_finding(p.path(), record_changed(vouch, request.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// A couple: one member's corrections and requests stay theirs.
// ---------------------------------------------------------------------------------------------

const ADDENDUM_REASON: &str = "Alex later said the affair ended in May";
const CORRECTION: &str = "Affair ended in May; Alex has not told Blake";
const ALEX_STATEMENT: &str = "I never said I would leave Blake";

#[test]
fn a_members_addendum_and_dispute_never_reach_the_partner() {
    let j = joint::case_of(CaseKind::Couple, SecretsPolicy::HeldInConfidence, 2);
    let dr = j.dr();
    let (alex, blake) = (j.members[0], j.members[1]);
    let alex_note = j.notes[0];
    dr.sign_record(&alex_note, T).unwrap();
    let addendum = dr
        .add_addendum(
            &alex_note,
            ADDENDUM_REASON,
            &[("disclosure", Value::text(CORRECTION))],
            T,
        )
        .unwrap();
    let request = dr
        .request_amendment(
            &alex,
            &NewAmendment {
                records: vec![alex_note],
                what: "Remove that I would leave Blake".into(),
                why: ALEX_STATEMENT.into(),
            },
            T,
        )
        .unwrap();
    dr.deny_amendment(&request, DenialBasis::AccurateAndComplete, "As recorded", T)
        .unwrap();
    dr.file_disagreement(&request, ALEX_STATEMENT, T).unwrap();
    // Blake's own request naming Alex's note is refused.
    let crossed = dr.request_amendment(
        &blake,
        &NewAmendment {
            records: vec![alex_note],
            what: "x".into(),
            why: "y".into(),
        },
        T,
    );
    assert!(
        matches!(crossed, Err(Error::InvalidInput { .. })),
        "{crossed:?}"
    );
    // An addendum filed against Alex's note stays in Alex's record.
    let row: Vec<u8> = raw(j.p.path())
        .query_row(
            "SELECT client_id FROM records WHERE record_id = ?1",
            [addendum.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(row, alex.as_bytes());

    let secrets = [ADDENDUM_REASON, CORRECTION, ALEX_STATEMENT, "leave Blake"];
    let leaked = |values: Vec<String>| values.iter().any(|v| secrets.iter().any(|s| v.contains(s)));
    // Blake's reads, list, export, requests.
    let blakes = dr.list_records(&blake, T).unwrap();
    assert!(blakes.iter().all(|r| r.id != addendum && r.id != alex_note));
    let blake_note = dr.read_record(&j.notes[1], T).unwrap();
    assert!(blake_note.addenda.is_empty());
    assert!(dr.list_amendments(&blake, T).unwrap().is_empty());
    let export = dr.export_for_client(&blake).unwrap();
    assert!(export.amendments.is_empty());
    let mut shown: Vec<String> = Vec::new();
    for r in &export.records {
        assert!(r.id != addendum && r.id != alex_note);
        for a in std::iter::once(r).chain(&r.addenda) {
            shown.extend(
                a.fields
                    .values()
                    .filter_map(|v| v.as_text().map(str::to_owned)),
            );
        }
    }
    for jr in &export.joint_records {
        shown.extend(
            jr.fields
                .values()
                .filter_map(|v| v.as_text().map(str::to_owned)),
        );
    }
    assert!(!leaked(shown), "Alex's correction reached Blake's export");
    // A release of the joint record for Blake.
    let to = party(
        "Dr. Lee Hart",
        "Hart Family Therapy",
        "18 Birch Court, Springfield",
    );
    j.authorize(0, &to, T);
    let consent = j.authorize(1, &to, T);
    let pkg = dr.disclose(&j.request(1, &to, T, consent)).unwrap();
    assert!(pkg.disputes.is_empty() && pkg.manifest.disputes.is_empty());
    assert!(!leaked(vec![pkg.to_json()]), "{}", pkg.to_json());
    // Blake's release of their own case notes carries nothing of Alex's.
    let pkg = dr
        .disclose(&order(blake, &[Category::IndividualCaseNotes]))
        .unwrap();
    assert_eq!(pkg.items.len(), 1);
    assert!(pkg.disputes.is_empty());
    assert!(!leaked(vec![pkg.to_json()]));
    // Alex's carries the note, its addendum and the dispute.
    let pkg = dr
        .disclose(&order(alex, &[Category::IndividualCaseNotes]))
        .unwrap();
    assert_eq!(pkg.items.len(), 2);
    assert_eq!(pkg.disputes.len(), 1);
    // Past due lists only undecided requests, and only to whoever treats the client.
    assert!(dr.amendments_past_due(T).unwrap().is_empty());
    assert!(confide::verify_audit_log(j.p.path()).unwrap().is_intact());
}

// ---------------------------------------------------------------------------------------------
// Debug of the new public types.
// ---------------------------------------------------------------------------------------------

#[test]
fn debug_of_history_and_amendments_shows_no_plaintext() {
    let c = chart();
    let dr = c.p.login("dr.a");
    let canary = "CANARY-7Q2 zebra finch";
    let addendum = dr
        .add_addendum(&c.dx, canary, &[("description", Value::text(canary))], T)
        .unwrap();
    let read = dr.read_record(&c.dx, T).unwrap();
    assert!(read.addenda.iter().any(|a| a.id == addendum));
    let versions = dr.record_versions(&c.note, T).unwrap();
    let new = NewAmendment {
        records: vec![c.dx],
        what: canary.into(),
        why: canary.into(),
    };
    let request = dr.request_amendment(&c.client, &new, T).unwrap();
    dr.deny_amendment(&request, DenialBasis::AccurateAndComplete, canary, T)
        .unwrap();
    dr.file_disagreement(&request, canary, T).unwrap();
    dr.rebut_disagreement(&request, canary, T).unwrap();
    let amendment = dr.read_amendment(&request, T).unwrap();
    let pkg = dr
        .disclose(&order(c.client, &[Category::DiagnosisCodes]))
        .unwrap();
    assert_eq!(pkg.disputes.len(), 1);
    let export = dr.export_for_client(&c.client).unwrap();
    let shown = [
        format!("{read:?}"),
        format!("{versions:?}"),
        format!("{new:?}"),
        format!("{amendment:?}"),
        format!("{:?}", pkg.disputes),
        format!("{pkg:?}"),
        format!("{export:?}"),
        format!("{:?}", dr.list_amendments(&c.client, T).unwrap()),
    ];
    for s in &shown {
        assert!(!s.contains("CANARY"), "plaintext in Debug: {s}");
        assert!(!s.contains("zebra"), "plaintext in Debug: {s}");
    }
    // Nor in an error: an addendum with a reason of spaces is refused without echoing it.
    let err = dr
        .add_addendum(&c.dx, "   ", &[("description", Value::text(canary))], T)
        .unwrap_err();
    assert!(!format!("{err:?} {err}").contains("CANARY"));
}

// ---------------------------------------------------------------------------------------------
// Accepting an amendment onto an entry changed in the file.
// ---------------------------------------------------------------------------------------------

/// The disputed diagnosis relabelled an appointment in the file before the request is accepted:
/// the amendment is not written as an appointment's addendum (which would carry the corrected
/// diagnosis into every release of appointments), and nothing is vouched for.
#[test]
fn an_amendment_is_not_accepted_onto_an_entry_changed_in_the_file() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    dr.sign_record(&dx, T).unwrap();
    let signed = granted_on(p.path(), "record.sign", dx.as_bytes()).seq;
    let request = dr
        .request_amendment(
            &client,
            &NewAmendment {
                records: vec![dx],
                what: "It is PTSD".into(),
                why: "Trauma history".into(),
            },
            T,
        )
        .unwrap();
    raw(p.path())
        .execute(
            "UPDATE records SET kind = 'appointment' WHERE record_id = ?1",
            [dx.as_bytes()],
        )
        .unwrap();
    let accepted = dr.accept_amendment(&request, &[("code", Value::code("F43.10"))], &[], T);
    assert_set_failed(accepted, "record_fields", dx.as_bytes());
    assert_failure_audited(p.path(), "amendment.accept", &dr.user_id());
    assert_eq!(count_rows(&p, "SELECT COUNT(*) FROM addenda"), 0);
    assert_eq!(
        count_rows(
            &p,
            "SELECT COUNT(*) FROM records WHERE kind = 'appointment'"
        ),
        1
    );
    assert_findings(p.path(), &[record_changed(signed, dx.as_bytes())]);
}

// ---------------------------------------------------------------------------------------------
// The known limit: every row involved put back together.
// ---------------------------------------------------------------------------------------------

/// A signed entry put back as its draft together with its client's head row (the drafts blob
/// and the MAC over the facts as they were): every row is one the vault once authenticated, so
/// the read path takes the entry for the draft it was and an overwrite goes through. Only the
/// log tells: `audit-verify` reports the client's facts at the signature, the last entry to
/// vouch for them.
#[test]
fn a_signed_entry_and_its_clients_facts_rolled_back_together_are_reported_by_audit_verify() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(FIRST_DRAFT))],
            T,
        )
        .unwrap();
    let db = raw(p.path());
    save_row(&db, "records", "record_id", note.as_bytes());
    save_row(&db, "record_fields", "record_id", note.as_bytes());
    save_row(&db, "clients", "client_id", client.as_bytes());
    dr.sign_record(&note, T).unwrap();
    let signed = granted_on(p.path(), "record.sign", note.as_bytes()).seq;
    restore_row(
        &db,
        "records",
        "record_fields",
        "record_id",
        note.as_bytes(),
    );
    db.execute(
        "DELETE FROM clients WHERE client_id = ?1",
        [client.as_bytes()],
    )
    .unwrap();
    db.execute("INSERT INTO clients SELECT * FROM saved_clients", [])
        .unwrap();
    drop(db);
    drop(dr);
    let dr = p.login("dr.a");
    dr.update_record(&note, &[("summary", Value::text("rewritten"))], T)
        .unwrap();
    assert_finding(p.path(), facts_changed(signed, "client", client.as_bytes()));
}

// ---------------------------------------------------------------------------------------------
// A dispute's texts and Part 2.
// ---------------------------------------------------------------------------------------------

const SUD_STATEMENT: &str = "I do not drink to fall asleep; I stopped in January";

/// One request disputing both the diagnosis and a substance-use record (42 CFR Part 2) would
/// travel in full with every release of the diagnosis, telling a recipient without the client's
/// Part 2 consent what the client said of their drinking, and naming the Part 2 record. A
/// request names entries of one compartment; the client's two disputes are two requests, and
/// a release of the diagnosis carries only its own.
#[test]
fn a_dispute_of_a_part_2_record_never_leaves_with_a_release_of_other_entries() {
    let d = disputed();
    let dr = d.p.login("dr.a");
    let sud = dr
        .create_record(
            &d.client,
            RecordKind::SubstanceUse,
            &[("summary", Value::text("Alcohol use disorder, mild"))],
            T,
        )
        .unwrap();
    dr.sign_record(&sud, T).unwrap();
    let mixed = dr.request_amendment(
        &d.client,
        &NewAmendment {
            records: vec![d.dx, sud],
            what: "Remove both".into(),
            why: SUD_STATEMENT.into(),
        },
        T,
    );
    assert!(
        matches!(mixed, Err(Error::InvalidInput { .. })),
        "{mixed:?}"
    );
    let own = dr
        .request_amendment(
            &d.client,
            &NewAmendment {
                records: vec![sud],
                what: "Remove the alcohol use disorder".into(),
                why: SUD_STATEMENT.into(),
            },
            T,
        )
        .unwrap();
    dr.deny_amendment(&own, DenialBasis::AccurateAndComplete, "As assessed", T)
        .unwrap();
    dr.file_disagreement(&own, SUD_STATEMENT, T).unwrap();
    let pkg = dr
        .disclose(&order(d.client, &[Category::DiagnosisCodes]))
        .unwrap();
    assert_eq!(pkg.disputes.len(), 1);
    assert_eq!(pkg.disputes[0].request, d.request.to_string());
    let json = pkg.to_json();
    assert!(!json.contains("drink"), "{json}");
    assert!(!json.contains(&sud.to_string()), "{json}");
}

/// A disputed substance-use record released under the client's Part 2 consent: its dispute goes
/// with it, under the release's redisclosure notice.
#[test]
fn a_dispute_of_a_part_2_record_travels_with_its_part_2_release() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Sam Doe");
    let sud = dr
        .create_record(
            &client,
            RecordKind::SubstanceUse,
            &[("summary", Value::text("Alcohol use disorder, mild"))],
            T,
        )
        .unwrap();
    dr.sign_record(&sud, T).unwrap();
    let request = dr
        .request_amendment(
            &client,
            &NewAmendment {
                records: vec![sud],
                what: "Remove the alcohol use disorder".into(),
                why: SUD_STATEMENT.into(),
            },
            T,
        )
        .unwrap();
    dr.deny_amendment(&request, DenialBasis::AccurateAndComplete, "As assessed", T)
        .unwrap();
    dr.file_disagreement(&request, SUD_STATEMENT, T).unwrap();
    let to = disclosing::psychiatrist();
    let id = consent(&dr, &client, &to, &[Category::SubstanceUse], T);
    let req = with_consent(
        ask(
            client,
            &to,
            LegalBasis::Authorization,
            T,
            &[Category::SubstanceUse],
        ),
        id,
    );
    let pkg = dr.disclose(&req).unwrap();
    assert_eq!(pkg.items.len(), 1);
    assert_eq!(pkg.disputes.len(), 1);
    assert_eq!(pkg.disputes[0].statement, SUD_STATEMENT);
    assert!(pkg.redisclosure_notice.is_some());
}
