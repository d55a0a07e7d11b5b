//! The role × category matrix (45 CFR 164.514(d)(2): the minimum-necessary artefact), as data.
//!
//! Each rule permits one role one operation on one category, for some purposes, when one
//! relationship holds, within a field scope. Anything no rule permits is denied; the explicit
//! refusals in `decide.rs` win over any rule here. `docs/access.md` prints this table; the golden
//! test in `tests/policy_matrix.rs` checks every cell against an independent copy.

use crate::model::Basis;
use crate::model::Category::{self, *};
use crate::model::Purpose::{self, *};
use crate::model::Role::{self, *};

/// Read or write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Read,
    Write,
}

/// The relationship a rule needs between requester and client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rel {
    /// Any client of the practice: billing and front-desk duties.
    Practice,
    /// On the client's care team.
    CareTeam,
    /// Supervises a clinician on the care team.
    Supervision,
    /// Wrote the psychotherapy note.
    Author,
    /// Supervises the note's author in a training programme.
    TrainingSupervisor,
    /// A clinician of the entry's case.
    CaseClinician,
    /// The client themselves.
    Subject,
    /// The client is a member of the entry's case.
    CaseMember,
    /// The client is the member the individual case notes are about.
    CaseSubject,
    /// Guardian of a minor whose guardian is not shut out.
    Guardian,
    /// Holds an open break-glass grant.
    BreakGlass,
}

impl Rel {
    pub(crate) fn basis(self) -> Basis {
        match self {
            Rel::Practice => Basis::Role,
            Rel::CareTeam => Basis::CareTeam,
            Rel::Supervision => Basis::Supervision,
            Rel::Author => Basis::Author,
            Rel::TrainingSupervisor => Basis::TrainingSupervision,
            Rel::CaseClinician => Basis::CaseClinician,
            Rel::Subject | Rel::CaseMember | Rel::CaseSubject => Basis::SelfAccess,
            Rel::Guardian => Basis::Guardian,
            Rel::BreakGlass => Basis::BreakGlass,
        }
    }
}

/// Which fields a rule releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every field of the entry.
    All,
    /// Only these (minimum necessary).
    Only(&'static [&'static str]),
}

impl Scope {
    /// Does the scope include `field`?
    pub fn includes(self, field: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Only(names) => names.contains(&field),
        }
    }
}

/// Demographics a biller needs to bill: identity and insurance, not contact details.
pub const BILLING_DEMOGRAPHICS: &[&str] = &[
    "full_name",
    "date_of_birth",
    "address",
    "insurance_id",
    "insurance_group",
];
/// Demographics the front desk needs: name and how to reach the client.
pub const CONTACT_DEMOGRAPHICS: &[&str] = &["full_name", "phone", "email", "address"];
/// Dates of service: what a biller needs of an appointment.
pub const DATES_OF_SERVICE: &[&str] = &["date", "minutes", "service_code", "status"];
/// What the front desk needs of an appointment (never a reason for the visit).
pub const SCHEDULING: &[&str] = &["date", "time", "minutes", "location", "status", "clinician"];
/// Diagnosis codes without their narrative.
pub const CODES: &[&str] = &["code", "codes"];

/// One permission.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Rule {
    pub role: Role,
    pub category: Category,
    pub op: Op,
    pub purposes: &'static [Purpose],
    pub rel: Rel,
    pub scope: Scope,
}

const fn r(
    role: Role,
    category: Category,
    op: Op,
    purposes: &'static [Purpose],
    rel: Rel,
    scope: Scope,
) -> Rule {
    Rule {
        role,
        category,
        op,
        purposes,
        rel,
        scope,
    }
}

const TREAT: &[Purpose] = &[Treatment];
const EMERGENCY: &[Purpose] = &[EmergencyTreatment];
const SUPERVISE: &[Purpose] = &[Treatment, Operations];
const PAY: &[Purpose] = &[Payment];
const FRONT_DESK: &[Purpose] = &[Operations];
const SELF: &[Purpose] = &[PatientRequest];

use Op::{Read, Write};
use Scope::{All, Only};

