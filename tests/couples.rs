//! Couples and groups (DESIGN.md, Access: joint cases). The joint record belongs to every member;
//! what one partner says in an individual session belongs to that partner alone, whatever the
//! secrets policy, and stays theirs after the couple separates. Group members never learn who
//! else is in the group through the record.

mod common;
#[path = "common/stories.rs"]
mod stories;

use common::*;
use confide::{
    CaseId, CaseKind, Category, ClientId, ConsentRecipient, DenyReason, JointRecordId, Purpose,
    RecordId, SecretsPolicy, Value, Withheld,
};
use stories::*;

const T: Purpose = Purpose::Treatment;
const AFFAIR: &str = "Disclosed an ongoing affair with a coworker; has not told partner";
const JOINT: &str = "Joint session 1: pursue-withdraw cycle around money; homework agreed";

/// Alex and Blake, a couple seen by dr.a: one joint session, then Alex alone discloses an affair.
struct Couple {
    p: Practice,
    alex: ClientId,
    blake: ClientId,
    case: CaseId,
    joint: JointRecordId,
    affair: RecordId,
}

fn couple(secrets: SecretsPolicy) -> Couple {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let alex = new_client(&dr, "Alex Morgan");
    let blake = new_client(&dr, "Blake Morgan");
    let case = dr
        .create_case(CaseKind::Couple, secrets, &[alex, blake], T)
        .unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text(JOINT))], T)
        .unwrap();
    let affair = dr
        .write_case_note(&case, &alex, &[("disclosure", Value::text(AFFAIR))], T)
        .unwrap();
    Couple {
        p,
        alex,
        blake,
        case,
        joint,
        affair,
    }
}

/// Blake's release (right of access) holds the joint record and nothing of Alex's session.
#[track_caller]
fn blake_sees_joint_but_not_affair(c: &Couple) {
    let dr = c.p.login("dr.a");
    let export = dr.export_for_client(&c.blake).unwrap();
    let text = export_text(&export);
    assert!(
        !text.contains("affair"),
        "the disclosure reached the partner"
    );
    assert!(
        !text.contains(&c.affair.to_string()),
        "the note's id reached the partner"
    );
    assert!(export.records.iter().all(|r| r.client == c.blake));
    assert!(export.records.iter().all(|r| r.id != c.affair));
    assert!(
        export.joint_records.iter().any(|j| j.id == c.joint),
        "the joint record belongs to both partners"
    );
    assert!(revealed(&export).iter().any(|v| v == JOINT));
}

#[test]
fn an_individual_disclosure_never_reaches_the_partner_under_either_policy() {
    for secrets in [SecretsPolicy::NoSecrets, SecretsPolicy::HeldInConfidence] {
        let c = couple(secrets);
        let dr = c.p.login("dr.a");
        blake_sees_joint_but_not_affair(&c);

        // Alex's own release has the joint record and Alex's own session notes.
        let alex = dr.export_for_client(&c.alex).unwrap();
        assert!(alex.joint_records.iter().any(|j| j.id == c.joint));
        let own = alex.records.iter().find(|r| r.id == c.affair).unwrap();
        assert_eq!(own.get("disclosure"), Some(&Value::text(AFFAIR)));

        // Nothing in the shared (joint) record, which Blake owns too, carries the disclosure.
        for id in dr.list_joint_records(&c.case, T).unwrap() {
            let entry = dr.read_joint_record(&id, T).unwrap();
            assert!(
                entry
                    .fields
                    .values()
                    .all(|v| !v.reveal().contains("affair"))
            );
        }
        // Blake's own record listing does not hold Alex's note either.
        let blakes = dr.list_records(&c.blake, T).unwrap();
        assert!(blakes.iter().all(|r| r.id != c.affair), "{secrets}");

        // The couple separates; Alex's disclosure still never reaches Blake.
        dr.leave_case(&c.case, &c.blake, T).unwrap();
        dr.leave_case(&c.case, &c.alex, T).unwrap();
        blake_sees_joint_but_not_affair(&c);
        let alex = dr.export_for_client(&c.alex).unwrap();
        assert!(alex.records.iter().any(|r| r.id == c.affair));
        assert!(alex.joint_records.iter().any(|j| j.id == c.joint));
        assert_log_intact(&c.p);
    }
}

