//! The golden access matrix, written by hand independently of `src/policy/matrix.rs`, and the
//! requests and facts the policy tests (tests/policy_*.rs) decide on.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use confide::Category::*;
use confide::Purpose::*;
use confide::Role::*;
use confide::{
    Access, Basis, CaseFacts, CaseKind, Category, ConsentFact, Decision, DenyReason, Facts,
    FieldName, Grant, MinorFacts, Purpose, Recipient, Request, Role, SecretsPolicy, UserId,
};

// ---------------------------------------------------------------------------------------------
// The expected answers.

/// Which fields an allowed cell releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fields {
    /// Every field of the entry.
    All,
    /// Exactly these (minimum necessary).
    Only(&'static [&'static str]),
}

/// The expected answer of one cell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    Allow(Basis, Fields),
    Deny(DenyReason),
}

// Refusals.
pub const RP: Want = Want::Deny(DenyReason::RoleNotPermitted);
pub const PP: Want = Want::Deny(DenyReason::PurposeNotPermitted);
pub const NR: Want = Want::Deny(DenyReason::NoRelationship);
pub const BX: Want = Want::Deny(DenyReason::BreakGlassExcluded);

// Grants of every field.
pub const CT: Want = Want::Allow(Basis::CareTeam, Fields::All);
pub const AU: Want = Want::Allow(Basis::Author, Fields::All);
pub const SV: Want = Want::Allow(Basis::Supervision, Fields::All);
pub const TS: Want = Want::Allow(Basis::TrainingSupervision, Fields::All);
pub const CC: Want = Want::Allow(Basis::CaseClinician, Fields::All);
pub const BG: Want = Want::Allow(Basis::BreakGlass, Fields::All);
pub const SA: Want = Want::Allow(Basis::SelfAccess, Fields::All);
pub const GU: Want = Want::Allow(Basis::Guardian, Fields::All);
pub const RL: Want = Want::Allow(Basis::Role, Fields::All);

// Minimum-necessary grants, written out literally (compare `confide::fields::*`).
/// Biller, demographics: identity and insurance, no contact details.
pub const BILL_DEMO: Want = Want::Allow(
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
pub const BILL_DOS: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&["date", "minutes", "service_code", "status"]),
);
/// Biller, diagnoses: the codes without their narrative.
pub const BILL_CODES: Want = Want::Allow(Basis::Role, Fields::Only(&["code", "codes"]));
/// Front desk, demographics: name and contact details.
pub const DESK_CONTACT: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&["full_name", "phone", "email", "address"]),
);
/// Front desk, appointments: never the reason for the visit.
pub const DESK_SCHED: Want = Want::Allow(
    Basis::Role,
    Fields::Only(&["date", "time", "minutes", "location", "status", "clinician"]),
);

