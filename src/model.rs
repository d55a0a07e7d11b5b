//! The practice's vocabulary: roles, purposes of use, record kinds and key compartments.
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