#[test]
fn the_partners_release_never_touches_the_disclosure() {
    let c = couple(SecretsPolicy::HeldInConfidence);
    let dr = c.p.login("dr.a");
    dr.export_for_client(&c.blake).unwrap();
    // Blake's export never even tried Alex's note: it is in Alex's record, not Blake's.
    let reads = entries(&c.p, "record.read");
    let target = c.affair.to_string();
    assert!(
        reads
            .iter()
            .all(|e| e.target.as_deref() != Some(target.as_str()) || e.client == Some(c.alex)),
        "an entry ties Alex's note to another client"
    );
    let released = entries(&c.p, "export.release");
    let last = released.last().unwrap();
    assert_eq!(last.client, Some(c.blake));
    assert_eq!(last.fields, ["client"]);
    assert_log_intact(&c.p);
}

#[test]
fn joint_entries_written_after_separation_do_not_reach_the_former_partner() {
    // "What the case's joint record held stays theirs": what it holds after Blake left is not.
    let c = couple(SecretsPolicy::HeldInConfidence);
    let dr = c.p.login("dr.a");
    dr.leave_case(&c.case, &c.blake, T).unwrap();
    let later = dr
        .write_joint_record(
            &c.case,
            &[(
                "summary",
                Value::text("Alex alone after the separation: new relationship"),
            )],
            T,
        )
        .unwrap();
    let export = dr.export_for_client(&c.blake).unwrap();
    assert!(export.joint_records.iter().any(|j| j.id == c.joint));
    assert!(
        export.joint_records.iter().all(|j| j.id != later),
        "an entry written after Blake left the case reached Blake"
    );
    assert!(!export_text(&export).contains("new relationship"));
    assert_log_intact(&c.p);
}

#[test]
fn a_disclosure_shared_after_separation_does_not_reach_the_former_partner() {
    // Under no-secrets the clinician may bring the disclosure into the joint record, but once
    // Blake has left the case that record is no longer Blake's to receive.
    let c = couple(SecretsPolicy::NoSecrets);
    let dr = c.p.login("dr.a");
    dr.leave_case(&c.case, &c.blake, T).unwrap();
    let shared = dr.share_into_joint(&c.affair, T).unwrap();
    let export = dr.export_for_client(&c.blake).unwrap();
    assert!(
        export.joint_records.iter().all(|j| j.id != shared),
        "the affair reached Blake after the separation"
    );
    assert!(!export_text(&export).contains("affair"));
    assert_log_intact(&c.p);
}

#[test]
fn held_in_confidence_sharing_needs_the_disclosing_partners_consent() {
    let c = couple(SecretsPolicy::HeldInConfidence);
    let dr = c.p.login("dr.a");

    // No consent yet: refused, and audited with the reason.
    assert_denied(
        dr.share_into_joint(&c.affair, T),
        DenyReason::HeldInConfidence,
    );
    let e = entries(&c.p, "joint.share").pop().unwrap();
    assert_eq!(e.outcome, "denied:held-in-confidence");
    assert_eq!(e.client, Some(c.alex));

    // Blake's consent cannot waive Alex's confidence.
    let to_joint = consent(
        ConsentRecipient::JointRecord,
        &[Category::IndividualCaseNotes],
        T,
    );
    dr.record_consent(&c.blake, &to_joint, T).unwrap();
    assert_denied(
        dr.share_into_joint(&c.affair, T),
        DenyReason::HeldInConfidence,
    );

    // Alex consents: the clinician may now bring the disclosure into the joint record.
    let alex_consent = dr.record_consent(&c.alex, &to_joint, T).unwrap();
    let shared = dr.share_into_joint(&c.affair, T).unwrap();
    assert_eq!(
        entries(&c.p, "joint.share").pop().unwrap().outcome,
        "granted:consent"
    );
    let entry = dr.read_joint_record(&shared, T).unwrap();
    assert_eq!(entry.get("disclosure"), Some(&Value::text(AFFAIR)));
    // Shared with Alex's consent, it is now part of what both partners receive.
    let blake = dr.export_for_client(&c.blake).unwrap();
    assert!(blake.joint_records.iter().any(|j| j.id == shared));

    // Alex revokes: the very next share is refused.
    dr.revoke_consent(&alex_consent, T).unwrap();
    assert_denied(
        dr.share_into_joint(&c.affair, T),
        DenyReason::ConsentRevoked,
    );
    assert_eq!(
        entries(&c.p, "joint.share").pop().unwrap().outcome,
        "denied:consent-revoked"
    );
    assert_log_intact(&c.p);
}

