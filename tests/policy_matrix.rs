//! The golden access matrix (45 CFR 164.514(d)(2): the minimum-necessary artefact).
//!
//! Every role × category × purpose × operation is decided under the role's canonical
//! relationship to the client, and compared with a table written here by hand, independently of
//! `src/policy/matrix.rs`. `docs/access.md` is the same table in prose; this file is its source of
//! truth. A new permissive rule changes the allowed-cell count and fails the test.
//!
//! Only the public API is used: `decide` is pure, so no vault is needed.

use std::collections::BTreeSet;

use confide::Category::*;
use confide::Purpose::*;
use confide::Role::*;
use confide::{
    Access, Basis, CaseFacts, CaseKind, Category, ConsentFact, Decision, DenyReason, Facts,
    FieldName, Grant, MinorFacts, Purpose, Recipient, Request, Role, SecretsPolicy, UserId, decide,
};

// ---------------------------------------------------------------------------------------------
// The expected answers.

/// Which fields an allowed cell releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fields {
    /// Every field of the entry.
    All,
    /// Exactly these (minimum necessary).
    Only(&'static [&'static str]),
}

/// The expected answer of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Want {
    Allow(Basis, Fields),
    Deny(DenyReason),
}

// Refusals.
const RP: Want = Want::Deny(DenyReason::RoleNotPermitted);
const PP: Want = Want::Deny(DenyReason::PurposeNotPermitted);
const NR: Want = Want::Deny(DenyReason::NoRelationship);
const BX: Want = Want::Deny(DenyReason::BreakGlassExcluded);

// Grants of every field.
const CT: Want = Want::Allow(Basis::CareTeam, Fields::All);
const AU: Want = Want::Allow(Basis::Author, Fields::All);
const SV: Want = Want::Allow(Basis::Supervision, Fields::All);
const TS: Want = Want::Allow(Basis::TrainingSupervision, Fields::All);
const CC: Want = Want::Allow(Basis::CaseClinician, Fields::All);
const BG: Want = Want::Allow(Basis::BreakGlass, Fields::All);
const SA: Want = Want::Allow(Basis::SelfAccess, Fields::All);
const GU: Want = Want::Allow(Basis::Guardian, Fields::All);
const RL: Want = Want::Allow(Basis::Role, Fields::All);

// Minimum-necessary grants, written out literally (compare `confide::fields::*`).
/// Biller, demographics: identity and insurance, no contact details.
const BILL_DEMO: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&[
        "full_name",
        "date_of_birth",
        "address",
        "insurance_id",
        "insurance_group",
    ]),
);
/// Biller, appointments: dates of service.
const BILL_DOS: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&["date", "minutes", "service_code", "status"]),
);
/// Biller, diagnoses: the codes without their narrative.
const BILL_CODES: Want = Want::Allow(Basis::Role, Fields::Only(&["code", "codes"]));
/// Front desk, demographics: name and contact details.
const DESK_CONTACT: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&["full_name", "phone", "email", "address"]),
);
/// Front desk, appointments: never the reason for the visit.
const DESK_SCHED: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&["date", "time", "minutes", "location", "status", "clinician"]),
);

/// The fields every request names: each minimum-necessary list is a strict subset, so the
/// granted set shows the scope exactly.
const REQUESTED: &[&str] = &[
    "full_name",
    "date_of_birth",
    "address",
    "insurance_id",
    "insurance_group",
    "phone",
    "email",
    "emergency_contact",
    "date",
    "time",
    "minutes",
    "location",
    "status",
    "clinician",
    "service_code",
    "fee",
    "code",
    "codes",
    "description",
    "reason",
    "summary",
    "narrative",
];

/// The purposes, in the order of the table's columns.
const COLUMNS: [Purpose; 6] = [
    Treatment,
    EmergencyTreatment,
    Payment,
    Operations,
    PatientRequest,
    Legal,
];

/// One row: a category and its answer for each purpose of [`COLUMNS`].
type Row = (Category, [Want; 6]);

/// A role with its canonical relationship to the client, and its expected table.
struct Profile {
    name: &'static str,
    role: Role,
    facts: fn() -> Facts,
    read: &'static [Row],
    write: &'static [Row],
}

