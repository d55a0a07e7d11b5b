//! What may leave the vault, to whom, on which legal basis (45 CFR 164.508, 164.512; 42 CFR
//! Part 2). Pure, like `decide`: the vault gathers the facts, asks, and only then decrypts.

use std::collections::BTreeSet;

use crate::error::DenyReason;
use crate::ids::CaseId;
use crate::model::{Category, LegalBasis, Purpose, Role};
use crate::policy::matrix::{CODES, DATES_OF_SERVICE};
use crate::policy::types::{ConsentFact, Recipient};
use crate::scope::{Fields, ReleaseScope};

/// Demographics an insurer or payer receives.
const PAYMENT_DEMOGRAPHICS: &[&str] = &[
    "full_name",
    "date_of_birth",
    "address",
    "insurance_id",
    "insurance_group",
];

/// What a protective release (duty to warn, abuse reports) carries of the client by default:
/// enough to identify and locate them (164.512(j)(1)(i), (b), (c); minimum necessary,
/// 164.514(d)). The threat and the person at risk travel in the manifest.
pub const PROTECTIVE_MINIMUM: &[&str] = &["full_name", "phone", "address"];

/// The limit a released field left under, as the manifest names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Limit {
    /// The scope of the client's authorization (164.508(c)(1)(i)), narrowed by the request.
    Authorization,
    /// Minimum necessary for payment: codes, dates of service, fees (164.502(b), 164.514(d)).
    PaymentMinimum,
    /// Exactly what the court order names (164.512(e)(1)(i)).
    CourtOrder,
    /// Exactly what the subpoena names (164.512(e)(1)(ii)).
    Subpoena,
    /// The minimum to identify, locate and protect (164.512(j), (b), (c)).
    ProtectiveMinimum,
    /// Named field by field, with its reason, on a protective basis.
    NamedWithReason,
    /// A medical emergency (42 CFR 2.51; 164.510(b)(3)), narrowed by the request.
    Emergency,
}

impl Limit {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Limit::Authorization => "authorization-scope",
            Limit::PaymentMinimum => "payment-minimum-necessary",
            Limit::CourtOrder => "court-order",
            Limit::Subpoena => "subpoena",
            Limit::ProtectiveMinimum => "protective-minimum",
            Limit::NamedWithReason => "named-with-reason",
            Limit::Emergency => "emergency",
        }
    }
}

/// A release asked for, as the disclosure policy sees it. Condition codes are already replaced
/// by their index ([`ReleaseScope::indexed`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisclosureAsk {
    /// The releasing user's role.
    pub role: Role,
    /// The legal basis claimed.
    pub basis: LegalBasis,
    /// The purpose stated.
    pub purpose: Purpose,
    /// The categories asked for.
    pub categories: BTreeSet<Category>,
    /// The case whose joint content is asked for.
    pub case: Option<CaseId>,
    /// The request's own narrowing, if any: it can only narrow.
    pub narrow: Option<ReleaseScope>,
    /// For a court order or subpoena: what it names.
    pub order: Option<ReleaseScope>,
    /// On a protective basis: fields beyond the minimum, each named (its reason is recorded).
    pub wider: Vec<(Category, String)>,
}

/// Facts about the release, gathered by the vault.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DisclosureFacts {
    /// When (unix ms).
    pub now_ms: i64,
    /// The releasing user treats the client.
    pub releaser_on_care_team: bool,
    /// The consent cited, if any (it must be this client's).
    pub consent: Option<ConsentFact>,
    /// The request's recipient is the one the cited consent names (164.508(c)(1)(iii)).
    pub recipient_named_in_consent: bool,
    /// For joint-case content: every member has an authorization in force for this release,
    /// naming this recipient and covering this case's joint content.
    pub every_member_authorized: bool,
}

/// Which free-text values may leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FreeText {
    /// Any the scope includes.
    Any,
    /// Only fields an authorization names explicitly (a payment release: a memo says more
    /// than a payer needs).
    OnlyNamed(ReleaseScope),
}

