//! The vault's read decisions against a small reference model of the access rules.
//!
//! The model is written here, independently of `src/policy/` (it never calls `confide::decide`),
//! from DESIGN.md's access table as refined by docs/access.md (supervisors get no billing entries;
//! break-glass opens demographics, appointments, diagnosis codes, treatment plan and progress
//! notes, to clinicians and supervisors; a training supervisor reads the author's psychotherapy
//! notes only while supervising the client's care) and the documented facts of this implementation:
//! purposes of use, minimum-necessary field sets, psychotherapy-note and consent rules.
//!
//! Each case builds a small random practice through the public API (care teams, supervision,
//! records, psychotherapy notes, consents, revocations, break-glass), interleaved with random
//! reads, and checks for every read that the vault answers exactly what the model predicts: the
//! same set of field names, or a refusal. A refusal must unwrap no data key, and the audit chain
//! must verify at the end of each case.

mod common;

use std::collections::BTreeSet;
use std::time::{SystemTime, UNIX_EPOCH};

use common::*;
use confide::{
    Category, ClientId, ConsentId, ConsentRecipient, Durability, Error, NewConsent, NoteId,
    Passphrase, Purpose, RecordId, RecordKind, Role, Session, UserId, Value, Vault,
    verify_audit_log,
};
use proptest::prelude::*;
use proptest::test_runner::Config as ProptestConfig;

// ---------------------------------------------------------------------------------------------
// Vocabulary of the generator.

/// Record kinds the generator writes (case notes belong to cases, not modelled here).
const KINDS: &[RecordKind] = &[
    RecordKind::Demographics,
    RecordKind::Diagnosis,
    RecordKind::TreatmentPlan,
    RecordKind::ProgressNote,
    RecordKind::Appointment,
    RecordKind::Billing,
    RecordKind::SubstanceUse,
];

/// Field names: a mix of names inside and outside every role's minimum-necessary sets.
const FIELD_POOL: &[&str] = &[
    "full_name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "insurance_id",
    "insurance_group",
    "emergency_contact",
    "code",
    "codes",
    "description",
    "date",
    "time",
    "minutes",
    "location",
    "status",
    "clinician",
    "service_code",
    "reason",
    "summary",
    "fee",
];

/// Categories a consent may name.
const CONSENT_CATEGORIES: &[Category] = &[
    Category::Demographics,
    Category::Appointments,
    Category::DiagnosisCodes,
    Category::TreatmentPlan,
    Category::ProgressNotes,
    Category::SubstanceUse,
    Category::Billing,
    Category::PsychotherapyNotes,
];

const PURPOSES: &[Purpose] = &[
    Purpose::Treatment,
    Purpose::EmergencyTreatment,
    Purpose::Payment,
    Purpose::Operations,
    Purpose::PatientRequest,
    Purpose::Legal,
];

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

// ---------------------------------------------------------------------------------------------
// The reference model's rules, written from DESIGN.md ("Access"), docs/access.md and the
// documented facts.

/// Biller: demographics needed to bill (identity and insurance, no contact details).
const BILLER_DEMOGRAPHICS: &[&str] = &[
    "full_name",
    "date_of_birth",
    "address",
    "insurance_id",
    "insurance_group",
];
/// Biller: dates of service of an appointment.
const BILLER_APPOINTMENTS: &[&str] = &["date", "minutes", "service_code", "status"];
/// Biller: diagnosis codes without their narrative.
const BILLER_DIAGNOSIS: &[&str] = &["code", "codes"];
/// Front desk: name and contact.
const SCHEDULER_DEMOGRAPHICS: &[&str] = &["full_name", "phone", "email", "address"];
/// Front desk: what is needed to schedule (never the reason for the visit).
const SCHEDULER_APPOINTMENTS: &[&str] =
    &["date", "time", "minutes", "location", "status", "clinician"];

/// The policy category of a general-record kind, as the model names it.
fn model_category(kind: RecordKind) -> Category {
    match kind {
        RecordKind::Demographics => Category::Demographics,
        RecordKind::Diagnosis => Category::DiagnosisCodes,
        RecordKind::TreatmentPlan => Category::TreatmentPlan,
        RecordKind::ProgressNote => Category::ProgressNotes,
        RecordKind::Appointment => Category::Appointments,
        RecordKind::Billing => Category::Billing,
        RecordKind::SubstanceUse => Category::SubstanceUse,
        other => unreachable!("the generator does not write {other:?}"),
    }
}

