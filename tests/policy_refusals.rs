//! Refusals beat permissions in `decide`: minors' exceptions, break-glass limits, psychotherapy
//! notes never for payment, case members kept from each other's notes; minimum necessary on
//! writes, default deny, no existence oracle; who may open break-glass and share into a joint
//! record. Only the public API is used: `decide` is pure, so no vault is needed.

#[path = "common/matrix.rs"]
mod matrix;

use confide::Category::*;
use confide::Purpose::*;
use confide::Role::*;
use confide::{
    Access, Basis, CaseFacts, CaseKind, Category, ConsentFact, DenyReason, Facts, MinorFacts,
    Purpose, Recipient, Role, SecretsPolicy, decide,
};
use matrix::*;

#[test]
fn a_minors_exception_shuts_the_guardian_out_whatever_the_rules_say() {
    let exceptions = [
        MinorFacts {
            consented_to_own_treatment: true,
            ..MinorFacts::default()
        },
        MinorFacts {
            court_directed: true,
            ..MinorFacts::default()
        },
        MinorFacts {
            guardian_agreed_confidential: true,
            ..MinorFacts::default()
        },
    ];
    let general = [
        Demographics,
        Appointments,
        DiagnosisCodes,
        TreatmentPlan,
        ProgressNotes,
        Billing,
    ];
    for c in general {
        let req = read(Guardian, c, PatientRequest);
        // A rule permits it...
        assert!(decide(&req, &guardian_of_minor()).is_allow(), "{c}");
        for minor in exceptions {
            // ...and the exception refuses it, even with a consent naming the guardian.
            let facts = Facts {
                minor: Some(minor),
                consents: vec![consent(me(), Category::ALL, PatientRequest)],
                ..guardian_of_minor()
            };
            assert_eq!(
                decide(&req, &facts),
                deny(DenyReason::MinorProtected),
                "{c} {minor:?}"
            );
        }
    }
    // No cell at all opens for a shut-out guardian.
    for minor in exceptions {
        let facts = Facts {
            minor: Some(minor),
            ..guardian_of_minor()
        };
        for &c in Category::ALL {
            for &p in Purpose::ALL {
                for access in [Access::Read(c), Access::Write(c)] {
                    let req = request(Guardian, access, p, REQUESTED);
                    assert!(!decide(&req, &facts).is_allow(), "{access:?} {p}");
                }
            }
        }
    }
}

#[test]
fn break_glass_never_opens_notes_part_2_or_case_content() {
    // A clinician on the care team, author of the note, clinician of the case, with
    // break-glass open and ETREAT consents naming them: still excluded.
    let facts = Facts {
        on_care_team: true,
        is_note_author: true,
        supervises_care_team: true,
        training_supervisor_of_author: true,
        break_glass_active: true,
        case: Some(couple(true, false, false)),
        consents: vec![
            consent(
                me(),
                &[SubstanceUse, JointRecord, IndividualCaseNotes],
                EmergencyTreatment,
            ),
            consent(me(), &[PsychotherapyNotes], EmergencyTreatment),
        ],
        ..at_now()
    };
    for role in [Clinician, Supervisor] {
        for c in [
            PsychotherapyNotes,
            SubstanceUse,
            JointRecord,
            IndividualCaseNotes,
        ] {
            for access in [Access::Read(c), Access::Write(c)] {
                let req = request(role, access, EmergencyTreatment, REQUESTED);
                assert_eq!(
                    decide(&req, &facts),
                    deny(DenyReason::BreakGlassExcluded),
                    "{role} {access:?}"
                );
            }
        }
        // The general record does open, flagged as break-glass.
        for c in [
            Demographics,
            Appointments,
            DiagnosisCodes,
            TreatmentPlan,
            ProgressNotes,
        ] {
            let req = read(role, c, EmergencyTreatment);
            assert_eq!(
                decide(&req, &facts),
                allow(Basis::BreakGlass, REQUESTED),
                "{role} {c}"
            );
        }
    }
}

#[test]
fn psychotherapy_notes_are_never_for_payment() {
    // Every fact true, and a psychotherapy-notes-only authorization naming the requester for
    // payment, in force (45 CFR 164.508(a)(2)).
    let facts = Facts {
        consents: vec![consent(me(), &[PsychotherapyNotes], Payment)],
        ..everything()
    };
    for &role in Role::ALL {
        for access in [
            Access::Read(PsychotherapyNotes),
            Access::Write(PsychotherapyNotes),
        ] {
            let req = request(role, access, Payment, REQUESTED);
            let want = if matches!(role, Admin | Auditor) {
                DenyReason::RoleNotPermitted
            } else {
                DenyReason::PurposeNotPermitted
            };
            assert_eq!(decide(&req, &facts), deny(want), "{role} {access:?}");
        }
    }
}