/// The fields every request names: each minimum-necessary list is a strict subset, so the
/// granted set shows the scope exactly.
pub const REQUESTED: &[&str] = &[
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
pub const COLUMNS: [Purpose; 6] = [
    Treatment,
    EmergencyTreatment,
    Payment,
    Operations,
    PatientRequest,
    Legal,
];

/// One row: a category and its answer for each purpose of [`COLUMNS`].
pub type Row = (Category, [Want; 6]);

/// A role with its canonical relationship to the client, and its expected table.
pub struct Profile {
    pub name: &'static str,
    pub role: Role,
    pub facts: fn() -> Facts,
    pub read: &'static [Row],
    pub write: &'static [Row],
}

pub const NOW: i64 = 1_700_000_000_000;

pub fn me() -> UserId {
    "0123456789abcdef0123456789abcdef".parse().unwrap()
}

pub fn someone_else() -> UserId {
    "fedcba9876543210fedcba9876543210".parse().unwrap()
}

pub fn at_now() -> Facts {
    Facts {
        now_ms: NOW,
        ..Facts::default()
    }
}

pub fn couple(clinician: bool, member: bool, subject: bool) -> CaseFacts {
    CaseFacts {
        kind: CaseKind::Couple,
        secrets: SecretsPolicy::HeldInConfidence,
        requester_is_case_clinician: clinician,
        requester_is_member: member,
        requester_is_subject: subject,
    }
}

/// On the care team, and author of the note asked for.
pub fn treating() -> Facts {
    Facts {
        on_care_team: true,
        is_note_author: true,
        ..at_now()
    }
}

/// An open break-glass grant, and nothing else: not on the care team.
pub fn break_glass_only() -> Facts {
    Facts {
        break_glass_active: true,
        ..at_now()
    }
}

/// A clinician of the couple's case, not on the member's care team.
pub fn case_clinician() -> Facts {
    Facts {
        case: Some(couple(true, false, false)),
        ..at_now()
    }
}

/// Supervises the care team, in a training supervision of the note's author.
pub fn supervising() -> Facts {
    Facts {
        supervises_care_team: true,
        training_supervisor_of_author: true,
        ..at_now()
    }
}

/// Billing and the front desk serve every client of the practice: no relationship needed for
/// their duties (and none held for anything else).
pub fn practice() -> Facts {
    at_now()
}

/// The client, asking for their own record; a member of the couple's case and the subject of
/// the individual notes.
pub fn own_record() -> Facts {
    Facts {
        is_subject: true,
        case: Some(couple(false, true, true)),
        ..at_now()
    }
}

/// A minor's guardian, with none of the 164.502(g)(3) exceptions.
pub fn guardian_of_minor() -> Facts {
    Facts {
        is_guardian_of_minor: true,
        minor: Some(MinorFacts::default()),
        ..at_now()
    }
}

/// A consent naming `to` for `categories` and `purpose`, in force at [`NOW`].
pub fn consent(to: UserId, categories: &[Category], purpose: Purpose) -> ConsentFact {
    ConsentFact {
        recipient: Recipient::User(to),
        categories: categories.iter().copied().collect(),
        purpose,
        start_ms: NOW - 1_000,
        expires_ms: None,
        revoked_ms: None,
        scope: None,
        case: None,
    }
}

/// Every relationship fact true, and consents naming the requester for everything (a
/// psychotherapy-notes one alone, as the law wants): administrators and auditors still get
/// nothing clinical.
pub fn everything() -> Facts {
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
pub const NOTHING: &[Row] = &[
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

/// Anyone but the client and the guardian, with no relationship at all to the client (or asking
/// about a client that does not exist): nothing more specific may be said. The practice roles
/// get it too, for anything outside their duties (see the biller and scheduler profiles).
pub const UNRELATED: &[Row] = &[
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
pub const NO_WRITES: &[Row] = &[
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
pub const PROFILES: &[Profile] = &[
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
        // Outside its duty the biller has no relationship with the client: `no-relationship`,
        // the answer for an id that names nothing (an existing treatment plan is not told
        // apart from a missing one).
        read: &[
            (Demographics, [PP, PP, BILL_DEMO, PP, PP, PP]),
            (Appointments, [PP, PP, BILL_DOS, PP, PP, PP]),
            (DiagnosisCodes, [PP, PP, BILL_CODES, PP, PP, PP]),
            (TreatmentPlan, [NR; 6]),
            (ProgressNotes, [NR; 6]),
            (PsychotherapyNotes, [NR; 6]),
            (JointRecord, [NR; 6]),
            (IndividualCaseNotes, [NR; 6]),
            (SubstanceUse, [NR; 6]),
            (Billing, [PP, PP, RL, PP, PP, PP]),
        ],
        write: &[
            (Demographics, [NR; 6]),
            (Appointments, [NR; 6]),
            (DiagnosisCodes, [NR; 6]),
            (TreatmentPlan, [NR; 6]),
            (ProgressNotes, [NR; 6]),
            (PsychotherapyNotes, [NR; 6]),
            (JointRecord, [NR; 6]),
            (IndividualCaseNotes, [NR; 6]),
            (SubstanceUse, [NR; 6]),
            (Billing, [PP, PP, RL, PP, PP, PP]),
        ],
    },
    Profile {
        name: "scheduler",
        role: Scheduler,
        facts: practice,
        // Nothing clinical: outside its duty, `no-relationship`, as for an id naming nothing.
        read: &[
            (Demographics, [PP, PP, PP, DESK_CONTACT, PP, PP]),
            (Appointments, [PP, PP, PP, DESK_SCHED, PP, PP]),
            (DiagnosisCodes, [NR; 6]),
            (TreatmentPlan, [NR; 6]),
            (ProgressNotes, [NR; 6]),
            (PsychotherapyNotes, [NR; 6]),
            (JointRecord, [NR; 6]),
            (IndividualCaseNotes, [NR; 6]),
            (SubstanceUse, [NR; 6]),
            (Billing, [NR; 6]),
        ],
        write: &[
            (Demographics, [NR; 6]),
            (Appointments, [PP, PP, PP, DESK_SCHED, PP, PP]),
            (DiagnosisCodes, [NR; 6]),
            (TreatmentPlan, [NR; 6]),
            (ProgressNotes, [NR; 6]),
            (PsychotherapyNotes, [NR; 6]),
            (JointRecord, [NR; 6]),
            (IndividualCaseNotes, [NR; 6]),
            (SubstanceUse, [NR; 6]),
            (Billing, [NR; 6]),
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
pub const ALLOWED_CELLS: usize = 18 + 5 + 2 + 18 + 5 + 5 + 3 + 9 + 6;

// ---------------------------------------------------------------------------------------------
// Helpers.

pub fn names(list: &[&str]) -> Vec<FieldName> {
    list.iter().map(|n| FieldName::new(n).unwrap()).collect()
}

pub fn request(role: Role, access: Access, purpose: Purpose, fields: &[&str]) -> Request {
    Request {
        role,
        requester: Some(me()),
        access,
        purpose,
        fields: names(fields),
    }
}

/// Read `category`, naming every field of [`REQUESTED`].
pub fn read(role: Role, category: Category, purpose: Purpose) -> Request {
    request(role, Access::Read(category), purpose, REQUESTED)
}

pub fn allow(basis: Basis, fields: &[&str]) -> Decision {
    Decision::Allow(Grant {
        basis,
        fields: names(fields).into_iter().collect(),
    })
}

pub fn deny(reason: DenyReason) -> Decision {
    Decision::Deny(reason)
}

/// The requests one cell is checked with, and the decision each must get.
pub fn cases_of(want: Want, write: bool) -> Vec<(&'static [&'static str], Decision)> {
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

pub fn role_name(role: Role) -> &'static str {
    role.code()
}

// ---------------------------------------------------------------------------------------------
// The golden matrix.

/// A clinician with no relationship to the client: only a consent can open anything.
pub fn unrelated_with(consents: Vec<ConsentFact>, now_ms: i64) -> Facts {
    Facts {
        now_ms,
        consents,
        ..Facts::default()
    }
}