/// When a consent is in force relative to the test run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Timing {
    /// Started a day ago, no expiry.
    Open,
    /// Started a day ago, expires in a day.
    Current,
    /// Started two days ago, expired a day ago.
    Expired,
    /// Starts in a day.
    NotYet,
}

impl Timing {
    fn window(self, now: i64) -> (i64, Option<i64>) {
        match self {
            Timing::Open => (now - DAY_MS, None),
            Timing::Current => (now - DAY_MS, Some(now + DAY_MS)),
            Timing::Expired => (now - 2 * DAY_MS, Some(now - DAY_MS)),
            Timing::NotYet => (now + DAY_MS, Some(now + 2 * DAY_MS)),
        }
    }
}

struct MUser {
    name: String,
    role: Role,
    id: UserId,
}

struct MClient {
    id: ClientId,
    /// Indices (into the users) of the care team.
    team: BTreeSet<usize>,
}

struct MRecord {
    id: RecordId,
    client: usize,
    kind: RecordKind,
    fields: BTreeSet<String>,
}

struct MNote {
    id: NoteId,
    client: usize,
    author: usize,
    fields: BTreeSet<String>,
}

struct MConsent {
    id: ConsentId,
    client: usize,
    recipient: usize,
    categories: BTreeSet<Category>,
    purpose: Purpose,
    timing: Timing,
    revoked: bool,
}

impl MConsent {
    /// In force for every request made during the test: started, not expired, not revoked.
    fn in_force(&self) -> bool {
        matches!(self.timing, Timing::Open | Timing::Current) && !self.revoked
    }
}

/// The practice as the model sees it.
#[derive(Default)]
struct Model {
    users: Vec<MUser>,
    /// (supervisor, supervisee, training programme).
    supervision: Option<(usize, usize, bool)>,
    clients: Vec<MClient>,
    records: Vec<MRecord>,
    notes: Vec<MNote>,
    consents: Vec<MConsent>,
    /// (user, client) with an open break-glass grant.
    break_glass: BTreeSet<(usize, usize)>,
}

/// What a read asks for.
#[derive(Clone, Copy, Debug)]
enum Target {
    Record(usize),
    Note(usize),
}

impl Model {
    fn on_team(&self, user: usize, client: usize) -> bool {
        self.clients[client].team.contains(&user)
    }

    /// The user supervises (in any supervision) a clinician on the client's care team.
    fn supervises_team_of(&self, user: usize, client: usize) -> bool {
        self.supervision
            .is_some_and(|(sup, supervisee, _)| sup == user && self.on_team(supervisee, client))
    }

    /// The user supervises `author` in a supervision flagged as a training programme.
    fn training_supervisor_of(&self, user: usize, author: usize) -> bool {
        self.supervision.is_some_and(|(sup, supervisee, training)| {
            training && sup == user && supervisee == author
        })
    }

    /// A consent of `client` in force now that names `user`, `category` and `purpose`.
    fn consent_grants(
        &self,
        user: usize,
        client: usize,
        category: Category,
        purpose: Purpose,
    ) -> bool {
        self.consents.iter().any(|c| {
            c.client == client
                && c.recipient == user
                && c.purpose == purpose
                && c.in_force()
                && c.categories.contains(&category)
                // A psychotherapy-notes authorization names them and nothing else.
                && (category != Category::PsychotherapyNotes || c.categories.len() == 1)
        })
    }

