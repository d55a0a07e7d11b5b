//! `decide`: a requester with no relationship to the client is refused `no-relationship` before
//! anything else (the answer an unknown id gets); then explicit refusals (a refusal beats any
//! permission), then the matrix and the client's consents, then the most useful reason for a
//! refusal. Default deny.

use std::collections::BTreeSet;

use crate::error::DenyReason;
use crate::model::{Basis, Category, Purpose, Role, SecretsPolicy};
use crate::policy::matrix::{Op, Rel, Rule, Scope, rules_for};
use crate::policy::types::{
    Access, ConsentFact, Decision, Facts, Grant, PracticeOp, Recipient, Request,
};
use crate::scope::Fields;

/// Decide a request from the facts. Pure: no I/O, no clock (the time is a fact).
pub fn decide(req: &Request, facts: &Facts) -> Decision {
    match req.access {
        Access::Practice(op) => practice(req, op),
        // Step 0, before any reason that depends on what the target is: see `unrelated`.
        _ if unrelated(req, facts) => Decision::Deny(DenyReason::NoRelationship),
        Access::Read(c) => content(req, facts, c, Op::Read),
        Access::Write(c) => content(req, facts, c, Op::Write),
        Access::ManageClient => match (req.role, req.purpose) {
            (Role::Admin, Purpose::Operations) => allow_all(Basis::Role, req),
            (Role::Admin, _) => Decision::Deny(DenyReason::PurposeNotPermitted),
            (Role::Clinician, _) => treating_clinician(req, facts, Purpose::Treatment),
            _ => Decision::Deny(DenyReason::RoleNotPermitted),
        },
        Access::ManageConsent => treating_clinician(req, facts, Purpose::Treatment),
        Access::Release => treating_clinician(req, facts, Purpose::PatientRequest),
        // De-identified data needs no consent (164.514(a)); making it is a treating act.
        Access::Deidentify => treating_clinician(req, facts, Purpose::Treatment),
        // Answering a request to amend is the treating clinician's documentation, done in the
        // course of treatment or as the practice's operations (the 60-day clock, 164.526(b)).
        Access::Amend if req.purpose == Purpose::Operations => {
            treating_clinician(req, facts, Purpose::Operations)
        }
        Access::Amend => treating_clinician(req, facts, Purpose::Treatment),
        Access::BreakGlass => match (req.role, req.purpose) {
            (Role::Clinician | Role::Supervisor, Purpose::EmergencyTreatment) => {
                allow_all(Basis::BreakGlass, req)
            }
            (Role::Clinician | Role::Supervisor, _) => {
                Decision::Deny(DenyReason::PurposeNotPermitted)
            }
            _ => Decision::Deny(DenyReason::RoleNotPermitted),
        },
        Access::ShareIntoJoint => share_into_joint(req, facts),
    }
}

fn allow_all(basis: Basis, req: &Request) -> Decision {
    Decision::Allow(Grant {
        basis,
        fields: req.fields.iter().cloned().collect(),
    })
}

/// A clinician acting for a client they treat. The relationship is checked before the purpose,
/// so a clinician who does not treat the client learns nothing from the reason.
fn treating_clinician(req: &Request, facts: &Facts, purpose: Purpose) -> Decision {
    match req.role {
        Role::Clinician if !facts.on_care_team => Decision::Deny(DenyReason::NoRelationship),
        Role::Clinician if req.purpose != purpose => {
            Decision::Deny(DenyReason::PurposeNotPermitted)
        }
        Role::Clinician => allow_all(Basis::CareTeam, req),
        _ => Decision::Deny(DenyReason::RoleNotPermitted),
    }
}

/// The requester has no relationship at all with the client, so the only answer is
/// `no-relationship`, whatever the category, operation and purpose.
///
/// The fact of treatment is itself confidential. The vault answers an id that names nothing
/// with empty facts, which decide to `no-relationship`; any more specific reason for a real
/// target (`role-not-permitted`, `purpose-not-permitted`, `break-glass-excluded`...) would tell
/// the caller that the record, note, consent or client behind the id exists, and often what it
/// is. So someone with no relationship gets the one answer an unknown id gets.
///
/// A relationship is any fact tying the requester to this client or entry (see
/// [`holds_relationship`]), or a practice-wide duty: a request the role may make for every
/// client of the practice ([`practice_duty`]), such as the biller's billing entries or the
/// admin managing a care team. A duty needs no fact, and its refusals (a wrong purpose, a field
/// outside the scope) say nothing about one client: the role reaches every client alike.
/// Clients and guardians are the subject of their own exports, never requesters by id.
fn unrelated(req: &Request, facts: &Facts) -> bool {
    if matches!(req.role, Role::Client | Role::Guardian) {
        return false;
    }
    !(holds_relationship(req, facts) || practice_duty(req))
}

