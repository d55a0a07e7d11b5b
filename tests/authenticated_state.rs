//! Authenticated state, attacked: a client's facts (consents, care team, minor status,
//! break-glass grants) edited in the file, as someone with SQLite write access to it and an
//! ordinary login would, between calls of sessions that stay open and after the vault is opened
//! again. Each edit must fail the next decision that reads the facts with `Error::Integrity`
//! naming the client's scope, that failure must be audited, and `audit-verify` (no passphrase)
//! must report the scope at the entry that last vouched for it.
//!
//! Users, cases, records, the migration baseline and the master-key rotation are attacked in
//! tests/authenticated_state_staff.rs.

mod common;
#[path = "common/stories.rs"]
mod stories;
#[path = "common/tampered.rs"]
mod tampered;

use common::*;
use confide::{
    Basis, Category, ClientId, ConsentRecipient, DenyReason, Error, MinorFacts, Purpose, RecordId,
    RecordKind, TestClock, Value,
};
use rusqlite::params;
use stories::{DAY_MS, assert_denied, consent, now_ms};
use tampered::*;

const T: Purpose = Purpose::Treatment;
const PROGRESS: &str = "Session 4: disclosed panic attack at work; rehearsed breathing";

/// Jordan, treated by dr.a: a progress note and a diagnosis.
struct Clinic {
    p: Practice,
    client: ClientId,
    note: RecordId,
    dx: RecordId,
}

fn clinic() -> Clinic {
    clinic_in(Practice::new())
}

fn clinic_in(p: Practice) -> Clinic {
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Jordan Reyes");
    let note = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &[("summary", Value::text(PROGRESS))],
            T,
        )
        .unwrap();
    let dx = dr
        .create_record(
            &client,
            RecordKind::Diagnosis,
            &[("code", Value::code("F41.1"))],
            T,
        )
        .unwrap();
    Clinic {
        p,
        client,
        note,
        dx,
    }
}

impl Clinic {
    fn id(&self) -> &[u8; 16] {
        self.client.as_bytes()
    }

    /// Record, through the API, a parent with full custody of Jordan (recorded as a minor).
    fn parent(&self, dr: &confide::Session) -> confide::GuardianId {
        let custody = confide::NewGuardian {
            basis: confide::GuardianBasis::Parent,
            may_access: true,
            may_authorize: true,
            until_ms: None,
        };
        dr.record_guardian(&self.client, &custody, T).unwrap()
    }

    fn user(&self, name: &str) -> confide::UserId {
        confide::staff_user_id(self.p.path(), name).unwrap()
    }

    /// Record, through the API, a consent naming the biller (treatment, progress notes).
    fn consent_to_biller(&self, purpose: Purpose) -> confide::ConsentId {
        let biller = ConsentRecipient::User(self.user("biller"));
        self.p
            .login("dr.a")
            .record_consent(
                &self.client,
                &consent(biller, &[Category::ProgressNotes], purpose),
                T,
            )
            .unwrap()
    }
}

/// The control the attacks are measured against: a consent the vault recorded naming the
/// biller does open the progress note to them, so a forged one would have, had the file been
/// believed.
#[test]
fn a_consent_the_vault_recorded_opens_the_note_to_the_biller() {
    let c = clinic();
    let biller = c.p.login("biller");
    assert!(matches!(
        biller.read_record(&c.note, T),
        Err(Error::Denied { .. })
    ));
    c.consent_to_biller(T);
    let read = biller.read_record(&c.note, T).unwrap();
    assert_eq!(read.basis, Basis::Consent);
    assert_eq!(read.get("summary"), Some(&Value::text(PROGRESS)));
    assert!(confide::verify_audit_log(c.p.path()).unwrap().is_intact());
}

