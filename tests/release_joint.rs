//! Releasing a couple's or a group's joint record (45 CFR 164.508(c); DOMAIN L13): the joint
//! record belongs to every member, so it leaves under authorizations only when each member has
//! named that recipient, one partner's lawyer never gets it on that partner's word alone, and a
//! court order that names it releases it without anyone's. What each member said alone stays
//! theirs, in every release and export, under either secrets policy.

mod common;
#[path = "common/disclosing.rs"]
mod disclosing;
#[path = "common/joint.rs"]
mod joint;
#[path = "common/scoped.rs"]
mod scoped;
#[path = "common/stories.rs"]
mod stories;

use common::new_client;
use confide::Category::{DiagnosisCodes, JointRecord};
use confide::{
    CaseKind, ConsentRecipient, DenyReason, DisclosureRequest, LegalBasis, Purpose, Value,
};
use disclosing::*;
use joint::*;
use scoped::{accounting, assert_manifest, part};
use stories::{assert_invalid, export_text};

const LEGAL: Purpose = Purpose::Legal;

#[test]
fn each_partners_lawyer_alone_gets_nothing_and_a_shared_mediator_gets_the_joint_record() {
    for secrets in POLICIES {
        let c = couple_under(secrets);
        let dr = c.dr();
        let (a_lawyer, b_lawyer) = (alex_lawyer(), blake_lawyer());
        let alex = c.authorize(0, &a_lawyer, LEGAL);
        let blake = c.authorize(1, &b_lawyer, LEGAL);

        // Blake did not name Alex's lawyer; Alex did not name Blake's.
        let to_a = c.request(0, &a_lawyer, LEGAL, alex);
        refused_for(&c.p, &dr, &to_a, DenyReason::HeldInConfidence);
        let to_b = c.request(1, &b_lawyer, LEGAL, blake);
        refused_for(&c.p, &dr, &to_b, DenyReason::HeldInConfidence);
        // Nor does citing the other partner's consent reach one's own lawyer.
        let crossed = c.request(1, &a_lawyer, LEGAL, blake);
        refused_for(&c.p, &dr, &crossed, DenyReason::OutsideConsent);
        assert_eq!(ledger_rows(&c.p), 0, "{secrets}");

        // Both name the mediator: the joint record leaves, and only it.
        let to = mediator();
        let alex_m = c.authorize(0, &to, LEGAL);
        let blake_m = c.authorize(1, &to, LEGAL);
        for (member, consent) in [(0, alex_m), (1, blake_m)] {
            let req = c.request(member, &to, LEGAL, consent);
            let pkg = release(&c.p, &dr, &req, c.want(), &c.secrets());
            assert_manifest(
                &pkg,
                &[part("joint_record", &["summary"], "authorization-scope")],
                &[],
                Some("joint_record (all fields)"),
            );
            let json = pkg.to_json();
            for note in &NOTES[..2] {
                assert!(!json.contains(note), "an individual note left ({secrets})");
            }
            assert!(accounting(&dr, &c.members[member]).is_empty());
        }
        assert_eq!(ledger_rows(&c.p), 2);
    }
}