/// What may leave, under which limit, and what must travel with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisclosureGrant {
    /// Per category, the fields (and condition) that may leave.
    pub scope: ReleaseScope,
    /// The limit each part left under, first match wins.
    pub limits: Vec<(Limit, ReleaseScope)>,
    /// Which free-text values may leave.
    pub free_text: FreeText,
    /// Carries the 42 CFR 2.32 redisclosure notice and a copy of the consent.
    pub redisclosure_notice: bool,
    /// Listed in the accounting of disclosures.
    pub accountable: bool,
}

impl DisclosureGrant {
    /// The limit `field` of `category` leaves under.
    pub fn limit_of(&self, category: Category, field: &str) -> Option<Limit> {
        self.limits
            .iter()
            .find(|(_, s)| s.part(category).is_some_and(|p| p.fields.includes(field)))
            .map(|(l, _)| *l)
    }
}

/// The categories of the general record (not notes, Part 2 records or billing).
const GENERAL: &[Category] = &[
    Category::Demographics,
    Category::Appointments,
    Category::DiagnosisCodes,
    Category::TreatmentPlan,
    Category::ProgressNotes,
    Category::IndividualCaseNotes,
    Category::JointRecord,
];

/// Decide a release. Default deny; every category asked for must be allowed or nothing leaves.
pub fn decide_disclosure(
    ask: &DisclosureAsk,
    facts: &DisclosureFacts,
) -> std::result::Result<DisclosureGrant, DenyReason> {
    use Category::*;
    use LegalBasis::*;
    may_release(ask, facts.releaser_on_care_team)?;
    if ask.categories.is_empty() {
        return Err(DenyReason::FieldNotPermitted);
    }
    let asked = ReleaseScope::categories(&ask.categories.iter().copied().collect::<Vec<_>>());
    let narrowed = |s: ReleaseScope| match &ask.narrow {
        Some(n) => s.intersect(n),
        None => s,
    };
    let all_of = |allowed: &dyn Fn(Category) -> bool| {
        if ask.categories.iter().all(|c| allowed(*c)) {
            Ok(asked.clone())
        } else {
            Err(DenyReason::PurposeNotPermitted)
        }
    };
    let (limits, free_text) = match ask.basis {
        Authorization | TreatmentWithConsent => {
            let (scope, free_text) = authorized(ask, facts)?;
            (vec![(Limit::Authorization, narrowed(scope))], free_text)
        }
        Payment if ask.purpose != Purpose::Payment => return Err(DenyReason::PurposeNotPermitted),
        Payment => {
            let minimum = ReleaseScope::new()
                .with(Demographics, Fields::only(PAYMENT_DEMOGRAPHICS))
                .with(Appointments, Fields::only(DATES_OF_SERVICE))
                .with(DiagnosisCodes, Fields::only(CODES))
                .with(Billing, Fields::All);
            if !ask.categories.iter().all(|c| minimum.part(*c).is_some()) {
                return Err(DenyReason::PurposeNotPermitted);
            }
            let scope = narrowed(minimum.intersect(&asked));
            // Free text leaves only where the minimum names its field (a name, an address),
            // never from a whole category (a billing memo).
            let named = FreeText::OnlyNamed(scope.clone());
            (vec![(Limit::PaymentMinimum, scope)], named)
        }
        // 164.512(j): may include psychotherapy notes (HHS FAQ 520); Part 2 records need a
        // court order.
        DutyToWarn | ChildAbuseReport | ElderAbuseReport => {
            let allowed = |c: Category| match ask.basis {
                DutyToWarn => c != SubstanceUse && c != Billing,
                _ => GENERAL.contains(&c),
            };
            if !ask.categories.iter().all(|c| allowed(*c)) {
                return Err(DenyReason::PurposeNotPermitted);
            }
            // The request can narrow even the minimum (a report that needs no demographics).
            let minimum = ReleaseScope::new()
                .with(Demographics, Fields::only(PROTECTIVE_MINIMUM))
                .intersect(&asked);
            let mut named = ReleaseScope::new();
            for (c, field) in &ask.wider {
                if !allowed(*c) || !ask.categories.contains(c) {
                    return Err(DenyReason::PurposeNotPermitted);
                }
                named = named.with_fields(*c, &[field.as_str()]);
            }
            let limits = vec![
                (Limit::ProtectiveMinimum, narrowed(minimum)),
                (Limit::NamedWithReason, narrowed(named)),
            ];
            (limits, FreeText::Any)
        }
        CourtOrder | Subpoena => {
            let order = ask.order.as_ref().ok_or(DenyReason::PurposeNotPermitted)?;
            // 164.508(a)(2): a subpoena alone releases no psychotherapy notes; Part 2 records
            // need an order (42 CFR 2.61).
            let reaches = |c: Category| {
                order.part(c).is_some()
                    && (ask.basis == CourtOrder || (c != PsychotherapyNotes && c != SubstanceUse))
            };
            all_of(&reaches)?;
            let limit = if ask.basis == CourtOrder {
                Limit::CourtOrder
            } else {
                Limit::Subpoena
            };
            (vec![(limit, order.intersect(&asked))], FreeText::Any)
        }
        MedicalEmergency => {
            let scope = all_of(&|c| {
                c != PsychotherapyNotes && (GENERAL.contains(&c) || c == SubstanceUse)
            })?;
            (vec![(Limit::Emergency, narrowed(scope))], FreeText::Any)
        }
    };
    // Joint content belongs to every member.
    if ask.categories.contains(&JointRecord)
        && !ask.basis.is_mandatory()
        && !facts.every_member_authorized
    {
        return Err(DenyReason::HeldInConfidence);
    }
    let scope = limits
        .iter()
        .fold(ReleaseScope::new(), |acc, (_, s)| acc.union(s));
    Ok(DisclosureGrant {
        redisclosure_notice: scope.part(SubstanceUse).is_some(),
        scope,
        limits,
        free_text,
        accountable: ask.basis.accountable(),
    })
}