/// A fact ties the requester to the client or the entry: on the care team, supervising it, an
/// open break-glass grant, the note's author or their training supervisor, a clinician of the
/// case, or named in one of the client's consents (in force or not: a consent naming them
/// already tells them of the client).
fn holds_relationship(req: &Request, facts: &Facts) -> bool {
    let named_in_consent = facts
        .consents
        .iter()
        .any(|c| match (c.recipient, req.requester) {
            (Recipient::User(u), Some(r)) => u == r,
            _ => false,
        });
    facts.on_care_team
        || facts.supervises_care_team
        || facts.break_glass_active
        || facts.is_note_author
        || facts.training_supervisor_of_author
        || facts.case.is_some_and(|c| c.requester_is_case_clinician)
        || named_in_consent
}

/// The role may make this request for any client of the practice, with no relationship: a
/// matrix rule on the practice as a whole (billing, the front desk), an admin managing a
/// client's care team, cases and minor status, or a clinician or supervisor opening
/// break-glass (the point of it). Consents, releases, extracts and sharing into a joint record
/// are a treating clinician's acts: no role has them as a duty.
fn practice_duty(req: &Request) -> bool {
    let in_matrix =
        |category, op| rules_for(req.role, category, op).any(|r| r.rel == Rel::Practice);
    match req.access {
        Access::Practice(_) => true,
        Access::Read(c) => in_matrix(c, Op::Read),
        Access::Write(c) => in_matrix(c, Op::Write),
        Access::ManageClient => req.role == Role::Admin,
        Access::BreakGlass => matches!(req.role, Role::Clinician | Role::Supervisor),
        Access::ManageConsent
        | Access::Release
        | Access::Deidentify
        | Access::ShareIntoJoint
        | Access::Amend => false,
    }
}

fn practice(req: &Request, op: PracticeOp) -> Decision {
    use Purpose::*;
    use Role::*;
    let (role, purpose) = (req.role, req.purpose);
    let wanted = match (op, role) {
        (
            PracticeOp::ManageUsers
            | PracticeOp::ManageSupervision
            | PracticeOp::Backup
            | PracticeOp::RotateKeys,
            Role::Admin,
        ) => Some((Operations, Basis::Role)),
        (PracticeOp::ReadAuditLog, Role::Admin | Auditor) => Some((Operations, Basis::Role)),
        (PracticeOp::CreateClient, Clinician) => Some((Treatment, Basis::CareTeam)),
        // Clinicians find only the clients they treat (the vault filters); the front desk and
        // billing serve every client of the practice.
        (PracticeOp::FindClient, Clinician | Supervisor) => Some((Treatment, Basis::CareTeam)),
        (PracticeOp::FindClient, Scheduler) => Some((Operations, Basis::Role)),
        (PracticeOp::FindClient, Biller) => Some((Payment, Basis::Role)),
        _ => None,
    };
    match wanted {
        Some((p, basis)) if p == purpose => allow_all(basis, req),
        Some(_) => Decision::Deny(DenyReason::PurposeNotPermitted),
        None => Decision::Deny(DenyReason::RoleNotPermitted),
    }
}

/// Categories break-glass never opens.
const NEVER_BY_BREAK_GLASS: &[Category] = &[
    Category::PsychotherapyNotes,
    Category::SubstanceUse,
    Category::JointRecord,
    Category::IndividualCaseNotes,
];