    /// The model's answer to a read: the field names released, or `None` for a refusal.
    fn read(&self, user: usize, target: Target, purpose: Purpose) -> Option<BTreeSet<String>> {
        let (client, category, stored, author) = match target {
            Target::Record(i) => {
                let r = &self.records[i];
                (r.client, model_category(r.kind), &r.fields, None)
            }
            Target::Note(i) => {
                let n = &self.notes[i];
                (
                    n.client,
                    Category::PsychotherapyNotes,
                    &n.fields,
                    Some(n.author),
                )
            }
        };
        let role = self.users[user].role;
        let notes = category == Category::PsychotherapyNotes;

        // Refusals nothing overrides, not even a consent.
        // Admin and auditor: nothing clinical.
        if matches!(role, Role::Admin | Role::Auditor) {
            return None;
        }
        // Psychotherapy notes: never for payment (no billing path returns them, invariant 5);
        // never to the biller ("never notes") or the front desk ("nothing clinical").
        if notes && (matches!(role, Role::Biller | Role::Scheduler) || purpose == Purpose::Payment)
        {
            return None;
        }
        // The emergency purpose never opens psychotherapy notes (DESIGN.md) nor substance-use
        // records (`Session::break_glass` docs).
        if purpose == Purpose::EmergencyTreatment && (notes || category == Category::SubstanceUse) {
            return None;
        }
        // Break-glass: reads of the general record's demographics, appointments, diagnosis
        // codes, treatment plan and progress notes (docs/access.md: "Not billing").
        let break_glass = purpose == Purpose::EmergencyTreatment
            && self.break_glass.contains(&(user, client))
            && matches!(
                category,
                Category::Demographics
                    | Category::Appointments
                    | Category::DiagnosisCodes
                    | Category::TreatmentPlan
                    | Category::ProgressNotes
            );

        let all = || stored.clone();
        let only = |names: &[&str]| -> BTreeSet<String> {
            stored
                .iter()
                .filter(|f| names.contains(&f.as_str()))
                .cloned()
                .collect()
        };
        let mut released: Option<BTreeSet<String>> = None;
        let mut grant = |fields: BTreeSet<String>| {
            released.get_or_insert_with(BTreeSet::new).extend(fields);
        };

        match role {
            Role::Clinician => {
                // The treating clinician: the general record; psychotherapy notes they wrote,
                // while still on the care team.
                if purpose == Purpose::Treatment
                    && self.on_team(user, client)
                    && (!notes || author == Some(user))
                {
                    grant(all());
                }
                if break_glass {
                    grant(all());
                }
            }
            Role::Supervisor => {
                if matches!(purpose, Purpose::Treatment | Purpose::Operations) {
                    if notes {
                        // Only inside a supervision of the author flagged as a training
                        // programme, while supervising the client's care (docs/access.md).
                        if author.is_some_and(|a| self.training_supervisor_of(user, a))
                            && self.supervises_team_of(user, client)
                        {
                            grant(all());
                        }
                    } else if self.supervises_team_of(user, client) && category != Category::Billing
                    {
                        // The general record of supervisees' clients; no billing
                        // (docs/access.md narrows DESIGN.md's "general record" so).
                        grant(all());
                    }
                }
                // Break-glass opens to supervisors too (docs/access.md).
                if break_glass {
                    grant(all());
                }
            }
            Role::Biller if purpose == Purpose::Payment => match category {
                Category::Demographics => grant(only(BILLER_DEMOGRAPHICS)),
                Category::Appointments => grant(only(BILLER_APPOINTMENTS)),
                Category::DiagnosisCodes => grant(only(BILLER_DIAGNOSIS)),
                Category::Billing => grant(all()),
                _ => {}
            },
            Role::Scheduler if purpose == Purpose::Operations => match category {
                Category::Demographics => grant(only(SCHEDULER_DEMOGRAPHICS)),
                Category::Appointments => grant(only(SCHEDULER_APPOINTMENTS)),
                _ => {}
            },
            _ => {}
        }
        // A consent naming this user releases exactly its categories for exactly its purpose.
        if self.consent_grants(user, client, category, purpose) {
            grant(all());
        }
        released
    }
}

// ---------------------------------------------------------------------------------------------
// The generator.