#[test]
fn no_secrets_lets_the_clinician_share() {
    let c = couple(SecretsPolicy::NoSecrets);
    let dr = c.p.login("dr.a");
    let shared = dr.share_into_joint(&c.affair, T).unwrap();
    let e = entries(&c.p, "joint.share").pop().unwrap();
    assert_eq!(e.outcome, "granted:no-secrets-policy");
    assert_eq!(e.fields, ["disclosure"]);
    let blake = dr.export_for_client(&c.blake).unwrap();
    assert!(blake.joint_records.iter().any(|j| j.id == shared));
    assert_log_intact(&c.p);
}

#[test]
fn only_the_case_clinician_shares_and_refusals_unwrap_nothing() {
    let c = couple(SecretsPolicy::NoSecrets);
    let b = c.p.login("dr.b");
    assert_denied(b.share_into_joint(&c.affair, T), DenyReason::NoRelationship);
    assert_denied(b.read_joint_record(&c.joint, T), DenyReason::NoRelationship);
    assert_denied(b.list_joint_records(&c.case, T), DenyReason::NoRelationship);
    assert_denied(b.read_record(&c.affair, T), DenyReason::NoRelationship);
    assert_denied(b.export_for_client(&c.blake), DenyReason::NoRelationship);
    assert_eq!(b.key_stats().unwrapped, 0);
    // The biller has no relationship with the couple's case content either.
    let biller = c.p.login("biller");
    assert_denied(
        biller.share_into_joint(&c.affair, Purpose::Payment),
        DenyReason::NoRelationship,
    );
    assert_denied(
        biller.read_joint_record(&c.joint, Purpose::Payment),
        DenyReason::NoRelationship,
    );
    assert_eq!(biller.key_stats().unwrapped, 0);
    assert_log_intact(&c.p);
}

#[test]
fn a_group_member_never_learns_who_else_is_in_the_group() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let names = ["Quinn Harper", "Rowan Ellis", "Sasha Novak"];
    let members: Vec<ClientId> = names.iter().map(|n| new_client(&dr, n)).collect();
    let case = dr
        .create_case(CaseKind::Group, SecretsPolicy::NoSecrets, &members, T)
        .unwrap();
    let attendance = dr
        .write_joint_record(
            &case,
            &[(
                "attendance",
                Value::text(format!("Present: {}", names.join(", "))),
            )],
            T,
        )
        .unwrap();
    for (i, m) in members.iter().enumerate() {
        dr.write_case_note(
            &case,
            m,
            &[("check_in", Value::text(format!("member {i} check-in")))],
            T,
        )
        .unwrap();
    }
    // Even a member's note brought into the group record stays out of the other members' view.
    let rowans = dr.list_records(&members[1], T).unwrap();
    let rowans_note = rowans.iter().find(|r| r.case == Some(case)).unwrap();
    let shared = dr.share_into_joint(&rowans_note.id, T).unwrap();

    for (i, m) in members.iter().enumerate() {
        let export = dr.export_for_client(m).unwrap();
        let text = export_text(&export);
        for (j, other) in members.iter().enumerate() {
            if i == j {
                continue;
            }
            assert!(!text.contains(names[j]), "{} saw {}", names[i], names[j]);
            assert!(
                !text.contains(&other.to_string()),
                "{} saw {}'s id",
                names[i],
                names[j]
            );
            assert!(!text.contains(&format!("member {j} check-in")));
        }
        // Their own name and their own session notes are theirs.
        assert!(revealed(&export).iter().any(|v| v == names[i]));
        assert!(text.contains(&format!("member {i} check-in")));
        assert!(
            export.joint_records.is_empty(),
            "{} got the group record",
            names[i]
        );
        assert!(
            export
                .joint_records
                .iter()
                .all(|j| j.id != attendance && j.id != shared)
        );
        // The group record's two entries are withheld, each for the group's privacy.
        let mut withheld = export.withheld.clone();
        withheld.sort_by(|a, b| a.id.cmp(&b.id));
        let mut want: Vec<Withheld> = [attendance, shared]
            .iter()
            .map(|j| Withheld {
                id: j.to_string(),
                kind: "joint_record".into(),
                reason: DenyReason::GroupPrivacy,
            })
            .collect();
        want.sort_by(|a, b| a.id.cmp(&b.id));
        assert_eq!(withheld, want);
    }
    let refusals = entries(&p, "joint.read");
    assert!(!refusals.is_empty());
    assert!(
        refusals
            .iter()
            .all(|e| e.outcome == "denied:group-privacy" && e.fields.is_empty())
    );
    assert_log_intact(&p);
}