#[test]
fn a_joint_authorization_names_a_case_of_the_client_and_an_outside_recipient() {
    let c = couple_under(confide::SecretsPolicy::HeldInConfidence);
    let dr = c.dr();
    let outsider = new_client(&dr, "Dana Quill");
    let other = new_client(&dr, "Eli Quill");
    let elsewhere = dr
        .create_case(
            CaseKind::Couple,
            confide::SecretsPolicy::NoSecrets,
            &[outsider, other],
            T,
        )
        .unwrap();
    let dr_b = c.p.login("dr.b").user_id();
    let consents = || count(&c.p, "SELECT COUNT(*) FROM consents");
    let before = (consents(), audit_rows(&c.p));
    let yesterday = now_ms() - DAY_MS;
    let to = mediator();
    let base = signed(&to, &[JointRecord], LEGAL, yesterday, None);

    // No case named.
    assert_invalid(dr.record_consent(&c.members[0], &base, T));
    // A case Alex is not a member of.
    let foreign = confide::NewConsent {
        case: Some(elsewhere),
        ..base.clone()
    };
    assert_invalid(dr.record_consent(&c.members[0], &foreign, T));
    // Nor Dana, for Alex's case.
    let theirs = confide::NewConsent {
        case: Some(c.case),
        ..base.clone()
    };
    assert_invalid(dr.record_consent(&outsider, &theirs, T));
    // A user of the vault reaches joint content as a clinician of the case, never by consent.
    let to_user = confide::NewConsent {
        recipient: ConsentRecipient::User(dr_b),
        case: Some(c.case),
        ..base.clone()
    };
    assert_invalid(dr.record_consent(&c.members[0], &to_user, T));
    assert_eq!((consents(), audit_rows(&c.p)), before, "nothing recorded");

    // A case named without the joint record is no joint authorization either.
    let stray = confide::NewConsent {
        case: Some(c.case),
        ..signed(&to, &[DiagnosisCodes], LEGAL, yesterday, None)
    };
    assert_invalid(dr.record_consent(&c.members[0], &stray, T));
    // Named properly, it is recorded.
    dr.record_consent(&c.members[0], &theirs, T).unwrap();
    assert_eq!(consents(), before.0 + 1);
}

#[test]
fn each_members_export_holds_the_joint_record_and_only_their_own_notes() {
    for secrets in POLICIES {
        let c = couple_under(secrets);
        let dr = c.dr();
        for (me, other) in [(0, 1), (1, 0)] {
            let export = dr.export_for_client(&c.members[me]).unwrap();
            let joint: Vec<_> = export.joint_records.iter().map(|j| j.id).collect();
            assert_eq!(joint, [c.joint], "{secrets}");
            assert_eq!(
                export.joint_records[0].get("summary"),
                Some(&Value::text(JOINT_SESSION))
            );
            let own = export.records.iter().find(|r| r.id == c.notes[me]).unwrap();
            assert_eq!(own.get("disclosure"), Some(&Value::text(NOTES[me])));
            assert!(export.records.iter().all(|r| r.client == c.members[me]));
            assert!(export.records.iter().all(|r| r.id != c.notes[other]));
            // The other partner's note is not withheld from this export: it was never in it.
            assert_eq!(export.withheld, []);
            let text = export_text(&export);
            assert!(!text.contains(NOTES[other]), "{secrets}");
            assert!(!text.contains(&c.notes[other].to_string()));
        }
    }
}

#[test]
fn a_partner_who_left_keeps_what_the_joint_record_held_then() {
    for secrets in POLICIES {
        let c = couple_under(secrets);
        let dr = c.dr();
        dr.leave_case(&c.case, &c.members[1], T).unwrap();
        let later_text = "Alex alone after the separation: new relationship";
        let later = dr
            .write_joint_record(&c.case, &[("summary", Value::text(later_text))], T)
            .unwrap();

        let blake = dr.export_for_client(&c.members[1]).unwrap();
        let joint: Vec<_> = blake.joint_records.iter().map(|j| j.id).collect();
        assert_eq!(joint, [c.joint], "{secrets}");
        assert!(blake.records.iter().any(|r| r.id == c.notes[1]));
        assert!(!export_text(&blake).contains(later_text));
        assert!(!export_text(&blake).contains(NOTES[0]));

        let alex = dr.export_for_client(&c.members[0]).unwrap();
        let mut joint: Vec<_> = alex.joint_records.iter().map(|j| j.id).collect();
        joint.sort();
        let mut want = vec![c.joint, later];
        want.sort();
        assert_eq!(joint, want, "{secrets}");

        // Blake's part of the joint record is still Blake's: Alex alone cannot release it.
        let to = mediator();
        let alex_m = c.authorize(0, &to, LEGAL);
        let req = c.request(0, &to, LEGAL, alex_m);
        refused_for(&c.p, &dr, &req, DenyReason::HeldInConfidence);
        c.authorize(1, &to, LEGAL);
        let all = c.items(&[(c.joint, JOINT_SESSION), (later, later_text)]);
        release(&c.p, &dr, &req, all, &c.secrets());
    }
}