#[derive(Clone, Debug)]
enum Op {
    /// The admin (operations) puts a clinician on a client's care team.
    Assign { client: usize, clinician: usize },
    /// The admin (operations) takes a clinician off a client's care team.
    Remove { client: usize, clinician: usize },
    /// A care-team clinician writes a general-record entry (or, with no care team left, some
    /// clinician tries to and is refused).
    Record {
        client: usize,
        actor: usize,
        kind: usize,
        fields: BTreeSet<usize>,
    },
    /// A care-team clinician writes a psychotherapy note (or some clinician is refused).
    Note {
        client: usize,
        actor: usize,
        fields: BTreeSet<usize>,
    },
    /// A care-team clinician records a consent to a vault user (or some clinician is refused).
    Consent {
        client: usize,
        actor: usize,
        recipient: usize,
        categories: BTreeSet<usize>,
        purpose: usize,
        timing: Timing,
    },
    /// A care-team clinician revokes a consent (or some clinician is refused).
    Revoke { consent: usize, actor: usize },
    /// A clinician or the supervisor opens emergency access to a client.
    BreakGlass { opener: usize, client: usize },
    /// A user reads a record or a note; `purpose: None` is the role's usual purpose.
    Read {
        user: usize,
        note: bool,
        target: usize,
        purpose: Option<usize>,
    },
    /// The recipient of a consent reads, for the consent's purpose, an entry of the consent's
    /// client, of one of its categories where there is one (so consents are exercised at all).
    ReadUnderConsent { consent: usize, target: usize },
    /// The holder of a break-glass grant reads an entry of that client for `ETREAT`.
    ReadUnderBreakGlass { grant: usize, target: usize },
    /// A clinician or the supervisor reads a psychotherapy note for their usual purpose.
    ReadNote { user: usize, note: usize },
}

#[derive(Clone, Debug)]
struct Scenario {
    clinicians: usize,
    /// (supervisee, training).
    supervisor: Option<(usize, bool)>,
    /// The clinician who registers each client.
    clients: Vec<usize>,
    ops: Vec<Op>,
}

fn idx() -> impl Strategy<Value = usize> {
    0..64usize
}

fn op() -> impl Strategy<Value = Op> {
    let fields = prop::collection::btree_set(0..FIELD_POOL.len(), 1..=4);
    let categories = prop_oneof![
        1 => Just(BTreeSet::from([CONSENT_CATEGORIES.len() - 1])),
        3 => prop::collection::btree_set(0..CONSENT_CATEGORIES.len(), 1..=3),
    ];
    let timing = prop_oneof![
        Just(Timing::Open),
        Just(Timing::Current),
        Just(Timing::Expired),
        Just(Timing::NotYet),
    ];
    prop_oneof![
        2 => (idx(), idx()).prop_map(|(client, clinician)| Op::Assign { client, clinician }),
        1 => (idx(), idx()).prop_map(|(client, clinician)| Op::Remove { client, clinician }),
        5 => (idx(), idx(), 0..KINDS.len(), fields.clone()).prop_map(
            |(client, actor, kind, fields)| Op::Record { client, actor, kind, fields }
        ),
        2 => (idx(), idx(), fields).prop_map(|(client, actor, fields)| Op::Note {
            client,
            actor,
            fields
        }),
        3 => (idx(), idx(), idx(), categories, 0..PURPOSES.len(), timing).prop_map(
            |(client, actor, recipient, categories, purpose, timing)| Op::Consent {
                client,
                actor,
                recipient,
                categories,
                purpose,
                timing,
            }
        ),
        2 => (idx(), idx()).prop_map(|(consent, actor)| Op::Revoke { consent, actor }),
        1 => (idx(), idx()).prop_map(|(opener, client)| Op::BreakGlass { opener, client }),
        12 => (idx(), prop::bool::weighted(0.3), idx(), prop::option::weighted(0.5, 0..PURPOSES.len()))
            .prop_map(|(user, note, target, purpose)| Op::Read { user, note, target, purpose }),
        6 => (idx(), idx()).prop_map(|(consent, target)| Op::ReadUnderConsent { consent, target }),
        2 => (idx(), idx()).prop_map(|(grant, target)| Op::ReadUnderBreakGlass { grant, target }),
        2 => (idx(), idx()).prop_map(|(user, note)| Op::ReadNote { user, note }),
    ]
}

fn scenario() -> impl Strategy<Value = Scenario> {
    (
        2..=4usize,
        prop::option::of((idx(), any::<bool>())),
        prop::collection::vec(idx(), 2..=4),
        prop::collection::vec(op(), 10..48),
    )
        .prop_map(|(clinicians, supervisor, clients, ops)| Scenario {
            clinicians,
            supervisor,
            clients,
            ops,
        })
}

