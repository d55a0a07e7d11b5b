//! The practice's vocabulary: roles, purposes of use, record kinds, key compartments, and the
//! bases on which access is granted or information released.
//!
//! Closed enums, each with a stable text code that is what the vault stores and audits.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The stable code stored in the vault and the audit log.
            pub fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                match s {
                    $($code => Ok($name::$variant),)+
                    _ => Err(Error::InvalidInput { what: $what, reason: "unknown code".into() }),
                }
            }
        }
    };
}

coded_enum!(
    /// What a user of the vault is, which bounds what the policy may grant them.
    Role, "role" {
        /// Manages users and keys; no clinical content.
        Admin => "admin",
        /// Treats clients; reads the records of the clients on whose care team they are.
        Clinician => "clinician",
        /// Supervises clinicians.
        Supervisor => "supervisor",
        /// Billing: codes, dates of service and fees only.
        Biller => "biller",
        /// Front desk: names, contacts, appointments.
        Scheduler => "scheduler",
        /// Reads the audit log's metadata; no field content.
        Auditor => "auditor",
        /// The client, for self access (an export a clinician releases to them).
        Client => "client",
        /// A minor client's parent or guardian (an export a clinician releases to them).
        Guardian => "guardian",
    }
);

coded_enum!(
    /// Purpose of use, as HL7 PurposeOfUse codes. Every request names one.
    Purpose, "purpose" {
        /// Treatment.
        Treatment => "TREAT",
        /// Emergency treatment (break-glass).
        EmergencyTreatment => "ETREAT",
        /// Payment.
        Payment => "HPAYMT",
        /// Health-care operations (including audit and administration).
        Operations => "HOPERAT",
        /// At the client's request.
        PatientRequest => "PATRQT",
        /// Legal.
        Legal => "HLEGAL",
    }
);

coded_enum!(
    /// The kind of a general-record entry.
    RecordKind, "record kind" {
        /// Name, date of birth, contact details.
        Demographics => "demographics",
        /// Diagnosis codes and their notes.
        Diagnosis => "diagnosis",
        /// The treatment plan.
        TreatmentPlan => "treatment_plan",
        /// A progress note (part of the general record, unlike psychotherapy notes).
        ProgressNote => "progress_note",
        /// An appointment.
        Appointment => "appointment",
        /// A substance-use disorder record (42 CFR Part 2), under its own data key.
        SubstanceUse => "substance_use",
        /// Fees, procedure codes and dates of service.
        Billing => "billing",
        /// Notes of one member's individual session within a couple, family or group case.
        CaseNote => "case_note",
    }
);

impl RecordKind {
    /// The policy category of this kind of entry.
    pub fn category(self) -> Category {
        match self {
            RecordKind::Demographics => Category::Demographics,
            RecordKind::Diagnosis => Category::DiagnosisCodes,
            RecordKind::TreatmentPlan => Category::TreatmentPlan,
            RecordKind::ProgressNote => Category::ProgressNotes,
            RecordKind::Appointment => Category::Appointments,
            RecordKind::SubstanceUse => Category::SubstanceUse,
            RecordKind::Billing => Category::Billing,
            RecordKind::CaseNote => Category::IndividualCaseNotes,
        }
    }

    /// The key compartment its fields are sealed in.
    pub fn compartment(self) -> Compartment {
        match self {
            RecordKind::SubstanceUse => Compartment::SubstanceUse,
            _ => Compartment::General,
        }
    }

    /// Whether an entry of this kind is clinical documentation, which its author signs and
    /// which is never overwritten once signed. Administrative entries (demographics,
    /// appointments, billing) are not signed: they stay open to updates, each earlier version
    /// kept.
    pub fn is_signed_documentation(self) -> bool {
        !matches!(
            self,
            RecordKind::Demographics | RecordKind::Appointment | RecordKind::Billing
        )
    }
}