/// A row inserted into `consents` naming the biller (treatment; progress notes and diagnosis
/// codes): the biller's read of either fails on the client's scope, with the session open and
/// after the vault is opened again; `audit-verify` reports the client at its creation, the
/// last entry that vouched for its facts.
#[test]
fn a_consent_forged_for_the_biller_fails_the_read_instead_of_granting_it() {
    let c = clinic();
    let biller = c.p.login("biller");
    assert!(matches!(
        biller.read_record(&c.note, T),
        Err(Error::Denied { .. })
    ));
    let yesterday = now_ms() - DAY_MS;
    raw(c.p.path())
        .execute(
            "INSERT INTO consents (consent_id, client_id, recipient_kind, recipient_user, \
             categories, purpose, start_at, signed_on, created_at, created_by) \
             VALUES (?1, ?2, 'user', ?3, 'diagnosis_codes,progress_notes', 'TREAT', ?4, ?4, ?4, ?5)",
            params![
                [0x5au8; 16],
                c.id(),
                c.user("biller").as_bytes(),
                yesterday,
                c.user("dr.a").as_bytes()
            ],
        )
        .unwrap();
    for record in [c.note, c.dx] {
        assert_scope_failed(biller.read_record(&record, T), "clients", c.id());
        assert_failure_audited(c.p.path(), "record.read", &biller.user_id());
    }
    let vouch = vouched_for(c.p.path(), "client", c.id());
    // The client's newest entry: one of its records, whose entry vouches for the client's
    // drafts.
    assert_eq!(vouch.action, "record.create");
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);

    drop(biller);
    let Clinic {
        p, client, note, ..
    } = c;
    let p = reopen(p);
    let biller = p.login("biller");
    assert_scope_failed(biller.read_record(&note, T), "clients", client.as_bytes());
    assert_failure_audited(p.path(), "record.read", &biller.user_id());
    assert_findings(
        p.path(),
        &[facts_changed(vouch.seq, "client", client.as_bytes())],
    );
}