// ---------------------------------------------------------------------------------------------
// Running a scenario against a vault and the model side by side.

fn now_ms() -> i64 {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(d.as_millis()).unwrap()
}

fn values(fields: &BTreeSet<usize>) -> (Vec<(&'static str, Value)>, BTreeSet<String>) {
    let vals = fields
        .iter()
        .map(|&i| {
            (
                FIELD_POOL[i],
                Value::text(format!("value of {}", FIELD_POOL[i])),
            )
        })
        .collect();
    let names = fields.iter().map(|&i| FIELD_POOL[i].to_owned()).collect();
    (vals, names)
}

/// The purpose a role usually reads for.
fn usual_purpose(role: Role, pick: usize) -> Purpose {
    match role {
        Role::Clinician => Purpose::Treatment,
        Role::Supervisor if pick % 2 == 0 => Purpose::Treatment,
        Role::Biller => Purpose::Payment,
        _ => Purpose::Operations,
    }
}

/// The fixture's practice (admin, dr.a, dr.b, biller, front.desk, auditor), with the cheap KDF
/// and `Durability::Normal`: durability is no part of the policy, and fewer syncs keep the
/// hundreds of vaults this test builds (and shrinking) fast. Returns the admin's session too.
fn practice() -> (Practice, Session) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("practice.vault");
    let config = test_config().with_durability(Durability::Normal);
    let vault = Vault::create(&path, "admin", &Passphrase::new(ADMIN_PASS), config).unwrap();
    let admin = vault.unlock("admin", &Passphrase::new(ADMIN_PASS)).unwrap();
    for (name, role) in [
        ("dr.a", Role::Clinician),
        ("dr.b", Role::Clinician),
        ("biller", Role::Biller),
        ("front.desk", Role::Scheduler),
        ("auditor", Role::Auditor),
    ] {
        admin
            .add_user(name, role, &Passphrase::new(CLIN_PASS))
            .unwrap();
    }
    (Practice { dir, path, vault }, admin)
}

struct Run {
    practice: Practice,
    /// One session per model user, same indices; the admin's is the last.
    sessions: Vec<Session>,
    model: Model,
}

impl Run {
    fn new(s: &Scenario) -> Self {
        let (practice, admin) = practice();
        let mut names: Vec<(String, Role)> = (0..s.clinicians)
            .map(|i| {
                let name = ["dr.a", "dr.b", "dr.c", "dr.d"][i].to_owned();
                (name, Role::Clinician)
            })
            .collect();
        // The fixture has dr.a and dr.b; add the others.
        for (name, role) in names.iter().skip(2) {
            admin
                .add_user(name, *role, &Passphrase::new(CLIN_PASS))
                .unwrap();
        }
        if s.supervisor.is_some() {
            admin
                .add_user("supervisor", Role::Supervisor, &Passphrase::new(CLIN_PASS))
                .unwrap();
            names.push(("supervisor".into(), Role::Supervisor));
        }
        names.push(("biller".into(), Role::Biller));
        names.push(("front.desk".into(), Role::Scheduler));
        names.push(("auditor".into(), Role::Auditor));
        names.push(("admin".into(), Role::Admin));

        let mut model = Model::default();
        let mut sessions = Vec::new();
        let mut admin = Some(admin);
        for (name, role) in names {
            let session = match role {
                Role::Admin => admin.take().unwrap(),
                _ => practice.login(&name),
            };
            assert_eq!(session.role(), role);
            model.users.push(MUser {
                name,
                role,
                id: session.user_id(),
            });
            sessions.push(session);
        }
        if let Some((supervisee, training)) = s.supervisor {
            let sup = s.clinicians;
            let supervisee = supervisee % s.clinicians;
            let admin = sessions.last().unwrap();
            admin
                .set_supervision(&model.users[sup].id, &model.users[supervisee].id, training)
                .unwrap();
            model.supervision = Some((sup, supervisee, training));
        }
        let mut run = Run {
            practice,
            sessions,
            model,
        };
        for (i, &creator) in s.clients.iter().enumerate() {
            run.add_client(i, creator % s.clinicians);
        }
        run
    }