#[test]
fn a_group_release_needs_every_member_and_two_are_not_enough() {
    for secrets in POLICIES {
        let g = case_of(CaseKind::Group, secrets, 3);
        let dr = g.dr();
        let to = party(
            "Dr. Lee Hart",
            "Hart Group Practice",
            "18 Birch Court, Springfield",
        );
        let first = g.authorize(0, &to, T);
        let req = g.request(0, &to, T, first);
        refused_for(&g.p, &dr, &req, DenyReason::HeldInConfidence);
        g.authorize(1, &to, T);
        refused_for(&g.p, &dr, &req, DenyReason::HeldInConfidence);
        // The third member's consent to someone else does not count.
        g.authorize(2, &mediator(), T);
        refused_for(&g.p, &dr, &req, DenyReason::HeldInConfidence);
        assert_eq!(ledger_rows(&g.p), 0);

        g.authorize(2, &to, T);
        let pkg = release(&g.p, &dr, &req, g.want(), &g.secrets());
        assert_manifest(
            &pkg,
            &[part("joint_record", &["summary"], "authorization-scope")],
            &[],
            Some("joint_record (all fields)"),
        );
        let json = pkg.to_json();
        for (note, name) in NOTES.iter().zip(NAMES) {
            assert!(!json.contains(note), "{secrets}");
            assert!(!json.contains(name), "a member's name left ({secrets})");
        }
    }
}

#[test]
fn a_court_order_naming_the_joint_record_releases_it_without_the_members() {
    for secrets in POLICIES {
        let c = couple_under(secrets);
        let dr = c.dr();
        let to = court();
        let base = DisclosureRequest {
            case: Some(c.case),
            ..ask(
                c.members[0],
                &to,
                LegalBasis::CourtOrder,
                LEGAL,
                &[JointRecord],
            )
        };
        let req = with_order(base.clone(), "Case No. 24-FL-0192", &[JointRecord]);
        let pkg = release(&c.p, &dr, &req, c.want(), &c.secrets());
        assert_manifest(
            &pkg,
            &[part("joint_record", &["summary"], "court-order")],
            &[],
            None,
        );
        let (issuer, _) = pkg.manifest.order.clone().unwrap();
        assert_eq!(issuer, "Superior Court of the County");
        assert!(!pkg.to_json().contains(NOTES[0]) && !pkg.to_json().contains(NOTES[1]));
        // A court order is listed in the accounting of disclosures.
        let listed = accounting(&dr, &c.members[0]);
        assert_eq!(listed.len(), 1, "{secrets}");
        assert_eq!(listed[0].recipient, to);
        assert_eq!(listed[0].legal_basis, "court-order");
        assert_eq!(listed[0].purpose, LEGAL.code());
        assert_eq!(listed[0].audit_seq, pkg.manifest.audit_seq);
        // The other member's joint content left too: their accounting lists it, and says only
        // that their joint record left, nothing of the first member's own record.
        let theirs = accounting(&dr, &c.members[1]);
        assert_eq!(theirs.len(), 1, "{secrets}");
        assert_eq!(
            (&theirs[0].recipient, theirs[0].audit_seq),
            (&to, pkg.manifest.audit_seq)
        );
        assert!(
            theirs[0]
                .description
                .starts_with("the joint record of a case")
        );
        assert!(!theirs[0].description.contains("diagnosis"));

        // A subpoena is not a mandatory basis: the members' authorizations are still needed.
        let subpoena = DisclosureRequest {
            basis: LegalBasis::Subpoena,
            ..req.clone()
        };
        refused_for(&c.p, &dr, &subpoena, DenyReason::HeldInConfidence);
        // An order that does not name the joint record does not reach it.
        let other = with_order(base.clone(), "Case No. 24-FL-0192", &[DiagnosisCodes]);
        refused_for(&c.p, &dr, &other, DenyReason::PurposeNotPermitted);
        // An order names its issuer.
        let mut unnamed = req.clone();
        if let Some(order) = unnamed.order.as_mut() {
            order.issuer = " ".into();
        }
        invalid(&c.p, &dr, &unnamed);
        assert_eq!(ledger_rows(&c.p), 1);
    }
}