/// An outside party's consent (diagnosis codes to a psychiatrist) edited to name the biller,
/// with progress notes added: the biller is refused on integrity, and so is the treating
/// clinician, for every decision on the client, until the file is repaired.
#[test]
fn an_outside_consent_edited_to_name_the_biller_fails_closed() {
    let c = clinic();
    let dr = c.p.login("dr.a");
    let psychiatrist = ConsentRecipient::Outside {
        name: "Dr. Priya Natarajan".into(),
        organisation: "Riverside Psychiatry".into(),
        address: "400 River Road, Springfield".into(),
    };
    let id = dr
        .record_consent(
            &c.client,
            &consent(psychiatrist, &[Category::DiagnosisCodes], T),
            T,
        )
        .unwrap();
    let vouch = granted(c.p.path(), "consent.record");
    let biller = c.p.login("biller");
    raw(c.p.path())
        .execute(
            "UPDATE consents SET recipient_kind = 'user', recipient_user = ?2, \
             categories = 'diagnosis_codes,progress_notes' WHERE consent_id = ?1",
            params![id.as_bytes(), c.user("biller").as_bytes()],
        )
        .unwrap();
    assert_scope_failed(biller.read_record(&c.note, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &biller.user_id());
    assert_scope_failed(dr.read_record(&c.dx, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &dr.user_id());
    assert_scope_failed(dr.list_consents(&c.client, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.list", &dr.user_id());
    assert_eq!(vouched_for(c.p.path(), "client", c.id()).seq, vouch.seq);
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}

/// The biller's consent for Jordan copied, under a new id, to Sam: Sam's notes stay closed to
/// the biller (integrity), Jordan's consent still works, and `audit-verify` names Sam's scope
/// alone, at Sam's creation.
#[test]
fn a_consent_copied_to_another_client_fails_only_that_clients_reads() {
    let c = clinic();
    let dr = c.p.login("dr.a");
    let sam = new_client(&dr, "Sam Doe");
    let sams_note = dr
        .create_record(
            &sam,
            RecordKind::ProgressNote,
            &[("summary", Value::text("Sam's session"))],
            T,
        )
        .unwrap();
    let id = c.consent_to_biller(T);
    let biller = c.p.login("biller");
    assert_eq!(
        biller.read_record(&c.note, T).unwrap().basis,
        Basis::Consent
    );
    assert!(matches!(
        biller.read_record(&sams_note, T),
        Err(Error::Denied { .. })
    ));
    raw(c.p.path())
        .execute(
            "INSERT INTO consents (consent_id, client_id, recipient_kind, recipient_user, \
             categories, purpose, start_at, expires_at, revoked_at, signed_on, created_at, \
             created_by, recipient_index, fields_digest, write_version, mac) \
             SELECT ?2, ?3, recipient_kind, recipient_user, categories, purpose, start_at, \
             expires_at, revoked_at, signed_on, created_at, created_by, recipient_index, \
             fields_digest, write_version, mac FROM consents WHERE consent_id = ?1",
            params![id.as_bytes(), [0x33u8; 16], sam.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(biller.read_record(&sams_note, T), "clients", sam.as_bytes());
    assert_failure_audited(c.p.path(), "record.read", &biller.user_id());
    assert_eq!(
        biller.read_record(&c.note, T).unwrap().basis,
        Basis::Consent
    );
    let vouch = vouched_for(c.p.path(), "client", sam.as_bytes());
    // The client's newest entry: one of its records, whose entry vouches for the client's
    // drafts.
    assert_eq!(vouch.action, "record.create");
    assert_findings(
        c.p.path(),
        &[facts_changed(vouch.seq, "client", sam.as_bytes())],
    );
}

/// A consent saved before its revocation and put back, row for row (its own MAC and write
/// count included), after the vault revoked it: the client's scope no longer matches its MAC.
///
/// Putting back the client's `facts_mac` from the same copy as well rolls the client's whole
/// scope back to a state the vault once authenticated, which the read path accepts: nothing in
/// the file can tell an old authenticated state from the current one. That is a known limit
/// of the read path; `audit-verify` catches it against the log (the revocation's entry vouches
/// for the revoked state), and so does a witness of the log kept elsewhere.
#[test]
fn a_revoked_consent_put_back_fails_the_scope() {
    let c = clinic();
    let id = c.consent_to_biller(T);
    let biller = c.p.login("biller");
    assert_eq!(
        biller.read_record(&c.note, T).unwrap().basis,
        Basis::Consent
    );
    let db = raw(c.p.path());
    let (columns, saved): (Vec<String>, Vec<rusqlite::types::Value>) = db
        .query_row(
            "SELECT * FROM consents WHERE consent_id = ?1",
            [id.as_bytes()],
            |r| {
                let names = r.as_ref().column_names();
                let names = names.into_iter().map(str::to_owned).collect();
                let values = (0..r.as_ref().column_count()).map(|i| r.get(i));
                Ok((names, values.collect::<rusqlite::Result<_>>()?))
            },
        )
        .unwrap();
    let saved_mac: Vec<u8> = db
        .query_row(
            "SELECT facts_mac FROM clients WHERE client_id = ?1",
            [c.id()],
            |r| r.get(0),
        )
        .unwrap();
    c.p.login("dr.a").revoke_consent(&id, T).unwrap();
    let revoked = granted(c.p.path(), "consent.revoke");
    assert_denied(biller.read_record(&c.note, T), DenyReason::ConsentRevoked);

    // Every column as it was, the row's own MAC and write count included.
    let set: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("{c} = ?{}", i + 2))
        .collect();
    let mut values = vec![rusqlite::types::Value::Blob(id.as_bytes().to_vec())];
    values.extend(saved);
    let restored = db
        .execute(
            &format!(
                "UPDATE consents SET {} WHERE consent_id = ?1",
                set.join(", ")
            ),
            rusqlite::params_from_iter(&values),
        )
        .unwrap();
    assert_eq!(restored, 1);
    assert_scope_failed(biller.read_record(&c.note, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &biller.user_id());
    assert_eq!(vouched_for(c.p.path(), "client", c.id()).seq, revoked.seq);
    assert_findings(c.p.path(), &[facts_changed(revoked.seq, "client", c.id())]);

    // The known limit: the whole scope rolled back, its MAC with it, reads as it once was.
    db.execute(
        "UPDATE clients SET facts_mac = ?2 WHERE client_id = ?1",
        params![c.id(), saved_mac],
    )
    .unwrap();
    let read = biller.read_record(&c.note, T).unwrap();
    assert_eq!(read.basis, Basis::Consent);
    // Caught against the log, at the revocation.
    assert_findings(c.p.path(), &[facts_changed(revoked.seq, "client", c.id())]);
}

/// The same consent put back while the biller's session still remembers the client's facts
/// from before the revocation (it has read nothing since): the rows are those it once found
/// vouched for, but the client's MAC is the revocation's, so the read is checked again and
/// fails, as it does for a session that never saw them.
#[test]
fn a_revoked_consent_put_back_fails_a_session_that_saw_it_in_force() {
    let c = clinic();
    let id = c.consent_to_biller(T);
    let biller = c.p.login("biller");
    assert_eq!(
        biller.read_record(&c.note, T).unwrap().basis,
        Basis::Consent
    );
    c.p.login("dr.a").revoke_consent(&id, T).unwrap();
    let revoked = granted(c.p.path(), "consent.revoke");
    raw(c.p.path())
        .execute(
            "UPDATE consents SET revoked_at = NULL WHERE consent_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    assert_scope_failed(biller.read_record(&c.note, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &biller.user_id());
    assert_findings(c.p.path(), &[facts_changed(revoked.seq, "client", c.id())]);
}

/// Single columns of a consent edited in the file, each widening what it grants: its purpose
/// (operations to treatment), its revocation cleared, its expiry removed, its categories
/// widened. Each fails the biller's read on the client's scope, and is reported at the entry
/// that last vouched for the client's facts (the revocation for the revoked consent).
#[test]
fn a_consents_purpose_revocation_expiry_or_categories_edited_fail_closed() {
    struct Edit {
        what: &'static str,
        purpose: Purpose,
        expired: bool,
        revoke: bool,
        sql: &'static str,
        refused: Option<DenyReason>,
        vouched: &'static str,
    }
    let edits = [
        Edit {
            what: "purpose",
            purpose: Purpose::Operations,
            expired: false,
            revoke: false,
            sql: "UPDATE consents SET purpose = 'TREAT' WHERE consent_id = ?1",
            refused: Some(DenyReason::RoleNotPermitted),
            vouched: "consent.record",
        },
        Edit {
            what: "revoked_at",
            purpose: T,
            expired: false,
            revoke: true,
            sql: "UPDATE consents SET revoked_at = NULL WHERE consent_id = ?1",
            refused: Some(DenyReason::ConsentRevoked),
            vouched: "consent.revoke",
        },
        Edit {
            what: "expires_at",
            purpose: T,
            expired: true,
            revoke: false,
            sql: "UPDATE consents SET expires_at = NULL WHERE consent_id = ?1",
            refused: None,
            vouched: "consent.record",
        },
        Edit {
            what: "categories",
            purpose: T,
            expired: false,
            revoke: false,
            sql: "UPDATE consents SET categories = 'diagnosis_codes,progress_notes' \
                  WHERE consent_id = ?1",
            refused: None,
            vouched: "consent.record",
        },
    ];
    for edit in edits {
        let c = clinic();
        let dr = c.p.login("dr.a");
        let biller_id = c.user("biller");
        let mut signed = consent(
            ConsentRecipient::User(biller_id),
            &[Category::ProgressNotes],
            edit.purpose,
        );
        if edit.expired {
            signed.start_ms = now_ms() - 10 * DAY_MS;
            signed.signed_on_ms = signed.start_ms;
            signed.expires_ms = Some(now_ms() - DAY_MS);
        }
        let id = dr.record_consent(&c.client, &signed, T).unwrap();
        if edit.revoke {
            dr.revoke_consent(&id, T).unwrap();
        }
        let vouch = granted(c.p.path(), edit.vouched);
        let biller = c.p.login("biller");
        // What the consent allowed as the vault recorded it: the note (for the category edit,
        // the diagnosis) stays closed to the biller.
        let target = if edit.what == "categories" {
            c.dx
        } else {
            c.note
        };
        let before = biller.read_record(&target, T);
        match edit.refused {
            Some(reason) => assert_denied(before, reason),
            None => assert!(
                matches!(before, Err(Error::Denied { .. })),
                "{}: {before:?}",
                edit.what
            ),
        }
        let changed = raw(c.p.path()).execute(edit.sql, [id.as_bytes()]).unwrap();
        assert_eq!(changed, 1, "{}", edit.what);
        assert_scope_failed(biller.read_record(&target, T), "clients", c.id());
        assert_failure_audited(c.p.path(), "record.read", &biller_id);
        assert_eq!(
            vouched_for(c.p.path(), "client", c.id()).seq,
            vouch.seq,
            "{}",
            edit.what
        );
        assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
    }
}

/// Deleted facts: a minor's status row, and a consent row. Neither is "treated as absent":
/// both fail the client's scope, and `audit-verify` reports the entry that recorded them.
#[test]
fn a_deleted_minor_status_or_consent_fails_the_scope() {
    // The minor's status.
    let c = clinic();
    let dr = c.p.login("dr.a");
    dr.set_minor_status(&c.client, Some(MinorFacts::default()), T)
        .unwrap();
    let parent = c.parent(&dr);
    let vouch = granted(c.p.path(), "guardian.record");
    assert!(
        !dr.export_for_guardian(&c.client, &parent)
            .unwrap()
            .records
            .is_empty()
    );
    raw(c.p.path())
        .execute("DELETE FROM minor_status WHERE client_id = ?1", [c.id()])
        .unwrap();
    assert_scope_failed(
        dr.export_for_guardian(&c.client, &parent),
        "clients",
        c.id(),
    );
    assert_failure_audited(c.p.path(), "export.release", &dr.user_id());
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);

    // A consent.
    let c = clinic();
    let id = c.consent_to_biller(T);
    let vouch = granted(c.p.path(), "consent.record");
    let dr = c.p.login("dr.a");
    assert_eq!(dr.list_consents(&c.client, T).unwrap().len(), 1);
    let db = raw(c.p.path());
    for table in ["consent_fields", "consent_scopes"] {
        db.execute(
            &format!("DELETE FROM {table} WHERE consent_id = ?1"),
            [id.as_bytes()],
        )
        .unwrap();
    }
    db.execute(
        "DELETE FROM consents WHERE consent_id = ?1",
        [id.as_bytes()],
    )
    .unwrap();
    assert_scope_failed(dr.list_consents(&c.client, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.list", &dr.user_id());
    // The consent's fields, which its entry vouched for, are gone too.
    assert_findings(
        c.p.path(),
        &[
            facts_changed(vouch.seq, "client", c.id()),
            (
                vouch.seq,
                confide::FindingKind::RecordMissing { id: *id.as_bytes() },
            ),
        ],
    );
}

/// dr.b, who does not treat Jordan, added to the care team with SQL: dr.b's read fails on
/// integrity (an open session and a new login alike), and no one can vouch for the forged row
/// through the API either: adding dr.b properly is refused on the same integrity failure.
#[test]
fn a_clinician_added_to_the_care_team_in_the_file_is_refused() {
    let c = clinic();
    let drb = c.p.login("dr.b");
    assert_denied(drb.read_record(&c.note, T), DenyReason::NoRelationship);
    raw(c.p.path())
        .execute(
            "INSERT INTO care_team (client_id, user_id, relation, since) \
             VALUES (?1, ?2, 'treating', ?3)",
            params![c.id(), drb.user_id().as_bytes(), now_ms()],
        )
        .unwrap();
    assert_scope_failed(drb.read_record(&c.note, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &drb.user_id());
    let again = c.p.login("dr.b");
    assert_scope_failed(again.read_record(&c.dx, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &drb.user_id());
    // The treating clinician cannot paper over it by adding dr.b for real.
    let dr = c.p.login("dr.a");
    assert_scope_failed(
        dr.assign_care_team(&c.client, &drb.user_id(), T),
        "clients",
        c.id(),
    );
    assert_failure_audited(c.p.path(), "care_team.add", &dr.user_id());
    let vouch = vouched_for(c.p.path(), "client", c.id());
    // The client's newest entry: one of its records, whose entry vouches for the client's
    // drafts.
    assert_eq!(vouch.action, "record.create");
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}

/// A care-team row copied to another user: the supervisor the vault put on Jordan's team has
/// their row copied for dr.b. dr.b is refused on integrity; `audit-verify` reports the client
/// at the care-team entry, the last to vouch for its facts.
#[test]
fn a_care_team_row_copied_to_another_user_is_refused() {
    let c = clinic();
    let admin = c.p.admin();
    let sup = admin
        .add_user(
            "dr.sup",
            confide::Role::Supervisor,
            &confide::Passphrase::new(CLIN_PASS),
        )
        .unwrap();
    c.p.login("dr.a")
        .assign_care_team(&c.client, &sup, T)
        .unwrap();
    let vouch = vouched_for(c.p.path(), "client", c.id());
    assert_eq!(vouch.action, "care_team.add");
    let drb = c.p.login("dr.b");
    raw(c.p.path())
        .execute(
            "INSERT INTO care_team (client_id, user_id, relation, since) \
             SELECT client_id, ?3, relation, since FROM care_team \
             WHERE client_id = ?1 AND user_id = ?2",
            params![c.id(), sup.as_bytes(), drb.user_id().as_bytes()],
        )
        .unwrap();
    assert_scope_failed(drb.read_record(&c.note, T), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &drb.user_id());
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}

/// A minor who consented to their own care shuts the guardian out; the flags flipped back in
/// the file would open the general record to the guardian. The release fails on integrity.
#[test]
fn a_protected_minors_status_flipped_in_the_file_fails_the_guardian_release() {
    let c = clinic();
    let dr = c.p.login("dr.a");
    let own_care = MinorFacts {
        consented_to_own_treatment: true,
        ..MinorFacts::default()
    };
    dr.set_minor_status(&c.client, Some(own_care), T).unwrap();
    let parent = c.parent(&dr);
    let vouch = granted(c.p.path(), "guardian.record");
    assert_denied(
        dr.export_for_guardian(&c.client, &parent),
        DenyReason::MinorProtected,
    );
    raw(c.p.path())
        .execute(
            "UPDATE minor_status SET consented_to_own_treatment = 0, court_directed = 0, \
             guardian_agreed_confidential = 0 WHERE client_id = ?1",
            [c.id()],
        )
        .unwrap();
    assert_scope_failed(
        dr.export_for_guardian(&c.client, &parent),
        "clients",
        c.id(),
    );
    assert_failure_audited(c.p.path(), "export.release", &dr.user_id());
    drop(dr);
    let Clinic { p, client, .. } = c;
    let p = reopen(p);
    let dr = p.login("dr.a");
    assert_scope_failed(
        dr.export_for_guardian(&client, &parent),
        "clients",
        client.as_bytes(),
    );
    assert_failure_audited(p.path(), "export.release", &dr.user_id());
    assert_findings(
        p.path(),
        &[facts_changed(vouch.seq, "client", client.as_bytes())],
    );
}

/// A break-glass grant inserted for dr.b, in force for the next hour: dr.b's emergency read
/// fails on integrity instead of opening the chart.
#[test]
fn a_forged_break_glass_grant_fails_the_emergency_read() {
    let c = clinic();
    let drb = c.p.login("dr.b");
    let e = Purpose::EmergencyTreatment;
    assert_denied(drb.read_record(&c.note, e), DenyReason::NoRelationship);
    let now = now_ms();
    raw(c.p.path())
        .execute(
            "INSERT INTO break_glass (grant_id, user_id, client_id, started_at, expires_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                [0x6bu8; 16],
                drb.user_id().as_bytes(),
                c.id(),
                now - 60_000,
                now + 3_600_000
            ],
        )
        .unwrap();
    assert_scope_failed(drb.read_record(&c.note, e), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &drb.user_id());
    let vouch = vouched_for(c.p.path(), "client", c.id());
    // The client's newest entry: one of its records, whose entry vouches for the client's
    // drafts.
    assert_eq!(vouch.action, "record.create");
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}

/// dr.b's real break-glass grant, 30 minutes, has run out; its `expires_at` pushed a day on in
/// the file would reopen the chart. The read fails on integrity; `audit-verify` reports the
/// client at the grant's start.
#[test]
fn an_expired_break_glass_grant_extended_in_the_file_fails_closed() {
    let clock = TestClock::starting_at(1_772_442_000_000);
    let c = clinic_in(Practice::on_clock(clock));
    let e = Purpose::EmergencyTreatment;
    c.p.login("dr.b")
        .break_glass(&c.client, "unresponsive in the waiting room", 30)
        .unwrap();
    let vouch = granted(c.p.path(), "break_glass.start");
    clock.advance(std::time::Duration::from_secs(31 * 60));
    let drb = c.p.login("dr.b");
    assert_denied(drb.read_record(&c.note, e), DenyReason::NoRelationship);
    raw(c.p.path())
        .execute(
            "UPDATE break_glass SET expires_at = expires_at + ?2 WHERE client_id = ?1",
            params![c.id(), DAY_MS],
        )
        .unwrap();
    assert_scope_failed(drb.read_record(&c.note, e), "clients", c.id());
    assert_failure_audited(c.p.path(), "record.read", &drb.user_id());
    assert_eq!(vouched_for(c.p.path(), "client", c.id()).seq, vouch.seq);
    assert_findings(c.p.path(), &[facts_changed(vouch.seq, "client", c.id())]);
}