const NOW: i64 = 1_700_000_000_000;

fn me() -> UserId {
    "0123456789abcdef0123456789abcdef".parse().unwrap()
}

fn someone_else() -> UserId {
    "fedcba9876543210fedcba9876543210".parse().unwrap()
}

fn at_now() -> Facts {
    Facts {
        now_ms: NOW,
        ..Facts::default()
    }
}

fn couple(clinician: bool, member: bool, subject: bool) -> CaseFacts {
    CaseFacts {
        kind: CaseKind::Couple,
        secrets: SecretsPolicy::HeldInConfidence,
        requester_is_case_clinician: clinician,
        requester_is_member: member,
        requester_is_subject: subject,
    }
}

/// On the care team, and author of the note asked for.
fn treating() -> Facts {
    Facts {
        on_care_team: true,
        is_note_author: true,
        ..at_now()
    }
}

/// An open break-glass grant, and nothing else: not on the care team.
fn break_glass_only() -> Facts {
    Facts {
        break_glass_active: true,
        ..at_now()
    }
}

/// A clinician of the couple's case, not on the member's care team.
fn case_clinician() -> Facts {
    Facts {
        case: Some(couple(true, false, false)),
        ..at_now()
    }
}

/// Supervises the care team, in a training supervision of the note's author.
fn supervising() -> Facts {
    Facts {
        supervises_care_team: true,
        training_supervisor_of_author: true,
        ..at_now()
    }
}

/// Billing and the front desk serve every client of the practice: no relationship needed.
fn practice() -> Facts {
    at_now()
}

/// The client, asking for their own record; a member of the couple's case and the subject of
/// the individual notes.
fn own_record() -> Facts {
    Facts {
        is_subject: true,
        case: Some(couple(false, true, true)),
        ..at_now()
    }
}

/// A minor's guardian, with none of the 164.502(g)(3) exceptions.
fn guardian_of_minor() -> Facts {
    Facts {
        is_guardian_of_minor: true,
        minor: Some(MinorFacts::default()),
        ..at_now()
    }
}

/// A consent naming `to` for `categories` and `purpose`, in force at [`NOW`].
fn consent(to: UserId, categories: &[Category], purpose: Purpose) -> ConsentFact {
    ConsentFact {
        recipient: Recipient::User(to),
        categories: categories.iter().copied().collect(),
        purpose,
        start_ms: NOW - 1_000,
        expires_ms: None,
        revoked_ms: None,
    }
}

/// Every relationship fact true, and consents naming the requester for everything (a
/// psychotherapy-notes one alone, as the law wants): administrators and auditors still get
/// nothing clinical.
fn everything() -> Facts {
    let mut consents = Vec::new();
    for &p in Purpose::ALL {
        consents.push(consent(me(), Category::ALL, p));
        consents.push(consent(me(), &[PsychotherapyNotes], p));
    }
    Facts {
        now_ms: NOW,
        on_care_team: true,
        supervises_care_team: true,
        is_note_author: true,
        training_supervisor_of_author: true,
        is_subject: true,
        is_guardian_of_minor: true,
        minor: Some(MinorFacts::default()),
        break_glass_active: true,
        consents,
        case: Some(CaseFacts {
            kind: CaseKind::Family,
            secrets: SecretsPolicy::NoSecrets,
            requester_is_case_clinician: true,
            requester_is_member: true,
            requester_is_subject: true,
        }),
    }
}

/// Nothing for anyone.
const NOTHING: &[Row] = &[
    (Demographics, [RP; 6]),
    (Appointments, [RP; 6]),
    (DiagnosisCodes, [RP; 6]),
    (TreatmentPlan, [RP; 6]),
    (ProgressNotes, [RP; 6]),
    (PsychotherapyNotes, [RP; 6]),
    (JointRecord, [RP; 6]),
    (IndividualCaseNotes, [RP; 6]),
    (SubstanceUse, [RP; 6]),
    (Billing, [RP; 6]),
];