/// The matrix. Reading top to bottom: clinicians, supervisors, break-glass, billing, front desk,
/// the client, the guardian. Admins and auditors have no row: no clinical content.
pub(crate) const RULES: &[Rule] = &[
    // Treating clinician: the whole general record of the clients they treat.
    r(Clinician, Demographics, Read, TREAT, Rel::CareTeam, All),
    r(Clinician, Appointments, Read, TREAT, Rel::CareTeam, All),
    r(Clinician, DiagnosisCodes, Read, TREAT, Rel::CareTeam, All),
    r(Clinician, TreatmentPlan, Read, TREAT, Rel::CareTeam, All),
    r(Clinician, ProgressNotes, Read, TREAT, Rel::CareTeam, All),
    r(Clinician, SubstanceUse, Read, TREAT, Rel::CareTeam, All),
    r(Clinician, Billing, Read, TREAT, Rel::CareTeam, All),
    r(
        Clinician,
        IndividualCaseNotes,
        Read,
        TREAT,
        Rel::CareTeam,
        All,
    ),
    r(Clinician, JointRecord, Read, TREAT, Rel::CaseClinician, All),
    r(Clinician, PsychotherapyNotes, Read, TREAT, Rel::Author, All),
    r(Clinician, Demographics, Write, TREAT, Rel::CareTeam, All),
    r(Clinician, Appointments, Write, TREAT, Rel::CareTeam, All),
    r(Clinician, DiagnosisCodes, Write, TREAT, Rel::CareTeam, All),
    r(Clinician, TreatmentPlan, Write, TREAT, Rel::CareTeam, All),
    r(Clinician, ProgressNotes, Write, TREAT, Rel::CareTeam, All),
    r(Clinician, SubstanceUse, Write, TREAT, Rel::CareTeam, All),
    r(Clinician, Billing, Write, TREAT, Rel::CareTeam, All),
    r(
        Clinician,
        IndividualCaseNotes,
        Write,
        TREAT,
        Rel::CareTeam,
        All,
    ),
    r(
        Clinician,
        JointRecord,
        Write,
        TREAT,
        Rel::CaseClinician,
        All,
    ),
    r(
        Clinician,
        PsychotherapyNotes,
        Write,
        TREAT,
        Rel::CareTeam,
        All,
    ),
    // Supervisor: the general record of supervisees' clients; psychotherapy notes only in a
    // training programme.
    r(
        Supervisor,
        Demographics,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        Appointments,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        DiagnosisCodes,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        TreatmentPlan,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        ProgressNotes,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        SubstanceUse,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        IndividualCaseNotes,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        JointRecord,
        Read,
        SUPERVISE,
        Rel::Supervision,
        All,
    ),
    r(
        Supervisor,
        PsychotherapyNotes,
        Read,
        SUPERVISE,
        Rel::TrainingSupervisor,
        All,
    ),
    // Break-glass, for any clinician: the general record, never notes, Part 2 or case content.
    r(
        Clinician,
        Demographics,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Clinician,
        Appointments,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Clinician,
        DiagnosisCodes,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Clinician,
        TreatmentPlan,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Clinician,
        ProgressNotes,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Supervisor,
        Demographics,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Supervisor,
        Appointments,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Supervisor,
        DiagnosisCodes,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Supervisor,
        TreatmentPlan,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    r(
        Supervisor,
        ProgressNotes,
        Read,
        EMERGENCY,
        Rel::BreakGlass,
        All,
    ),
    // Biller: demographics for billing, dates of service, codes, fees. Never notes or plans.
    r(
        Biller,
        Demographics,
        Read,
        PAY,
        Rel::Practice,
        Only(BILLING_DEMOGRAPHICS),
    ),
    r(
        Biller,
        Appointments,
        Read,
        PAY,
        Rel::Practice,
        Only(DATES_OF_SERVICE),
    ),
    r(
        Biller,
        DiagnosisCodes,
        Read,
        PAY,
        Rel::Practice,
        Only(CODES),
    ),
    r(Biller, Billing, Read, PAY, Rel::Practice, All),
    r(Biller, Billing, Write, PAY, Rel::Practice, All),
    // Front desk: names, contact details, appointments. Nothing clinical.
    r(
        Scheduler,
        Demographics,
        Read,
        FRONT_DESK,
        Rel::Practice,
        Only(CONTACT_DEMOGRAPHICS),
    ),
    r(
        Scheduler,
        Appointments,
        Read,
        FRONT_DESK,
        Rel::Practice,
        Only(SCHEDULING),
    ),
    r(
        Scheduler,
        Appointments,
        Write,
        FRONT_DESK,
        Rel::Practice,
        Only(SCHEDULING),
    ),
    // The client's own access (45 CFR 164.524): never psychotherapy notes.
    r(Client, Demographics, Read, SELF, Rel::Subject, All),
    r(Client, Appointments, Read, SELF, Rel::Subject, All),
    r(Client, DiagnosisCodes, Read, SELF, Rel::Subject, All),
    r(Client, TreatmentPlan, Read, SELF, Rel::Subject, All),
    r(Client, ProgressNotes, Read, SELF, Rel::Subject, All),
    r(Client, SubstanceUse, Read, SELF, Rel::Subject, All),
    r(Client, Billing, Read, SELF, Rel::Subject, All),
    r(Client, JointRecord, Read, SELF, Rel::CaseMember, All),
    r(
        Client,
        IndividualCaseNotes,
        Read,
        SELF,
        Rel::CaseSubject,
        All,
    ),
    // A minor's guardian: the general record, unless shut out; never notes or Part 2 records.
    r(Guardian, Demographics, Read, SELF, Rel::Guardian, All),
    r(Guardian, Appointments, Read, SELF, Rel::Guardian, All),
    r(Guardian, DiagnosisCodes, Read, SELF, Rel::Guardian, All),
    r(Guardian, TreatmentPlan, Read, SELF, Rel::Guardian, All),
    r(Guardian, ProgressNotes, Read, SELF, Rel::Guardian, All),
    r(Guardian, Billing, Read, SELF, Rel::Guardian, All),
];

/// The rules for one role, category and operation.
pub(crate) fn rules_for(
    role: Role,
    category: Category,
    op: Op,
) -> impl Iterator<Item = &'static Rule> {
    RULES
        .iter()
        .filter(move |r| r.role == role && r.category == category && r.op == op)
}
