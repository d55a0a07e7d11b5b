//! Authenticated state, attacked: a user's facts (role, status, supervisors), a case's (secrets
//! policy, members), and a record's set of fields edited in the file between calls, as
//! someone with SQLite write access and an ordinary login would. Each edit fails the read path
//! with `Error::Integrity` naming the place, the failure is audited, and `audit-verify` reports
//! it at the entry that last vouched for what was edited.
//!
//! A client's facts are attacked in tests/authenticated_state.rs; the migration baseline and
//! the master-key rotation in tests/authenticated_state_baseline.rs.

mod common;
#[path = "common/tampered.rs"]
mod tampered;

use common::*;
use confide::{
    CaseKind, ClientId, DenyReason, Error, FindingKind, Passphrase, Purpose, RecordId, RecordKind,
    Role, SecretsPolicy, Value,
};
use rusqlite::params;
use tampered::*;

const T: Purpose = Purpose::Treatment;

/// Jordan, treated by dr.a, with one progress note.
fn chart(p: &Practice) -> (ClientId, RecordId) {
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("worry log reviewed"))],
            T,
        )
        .unwrap();
    (client, note)
}

// --- A user's facts ----------------------------------------------------------------------------

/// The biller's role set to `clinician` in the file: the biller's open session fails at its
/// next call on the biller's own scope (and is locked), a new login fails the same way, and
/// `audit-verify` reports the biller at the entry that added them.
#[test]
fn a_role_changed_in_the_file_fails_the_session_and_the_login() {
    let p = Practice::new();
    let (client, note) = chart(&p);
    let biller = p.login("biller");
    let id = biller.user_id();
    assert!(matches!(
        biller.read_record(&note, T),
        Err(Error::Denied { .. })
    ));
    raw(p.path())
        .execute(
            "UPDATE users SET role = 'clinician' WHERE user_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    raw(p.path())
        .execute(
            "INSERT INTO care_team (client_id, user_id, relation, since) \
             SELECT client_id, ?2, relation, since FROM care_team WHERE client_id = ?1",
            params![client.as_bytes(), id.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(biller.read_record(&note, T), "users", id.as_bytes());
    assert_failure_audited(p.path(), "record.read", &id);
    assert!(biller.is_locked(), "keys kept after the failure");
    let login = p.vault.unlock("biller", &Passphrase::new(CLIN_PASS));
    assert_scope_failed(login, "users", id.as_bytes());
    assert_failure_audited(p.path(), "login", &id);
    let added = vouched_for(p.path(), "user", id.as_bytes());
    assert_eq!(added.action, "user.add");
    // The care-team row copied for the biller changes Jordan's facts too.
    let created = vouched_for(p.path(), "client", client.as_bytes());
    // The client's newest record last vouched for its facts (its drafts).
    assert_eq!(created.action, "record.create");
    let mut want = vec![
        facts_changed(created.seq, "client", client.as_bytes()),
        facts_changed(added.seq, "user", id.as_bytes()),
    ];
    want.sort_by_key(|(seq, _)| *seq);
    assert_findings(p.path(), &want);
}

/// dr.b disabled by the administrator, then `disabled` set back to 0 in the file: dr.b's login
/// fails on integrity, and so does the session dr.b had open from before; `audit-verify`
/// reports dr.b at the disabling entry.
#[test]
fn a_disabled_user_re_enabled_in_the_file_cannot_log_in() {
    let p = Practice::new();
    let drb = p.login("dr.b");
    let id = drb.user_id();
    p.admin().disable_user("dr.b").unwrap();
    let disabled = granted(p.path(), "user.disable");
    assert_eq!(
        vouched_for(p.path(), "user", id.as_bytes()).seq,
        disabled.seq
    );
    raw(p.path())
        .execute(
            "UPDATE users SET disabled = 0 WHERE user_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    let login = p.vault.unlock("dr.b", &Passphrase::new(CLIN_PASS));
    assert_scope_failed(login, "users", id.as_bytes());
    assert_failure_audited(p.path(), "login", &id);
    assert_scope_failed(drb.list_records(&chart(&p).0, T), "users", id.as_bytes());
    assert_failure_audited(p.path(), "record.list", &id);
    assert_findings(
        p.path(),
        &[facts_changed(disabled.seq, "user", id.as_bytes())],
    );

    // After the vault is opened again, the same.
    drop(drb);
    let p = reopen(p);
    assert_scope_failed(
        p.vault.unlock("dr.b", &Passphrase::new(CLIN_PASS)),
        "users",
        id.as_bytes(),
    );
    assert_failure_audited(p.path(), "login", &id);
}

/// A supervision row inserted to make a supervisor supervise dr.a, who treats Jordan: the
/// supervisor's read fails on dr.a's scope (the supervisee's, which holds who supervises them)
/// instead of opening the chart, and dr.a's own next call fails on it too.
#[test]
fn a_supervision_added_in_the_file_fails_the_supervisors_read() {
    let p = Practice::new();
    let (_, note) = chart(&p);
    p.admin()
        .add_user("dr.sup", Role::Supervisor, &Passphrase::new(CLIN_PASS))
        .unwrap();
    let sup = p.login("dr.sup");
    let dr = p.login("dr.a");
    let dra = dr.user_id();
    assert_denied(sup.read_record(&note, T), DenyReason::NoRelationship);
    raw(p.path())
        .execute(
            "INSERT INTO supervision (supervisor_id, supervisee_id, training, since) \
             VALUES (?1, ?2, 0, ?3)",
            params![
                sup.user_id().as_bytes(),
                dra.as_bytes(),
                1_700_000_000_000i64
            ],
        )
        .unwrap();
    assert_scope_failed(sup.read_record(&note, T), "users", dra.as_bytes());
    assert_failure_audited(p.path(), "record.read", &sup.user_id());
    assert_scope_failed(dr.read_record(&note, T), "users", dra.as_bytes());
    assert_failure_audited(p.path(), "record.read", &dra);
    let added = vouched_for(p.path(), "user", dra.as_bytes());
    assert_eq!(added.action, "user.add");
    assert_findings(
        p.path(),
        &[facts_changed(added.seq, "user", dra.as_bytes())],
    );
}

fn assert_denied<T: std::fmt::Debug>(r: Result<T, Error>, reason: DenyReason) {
    match r {
        Err(Error::Denied { reason: got }) => assert_eq!(got, reason),
        other => panic!("expected denied:{reason}, got {other:?}"),
    }
}

// --- A case's facts ----------------------------------------------------------------------------

/// Alex and Blake, a couple in treatment with dr.a, secrets held in confidence; Alex's
/// individual-session note.
struct Couple {
    p: Practice,
    blake: ClientId,
    case: confide::CaseId,
    alex_note: RecordId,
}

fn couple() -> Couple {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let alex = new_client(&dr, "Alex Morgan");
    let blake = new_client(&dr, "Blake Morgan");
    let case = dr
        .create_case(
            CaseKind::Couple,
            SecretsPolicy::HeldInConfidence,
            &[alex, blake],
            T,
        )
        .unwrap();
    let alex_note = dr
        .write_case_note(
            &case,
            &alex,
            &[("disclosure", Value::text("an affair, not told to Blake"))],
            T,
        )
        .unwrap();
    Couple {
        p,
        blake,
        case,
        alex_note,
    }
}

/// `cases.secrets_policy` changed from held-in-confidence to no-secrets, which would let the
/// clinician bring Alex's individual note into the joint record Blake reads: the share fails
/// on the case's scope; `audit-verify` reports the case at the last entry that created it.
#[test]
fn a_secrets_policy_changed_in_the_file_fails_the_share() {
    let c = couple();
    let dr = c.p.login("dr.a");
    assert_denied(
        dr.share_into_joint(&c.alex_note, T),
        DenyReason::HeldInConfidence,
    );
    let created = vouched_for(c.p.path(), "case", c.case.as_bytes());
    assert_eq!(created.action, "case.create");
    raw(c.p.path())
        .execute(
            "UPDATE cases SET secrets_policy = 'no_secrets' WHERE case_id = ?1",
            [c.case.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(
        dr.share_into_joint(&c.alex_note, T),
        "cases",
        c.case.as_bytes(),
    );
    assert_failure_audited(c.p.path(), "joint.share", &dr.user_id());
    assert_findings(
        c.p.path(),
        &[facts_changed(created.seq, "case", c.case.as_bytes())],
    );
}

/// Blake left the case; `case_members.left_at` cleared in the file would give Blake the joint
/// entries written after leaving. Blake's export fails on the case's scope; `audit-verify`
/// reports the case at the departure's entry.
#[test]
fn a_departure_undone_in_the_file_fails_the_members_export() {
    let c = couple();
    let dr = c.p.login("dr.a");
    dr.leave_case(&c.case, &c.blake, T).unwrap();
    let left = granted(c.p.path(), "case.leave");
    dr.write_joint_record(&c.case, &[("summary", Value::text("after Blake left"))], T)
        .unwrap();
    assert!(
        dr.export_for_client(&c.blake)
            .unwrap()
            .joint_records
            .is_empty()
    );
    raw(c.p.path())
        .execute(
            "UPDATE case_members SET left_at = NULL WHERE case_id = ?1 AND client_id = ?2",
            params![c.case.as_bytes(), c.blake.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(dr.export_for_client(&c.blake), "cases", c.case.as_bytes());
    assert_failure_audited(c.p.path(), "export.release", &dr.user_id());
    assert_eq!(
        vouched_for(c.p.path(), "case", c.case.as_bytes()).seq,
        left.seq
    );
    assert_findings(
        c.p.path(),
        &[facts_changed(left.seq, "case", c.case.as_bytes())],
    );
}

// --- A record's set of fields ------------------------------------------------------------------

/// What the replay tests start from: a progress note written with two fields, then its summary
/// updated; the summary's first envelope and the record's first digest, as an older copy of
/// the file holds them.
struct Replay {
    p: Practice,
    note: RecordId,
    old_envelope: Vec<u8>,
    old_digest: Option<Vec<u8>>,
    /// The entry of the note's last write.
    update_seq: u64,
}

fn replay() -> Replay {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[
                ("summary", Value::text("denies self-harm")),
                ("plan", Value::text("weekly")),
            ],
            T,
        )
        .unwrap();
    let db = raw(p.path());
    let old_envelope: Vec<u8> = db
        .query_row(
            "SELECT envelope FROM record_fields WHERE record_id = ?1 AND field = 'summary'",
            [note.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    let old_digest: Option<Vec<u8>> = db
        .query_row(
            "SELECT fields_digest FROM records WHERE record_id = ?1",
            [note.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    dr.update_record(
        &note,
        &[("summary", Value::text("disclosed a plan; safety plan made"))],
        T,
    )
    .unwrap();
    let update_seq = granted(p.path(), "record.update").seq;
    Replay {
        p,
        note,
        old_envelope,
        old_digest,
        update_seq,
    }
}

/// The older envelope put back, with the record's digest as the attacker makes it (`digest`),
/// must fail the read, the next legitimate update of the record's other field (the vault will
/// not vouch for a damaged set), and be reported against the note's last write.
fn replayed_fails(r: Replay, digest: Option<Vec<u8>>) {
    let dr = r.p.login("dr.a");
    let db = raw(r.p.path());
    db.execute(
        "UPDATE record_fields SET envelope = ?2 WHERE record_id = ?1 AND field = 'summary'",
        params![r.note.as_bytes(), r.old_envelope],
    )
    .unwrap();
    db.execute(
        "UPDATE records SET fields_digest = ?2 WHERE record_id = ?1",
        params![r.note.as_bytes(), digest],
    )
    .unwrap();
    assert_set_failed(
        dr.read_record(&r.note, T),
        "record_fields",
        r.note.as_bytes(),
    );
    assert_failure_audited(r.p.path(), "record.read", &dr.user_id());
    assert_set_failed(
        dr.update_record(&r.note, &[("plan", Value::text("twice weekly"))], T),
        "record_fields",
        r.note.as_bytes(),
    );
    assert_failure_audited(r.p.path(), "record.update", &dr.user_id());
    let id = *r.note.as_bytes();
    assert_eq!(granted(r.p.path(), "record.update").seq, r.update_seq);
    assert_findings(
        r.p.path(),
        &[(r.update_seq, FindingKind::RecordChanged { id })],
    );
    drop(dr);
    let p = reopen(r.p);
    let dr = p.login("dr.a");
    assert_set_failed(dr.read_record(&r.note, T), "record_fields", &id);
    assert_failure_audited(p.path(), "record.read", &dr.user_id());
    assert_findings(
        p.path(),
        &[(r.update_seq, FindingKind::RecordChanged { id })],
    );
}

/// The digest the first version had (a plain SHA-256 anyone can recompute, copied here from
/// the older file) does not make the old envelope pass: the set is checked against the
/// record's MAC, which also counts its writes.
#[test]
fn an_older_envelope_put_back_with_its_old_digest_fails_the_read_and_the_next_update() {
    let r = replay();
    let old = r.old_digest.clone();
    assert!(old.is_some());
    replayed_fails(r, old);
}

/// A NULL digest does not skip the check either.
#[test]
fn an_older_envelope_put_back_with_the_digest_cleared_fails_the_read_and_the_next_update() {
    replayed_fails(replay(), None);
}

/// The known limit of the read path for records: the whole record rolled back, its row (write
/// count and MAC) and its envelope both from the older copy, is a state the vault once
/// authenticated, and reads as it was then. Nothing in the file tells it from the current one;
/// `audit-verify` does, against the note's last write entry.
#[test]
fn a_whole_record_rolled_back_reads_as_it_was_and_audit_verify_catches_it() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text("first"))],
            T,
        )
        .unwrap();
    let db = raw(p.path());
    let row = |db: &rusqlite::Connection| -> (i64, Vec<u8>, Vec<u8>, Vec<u8>) {
        db.query_row(
            "SELECT r.write_version, r.mac, r.fields_digest, f.envelope FROM records r \
             JOIN record_fields f USING (record_id) WHERE record_id = ?1",
            [note.as_bytes()],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
    };
    let (version, mac, digest, envelope) = row(&db);
    dr.update_record(&note, &[("summary", Value::text("second"))], T)
        .unwrap();
    let update_seq = granted(p.path(), "record.update").seq;
    db.execute(
        "UPDATE records SET write_version = ?2, mac = ?3, fields_digest = ?4 \
         WHERE record_id = ?1",
        params![note.as_bytes(), version, mac, digest],
    )
    .unwrap();
    db.execute(
        "UPDATE record_fields SET envelope = ?2 WHERE record_id = ?1 AND field = 'summary'",
        params![note.as_bytes(), envelope],
    )
    .unwrap();
    // The whole record as it was: without the version the update kept, too.
    db.execute(
        "DELETE FROM record_fields WHERE record_id = ?1 AND field LIKE 'summary@%'",
        params![note.as_bytes()],
    )
    .unwrap();
    let read = dr.read_record(&note, T).unwrap();
    assert_eq!(read.get("summary"), Some(&Value::text("first")));
    assert_findings(
        p.path(),
        &[(
            update_seq,
            FindingKind::RecordChanged {
                id: *note.as_bytes(),
            },
        )],
    );
}
