//! `show --format fhir`: the entries as a FHIR R4 Bundle (type `collection`) of AuditEvent
//! resources, one per entry, for a practice's SIEM or an auditor's tooling.
//!
//! Event types and subtypes are DICOM codes (PS3.16, CID 400-403), as FHIR R4's AuditEvent
//! value sets use them; purposes are the HL7 v3 ActReason codes the log already stores. Like the
//! log, an event carries ids, codes and field names, never a field value. The mapping is
//! documented in `docs/audit-verify.md`; change both together.

use confide::{AuditAction, AuditEntry, AuditLog, VaultId};
use serde_json::{Value, json};

const DICOM: &str = "http://dicom.nema.org/resources/ontology/DCM";
const ACT_REASON: &str = "http://terminology.hl7.org/CodeSystem/v3-ActReason";
const ENTITY_TYPE: &str = "http://terminology.hl7.org/CodeSystem/audit-entity-type";
const OBJECT_ROLE: &str = "http://terminology.hl7.org/CodeSystem/object-role";
const SOURCE_TYPE: &str = "http://terminology.hl7.org/CodeSystem/security-source-type";

/// Identifier systems for confide's own ids: random 128-bit values, unique within (and, being
/// random, across) vaults, written as 32 hexadecimal digits.
const VAULT_ID: &str = "urn:confide:vault-id";
const USER_ID: &str = "urn:confide:user-id";
const CLIENT_ID: &str = "urn:confide:client-id";
const OBJECT_ID: &str = "urn:confide:object-id";

/// A DICOM code and its display name.
type Code = (&'static str, &'static str);

const APPLICATION_ACTIVITY: Code = ("110100", "Application Activity");
const AUDIT_LOG_USED: Code = ("110101", "Audit Log Used");
const EXPORT: Code = ("110106", "Export");
const IMPORT: Code = ("110107", "Import");
const PATIENT_RECORD: Code = ("110110", "Patient Record");
const QUERY: Code = ("110112", "Query");
const SECURITY_ALERT: Code = ("110113", "Security Alert");
const USER_AUTHENTICATION: Code = ("110114", "User Authentication");

const APPLICATION_START: Code = ("110120", "Application Start");
const APPLICATION_STOP: Code = ("110121", "Application Stop");
const LOGIN: Code = ("110122", "Login");
const LOGOUT: Code = ("110123", "Logout");
const EMERGENCY_OVERRIDE_STARTED: Code = ("110127", "Emergency Override Started");
const SECURITY_CONFIGURATION: Code = ("110129", "Security Configuration");
const OBJECT_SECURITY_ATTRIBUTES_CHANGED: Code = ("110135", "Object Security Attributes Changed");
const SECURITY_ROLES_CHANGED: Code = ("110136", "Security Roles Changed");
const USER_SECURITY_ATTRIBUTES_CHANGED: Code = ("110137", "User Security Attributes Changed");
const EMERGENCY_OVERRIDE_STOPPED: Code = ("110138", "Emergency Override Stopped");

/// How one action is classified: event type, optional subtype, and the C/R/U/D/E action code.
struct Class {
    kind: Code,
    subtype: Option<Code>,
    action: &'static str,
}

const fn class(kind: Code, subtype: Option<Code>, action: &'static str) -> Class {
    Class {
        kind,
        subtype,
        action,
    }
}

fn classify(action: &str) -> Class {
    use AuditAction as A;
    let Ok(a) = action.parse::<AuditAction>() else {
        // An action code this build does not know (a newer writer, or a tampered row shown
        // with --force): still an event, of the most general type.
        return class(APPLICATION_ACTIVITY, None, "E");
    };
    match a {
        A::VaultCreate => class(APPLICATION_ACTIVITY, None, "C"),
        A::VaultOpen => class(APPLICATION_ACTIVITY, Some(APPLICATION_START), "E"),
        A::VaultClose => class(APPLICATION_ACTIVITY, Some(APPLICATION_STOP), "E"),
        A::AuditKeyCreate => class(SECURITY_ALERT, Some(SECURITY_CONFIGURATION), "C"),
        // A backup is a copy of everything leaving the running vault; a restore brings one in.
        A::VaultBackup => class(EXPORT, None, "R"),
        A::VaultRestore => class(IMPORT, None, "C"),
        A::Login => class(USER_AUTHENTICATION, Some(LOGIN), "E"),
        A::UserAdd => class(SECURITY_ALERT, Some(USER_SECURITY_ATTRIBUTES_CHANGED), "C"),
        A::UserPassphraseChange
        | A::UserPassphraseReset
        | A::UserKdfUpgrade
        | A::UserDisable
        | A::UserEnable => class(SECURITY_ALERT, Some(USER_SECURITY_ATTRIBUTES_CHANGED), "U"),
        A::UserRemove => class(SECURITY_ALERT, Some(USER_SECURITY_ATTRIBUTES_CHANGED), "D"),
        A::SessionLock | A::SessionTimeout => class(USER_AUTHENTICATION, Some(LOGOUT), "E"),
        A::ClientCreate => class(PATIENT_RECORD, None, "C"),
        A::ClientFind => class(QUERY, None, "E"),
        A::RecordList => class(PATIENT_RECORD, None, "R"),
        A::RecordCreate | A::NoteCreate | A::JointCreate | A::JointShare => {
            class(PATIENT_RECORD, None, "C")
        }
        A::RecordUpdate | A::MinorStatusSet | A::CaseLeave => class(PATIENT_RECORD, None, "U"),
        A::RecordRead | A::NoteRead | A::JointRead | A::AccountingRead => {
            class(PATIENT_RECORD, None, "R")
        }
        A::CaseCreate | A::ConsentRecord | A::RestrictionRecord | A::GuardianRecord => {
            class(PATIENT_RECORD, None, "C")
        }
        A::ConsentRevoke
        | A::ConsentExpiryEvent
        | A::ConsentScopesMigrate
        | A::RestrictionLift
        | A::GuardianEnd => class(PATIENT_RECORD, None, "U"),
        A::AuditRead => class(AUDIT_LOG_USED, None, "R"),
        A::CareTeamAdd => class(
            SECURITY_ALERT,
            Some(OBJECT_SECURITY_ATTRIBUTES_CHANGED),
            "C",
        ),
        A::CareTeamRemove => class(
            SECURITY_ALERT,
            Some(OBJECT_SECURITY_ATTRIBUTES_CHANGED),
            "D",
        ),
        A::SupervisionSet => class(SECURITY_ALERT, Some(SECURITY_ROLES_CHANGED), "C"),
        A::SupervisionEnd => class(SECURITY_ALERT, Some(SECURITY_ROLES_CHANGED), "D"),
        A::BreakGlassStart => class(SECURITY_ALERT, Some(EMERGENCY_OVERRIDE_STARTED), "E"),
        A::BreakGlassEnd => class(SECURITY_ALERT, Some(EMERGENCY_OVERRIDE_STOPPED), "E"),
        // DICOM's Export event is a read of what leaves the system.
        A::ExportRelease | A::DisclosureRelease | A::ExtractDeidentified => {
            class(EXPORT, None, "R")
        }
        A::KeysRotate | A::KeysRotated | A::KeysMasterRotate => {
            class(SECURITY_ALERT, Some(SECURITY_CONFIGURATION), "E")
        }
        A::RecordRekey | A::NoteRekey | A::ConsentRekey | A::BreakGlassRekey => {
            class(SECURITY_ALERT, Some(SECURITY_CONFIGURATION), "U")
        }
        A::ErasureRequest => class(PATIENT_RECORD, None, "E"),
        A::ErasureShred => class(PATIENT_RECORD, None, "D"),
        _ => class(APPLICATION_ACTIVITY, None, "E"),
    }
}