/// Refusals that no permission can override.
fn forbidden(req: &Request, facts: &Facts, category: Category) -> Option<DenyReason> {
    use Category::*;
    let role = req.role;
    if matches!(role, Role::Admin | Role::Auditor) {
        // Administration and audit never need clinical content.
        return Some(DenyReason::RoleNotPermitted);
    }
    if category == PsychotherapyNotes {
        // 45 CFR 164.508(a)(2): never for payment; never in the right of access (164.524).
        if req.purpose == Purpose::Payment {
            return Some(DenyReason::PurposeNotPermitted);
        }
        if matches!(
            role,
            Role::Client | Role::Guardian | Role::Biller | Role::Scheduler
        ) {
            return Some(DenyReason::RoleNotPermitted);
        }
    }
    if req.purpose == Purpose::EmergencyTreatment && NEVER_BY_BREAK_GLASS.contains(&category) {
        return Some(DenyReason::BreakGlassExcluded);
    }
    if let (Role::Client, Some(case)) = (role, &facts.case) {
        if category == IndividualCaseNotes && !case.requester_is_subject {
            return Some(DenyReason::AnotherMembersNotes);
        }
        if category == JointRecord && case.kind == crate::model::CaseKind::Group {
            return Some(DenyReason::GroupPrivacy);
        }
    }
    if role == Role::Guardian && facts.minor.is_some_and(|m| m.guardian_excluded()) {
        // 45 CFR 164.502(g)(3): not the personal representative for this care.
        return Some(DenyReason::MinorProtected);
    }
    None
}

fn rel_holds(rel: Rel, facts: &Facts) -> bool {
    let case = facts.case.as_ref();
    match rel {
        Rel::Practice => true,
        Rel::CareTeam => facts.on_care_team,
        Rel::Supervision => facts.supervises_care_team,
        // The author, while still treating the client.
        Rel::Author => facts.is_note_author && facts.on_care_team,
        // A training supervisor of the author, while supervising the client's care.
        Rel::TrainingSupervisor => {
            facts.training_supervisor_of_author && facts.supervises_care_team
        }
        Rel::CaseClinician => case.is_some_and(|c| c.requester_is_case_clinician),
        Rel::Subject => facts.is_subject,
        Rel::CaseMember => case.is_some_and(|c| c.requester_is_member),
        Rel::CaseSubject => case.is_some_and(|c| c.requester_is_subject),
        Rel::Guardian => facts.is_guardian_of_minor && facts.minor.is_some(),
        Rel::BreakGlass => facts.break_glass_active,
    }
}

/// A consent naming this requester, this category and this purpose.
fn consent_applies(req: &Request, c: &ConsentFact, category: Category) -> bool {
    let names_requester = match (c.recipient, req.requester) {
        (Recipient::User(u), Some(r)) => u == r,
        _ => false,
    };
    // A psychotherapy-notes authorization names them and nothing else (164.508(b)(3)(ii)).
    let notes_ok = category != Category::PsychotherapyNotes
        || c.categories
            .iter()
            .eq([Category::PsychotherapyNotes].iter());
    // Joint content belongs to every member: one member's consent never opens it.
    names_requester
        && c.purpose == req.purpose
        && c.categories.contains(&category)
        && notes_ok
        && category != Category::JointRecord
}

fn content(req: &Request, facts: &Facts, category: Category, op: Op) -> Decision {
    if let Some(reason) = forbidden(req, facts, category) {
        return Decision::Deny(reason);
    }
    let rules: Vec<&Rule> = rules_for(req.role, category, op).collect();
    let grants: Vec<(Basis, Scope)> = rules
        .iter()
        .filter(|r| r.purposes.contains(&req.purpose) && rel_holds(r.rel, facts))
        .map(|r| (r.rel.basis(), r.scope))
        .collect();
    // Consents release information: they grant reads, never writes.
    let consents: Vec<&ConsentFact> = facts
        .consents
        .iter()
        .filter(|c| op == Op::Read && consent_applies(req, c, category))
        .collect();
    // A consent grants what its scope names of the category (a condition-limited scope grants
    // no read: which entries are about the condition is known only once they are open).
    let consented: Vec<Fields> = consents
        .iter()
        .filter(|c| c.in_force(facts.now_ms))
        .filter_map(|c| {
            let part = c.covered().part(category).cloned()?;
            part.condition.is_none().then_some(part.fields)
        })
        .collect();
    let basis = match (grants.first(), consented.is_empty()) {
        (Some(&(basis, _)), _) => basis,
        (None, false) => Basis::Consent,
        (None, true) => {
            return Decision::Deny(refusal_reason(req, facts, category, op, &rules, &consents));
        }
    };
    let permitted = |f: &str| {
        grants.iter().any(|(_, s)| s.includes(f)) || consented.iter().any(|s| s.includes(f))
    };
    let fields: BTreeSet<_> = req
        .fields
        .iter()
        .filter(|f| permitted(f.as_str()))
        .cloned()
        .collect();
    if op == Op::Write && fields.len() != req.fields.len() {
        return Decision::Deny(DenyReason::FieldNotPermitted);
    }
    Decision::Allow(Grant { basis, fields })
}