/// Who may release: the client's own clinician; billing for payment only, for any client (its
/// duty). Anyone else who does not treat the client has no relationship with them and gets
/// `no-relationship`, the answer for a client that does not exist: `role-not-permitted` would
/// confirm the client. The vault asks this before it reads the cited consent, so a release
/// cannot probe a client's consents either.
pub(crate) fn may_release(
    ask: &DisclosureAsk,
    releaser_on_care_team: bool,
) -> std::result::Result<(), DenyReason> {
    match (ask.role, ask.basis) {
        (Role::Clinician, _) if releaser_on_care_team => Ok(()),
        (Role::Biller, LegalBasis::Payment) => Ok(()),
        _ if !releaser_on_care_team => Err(DenyReason::NoRelationship),
        _ => Err(DenyReason::RoleNotPermitted),
    }
}

/// What the cited consent lets leave for this request, and which free text: the consent's
/// scope bounds the release, whatever the request asks.
fn authorized(
    ask: &DisclosureAsk,
    facts: &DisclosureFacts,
) -> std::result::Result<(ReleaseScope, FreeText), DenyReason> {
    let consent = facts
        .consent
        .as_ref()
        .ok_or(DenyReason::ConsentNotInForce)?;
    if ask.basis == LegalBasis::TreatmentWithConsent && ask.purpose != Purpose::Treatment {
        return Err(DenyReason::PurposeNotPermitted);
    }
    if !facts.recipient_named_in_consent {
        // An authorization releases to the recipient it names, no one else.
        return Err(DenyReason::OutsideConsent);
    }
    if consent.revoked_ms.is_some_and(|r| r <= facts.now_ms) {
        return Err(DenyReason::ConsentRevoked);
    }
    if !consent.in_force(facts.now_ms) {
        return Err(DenyReason::ConsentNotInForce);
    }
    if consent.recipient != Recipient::Outside || consent.purpose != ask.purpose {
        return Err(DenyReason::OutsideConsent);
    }
    let covered = consent.covered();
    let names_only_notes = consent
        .categories
        .iter()
        .eq([Category::PsychotherapyNotes].iter());
    for &c in &ask.categories {
        let joint_ok = c != Category::JointRecord
            // A consent recorded with its scope covers the joint content of the case it names;
            // one recorded before scopes existed, only because it names this recipient.
            || consent.scope.is_none()
            || (consent.case.is_some() && consent.case == ask.case);
        if covered.part(c).is_none()
            || (c == Category::PsychotherapyNotes && !names_only_notes)
            || !joint_ok
        {
            return Err(DenyReason::OutsideConsent);
        }
    }
    let asked = ReleaseScope::categories(&ask.categories.iter().copied().collect::<Vec<_>>());
    let scope = covered.intersect(&asked);
    // A consent recorded before scopes existed keeps exactly the reach it had.
    let free_text = if ask.purpose == Purpose::Payment && consent.scope.is_some() {
        FreeText::OnlyNamed(scope.clone())
    } else {
        FreeText::Any
    };
    Ok((scope, free_text))
}