    fn admin(&self) -> &Session {
        self.sessions.last().unwrap()
    }

    fn clinicians(&self) -> Vec<usize> {
        (0..self.model.users.len())
            .filter(|&u| self.model.users[u].role == Role::Clinician)
            .collect()
    }

    /// Register a client; their demographics entry (name and date of birth) becomes a record.
    fn add_client(&mut self, i: usize, creator: usize) {
        let s = &self.sessions[creator];
        let id = new_client(s, &format!("Client {i}"));
        let listed = s.list_records(&id, Purpose::Treatment).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].kind, RecordKind::Demographics);
        self.model.clients.push(MClient {
            id,
            team: BTreeSet::from([creator]),
        });
        self.model.records.push(MRecord {
            id: listed[0].id,
            client: self.model.clients.len() - 1,
            kind: RecordKind::Demographics,
            fields: ["full_name", "date_of_birth"].map(String::from).into(),
        });
    }

    /// A writer for `client`: a care-team clinician if there is one (`true`), else some
    /// clinician who must be refused (`false`).
    fn writer(&self, client: usize, actor: usize) -> (usize, bool) {
        let team: Vec<usize> = self.model.clients[client].team.iter().copied().collect();
        if team.is_empty() {
            let clinicians = self.clinicians();
            (clinicians[actor % clinicians.len()], false)
        } else {
            (team[actor % team.len()], true)
        }
    }

    fn apply(&mut self, step: usize, op: &Op) -> Result<(), TestCaseError> {
        let n_clients = self.model.clients.len();
        let clinicians = self.clinicians();
        let t = Purpose::Treatment;
        match op {
            Op::Assign { client, clinician } => {
                let (c, u) = (client % n_clients, clinicians[clinician % clinicians.len()]);
                let user = self.model.users[u].id;
                self.admin()
                    .assign_care_team(&self.model.clients[c].id, &user, Purpose::Operations)
                    .unwrap();
                self.model.clients[c].team.insert(u);
            }
            Op::Remove { client, clinician } => {
                let (c, u) = (client % n_clients, clinicians[clinician % clinicians.len()]);
                let user = self.model.users[u].id;
                self.admin()
                    .remove_from_care_team(&self.model.clients[c].id, &user, Purpose::Operations)
                    .unwrap();
                self.model.clients[c].team.remove(&u);
            }
            Op::Record {
                client,
                actor,
                kind,
                fields,
            } => {
                let c = client % n_clients;
                let (u, on_team) = self.writer(c, *actor);
                let (vals, names) = values(fields);
                let kind = KINDS[*kind];
                let got = self.sessions[u].create_record(&self.model.clients[c].id, kind, &vals, t);
                if on_team {
                    let id = got.unwrap();
                    self.model.records.push(MRecord {
                        id,
                        client: c,
                        kind,
                        fields: names,
                    });
                } else {
                    prop_assert!(
                        matches!(got, Err(Error::Denied { .. })),
                        "step {step}: write by a clinician off the care team: {got:?}"
                    );
                }
            }
            Op::Note {
                client,
                actor,
                fields,
            } => {
                let c = client % n_clients;
                let (u, on_team) = self.writer(c, *actor);
                let (vals, names) = values(fields);
                let got =
                    self.sessions[u].write_psychotherapy_note(&self.model.clients[c].id, &vals, t);
                if on_team {
                    let id = got.unwrap();
                    self.model.notes.push(MNote {
                        id,
                        client: c,
                        author: u,
                        fields: names,
                    });
                } else {
                    prop_assert!(
                        matches!(got, Err(Error::Denied { .. })),
                        "step {step}: note by a clinician off the care team: {got:?}"
                    );
                }
            }
            Op::Consent {
                client,
                actor,
                recipient,
                categories,
                purpose,
                timing,
            } => {
                let c = client % n_clients;
                let (u, on_team) = self.writer(c, *actor);
                let recipient = recipient % self.model.users.len();
                let categories: BTreeSet<Category> =
                    categories.iter().map(|&i| CONSENT_CATEGORIES[i]).collect();
                let now = now_ms();
                let (start_ms, expires_ms) = timing.window(now);
                let consent = NewConsent {
                    recipient: ConsentRecipient::User(self.model.users[recipient].id),
                    categories: categories.iter().copied().collect(),
                    purpose: PURPOSES[*purpose],
                    start_ms,
                    expires_ms,
                    signed_on_ms: now - DAY_MS,
                    description: "release of information".into(),
                    scope: None,
                    case: None,
                    expiry_event: None,
                    signed_by: None,
                };
                let got = self.sessions[u].record_consent(&self.model.clients[c].id, &consent, t);
                // A notes authorization names them alone, and never for payment: refused as
                // invalid when recorded.
                let invalid = categories.contains(&Category::PsychotherapyNotes)
                    && (categories.len() > 1 || PURPOSES[*purpose] == Purpose::Payment);
                if invalid {
                    prop_assert!(
                        matches!(got, Err(Error::InvalidInput { .. })),
                        "step {step}: an invalid notes authorization: {got:?}"
                    );
                } else if on_team {
                    let id = got.unwrap();
                    self.model.consents.push(MConsent {
                        id,
                        client: c,
                        recipient,
                        categories,
                        purpose: PURPOSES[*purpose],
                        timing: *timing,
                        revoked: false,
                    });
                } else {
                    prop_assert!(
                        matches!(got, Err(Error::Denied { .. })),
                        "step {step}: consent recorded off the care team: {got:?}"
                    );
                }
            }
            Op::Revoke { consent, actor } => {
                if self.model.consents.is_empty() {
                    return Ok(());
                }
                let k = consent % self.model.consents.len();
                let c = self.model.consents[k].client;
                let (u, on_team) = self.writer(c, *actor);
                let got = self.sessions[u].revoke_consent(&self.model.consents[k].id, t);
                if on_team {
                    got.unwrap();
                    self.model.consents[k].revoked = true;
                } else {
                    prop_assert!(
                        matches!(got, Err(Error::Denied { .. })),
                        "step {step}: consent revoked off the care team: {got:?}"
                    );
                }
            }
            Op::BreakGlass { opener, client } => {
                // Clinicians and the supervisor may open emergency access.
                let openers: Vec<usize> = (0..self.model.users.len())
                    .filter(|&u| {
                        matches!(self.model.users[u].role, Role::Clinician | Role::Supervisor)
                    })
                    .collect();
                let (u, c) = (openers[opener % openers.len()], client % n_clients);
                self.sessions[u]
                    .break_glass(&self.model.clients[c].id, "patient in crisis", 60)
                    .unwrap();
                self.model.break_glass.insert((u, c));
            }
            Op::Read {
                user,
                note,
                target,
                purpose,
            } => {
                let u = user % self.model.users.len();
                let purpose = match purpose {
                    Some(p) => PURPOSES[*p],
                    None => usual_purpose(self.model.users[u].role, *target),
                };
                let target = if *note && !self.model.notes.is_empty() {
                    Target::Note(target % self.model.notes.len())
                } else {
                    Target::Record(target % self.model.records.len())
                };
                self.check_read(step, u, target, purpose)?;
            }
            Op::ReadUnderConsent { consent, target } => {
                if self.model.consents.is_empty() {
                    return Ok(());
                }
                let c = &self.model.consents[consent % self.model.consents.len()];
                let (u, purpose) = (c.recipient, c.purpose);
                let mut named = self.entries_of(c.client, |cat| c.categories.contains(&cat));
                if named.is_empty() {
                    named = self.entries_of(c.client, |_| true);
                }
                let target = named[target % named.len()];
                self.check_read(step, u, target, purpose)?;
            }
            Op::ReadUnderBreakGlass { grant, target } => {
                let grants: Vec<(usize, usize)> = self.model.break_glass.iter().copied().collect();
                if grants.is_empty() {
                    return Ok(());
                }
                let (u, c) = grants[grant % grants.len()];
                let entries = self.entries_of(c, |_| true);
                let target = entries[target % entries.len()];
                self.check_read(step, u, target, Purpose::EmergencyTreatment)?;
            }
            Op::ReadNote { user, note } => {
                if self.model.notes.is_empty() {
                    return Ok(());
                }
                let staff: Vec<usize> = (0..self.model.users.len())
                    .filter(|&u| {
                        matches!(self.model.users[u].role, Role::Clinician | Role::Supervisor)
                    })
                    .collect();
                let u = staff[user % staff.len()];
                let purpose = usual_purpose(self.model.users[u].role, *note);
                let target = Target::Note(note % self.model.notes.len());
                self.check_read(step, u, target, purpose)?;
            }
        }
        Ok(())
    }

    /// The records and notes of `client` whose category passes `keep`.
    fn entries_of(&self, client: usize, keep: impl Fn(Category) -> bool) -> Vec<Target> {
        let records = (self.model.records.iter().enumerate())
            .filter(|(_, r)| r.client == client && keep(model_category(r.kind)))
            .map(|(i, _)| Target::Record(i));
        let notes = (self.model.notes.iter().enumerate())
            .filter(|(_, n)| n.client == client && keep(Category::PsychotherapyNotes))
            .map(|(i, _)| Target::Note(i));
        records.chain(notes).collect()
    }

    fn check_read(
        &self,
        step: usize,
        u: usize,
        target: Target,
        purpose: Purpose,
    ) -> Result<(), TestCaseError> {
        let expected = self.model.read(u, target, purpose);
        let session = &self.sessions[u];
        let before = session.key_stats().unwrapped;
        let (got, stored, what): (Result<BTreeSet<String>, Error>, _, _) = match target {
            Target::Record(i) => {
                let r = &self.model.records[i];
                let got = session
                    .read_record(&r.id, purpose)
                    .map(|rec| rec.fields.keys().map(|f| f.as_str().to_owned()).collect());
                (got, &r.fields, format!("{:?} record #{i}", r.kind))
            }
            Target::Note(i) => {
                let n = &self.model.notes[i];
                let got = session
                    .read_psychotherapy_note(&n.id, purpose)
                    .map(|note| note.fields.keys().map(|f| f.as_str().to_owned()).collect());
                let author = &self.model.users[n.author].name;
                (
                    got,
                    &n.fields,
                    format!("psychotherapy note #{i} by {author}"),
                )
            }
        };
        let user = &self.model.users[u];
        let ctx = format!(
            "step {step}: {} ({:?}) reads {what} (fields {stored:?}) for {purpose:?}",
            user.name, user.role
        );
        match (&got, &expected) {
            (Ok(fields), Some(allowed)) => {
                prop_assert!(
                    fields.is_subset(stored),
                    "{ctx}: returned fields never stored: {fields:?}"
                );
                prop_assert!(
                    fields.is_subset(allowed),
                    "{ctx}: vault released {fields:?}, the model allows only {allowed:?}"
                );
                prop_assert_eq!(fields, allowed, "{}: released fields differ", ctx);
            }
            (Err(Error::Denied { reason }), None) => {
                let after = self.sessions[u].key_stats().unwrapped;
                prop_assert_eq!(
                    after,
                    before,
                    "{}: refusal ({}) unwrapped a data key",
                    ctx,
                    reason
                );
            }
            (Ok(fields), None) => {
                return Err(TestCaseError::fail(format!(
                    "{ctx}: vault released {fields:?}, the model refuses"
                )));
            }
            (Err(Error::Denied { reason }), Some(allowed)) => {
                return Err(TestCaseError::fail(format!(
                    "{ctx}: vault refused ({reason}), the model releases {allowed:?}"
                )));
            }
            (Err(e), _) => {
                return Err(TestCaseError::fail(format!("{ctx}: unexpected error {e}")));
            }
        }
        Ok(())
    }
}

fn run(s: &Scenario) -> Result<(), TestCaseError> {
    let mut run = Run::new(s);
    for (step, op) in s.ops.iter().enumerate() {
        run.apply(step, op)?;
    }
    let report = verify_audit_log(run.practice.path()).unwrap();
    prop_assert!(report.is_intact(), "audit log not intact: {report:?}");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        // No regression file: this test writes nothing beside the sources.
        failure_persistence: None,
        max_shrink_iters: 400,
        ..ProptestConfig::default()
    })]

    #[test]
    fn vault_reads_match_the_reference_model(s in scenario()) {
        run(&s)?;
    }
}