/// The most useful reason to give for a refusal.
fn refusal_reason(
    req: &Request,
    facts: &Facts,
    category: Category,
    op: Op,
    rules: &[&Rule],
    consents: &[&ConsentFact],
) -> DenyReason {
    if let Some(c) = consents.first() {
        return if c.revoked_ms.is_some_and(|r| r <= facts.now_ms) {
            DenyReason::ConsentRevoked
        } else {
            DenyReason::ConsentNotInForce
        };
    }
    if category == Category::PsychotherapyNotes
        && op == Op::Read
        && req.purpose == Purpose::Treatment
        && (facts.on_care_team || facts.supervises_care_team)
    {
        return DenyReason::NotNoteAuthor;
    }
    if rules.is_empty() {
        return DenyReason::RoleNotPermitted;
    }
    if !rules.iter().any(|r| r.purposes.contains(&req.purpose)) {
        return DenyReason::PurposeNotPermitted;
    }
    DenyReason::NoRelationship
}

fn share_into_joint(req: &Request, facts: &Facts) -> Decision {
    if req.role != Role::Clinician {
        return Decision::Deny(DenyReason::RoleNotPermitted);
    }
    if req.purpose != Purpose::Treatment {
        return Decision::Deny(DenyReason::PurposeNotPermitted);
    }
    let Some(case) = facts
        .case
        .filter(|c| c.requester_is_case_clinician && facts.on_care_team)
    else {
        return Decision::Deny(DenyReason::NoRelationship);
    };
    if case.secrets == SecretsPolicy::NoSecrets {
        return allow_all(Basis::NoSecretsPolicy, req);
    }
    // Held in confidence: the disclosing member's consent to the joint record, in force now.
    let consents: Vec<&ConsentFact> = facts
        .consents
        .iter()
        .filter(|c| {
            c.recipient == Recipient::JointRecord
                && c.purpose == req.purpose
                && c.categories.contains(&Category::IndividualCaseNotes)
        })
        .collect();
    if consents.iter().any(|c| c.in_force(facts.now_ms)) {
        return allow_all(Basis::Consent, req);
    }
    match consents.first() {
        Some(c) if c.revoked_ms.is_some_and(|r| r <= facts.now_ms) => {
            Decision::Deny(DenyReason::ConsentRevoked)
        }
        _ => Decision::Deny(DenyReason::HeldInConfidence),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::model::CaseKind;
    use crate::policy::types::{CaseFacts, MinorFacts};
    use crate::value::FieldName;

    fn names(f: &[&str]) -> Vec<FieldName> {
        f.iter().map(|n| FieldName::new(n).unwrap()).collect()
    }

    fn read(role: Role, category: Category, purpose: Purpose, fields: &[&str]) -> Request {
        Request {
            role,
            requester: Some(UserId::from_slice(&[1; 16]).unwrap()),
            access: Access::Read(category),
            purpose,
            fields: names(fields),
        }
    }

    fn granted(d: &Decision) -> Vec<String> {
        match d {
            Decision::Allow(g) => g.fields.iter().map(|f| f.as_str().to_owned()).collect(),
            Decision::Deny(r) => panic!("denied: {r}"),
        }
    }

    #[test]
    fn minimum_necessary_trims_fields() {
        let req = read(
            Role::Biller,
            Category::Demographics,
            Purpose::Payment,
            &["full_name", "phone", "insurance_id", "emergency_contact"],
        );
        assert_eq!(
            granted(&decide(&req, &Facts::default())),
            ["full_name", "insurance_id"]
        );
        let req = read(
            Role::Scheduler,
            Category::Appointments,
            Purpose::Operations,
            &["date", "reason", "time"],
        );
        assert_eq!(granted(&decide(&req, &Facts::default())), ["date", "time"]);
    }

    #[test]
    fn a_refusal_beats_a_permission() {
        // A guardian with a matrix permission is still shut out by the minor's own consent.
        let mut facts = Facts {
            is_guardian_of_minor: true,
            minor: Some(MinorFacts::default()),
            ..Facts::default()
        };
        let req = read(
            Role::Guardian,
            Category::ProgressNotes,
            Purpose::PatientRequest,
            &["x"],
        );
        assert!(decide(&req, &facts).is_allow());
        facts.minor = Some(MinorFacts {
            consented_to_own_treatment: true,
            ..MinorFacts::default()
        });
        assert_eq!(
            decide(&req, &facts),
            Decision::Deny(DenyReason::MinorProtected)
        );
        // A treating clinician with break-glass open still never gets psychotherapy notes.
        let facts = Facts {
            on_care_team: true,
            break_glass_active: true,
            ..Facts::default()
        };
        let req = read(
            Role::Clinician,
            Category::PsychotherapyNotes,
            Purpose::EmergencyTreatment,
            &[],
        );
        assert_eq!(
            decide(&req, &facts),
            Decision::Deny(DenyReason::BreakGlassExcluded)
        );
    }

    #[test]
    fn consents_are_bounded_in_time_and_scope() {
        let me = UserId::from_slice(&[1; 16]).unwrap();
        let consent = ConsentFact {
            recipient: Recipient::User(me),
            categories: [Category::ProgressNotes].into(),
            purpose: Purpose::Treatment,
            start_ms: 100,
            expires_ms: Some(200),
            revoked_ms: None,
            scope: None,
            case: None,
        };
        let req = read(
            Role::Clinician,
            Category::ProgressNotes,
            Purpose::Treatment,
            &["s"],
        );
        let at = |now_ms, c: &ConsentFact| Facts {
            now_ms,
            consents: vec![c.clone()],
            ..Facts::default()
        };
        assert!(decide(&req, &at(150, &consent)).is_allow());
        assert_eq!(
            decide(&req, &at(99, &consent)),
            Decision::Deny(DenyReason::ConsentNotInForce)
        );
        assert_eq!(
            decide(&req, &at(200, &consent)),
            Decision::Deny(DenyReason::ConsentNotInForce)
        );
        let revoked = ConsentFact {
            revoked_ms: Some(150),
            ..consent.clone()
        };
        assert!(decide(&req, &at(149, &revoked)).is_allow());
        assert_eq!(
            decide(&req, &at(150, &revoked)),
            Decision::Deny(DenyReason::ConsentRevoked)
        );
        // Another category is not covered.
        let plan = read(
            Role::Clinician,
            Category::TreatmentPlan,
            Purpose::Treatment,
            &["s"],
        );
        assert_eq!(
            decide(&plan, &at(150, &consent)),
            Decision::Deny(DenyReason::NoRelationship)
        );
        // A psychotherapy-notes release must name them alone.
        let mixed = ConsentFact {
            categories: [Category::PsychotherapyNotes, Category::ProgressNotes].into(),
            ..consent.clone()
        };
        let pn = read(
            Role::Clinician,
            Category::PsychotherapyNotes,
            Purpose::Treatment,
            &["s"],
        );
        assert!(!decide(&pn, &at(150, &mixed)).is_allow());
        let alone = ConsentFact {
            categories: [Category::PsychotherapyNotes].into(),
            ..consent
        };
        assert!(decide(&pn, &at(150, &alone)).is_allow());
    }

    #[test]
    fn case_members_see_the_joint_record_but_not_each_others_notes() {
        let case = |subject| CaseFacts {
            kind: CaseKind::Couple,
            secrets: SecretsPolicy::HeldInConfidence,
            requester_is_case_clinician: false,
            requester_is_member: true,
            requester_is_subject: subject,
        };
        let facts = |subject| Facts {
            case: Some(case(subject)),
            ..Facts::default()
        };
        let joint = read(
            Role::Client,
            Category::JointRecord,
            Purpose::PatientRequest,
            &["a"],
        );
        assert!(decide(&joint, &facts(false)).is_allow());
        let notes = read(
            Role::Client,
            Category::IndividualCaseNotes,
            Purpose::PatientRequest,
            &["a"],
        );
        assert!(decide(&notes, &facts(true)).is_allow());
        assert_eq!(
            decide(&notes, &facts(false)),
            Decision::Deny(DenyReason::AnotherMembersNotes)
        );
        let group = Facts {
            case: Some(CaseFacts {
                kind: CaseKind::Group,
                ..case(true)
            }),
            ..Facts::default()
        };
        assert_eq!(
            decide(&joint, &group),
            Decision::Deny(DenyReason::GroupPrivacy)
        );
    }

    #[test]
    fn sharing_into_the_joint_record_follows_the_secrets_policy() {
        let req = Request {
            role: Role::Clinician,
            requester: None,
            access: Access::ShareIntoJoint,
            purpose: Purpose::Treatment,
            fields: vec![],
        };
        let case = |secrets| CaseFacts {
            kind: CaseKind::Couple,
            secrets,
            requester_is_case_clinician: true,
            requester_is_member: false,
            requester_is_subject: false,
        };
        let mut facts = Facts {
            now_ms: 10,
            on_care_team: true,
            case: Some(case(SecretsPolicy::NoSecrets)),
            ..Facts::default()
        };
        assert!(decide(&req, &facts).is_allow());
        facts.case = Some(case(SecretsPolicy::HeldInConfidence));
        assert_eq!(
            decide(&req, &facts),
            Decision::Deny(DenyReason::HeldInConfidence)
        );
        facts.consents.push(ConsentFact {
            recipient: Recipient::JointRecord,
            categories: [Category::IndividualCaseNotes].into(),
            purpose: Purpose::Treatment,
            start_ms: 0,
            expires_ms: None,
            revoked_ms: None,
            scope: None,
            case: None,
        });
        assert!(decide(&req, &facts).is_allow());
        facts.consents[0].revoked_ms = Some(5);
        assert_eq!(
            decide(&req, &facts),
            Decision::Deny(DenyReason::ConsentRevoked)
        );
    }

    #[test]
    fn without_a_relationship_every_refusal_is_no_relationship() {
        let nr = Decision::Deny(DenyReason::NoRelationship);
        // Outside their duties the biller and the front desk have no relationship with the
        // client: a psychotherapy note, a progress note or a consent is refused as an unknown
        // id is, whatever the purpose.
        for (role, purpose) in [
            (Role::Biller, Purpose::Payment),
            (Role::Scheduler, Purpose::Operations),
        ] {
            for access in [
                Access::Read(Category::PsychotherapyNotes),
                Access::Read(Category::ProgressNotes),
                Access::Write(Category::DiagnosisCodes),
                Access::ManageConsent,
                Access::ManageClient,
                Access::BreakGlass,
                Access::Release,
                Access::ShareIntoJoint,
            ] {
                let req = Request {
                    access,
                    ..read(role, Category::Demographics, purpose, &[])
                };
                assert_eq!(decide(&req, &Facts::default()), nr, "{role} {access:?}");
            }
        }
        // Within them, the specific reason: it says nothing about one client.
        let wrong_purpose = read(Role::Biller, Category::Billing, Purpose::Treatment, &[]);
        assert_eq!(
            decide(&wrong_purpose, &Facts::default()),
            Decision::Deny(DenyReason::PurposeNotPermitted)
        );
        // Named in one of the client's consents, the biller has a relationship, and is told
        // why psychotherapy notes stay closed (164.508(a)(2)).
        let named = Facts {
            consents: vec![ConsentFact {
                recipient: Recipient::User(UserId::from_slice(&[1; 16]).unwrap()),
                categories: [Category::Billing].into(),
                purpose: Purpose::Payment,
                start_ms: 0,
                expires_ms: None,
                revoked_ms: None,
                scope: None,
                case: None,
            }],
            ..Facts::default()
        };
        let notes = read(
            Role::Biller,
            Category::PsychotherapyNotes,
            Purpose::Payment,
            &[],
        );
        assert_eq!(
            decide(&notes, &named),
            Decision::Deny(DenyReason::PurposeNotPermitted)
        );
    }

    #[test]
    fn writes_outside_the_scope_are_refused_whole() {
        let req = Request {
            role: Role::Scheduler,
            requester: None,
            access: Access::Write(Category::Appointments),
            purpose: Purpose::Operations,
            fields: names(&["date", "reason"]),
        };
        assert_eq!(
            decide(&req, &Facts::default()),
            Decision::Deny(DenyReason::FieldNotPermitted)
        );
    }
}