fn coding((code, display): Code) -> Value {
    json!({ "system": DICOM, "code": code, "display": display })
}

/// FHIR's outcome: 0 success, 4 minor failure (a refusal by policy), 8 serious failure.
fn outcome(stored: &str) -> &'static str {
    if stored == "granted" || stored.starts_with("granted:") {
        "0"
    } else if stored.starts_with("denied:") {
        "4"
    } else {
        "8"
    }
}

fn identifier(system: &str, value: impl ToString) -> Value {
    json!({ "identifier": { "system": system, "value": value.to_string() } })
}

fn agent(e: &AuditEntry) -> Value {
    let who = match &e.actor {
        Some(actor) => identifier(USER_ID, actor),
        // A login attempt under a name the vault does not know: the name is not stored.
        None => json!({ "display": "unknown user" }),
    };
    json!({ "who": who, "requestor": true })
}

fn entities(e: &AuditEntry) -> Vec<Value> {
    let mut out = Vec::new();
    if let Some(client) = &e.client {
        out.push(json!({
            "what": identifier(CLIENT_ID, client),
            "type": { "system": ENTITY_TYPE, "code": "1", "display": "Person" },
            "role": { "system": OBJECT_ROLE, "code": "1", "display": "Patient" },
        }));
    }
    if let Some(target) = &e.target {
        out.push(json!({
            "what": identifier(OBJECT_ID, target),
            "type": { "system": ENTITY_TYPE, "code": "2", "display": "System Object" },
        }));
    }
    if !e.fields.is_empty() {
        // Field names only: the log never holds a value. They describe the most specific
        // entity, the target if there is one.
        let detail: Vec<Value> = e
            .fields
            .iter()
            .map(|f| json!({ "type": "field", "valueString": f }))
            .collect();
        match out.last_mut().and_then(Value::as_object_mut) {
            Some(entity) => {
                entity.insert("detail".into(), Value::Array(detail));
            }
            None => out.push(json!({ "detail": detail })),
        }
    }
    out
}

/// One entry as an AuditEvent resource.
pub(crate) fn audit_event(vault: &VaultId, e: &AuditEntry) -> Value {
    let c = classify(&e.action);
    let mut event = json!({
        "resourceType": "AuditEvent",
        "id": format!("{vault}-{}", e.seq),
        "type": coding(c.kind),
        "action": c.action,
        "recorded": e.time_utc(),
        "outcome": outcome(&e.outcome),
        "outcomeDesc": e.outcome,
        "agent": [agent(e)],
        "source": {
            "observer": identifier(VAULT_ID, vault),
            "type": [{ "system": SOURCE_TYPE, "code": "4", "display": "Application Server" }],
        },
    });
    if let Some(obj) = event.as_object_mut() {
        if let Some(sub) = c.subtype {
            obj.insert("subtype".into(), json!([coding(sub)]));
        }
        if !e.purpose.is_empty() {
            obj.insert(
                "purposeOfEvent".into(),
                json!([{ "coding": [{ "system": ACT_REASON, "code": e.purpose }] }]),
            );
        }
        let entity = entities(e);
        if !entity.is_empty() {
            obj.insert("entity".into(), Value::Array(entity));
        }
    }
    event
}

/// Every entry of `log` as one Bundle of type `collection`.
pub(crate) fn bundle(log: &AuditLog) -> Value {
    json!({
        "resourceType": "Bundle",
        "type": "collection",
        "identifier": { "system": VAULT_ID, "value": log.vault.to_string() },
        "entry": log.entries.iter().map(|e| json!({
            "resource": audit_event(&log.vault, e),
        })).collect::<Vec<_>>(),
    })
}