/// The notice 42 CFR 2.32 requires on every disclosure of Part 2 records made with consent.
pub const REDISCLOSURE_NOTICE: &str = "This record which has been disclosed to you is protected \
by federal confidentiality rules (42 CFR part 2). These rules prohibit you from using or \
disclosing this record, or testimony that describes the information contained in this record, in \
any civil, criminal, administrative, or legislative proceedings by any Federal, State, or local \
authority, against the patient, unless authorized by the consent of the patient, except as \
provided at 42 CFR 2.12(c)(5) or as authorized by a court in accordance with 42 CFR 2.64 or \
2.65. In addition, the federal rules prohibit you from making any other use or disclosure of \
this record unless at least one of the following applies: (i) further use or disclosure is \
expressly permitted by the written consent of the individual whose information is being \
disclosed in this record or as otherwise permitted by 42 CFR part 2; (ii) you are a covered \
entity or business associate and have received the record for treatment, payment, or health \
care operations; or (iii) you have received the record from a covered entity or business \
associate as permitted by 45 CFR part 164, subparts A and E. A general authorization for the \
release of medical or other information is NOT sufficient to meet the required elements of \
written consent to further use or redisclose the record (see 42 CFR 2.31).";

#[cfg(test)]
mod tests {
    use super::*;

    fn ask(basis: LegalBasis, categories: &[Category]) -> DisclosureAsk {
        DisclosureAsk {
            role: Role::Clinician,
            basis,
            purpose: if basis == LegalBasis::Payment {
                Purpose::Payment
            } else {
                Purpose::Treatment
            },
            categories: categories.iter().copied().collect(),
            case: None,
            narrow: None,
            order: None,
            wider: Vec::new(),
        }
    }

    fn facts() -> DisclosureFacts {
        DisclosureFacts {
            now_ms: 100,
            releaser_on_care_team: true,
            recipient_named_in_consent: true,
            ..DisclosureFacts::default()
        }
    }

    fn consent(categories: &[Category], scope: Option<ReleaseScope>) -> ConsentFact {
        ConsentFact {
            recipient: Recipient::Outside,
            categories: categories.iter().copied().collect(),
            purpose: Purpose::Treatment,
            start_ms: 0,
            expires_ms: None,
            revoked_ms: None,
            scope,
            case: None,
        }
    }

    #[test]
    fn payment_never_releases_notes_or_free_text() {
        for c in [
            Category::ProgressNotes,
            Category::TreatmentPlan,
            Category::PsychotherapyNotes,
        ] {
            assert!(decide_disclosure(&ask(LegalBasis::Payment, &[c]), &facts()).is_err());
        }
        let mut pay = ask(LegalBasis::Payment, &[Category::DiagnosisCodes]);
        let g = decide_disclosure(&pay, &facts()).unwrap();
        assert_eq!(
            g.scope.part(Category::DiagnosisCodes).unwrap().fields,
            Fields::only(CODES)
        );
        assert_eq!(g.free_text, FreeText::OnlyNamed(g.scope.clone()));
        assert_eq!(
            g.limit_of(Category::DiagnosisCodes, "code"),
            Some(Limit::PaymentMinimum)
        );
        assert!(!g.accountable);
        // Payment is a basis for the payment purpose only.
        pay.purpose = Purpose::Legal;
        assert_eq!(
            decide_disclosure(&pay, &facts()),
            Err(DenyReason::PurposeNotPermitted)
        );
    }