#[test]
fn case_members_never_reach_another_members_notes_or_a_groups_record() {
    let req = |c| read(Client, c, PatientRequest);
    // Another member's individual notes: refused, though the requester is a client reading
    // "their" case and a consent names them.
    let other_member = Facts {
        is_subject: true,
        case: Some(couple(false, true, false)),
        consents: vec![consent(me(), &[IndividualCaseNotes], PatientRequest)],
        ..at_now()
    };
    assert_eq!(
        decide(&req(IndividualCaseNotes), &other_member),
        deny(DenyReason::AnotherMembersNotes)
    );
    assert!(decide(&req(JointRecord), &other_member).is_allow());
    // A group's shared record: never to its members.
    let group = Facts {
        case: Some(CaseFacts {
            kind: CaseKind::Group,
            ..couple(false, true, true)
        }),
        ..own_record()
    };
    assert_eq!(
        decide(&req(JointRecord), &group),
        deny(DenyReason::GroupPrivacy)
    );
    assert_eq!(
        decide(&req(IndividualCaseNotes), &group),
        allow(Basis::SelfAccess, REQUESTED)
    );
}

// ---------------------------------------------------------------------------------------------
// Consents.

#[test]
fn a_write_with_a_field_outside_the_scope_is_refused_whole() {
    let write = |fields: &[&str]| {
        decide(
            &request(Scheduler, Access::Write(Appointments), Operations, fields),
            &practice(),
        )
    };
    assert_eq!(
        write(&["date", "time", "reason"]),
        deny(DenyReason::FieldNotPermitted)
    );
    assert_eq!(
        write(&["date", "time"]),
        allow(Basis::Role, &["date", "time"])
    );
    // The same fields read are trimmed, not refused.
    let read = request(
        Scheduler,
        Access::Read(Appointments),
        Operations,
        &["date", "time", "reason"],
    );
    assert_eq!(
        decide(&read, &practice()),
        allow(Basis::Role, &["date", "time"])
    );
}

#[test]
fn anything_the_table_does_not_list_is_denied() {
    // With no relationship at all, only the practice roles' own duties are open.
    let open = [
        (Biller, Access::Read(Demographics), Payment),
        (Biller, Access::Read(Appointments), Payment),
        (Biller, Access::Read(DiagnosisCodes), Payment),
        (Biller, Access::Read(Billing), Payment),
        (Biller, Access::Write(Billing), Payment),
        (Scheduler, Access::Read(Demographics), Operations),
        (Scheduler, Access::Read(Appointments), Operations),
        (Scheduler, Access::Write(Appointments), Operations),
    ];
    let mut allowed = 0;
    for &role in Role::ALL {
        for &c in Category::ALL {
            for &p in Purpose::ALL {
                for access in [Access::Read(c), Access::Write(c)] {
                    let d = decide(&request(role, access, p, &[]), &at_now());
                    assert_eq!(
                        d.is_allow(),
                        open.contains(&(role, access, p)),
                        "{role} {access:?} {p}: {d:?}"
                    );
                    allowed += usize::from(d.is_allow());
                }
            }
        }
    }
    assert_eq!(allowed, open.len());
    // HLEGAL is in no rule: a legal purpose opens nothing, whoever asks and whatever holds
    // (court orders and subpoenas go through the disclosure path, not a read).
    let all_true = Facts {
        consents: Vec::new(),
        ..everything()
    };
    for &role in Role::ALL {
        for &c in Category::ALL {
            for access in [Access::Read(c), Access::Write(c)] {
                let req = request(role, access, Legal, REQUESTED);
                assert!(!decide(&req, &all_true).is_allow(), "{role} {access:?}");
            }
        }
    }
}

