//! What may leave the vault, to whom, on which legal basis (45 CFR 164.508, 164.512; 42 CFR
//! Part 2). Pure, like `decide`: the vault gathers the facts, asks, and only then decrypts.

use std::collections::{BTreeMap, BTreeSet};

use crate::error::DenyReason;
use crate::model::{Category, LegalBasis, Purpose, Role};
use crate::policy::matrix::{CODES, DATES_OF_SERVICE, Scope};
use crate::policy::types::{ConsentFact, Recipient};

/// Demographics an insurer or payer receives.
const PAYMENT_DEMOGRAPHICS: &[&str] = &[
    "full_name",
    "date_of_birth",
    "address",
    "insurance_id",
    "insurance_group",
];

/// A release asked for, as the disclosure policy sees it.
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
    /// For a court order or subpoena: the categories it names.
    pub order_names: BTreeSet<Category>,
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
    /// For joint-case content: every member has an authorization in force for this release.
    pub every_member_authorized: bool,
}

/// What may leave: per category, which fields; and what must travel with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisclosureGrant {
    /// Category to field scope.
    pub scopes: BTreeMap<Category, Scope>,
    /// Carries the 42 CFR 2.32 redisclosure notice and a copy of the consent.
    pub redisclosure_notice: bool,
    /// Listed in the accounting of disclosures.
    pub accountable: bool,
}

/// Decide a release. Default deny; every category must be allowed or nothing leaves.
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
    let general = [
        Demographics,
        Appointments,
        DiagnosisCodes,
        TreatmentPlan,
        ProgressNotes,
        IndividualCaseNotes,
        JointRecord,
    ];
    let mut scopes = BTreeMap::new();
    let mut notice = false;
    for &c in &ask.categories {
        let scope = match ask.basis {
            Authorization | TreatmentWithConsent => {
                let consent = facts
                    .consent
                    .as_ref()
                    .ok_or(DenyReason::ConsentNotInForce)?;
                if ask.basis == TreatmentWithConsent && ask.purpose != Purpose::Treatment {
                    return Err(DenyReason::PurposeNotPermitted);
                }
                if !facts.recipient_named_in_consent {
                    // An authorization releases to the recipient it names, no one else.
                    return Err(DenyReason::OutsideConsent);
                }
                consent_scope(consent, c, ask.purpose, facts.now_ms)?
            }
            Payment if ask.purpose != Purpose::Payment => {
                return Err(DenyReason::PurposeNotPermitted);
            }
            Payment => match c {
                Demographics => Scope::Only(PAYMENT_DEMOGRAPHICS),
                Appointments => Scope::Only(DATES_OF_SERVICE),
                DiagnosisCodes => Scope::Only(CODES),
                Billing => Scope::All,
                _ => return Err(DenyReason::PurposeNotPermitted),
            },
            // 164.512(j): may include psychotherapy notes (HHS FAQ 520); Part 2 records need a
            // court order.
            DutyToWarn if c != SubstanceUse && c != Billing => Scope::All,
            ChildAbuseReport | ElderAbuseReport if general.contains(&c) => Scope::All,
            CourtOrder if ask.order_names.contains(&c) => Scope::All,
            // 164.508(a)(2): a subpoena alone releases no psychotherapy notes; Part 2 records
            // need an order (42 CFR 2.61).
            Subpoena
                if ask.order_names.contains(&c) && c != PsychotherapyNotes && c != SubstanceUse =>
            {
                Scope::All
            }
            MedicalEmergency
                if c != PsychotherapyNotes && (general.contains(&c) || c == SubstanceUse) =>
            {
                Scope::All
            }
            _ => return Err(DenyReason::PurposeNotPermitted),
        };
        notice |= c == SubstanceUse;
        scopes.insert(c, scope);
    }
    // Joint content belongs to every member.
    if ask.categories.contains(&JointRecord)
        && !ask.basis.is_mandatory()
        && !facts.every_member_authorized
    {
        return Err(DenyReason::HeldInConfidence);
    }
    Ok(DisclosureGrant {
        scopes,
        redisclosure_notice: notice,
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

/// The scope a consent gives a category for a release to someone outside the practice.
fn consent_scope(
    consent: &ConsentFact,
    category: Category,
    purpose: Purpose,
    now_ms: i64,
) -> std::result::Result<Scope, DenyReason> {
    if consent.revoked_ms.is_some_and(|r| r <= now_ms) {
        return Err(DenyReason::ConsentRevoked);
    }
    if !consent.in_force(now_ms) {
        return Err(DenyReason::ConsentNotInForce);
    }
    let names_only_notes = consent
        .categories
        .iter()
        .eq([Category::PsychotherapyNotes].iter());
    let ok = consent.recipient == Recipient::Outside
        && consent.purpose == purpose
        && consent.categories.contains(&category)
        && (category != Category::PsychotherapyNotes || names_only_notes);
    if ok {
        Ok(Scope::All)
    } else {
        Err(DenyReason::OutsideConsent)
    }
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
            order_names: BTreeSet::new(),
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

    #[test]
    fn payment_never_releases_notes() {
        for c in [
            Category::ProgressNotes,
            Category::TreatmentPlan,
            Category::PsychotherapyNotes,
        ] {
            assert!(decide_disclosure(&ask(LegalBasis::Payment, &[c]), &facts()).is_err());
        }
        let mut pay = ask(LegalBasis::Payment, &[Category::DiagnosisCodes]);
        let g = decide_disclosure(&pay, &facts()).unwrap();
        assert_eq!(g.scopes[&Category::DiagnosisCodes], Scope::Only(CODES));
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
        a.order_names = a.categories.clone();
        assert!(decide_disclosure(&a, &facts()).is_err());
        a.basis = LegalBasis::CourtOrder;
        assert!(decide_disclosure(&a, &facts()).unwrap().accountable);
    }

    #[test]
    fn a_court_order_releases_only_what_it_names() {
        let mut a = ask(
            LegalBasis::CourtOrder,
            &[Category::DiagnosisCodes, Category::TreatmentPlan],
        );
        a.order_names = [Category::DiagnosisCodes].into();
        assert_eq!(
            decide_disclosure(&a, &facts()),
            Err(DenyReason::PurposeNotPermitted)
        );
        a.order_names.insert(Category::TreatmentPlan);
        assert!(decide_disclosure(&a, &facts()).is_ok());
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
        let warn = ask(LegalBasis::DutyToWarn, &[Category::JointRecord]);
        assert!(decide_disclosure(&warn, &facts()).is_ok());
    }

    #[test]
    fn substance_use_with_consent_carries_the_notice() {
        let consent = ConsentFact {
            recipient: Recipient::Outside,
            categories: [Category::SubstanceUse].into(),
            purpose: Purpose::Treatment,
            start_ms: 0,
            expires_ms: None,
            revoked_ms: None,
            scope: None,
            case: None,
        };
        let f = DisclosureFacts {
            consent: Some(consent),
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
        let a = ask(LegalBasis::DutyToWarn, &[Category::ProgressNotes]);
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