    #[test]
    fn a_subpoena_alone_releases_no_psychotherapy_notes() {
        let mut a = ask(LegalBasis::Subpoena, &[Category::PsychotherapyNotes]);
        a.order = Some(ReleaseScope::categories(&[Category::PsychotherapyNotes]));
        assert!(decide_disclosure(&a, &facts()).is_err());
        a.basis = LegalBasis::CourtOrder;
        assert!(decide_disclosure(&a, &facts()).unwrap().accountable);
    }

    #[test]
    fn a_court_order_releases_exactly_what_it_names() {
        let order = ReleaseScope::new()
            .with(Category::DiagnosisCodes, Fields::only(&["code"]))
            .with(Category::Appointments, Fields::only(&["date"]));
        let mut a = ask(
            LegalBasis::CourtOrder,
            &[Category::DiagnosisCodes, Category::TreatmentPlan],
        );
        a.order = Some(order.clone());
        assert_eq!(
            decide_disclosure(&a, &facts()),
            Err(DenyReason::PurposeNotPermitted)
        );
        a.categories = [Category::DiagnosisCodes, Category::Appointments].into();
        let g = decide_disclosure(&a, &facts()).unwrap();
        assert_eq!(g.scope, order);
        assert_eq!(
            g.limit_of(Category::Appointments, "date"),
            Some(Limit::CourtOrder)
        );
        assert_eq!(g.limit_of(Category::Appointments, "location"), None);
    }

    #[test]
    fn joint_content_needs_every_member_unless_mandatory() {
        let a = ask(LegalBasis::MedicalEmergency, &[Category::JointRecord]);
        assert_eq!(
            decide_disclosure(&a, &facts()),
            Err(DenyReason::HeldInConfidence)
        );
        let f = DisclosureFacts {
            every_member_authorized: true,
            ..facts()
        };
        assert!(decide_disclosure(&a, &f).is_ok());
        let mut warn = ask(LegalBasis::DutyToWarn, &[Category::JointRecord]);
        warn.wider = vec![(Category::JointRecord, "summary".into())];
        assert!(decide_disclosure(&warn, &facts()).is_ok());
    }

    #[test]
    fn a_scoped_consent_covers_joint_content_of_its_case_only() {
        let case = CaseId::from_slice(&[7; 16]).unwrap();
        let mut c = consent(
            &[Category::JointRecord],
            Some(ReleaseScope::categories(&[Category::JointRecord])),
        );
        let f = DisclosureFacts {
            consent: Some(c.clone()),
            every_member_authorized: true,
            ..facts()
        };
        let mut a = ask(LegalBasis::Authorization, &[Category::JointRecord]);
        a.case = Some(case);
        assert_eq!(decide_disclosure(&a, &f), Err(DenyReason::OutsideConsent));
        c.case = Some(case);
        let f = DisclosureFacts {
            consent: Some(c),
            ..f
        };
        assert!(decide_disclosure(&a, &f).is_ok());
    }

    #[test]
    fn an_authorization_bounds_the_release_and_the_request_only_narrows() {
        let c = consent(
            &[Category::Appointments],
            Some(ReleaseScope::attendance_only()),
        );
        let f = DisclosureFacts {
            consent: Some(c),
            ..facts()
        };
        let mut a = ask(LegalBasis::Authorization, &[Category::Appointments]);
        let g = decide_disclosure(&a, &f).unwrap();
        assert_eq!(g.scope, ReleaseScope::attendance_only());
        a.narrow = Some(ReleaseScope::new().with(Category::Appointments, Fields::All));
        assert_eq!(
            decide_disclosure(&a, &f).unwrap().scope,
            ReleaseScope::attendance_only()
        );
        a.narrow = Some(ReleaseScope::new().with(Category::Appointments, Fields::only(&["date"])));
        assert!(
            !decide_disclosure(&a, &f)
                .unwrap()
                .scope
                .part(Category::Appointments)
                .unwrap()
                .fields
                .includes("status")
        );
    }