coded_enum!(
    /// A category of information: what the access matrix and consents speak of.
    Category, "category" {
        /// Name, date of birth, contact and insurance details.
        Demographics => "demographics",
        /// Appointments and dates of service.
        Appointments => "appointments",
        /// Diagnosis codes.
        DiagnosisCodes => "diagnosis_codes",
        /// The treatment plan.
        TreatmentPlan => "treatment_plan",
        /// Progress notes (general record).
        ProgressNotes => "progress_notes",
        /// Psychotherapy notes (45 CFR 164.501).
        PsychotherapyNotes => "psychotherapy_notes",
        /// The joint record of a couple, family or group case.
        JointRecord => "joint_record",
        /// One member's individual-session notes within a case.
        IndividualCaseNotes => "individual_case_notes",
        /// Substance-use disorder records (42 CFR Part 2).
        SubstanceUse => "substance_use",
        /// Fees, procedure codes, dates of service.
        Billing => "billing",
    }
);

coded_enum!(
    /// What kind of case joins several clients.
    CaseKind, "case kind" {
        /// A couple.
        Couple => "couple",
        /// A family.
        Family => "family",
        /// A therapy group: members never see each other's identities through the record.
        Group => "group",
    }
);

coded_enum!(
    /// A case's secrets policy, chosen at intake.
    SecretsPolicy, "secrets policy" {
        /// The clinician may bring an individual disclosure into the joint record.
        NoSecrets => "no_secrets",
        /// Bringing an individual disclosure into the joint record needs the disclosing member's
        /// recorded consent.
        HeldInConfidence => "held_in_confidence",
    }
);

coded_enum!(
    /// Why a guardian may act for a minor (45 CFR 164.502(g)(3)): as a parent, or as appointed
    /// by a court. Either is the minor's personal representative within the custody order's
    /// limits; the basis is recorded so a reviewer can find the order behind it.
    GuardianBasis, "guardian basis" {
        /// A parent (with the legal custody the order gives them).
        Parent => "parent",
        /// A guardian a court appointed.
        CourtAppointed => "court_appointed",
    }
);

coded_enum!(
    /// A separately keyed part of a client's data: each has its own data key.
    Compartment, "compartment" {
        /// The general record.
        General => "general",
        /// Psychotherapy notes (45 CFR 164.501), kept apart from the general record.
        PsychotherapyNotes => "psychotherapy_notes",
        /// Substance-use disorder records (42 CFR Part 2).
        SubstanceUse => "substance_use",
        /// The disclosure ledger's sealed details (one key for the vault, so the accounting of
        /// disclosures survives a client's crypto-shredding).
        Ledger => "ledger",
    }
);

/// Why access was granted: stored in the audit entry of every allowed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Basis {
    /// A practice role's own duty (administration, audit, billing, scheduling, intake).
    Role,
    /// The requester treats the client.
    CareTeam,
    /// The requester supervises a treating clinician.
    Supervision,
    /// The requester wrote the psychotherapy note.
    Author,
    /// Supervision inside a training programme (45 CFR 164.508(a)(2)(i)(B)).
    TrainingSupervision,
    /// The client's own access (45 CFR 164.524).
    SelfAccess,
    /// A minor's guardian as personal representative.
    Guardian,
    /// A clinician of the case.
    CaseClinician,
    /// The client's consent naming the requester.
    Consent,
    /// Emergency access: flagged for review.
    BreakGlass,
    /// The case's no-secrets policy.
    NoSecretsPolicy,
}