/// Anyone but the practice roles, the client and the guardian, with no relationship at all to
/// the client (or asking about a client that does not exist): nothing more specific may be said.
const UNRELATED: &[Row] = &[
    (Demographics, [NR; 6]),
    (Appointments, [NR; 6]),
    (DiagnosisCodes, [NR; 6]),
    (TreatmentPlan, [NR; 6]),
    (ProgressNotes, [NR; 6]),
    (PsychotherapyNotes, [NR; 6]),
    (JointRecord, [NR; 6]),
    (IndividualCaseNotes, [NR; 6]),
    (SubstanceUse, [NR; 6]),
    (Billing, [NR; 6]),
];

/// Writes of the client and the guardian, who write nothing: psychotherapy notes never for
/// payment (and never to them at all), break-glass never opens Part 2 records or case content,
/// and otherwise the role may not.
const NO_WRITES: &[Row] = &[
    //                     TREAT ETREAT HPAYMT HOPERAT PATRQT HLEGAL
    (Demographics, [RP, RP, RP, RP, RP, RP]),
    (Appointments, [RP, RP, RP, RP, RP, RP]),
    (DiagnosisCodes, [RP, RP, RP, RP, RP, RP]),
    (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
    (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
    (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
    (JointRecord, [RP, BX, RP, RP, RP, RP]),
    (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
    (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
    (Billing, [RP, RP, RP, RP, RP, RP]),
];

// Columns of every table: TREAT ETREAT HPAYMT HOPERAT PATRQT HLEGAL.
const PROFILES: &[Profile] = &[
    Profile {
        name: "clinician (care team, note author)",
        role: Clinician,
        facts: treating,
        read: &[
            (Demographics, [CT, NR, PP, PP, PP, PP]),
            (Appointments, [CT, NR, PP, PP, PP, PP]),
            (DiagnosisCodes, [CT, NR, PP, PP, PP, PP]),
            (TreatmentPlan, [CT, NR, PP, PP, PP, PP]),
            (ProgressNotes, [CT, NR, PP, PP, PP, PP]),
            (PsychotherapyNotes, [AU, BX, PP, PP, PP, PP]),
            (JointRecord, [NR, BX, PP, PP, PP, PP]),
            (IndividualCaseNotes, [CT, BX, PP, PP, PP, PP]),
            (SubstanceUse, [CT, BX, PP, PP, PP, PP]),
            (Billing, [CT, PP, PP, PP, PP, PP]),
        ],
        write: &[
            (Demographics, [CT, PP, PP, PP, PP, PP]),
            (Appointments, [CT, PP, PP, PP, PP, PP]),
            (DiagnosisCodes, [CT, PP, PP, PP, PP, PP]),
            (TreatmentPlan, [CT, PP, PP, PP, PP, PP]),
            (ProgressNotes, [CT, PP, PP, PP, PP, PP]),
            (PsychotherapyNotes, [CT, BX, PP, PP, PP, PP]),
            (JointRecord, [NR, BX, PP, PP, PP, PP]),
            (IndividualCaseNotes, [CT, BX, PP, PP, PP, PP]),
            (SubstanceUse, [CT, BX, PP, PP, PP, PP]),
            (Billing, [CT, PP, PP, PP, PP, PP]),
        ],
    },
    Profile {
        name: "clinician (break-glass open, not on the care team)",
        role: Clinician,
        facts: break_glass_only,
        read: &[
            (Demographics, [NR, BG, PP, PP, PP, PP]),
            (Appointments, [NR, BG, PP, PP, PP, PP]),
            (DiagnosisCodes, [NR, BG, PP, PP, PP, PP]),
            (TreatmentPlan, [NR, BG, PP, PP, PP, PP]),
            (ProgressNotes, [NR, BG, PP, PP, PP, PP]),
            (PsychotherapyNotes, [NR, BX, PP, PP, PP, PP]),
            (JointRecord, [NR, BX, PP, PP, PP, PP]),
            (IndividualCaseNotes, [NR, BX, PP, PP, PP, PP]),
            (SubstanceUse, [NR, BX, PP, PP, PP, PP]),
            (Billing, [NR, PP, PP, PP, PP, PP]),
        ],
        write: &[
            (Demographics, [NR, PP, PP, PP, PP, PP]),
            (Appointments, [NR, PP, PP, PP, PP, PP]),
            (DiagnosisCodes, [NR, PP, PP, PP, PP, PP]),
            (TreatmentPlan, [NR, PP, PP, PP, PP, PP]),
            (ProgressNotes, [NR, PP, PP, PP, PP, PP]),
            (PsychotherapyNotes, [NR, BX, PP, PP, PP, PP]),
            (JointRecord, [NR, BX, PP, PP, PP, PP]),
            (IndividualCaseNotes, [NR, BX, PP, PP, PP, PP]),
            (SubstanceUse, [NR, BX, PP, PP, PP, PP]),
            (Billing, [NR, PP, PP, PP, PP, PP]),
        ],
    },
    Profile {
        name: "clinician (of the couple's case only)",
        role: Clinician,
        facts: case_clinician,
        read: &[
            (Demographics, [NR, NR, PP, PP, PP, PP]),
            (Appointments, [NR, NR, PP, PP, PP, PP]),
            (DiagnosisCodes, [NR, NR, PP, PP, PP, PP]),
            (TreatmentPlan, [NR, NR, PP, PP, PP, PP]),
            (ProgressNotes, [NR, NR, PP, PP, PP, PP]),
            (PsychotherapyNotes, [NR, BX, PP, PP, PP, PP]),
            (JointRecord, [CC, BX, PP, PP, PP, PP]),
            (IndividualCaseNotes, [NR, BX, PP, PP, PP, PP]),
            (SubstanceUse, [NR, BX, PP, PP, PP, PP]),
            (Billing, [NR, PP, PP, PP, PP, PP]),
        ],
        write: &[
            (Demographics, [NR, PP, PP, PP, PP, PP]),
            (Appointments, [NR, PP, PP, PP, PP, PP]),
            (DiagnosisCodes, [NR, PP, PP, PP, PP, PP]),
            (TreatmentPlan, [NR, PP, PP, PP, PP, PP]),
            (ProgressNotes, [NR, PP, PP, PP, PP, PP]),
            (PsychotherapyNotes, [NR, BX, PP, PP, PP, PP]),
            (JointRecord, [CC, BX, PP, PP, PP, PP]),
            (IndividualCaseNotes, [NR, BX, PP, PP, PP, PP]),
            (SubstanceUse, [NR, BX, PP, PP, PP, PP]),
            (Billing, [NR, PP, PP, PP, PP, PP]),
        ],
    },
    Profile {
        name: "supervisor (of the care team, training supervisor of the author)",
        role: Supervisor,
        facts: supervising,
        read: &[
            (Demographics, [SV, NR, PP, SV, PP, PP]),
            (Appointments, [SV, NR, PP, SV, PP, PP]),
            (DiagnosisCodes, [SV, NR, PP, SV, PP, PP]),
            (TreatmentPlan, [SV, NR, PP, SV, PP, PP]),
            (ProgressNotes, [SV, NR, PP, SV, PP, PP]),
            (PsychotherapyNotes, [TS, BX, PP, TS, PP, PP]),
            (JointRecord, [SV, BX, PP, SV, PP, PP]),
            (IndividualCaseNotes, [SV, BX, PP, SV, PP, PP]),
            (SubstanceUse, [SV, BX, PP, SV, PP, PP]),
            (Billing, [RP, RP, RP, RP, RP, RP]),
        ],
        write: &[
            (Demographics, [RP, RP, RP, RP, RP, RP]),
            (Appointments, [RP, RP, RP, RP, RP, RP]),
            (DiagnosisCodes, [RP, RP, RP, RP, RP, RP]),
            (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
            (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
            // A supervisor never writes psychotherapy notes: they are the author's own.
            (PsychotherapyNotes, [RP, BX, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [RP, RP, RP, RP, RP, RP]),
        ],
    },
    Profile {
        name: "supervisor (break-glass open, no supervision)",
        role: Supervisor,
        facts: break_glass_only,
        read: &[
            (Demographics, [NR, BG, PP, NR, PP, PP]),
            (Appointments, [NR, BG, PP, NR, PP, PP]),
            (DiagnosisCodes, [NR, BG, PP, NR, PP, PP]),
            (TreatmentPlan, [NR, BG, PP, NR, PP, PP]),
            (ProgressNotes, [NR, BG, PP, NR, PP, PP]),
            (PsychotherapyNotes, [NR, BX, PP, NR, PP, PP]),
            (JointRecord, [NR, BX, PP, NR, PP, PP]),
            (IndividualCaseNotes, [NR, BX, PP, NR, PP, PP]),
            (SubstanceUse, [NR, BX, PP, NR, PP, PP]),
            (Billing, [RP, RP, RP, RP, RP, RP]),
        ],
        write: &[
            (Demographics, [RP, RP, RP, RP, RP, RP]),
            (Appointments, [RP, RP, RP, RP, RP, RP]),
            (DiagnosisCodes, [RP, RP, RP, RP, RP, RP]),
            (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
            (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
            (PsychotherapyNotes, [RP, BX, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [RP, RP, RP, RP, RP, RP]),
        ],
    },
    Profile {
        name: "biller",
        role: Biller,
        facts: practice,
        read: &[
            (Demographics, [PP, PP, BILL_DEMO, PP, PP, PP]),
            (Appointments, [PP, PP, BILL_DOS, PP, PP, PP]),
            (DiagnosisCodes, [PP, PP, BILL_CODES, PP, PP, PP]),
            (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
            (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
            (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [PP, PP, RL, PP, PP, PP]),
        ],
        write: &[
            (Demographics, [RP, RP, RP, RP, RP, RP]),
            (Appointments, [RP, RP, RP, RP, RP, RP]),
            (DiagnosisCodes, [RP, RP, RP, RP, RP, RP]),
            (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
            (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
            (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [PP, PP, RL, PP, PP, PP]),
        ],
    },
    Profile {
        name: "scheduler",
        role: Scheduler,
        facts: practice,
        read: &[
            (Demographics, [PP, PP, PP, DESK_CONTACT, PP, PP]),
            (Appointments, [PP, PP, PP, DESK_SCHED, PP, PP]),
            (DiagnosisCodes, [RP, RP, RP, RP, RP, RP]),
            (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
            (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
            (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [RP, RP, RP, RP, RP, RP]),
        ],
        write: &[
            (Demographics, [RP, RP, RP, RP, RP, RP]),
            (Appointments, [PP, PP, PP, DESK_SCHED, PP, PP]),
            (DiagnosisCodes, [RP, RP, RP, RP, RP, RP]),
            (TreatmentPlan, [RP, RP, RP, RP, RP, RP]),
            (ProgressNotes, [RP, RP, RP, RP, RP, RP]),
            (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [RP, RP, RP, RP, RP, RP]),
        ],
    },
    Profile {
        name: "client (self access, member of a couple's case)",
        role: Client,
        facts: own_record,
        read: &[
            (Demographics, [PP, PP, PP, PP, SA, PP]),
            (Appointments, [PP, PP, PP, PP, SA, PP]),
            (DiagnosisCodes, [PP, PP, PP, PP, SA, PP]),
            (TreatmentPlan, [PP, PP, PP, PP, SA, PP]),
            (ProgressNotes, [PP, PP, PP, PP, SA, PP]),
            (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
            (JointRecord, [PP, BX, PP, PP, SA, PP]),
            (IndividualCaseNotes, [PP, BX, PP, PP, SA, PP]),
            (SubstanceUse, [PP, BX, PP, PP, SA, PP]),
            (Billing, [PP, PP, PP, PP, SA, PP]),
        ],
        write: NO_WRITES,
    },
    Profile {
        name: "guardian (of a minor, no exception)",
        role: Guardian,
        facts: guardian_of_minor,
        read: &[
            (Demographics, [PP, PP, PP, PP, GU, PP]),
            (Appointments, [PP, PP, PP, PP, GU, PP]),
            (DiagnosisCodes, [PP, PP, PP, PP, GU, PP]),
            (TreatmentPlan, [PP, PP, PP, PP, GU, PP]),
            (ProgressNotes, [PP, PP, PP, PP, GU, PP]),
            (PsychotherapyNotes, [RP, RP, PP, RP, RP, RP]),
            (JointRecord, [RP, BX, RP, RP, RP, RP]),
            (IndividualCaseNotes, [RP, BX, RP, RP, RP, RP]),
            (SubstanceUse, [RP, BX, RP, RP, RP, RP]),
            (Billing, [PP, PP, PP, PP, GU, PP]),
        ],
        write: NO_WRITES,
    },
    Profile {
        name: "admin (every relationship fact true)",
        role: Admin,
        facts: everything,
        read: NOTHING,
        write: NOTHING,
    },
    Profile {
        name: "auditor (every relationship fact true)",
        role: Auditor,
        facts: everything,
        read: NOTHING,
        write: NOTHING,
    },
    Profile {
        name: "clinician (no relationship)",
        role: Clinician,
        facts: at_now,
        read: UNRELATED,
        write: UNRELATED,
    },
    Profile {
        name: "supervisor (no relationship)",
        role: Supervisor,
        facts: at_now,
        read: UNRELATED,
        write: UNRELATED,
    },
    Profile {
        name: "admin (no relationship)",
        role: Admin,
        facts: at_now,
        read: UNRELATED,
        write: UNRELATED,
    },
    Profile {
        name: "auditor (no relationship)",
        role: Auditor,
        facts: at_now,
        read: UNRELATED,
        write: UNRELATED,
    },
];

/// Allowed cells of [`PROFILES`], counted by hand: clinician 9 reads + 9 writes, break-glass
/// clinician 5, case clinician 2, supervisor 9 reads × TREAT and HOPERAT, break-glass
/// supervisor 5, biller 4 + 1, scheduler 2 + 1, client 9, guardian 6, admin 0, auditor 0, and
/// none for the four profiles with no relationship.
const ALLOWED_CELLS: usize = 18 + 5 + 2 + 18 + 5 + 5 + 3 + 9 + 6;

// ---------------------------------------------------------------------------------------------
// Helpers.

fn names(list: &[&str]) -> Vec<FieldName> {
    list.iter().map(|n| FieldName::new(n).unwrap()).collect()
}

fn request(role: Role, access: Access, purpose: Purpose, fields: &[&str]) -> Request {
    Request {
        role,
        requester: Some(me()),
        access,
        purpose,
        fields: names(fields),
    }
}

/// Read `category`, naming every field of [`REQUESTED`].
fn read(role: Role, category: Category, purpose: Purpose) -> Request {
    request(role, Access::Read(category), purpose, REQUESTED)
}

fn allow(basis: Basis, fields: &[&str]) -> Decision {
    Decision::Allow(Grant {
        basis,
        fields: names(fields).into_iter().collect(),
    })
}

fn deny(reason: DenyReason) -> Decision {
    Decision::Deny(reason)
}

/// The requests one cell is checked with, and the decision each must get.
fn cases_of(want: Want, write: bool) -> Vec<(&'static [&'static str], Decision)> {
    match want {
        Want::Deny(reason) => vec![(REQUESTED, deny(reason)), (&[], deny(reason))],
        Want::Allow(basis, Fields::All) => {
            vec![
                (REQUESTED, allow(basis, REQUESTED)),
                (&[], allow(basis, &[])),
            ]
        }
        // A read is trimmed to the scope.
        Want::Allow(basis, Fields::Only(scope)) if !write => {
            vec![(REQUESTED, allow(basis, scope)), (&[], allow(basis, &[]))]
        }
        // A write with any field outside the scope is refused whole; inside it, it goes through.
        Want::Allow(basis, Fields::Only(scope)) => vec![
            (REQUESTED, deny(DenyReason::FieldNotPermitted)),
            (scope, allow(basis, scope)),
            (&[], allow(basis, &[])),
        ],
    }
}

fn role_name(role: Role) -> &'static str {
    role.code()
}

// ---------------------------------------------------------------------------------------------
// The golden matrix.

#[test]
fn the_table_covers_every_role_category_and_purpose() {
    assert_eq!(Purpose::ALL, COLUMNS.as_slice(), "columns out of step");
    for role in Role::ALL {
        assert!(
            PROFILES.iter().any(|p| p.role == *role),
            "no profile for role {role}"
        );
    }
    for p in PROFILES {
        for (op, rows) in [("read", p.read), ("write", p.write)] {
            let cats: Vec<Category> = rows.iter().map(|r| r.0).collect();
            assert_eq!(cats, Category::ALL, "{}: {op} rows out of step", p.name);
        }
    }
    let requested: BTreeSet<&str> = REQUESTED.iter().copied().collect();
    for want in [BILL_DEMO, BILL_DOS, BILL_CODES, DESK_CONTACT, DESK_SCHED] {
        let Want::Allow(_, Fields::Only(scope)) = want else {
            panic!("not a scoped grant")
        };
        assert!(scope.len() < REQUESTED.len());
        for f in scope {
            assert!(requested.contains(f), "{f} is not requested");
        }
    }
}

#[test]
fn every_cell_matches_the_golden_table() {
    let mut failures = Vec::new();
    let (mut cells, mut allowed) = (0usize, 0usize);
    for p in PROFILES {
        let facts = (p.facts)();
        for (write, rows) in [(false, p.read), (true, p.write)] {
            for &(category, wants) in rows {
                for (&want, &purpose) in wants.iter().zip(COLUMNS.iter()) {
                    cells += 1;
                    if matches!(want, Want::Allow(..)) {
                        allowed += 1;
                    }
                    let access = if write {
                        Access::Write(category)
                    } else {
                        Access::Read(category)
                    };
                    for (fields, expected) in cases_of(want, write) {
                        let got = decide(&request(p.role, access, purpose, fields), &facts);
                        if got != expected {
                            failures.push(format!(
                                "{} [{}] {access:?} {purpose} fields={fields:?}\n    \
                                 expected {expected:?}\n    got      {got:?}",
                                p.name,
                                role_name(p.role),
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cell check(s) differ from the golden table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        cells,
        PROFILES.len() * Category::ALL.len() * COLUMNS.len() * 2
    );
    assert_eq!(cells, 1800);
    assert_eq!(
        allowed, ALLOWED_CELLS,
        "the number of allowed cells changed: a rule was added or removed"
    );
    assert_eq!(allowed, 71);
}

// ---------------------------------------------------------------------------------------------
// Refusals beat permissions.

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

/// A clinician with no relationship to the client: only a consent can open anything.
fn unrelated_with(consents: Vec<ConsentFact>, now_ms: i64) -> Facts {
    Facts {
        now_ms,
        consents,
        ..Facts::default()
    }
}

#[test]
fn a_consent_grants_exactly_its_categories_for_exactly_its_purpose() {
    let named = [ProgressNotes, TreatmentPlan];
    let facts = unrelated_with(vec![consent(me(), &named, Treatment)], NOW);
    let bare = unrelated_with(Vec::new(), NOW);
    for role in [Clinician, Supervisor, Biller, Scheduler] {
        for &c in Category::ALL {
            for &p in Purpose::ALL {
                let req = read(role, c, p);
                let got = decide(&req, &facts);
                if named.contains(&c) && p == Treatment {
                    assert_eq!(got, allow(Basis::Consent, REQUESTED), "{role} {c} {p}");
                } else {
                    // Outside its categories and purpose, the consent opens nothing. (The
                    // reason may differ: a user named in a consent has a relationship, so
                    // is told `purpose-not-permitted` rather than `no-relationship`.)
                    let before = decide(&req, &bare);
                    assert_eq!(got.is_allow(), before.is_allow(), "{role} {c} {p}");
                    if let Decision::Allow(grant) = &before {
                        assert_eq!(got, Decision::Allow(grant.clone()), "{role} {c} {p}");
                    }
                }
                // A consent releases information: it never permits a write.
                let write = request(role, Access::Write(c), p, REQUESTED);
                assert_eq!(
                    decide(&write, &facts).is_allow(),
                    decide(&write, &bare).is_allow(),
                    "{role} write {c} {p}"
                );
            }
        }
    }
    // A consent naming someone else, or an outside recipient, opens nothing for this user.
    let req = read(Clinician, ProgressNotes, Treatment);
    let elsewhere = unrelated_with(
        vec![
            consent(someone_else(), &named, Treatment),
            ConsentFact {
                recipient: Recipient::Outside,
                ..consent(me(), &named, Treatment)
            },
        ],
        NOW,
    );
    assert_eq!(decide(&req, &elsewhere), deny(DenyReason::NoRelationship));
    // Nor one for a request with no identified requester.
    let anonymous = Request {
        requester: None,
        ..req.clone()
    };
    assert!(!decide(&anonymous, &facts).is_allow());
}

#[test]
fn a_consent_is_in_force_from_its_start_until_expiry_or_revocation() {
    let req = read(Clinician, ProgressNotes, Treatment);
    let granted = allow(Basis::Consent, REQUESTED);
    let bounded = ConsentFact {
        start_ms: 1_000,
        expires_ms: Some(2_000),
        ..consent(me(), &[ProgressNotes], Treatment)
    };
    let at = |c: &ConsentFact, now| decide(&req, &unrelated_with(vec![c.clone()], now));
    assert_eq!(at(&bounded, 999), deny(DenyReason::ConsentNotInForce));
    assert_eq!(at(&bounded, 1_000), granted);
    assert_eq!(at(&bounded, 1_999), granted);
    assert_eq!(at(&bounded, 2_000), deny(DenyReason::ConsentNotInForce));
    // Revocation stops the very next request: at the instant of revocation it is refused.
    let revoked = ConsentFact {
        revoked_ms: Some(1_500),
        ..bounded.clone()
    };
    assert_eq!(at(&revoked, 1_499), granted);
    assert_eq!(at(&revoked, 1_500), deny(DenyReason::ConsentRevoked));
    assert_eq!(at(&revoked, 1_501), deny(DenyReason::ConsentRevoked));
    // An open-ended consent stays in force until revoked.
    let open = ConsentFact {
        start_ms: 0,
        expires_ms: None,
        revoked_ms: None,
        ..bounded
    };
    assert_eq!(at(&open, i64::MAX - 1), granted);
}

#[test]
fn psychotherapy_notes_need_an_authorization_naming_them_alone() {
    let req = read(Clinician, PsychotherapyNotes, Treatment);
    // 45 CFR 164.508(b)(3)(ii): not combined with any other authorization.
    let combined = unrelated_with(
        vec![consent(
            me(),
            &[PsychotherapyNotes, ProgressNotes],
            Treatment,
        )],
        NOW,
    );
    assert_eq!(decide(&req, &combined), deny(DenyReason::NoRelationship));
    let alone = unrelated_with(vec![consent(me(), &[PsychotherapyNotes], Treatment)], NOW);
    assert_eq!(decide(&req, &alone), allow(Basis::Consent, REQUESTED));
    // The combined one still releases the progress notes it names.
    let progress = read(Clinician, ProgressNotes, Treatment);
    assert_eq!(
        decide(&progress, &combined),
        allow(Basis::Consent, REQUESTED)
    );
    // The client and their guardian never reach them, whatever the consent says (164.524).
    for role in [Client, Guardian] {
        let req = read(role, PsychotherapyNotes, PatientRequest);
        let facts = Facts {
            consents: vec![consent(me(), &[PsychotherapyNotes], PatientRequest)],
            ..everything()
        };
        assert_eq!(decide(&req, &facts), deny(DenyReason::RoleNotPermitted));
    }
}

#[test]
fn part_2_records_open_only_to_a_consent_that_names_them() {
    let req = read(Clinician, SubstanceUse, Treatment);
    let general = unrelated_with(
        vec![consent(
            me(),
            &[Demographics, DiagnosisCodes, TreatmentPlan, ProgressNotes],
            Treatment,
        )],
        NOW,
    );
    assert_eq!(decide(&req, &general), deny(DenyReason::NoRelationship));
    let named = unrelated_with(vec![consent(me(), &[SubstanceUse], Treatment)], NOW);
    assert_eq!(decide(&req, &named), allow(Basis::Consent, REQUESTED));
}

// ---------------------------------------------------------------------------------------------
// Minimum necessary on writes, default deny, no existence oracle.

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
                _ => deny(DenyReason::RoleNotPermitted),
            };
            // No relationship needed: that is the point of it.
            assert_eq!(decide(&req, &at_now()), want, "{role} {p}");
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