    #[test]
    fn a_protective_release_is_the_minimum_plus_what_is_named() {
        let mut a = ask(
            LegalBasis::DutyToWarn,
            &[Category::Demographics, Category::ProgressNotes],
        );
        a.wider = vec![(Category::ProgressNotes, "summary".into())];
        let g = decide_disclosure(&a, &facts()).unwrap();
        let demo = &g.scope.part(Category::Demographics).unwrap().fields;
        assert_eq!(*demo, Fields::only(PROTECTIVE_MINIMUM));
        assert!(!demo.includes("employer") && !demo.includes("insurance_id"));
        assert_eq!(
            g.limit_of(Category::ProgressNotes, "summary"),
            Some(Limit::NamedWithReason)
        );
        assert_eq!(
            g.limit_of(Category::Demographics, "full_name"),
            Some(Limit::ProtectiveMinimum)
        );
        assert_eq!(g.limit_of(Category::ProgressNotes, "plan"), None);
        a.wider = vec![(Category::SubstanceUse, "summary".into())];
        assert_eq!(
            decide_disclosure(&a, &facts()),
            Err(DenyReason::PurposeNotPermitted)
        );
    }

    #[test]
    fn free_text_for_payment_needs_a_scope_that_names_it_except_under_an_older_consent() {
        let mut a = ask(LegalBasis::Authorization, &[Category::Billing]);
        a.purpose = Purpose::Payment;
        let mut c = consent(
            &[Category::Billing],
            Some(ReleaseScope::categories(&[Category::Billing])),
        );
        c.purpose = Purpose::Payment;
        let scoped = DisclosureFacts {
            consent: Some(c.clone()),
            ..facts()
        };
        let g = decide_disclosure(&a, &scoped).unwrap();
        assert!(matches!(&g.free_text, FreeText::OnlyNamed(s)
            if !s.part(Category::Billing).unwrap().fields.names("memo")));
        // Recorded before format 9: its categories whole, as it had them.
        c.scope = None;
        let older = DisclosureFacts {
            consent: Some(c),
            ..facts()
        };
        assert_eq!(
            decide_disclosure(&a, &older).unwrap().free_text,
            FreeText::Any
        );
    }

    #[test]
    fn substance_use_with_consent_carries_the_notice() {
        let f = DisclosureFacts {
            consent: Some(consent(&[Category::SubstanceUse], None)),
            ..facts()
        };
        let g = decide_disclosure(
            &ask(LegalBasis::Authorization, &[Category::SubstanceUse]),
            &f,
        )
        .unwrap();
        assert!(g.redisclosure_notice);
        assert!(!g.accountable);
        let other = ask(LegalBasis::Authorization, &[Category::ProgressNotes]);
        assert!(decide_disclosure(&other, &f).is_err());
    }

    #[test]
    fn only_the_clients_clinician_or_billing_releases() {
        let mut f = facts();
        f.releaser_on_care_team = false;
        let a = ask(LegalBasis::DutyToWarn, &[Category::Demographics]);
        assert_eq!(decide_disclosure(&a, &f), Err(DenyReason::NoRelationship));
        let mut b = ask(LegalBasis::Payment, &[Category::Billing]);
        b.role = Role::Biller;
        assert!(decide_disclosure(&b, &f).is_ok());
        // Outside its duty the biller has no relationship with the client: the answer a client
        // that does not exist gets.
        b.basis = LegalBasis::DutyToWarn;
        assert_eq!(decide_disclosure(&b, &f), Err(DenyReason::NoRelationship));
        b.role = Role::Scheduler;
        assert_eq!(decide_disclosure(&b, &f), Err(DenyReason::NoRelationship));
        // On the care team, the role is what is wrong.
        f.releaser_on_care_team = true;
        assert_eq!(decide_disclosure(&b, &f), Err(DenyReason::RoleNotPermitted));
    }
}