#[test]
fn an_unknown_target_gets_the_same_refusal_as_an_unrelated_one() {
    // The vault answers a target that does not exist with empty facts; a real client the
    // requester has nothing to do with has consents to others, maybe a case they are not in.
    let unknown = Facts::default();
    let unrelated = Facts {
        now_ms: NOW,
        consents: vec![consent(someone_else(), Category::ALL, Treatment)],
        ..Facts::default()
    };
    for &role in Role::ALL {
        for &c in Category::ALL {
            for &p in Purpose::ALL {
                for access in [Access::Read(c), Access::Write(c)] {
                    let req = request(role, access, p, REQUESTED);
                    assert_eq!(
                        decide(&req, &unknown),
                        decide(&req, &unrelated),
                        "{role} {access:?} {p}"
                    );
                }
            }
        }
        if matches!(role, Clinician | Supervisor) {
            let req = read(role, ProgressNotes, Treatment);
            assert_eq!(decide(&req, &unknown), deny(DenyReason::NoRelationship));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Opening break-glass, and sharing into a joint record.

#[test]
fn break_glass_opens_for_clinicians_and_supervisors_with_etreat_only() {
    for &role in Role::ALL {
        for &p in Purpose::ALL {
            let req = request(role, Access::BreakGlass, p, &[]);
            let want = match (role, p) {
                (Clinician | Supervisor, EmergencyTreatment) => allow(Basis::BreakGlass, &[]),
                (Clinician | Supervisor, _) => deny(DenyReason::PurposeNotPermitted),
                // A client or guardian is never a requester by id: their role is what is wrong.
                (Client | Guardian, _) => deny(DenyReason::RoleNotPermitted),
                // Any other role, with no relationship, learns nothing of the client.
                _ => deny(DenyReason::NoRelationship),
            };
            // No relationship needed: that is the point of it.
            assert_eq!(decide(&req, &at_now()), want, "{role} {p}");
            // With a relationship, the role is what is wrong.
            if !matches!(role, Clinician | Supervisor | Client | Guardian) {
                assert_eq!(
                    decide(&req, &everything()),
                    deny(DenyReason::RoleNotPermitted),
                    "{role} {p}"
                );
            }
        }
    }
}

#[test]
fn sharing_into_the_joint_record_follows_the_secrets_policy() {
    let share = |role, purpose| request(role, Access::ShareIntoJoint, purpose, &[]);
    let req = share(Clinician, Treatment);
    let case = |secrets| CaseFacts {
        secrets,
        ..couple(true, false, false)
    };
    let facts = |secrets, consents| Facts {
        on_care_team: true,
        case: Some(case(secrets)),
        consents,
        ..at_now()
    };
    // A clinician's act, for treatment, by a clinician of the case on the member's care team.
    for &role in Role::ALL {
        if role != Clinician {
            assert_eq!(
                decide(&share(role, Treatment), &everything()),
                deny(DenyReason::RoleNotPermitted),
                "{role}"
            );
        }
    }
    assert_eq!(
        decide(
            &share(Clinician, Operations),
            &facts(SecretsPolicy::NoSecrets, vec![])
        ),
        deny(DenyReason::PurposeNotPermitted)
    );
    let not_case_clinician = Facts {
        case: Some(couple(false, false, false)),
        ..facts(SecretsPolicy::NoSecrets, vec![])
    };
    assert_eq!(
        decide(&req, &not_case_clinician),
        deny(DenyReason::NoRelationship)
    );
    let not_treating = Facts {
        on_care_team: false,
        ..facts(SecretsPolicy::NoSecrets, vec![])
    };
    assert_eq!(
        decide(&req, &not_treating),
        deny(DenyReason::NoRelationship)
    );
    // No secrets: the clinician may.
    assert_eq!(
        decide(&req, &facts(SecretsPolicy::NoSecrets, vec![])),
        allow(Basis::NoSecretsPolicy, &[])
    );
    // Held in confidence: only with the member's consent to the joint record naming individual
    // case notes, in force now.
    let held = SecretsPolicy::HeldInConfidence;
    assert_eq!(
        decide(&req, &facts(held, vec![])),
        deny(DenyReason::HeldInConfidence)
    );
    let to_joint = ConsentFact {
        recipient: Recipient::JointRecord,
        ..consent(me(), &[IndividualCaseNotes], Treatment)
    };
    assert_eq!(
        decide(&req, &facts(held, vec![to_joint.clone()])),
        allow(Basis::Consent, &[])
    );
    let wrong_category = ConsentFact {
        categories: [ProgressNotes].into(),
        ..to_joint.clone()
    };
    let to_a_user = consent(me(), &[IndividualCaseNotes], Treatment);
    for c in [wrong_category, to_a_user] {
        assert_eq!(
            decide(&req, &facts(held, vec![c])),
            deny(DenyReason::HeldInConfidence)
        );
    }
    let revoked = ConsentFact {
        revoked_ms: Some(NOW),
        ..to_joint.clone()
    };
    assert_eq!(
        decide(&req, &facts(held, vec![revoked])),
        deny(DenyReason::ConsentRevoked)
    );
    let not_yet = ConsentFact {
        start_ms: NOW + 1,
        ..to_joint
    };
    assert_eq!(
        decide(&req, &facts(held, vec![not_yet])),
        deny(DenyReason::HeldInConfidence)
    );
}