impl Basis {
    /// Every basis.
    #[cfg(test)]
    pub(crate) const ALL: &'static [Basis] = &[
        Basis::Role,
        Basis::CareTeam,
        Basis::Supervision,
        Basis::Author,
        Basis::TrainingSupervision,
        Basis::SelfAccess,
        Basis::Guardian,
        Basis::CaseClinician,
        Basis::Consent,
        Basis::BreakGlass,
        Basis::NoSecretsPolicy,
    ];

    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            Basis::Role => "role",
            Basis::CareTeam => "care-team",
            Basis::Supervision => "supervision",
            Basis::Author => "author",
            Basis::TrainingSupervision => "training-supervision",
            Basis::SelfAccess => "self-access",
            Basis::Guardian => "guardian",
            Basis::CaseClinician => "case-clinician",
            Basis::Consent => "consent",
            Basis::BreakGlass => "break-glass",
            Basis::NoSecretsPolicy => "no-secrets-policy",
        }
    }
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The legal basis a release rests on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum LegalBasis {
    /// The client's written authorization (164.508), cited as a consent record.
    Authorization,
    /// Coordination of treatment with another provider, with the client's consent.
    TreatmentWithConsent,
    /// Payment (164.506): minimum necessary, never notes.
    Payment,
    /// Serious and imminent threat to health or safety (164.512(j)(1)(i); duty to warn/protect).
    DutyToWarn,
    /// A report of child abuse or neglect (164.512(b)(1)(ii)).
    ChildAbuseReport,
    /// A report of elder or dependent-adult abuse (164.512(c)).
    ElderAbuseReport,
    /// A court order (164.512(e)(1)(i)): only what the order names.
    CourtOrder,
    /// A subpoena without a court order (164.512(e)(1)(ii)): never psychotherapy notes.
    Subpoena,
    /// A medical emergency (42 CFR 2.51; 164.510(b)(3)).
    MedicalEmergency,
}

impl LegalBasis {
    /// Every basis.
    pub const ALL: &'static [LegalBasis] = &[
        LegalBasis::Authorization,
        LegalBasis::TreatmentWithConsent,
        LegalBasis::Payment,
        LegalBasis::DutyToWarn,
        LegalBasis::ChildAbuseReport,
        LegalBasis::ElderAbuseReport,
        LegalBasis::CourtOrder,
        LegalBasis::Subpoena,
        LegalBasis::MedicalEmergency,
    ];

    /// The stable code stored in the ledger.
    pub fn code(self) -> &'static str {
        match self {
            LegalBasis::Authorization => "authorization",
            LegalBasis::TreatmentWithConsent => "treatment-with-consent",
            LegalBasis::Payment => "payment",
            LegalBasis::DutyToWarn => "duty-to-warn",
            LegalBasis::ChildAbuseReport => "child-abuse-report",
            LegalBasis::ElderAbuseReport => "elder-abuse-report",
            LegalBasis::CourtOrder => "court-order",
            LegalBasis::Subpoena => "subpoena",
            LegalBasis::MedicalEmergency => "medical-emergency",
        }
    }

    /// Rests on the client's consent.
    pub fn needs_consent(self) -> bool {
        matches!(
            self,
            LegalBasis::Authorization | LegalBasis::TreatmentWithConsent
        )
    }

    /// Required or permitted by law without the client's authorization: joint-case content
    /// may leave on this basis without every member's authorization.
    pub fn is_mandatory(self) -> bool {
        matches!(
            self,
            LegalBasis::DutyToWarn
                | LegalBasis::ChildAbuseReport
                | LegalBasis::ElderAbuseReport
                | LegalBasis::CourtOrder
        )
    }

    /// Listed in the client's accounting of disclosures (164.528): not treatment, payment or
    /// operations, not under the client's authorization.
    pub fn accountable(self) -> bool {
        !matches!(
            self,
            LegalBasis::Authorization | LegalBasis::TreatmentWithConsent | LegalBasis::Payment
        )
    }
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for LegalBasis {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        LegalBasis::ALL
            .iter()
            .copied()
            .find(|b| b.code() == s)
            .ok_or_else(|| Error::InvalidInput {
                what: "legal basis",
                reason: "unknown code".into(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.code().parse::<Role>().unwrap(), *r);
        }
        for p in Purpose::ALL {
            assert_eq!(p.code().parse::<Purpose>().unwrap(), *p);
        }
        for k in RecordKind::ALL {
            assert_eq!(k.code().parse::<RecordKind>().unwrap(), *k);
        }
        for c in Compartment::ALL {
            assert_eq!(c.code().parse::<Compartment>().unwrap(), *c);
        }
        for c in Category::ALL {
            assert_eq!(c.code().parse::<Category>().unwrap(), *c);
        }
        assert!("root".parse::<Role>().is_err());
    }
}
