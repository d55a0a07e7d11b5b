//! Consents (release of information, 45 CFR 164.508; 42 CFR Part 2): recorded and revoked by a
//! treating clinician. What the policy needs is cleartext; who the recipient is and what the
//! release describes are sealed under the client's key.

use std::collections::BTreeSet;
use std::fmt;

use crate::audit::{AuditAction, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::policy_rows;
use crate::db::release_rows::{self, ConsentScopeRow};
use crate::db::rows::FieldTable;
use crate::error::{Error, Result};
use crate::ids::{CaseId, ClientId, ConsentId, GuardianId, UserId};
use crate::model::{Category, Compartment, Purpose};
use crate::policy::{Access, Condition, ConsentFact, Recipient, ReleaseScope};
use crate::scope::Fields;
use crate::value::{FieldName, Redacted, Value, redacted_if_some};

use super::Session;
use super::facts::{self, ConsentRow};
use super::gate::{AuditAs, Entry, Target};
use super::guardians::Act;

/// Who a consent releases to. `Debug` redacts an outside recipient's details.
#[derive(Clone, PartialEq, Eq)]
pub enum ConsentRecipient {
    /// A user of this vault (e.g. a consulting clinician outside the care team).
    User(UserId),
    /// The client's case's joint record: consent to bring an individual disclosure into it.
    JointRecord,
    /// A person or organisation outside the practice.
    Outside {
        /// Name of the recipient.
        name: String,
        /// Their organisation.
        organisation: String,
        /// Their address.
        address: String,
    },
}

/// A consent to record. `Debug` redacts the recipient's details and the description.
#[derive(Clone)]
pub struct NewConsent {
    /// Who may receive.
    pub recipient: ConsentRecipient,
    /// What may be released. A psychotherapy-notes authorization names them alone.
    pub categories: Vec<Category>,
    /// For what purpose.
    pub purpose: Purpose,
    /// In force from (unix ms).
    pub start_ms: i64,
    /// Expires at (unix ms, exclusive), or `None` until revoked.
    pub expires_ms: Option<i64>,
    /// When the client signed it (unix ms).
    pub signed_on_ms: i64,
    /// The description of the information, as the signed form words it (sealed).
    pub description: String,
    /// What within its categories it covers (45 CFR 164.508(c)(1)(i)): data elements, one
    /// condition. `None`: its categories whole. Every release under it is bounded by it.
    pub scope: Option<ReleaseScope>,
    /// The case whose joint content it covers: an authorization naming the joint record names
    /// its case, and the client must be one of its members.
    pub case: Option<CaseId>,
    /// The event that ends it, as the form words it (164.508(c)(1)(v)), sealed; it ends when
    /// [`Session::record_expiry_event`] records that the event happened.
    pub expiry_event: Option<String>,
    /// The guardian who signed it for a minor (164.502(g)); `None`: the client. A guardian
    /// signs only while their custody order lets them authorize, and never for a minor whose
    /// care they are shut out of (then the minor signs).
    pub signed_by: Option<GuardianId>,
}

impl fmt::Debug for ConsentRecipient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsentRecipient::User(id) => f.debug_tuple("User").field(id).finish(),
            ConsentRecipient::JointRecord => f.write_str("JointRecord"),
            ConsentRecipient::Outside { .. } => f
                .debug_struct("Outside")
                .field("name", &Redacted)
                .field("organisation", &Redacted)
                .field("address", &Redacted)
                .finish(),
        }
    }
}

impl fmt::Debug for NewConsent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewConsent")
            .field("recipient", &self.recipient)
            .field("categories", &self.categories)
            .field("purpose", &self.purpose)
            .field("start_ms", &self.start_ms)
            .field("expires_ms", &self.expires_ms)
            .field("signed_on_ms", &self.signed_on_ms)
            .field("description", &Redacted)
            .field("scope", &self.scope)
            .field("case", &self.case)
            .field("expiry_event", &redacted_if_some(&self.expiry_event))
            .field("signed_by", &self.signed_by)
            .finish()
    }
}

/// A recorded consent, as listed (cleartext metadata only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsentSummary {
    /// The consent.
    pub id: ConsentId,
    /// Who may receive.
    pub recipient: Recipient,
    /// What.
    pub categories: BTreeSet<Category>,
    /// For what.
    pub purpose: Purpose,
    /// In force from (unix ms).
    pub start_ms: i64,
    /// Expires (unix ms).
    pub expires_ms: Option<i64>,
    /// Revoked at (unix ms).
    pub revoked_ms: Option<i64>,
    /// What within its categories it covers; `None` for its categories whole.
    pub scope: Option<ReleaseScope>,
    /// The case whose joint content it covers.
    pub case: Option<CaseId>,
}

/// The blind-index input naming an outside recipient: name and organisation, trimmed,
/// lower-cased, inner white space collapsed.
pub(super) fn recipient_key(name: &str, organisation: &str) -> Vec<u8> {
    let norm = |s: &str| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_lowercase()
    };
    format!("{}\n{}", norm(name), norm(organisation)).into_bytes()
}

/// The blind index of outside recipients named in consents.
pub(super) const RECIPIENT_INDEX: &str = "consents.recipient";

/// The blind index of the one condition a consent's scope is limited to (a diagnosis code,
/// trimmed and upper-cased): what is stored instead of the code.
pub(super) const CONDITION_INDEX: &str = "consents.condition";

/// The blind-index input of a condition code.
pub(super) fn condition_key(code: &str) -> Vec<u8> {
    code.trim().to_uppercase().into_bytes()
}

fn validate(c: &NewConsent) -> Result<BTreeSet<Category>> {
    let bad = |reason: &str| Error::InvalidInput {
        what: "consent",
        reason: reason.into(),
    };
    let categories: BTreeSet<Category> = c.categories.iter().copied().collect();
    if categories.is_empty() {
        return Err(bad("name at least one category of information"));
    }
    if categories.contains(&Category::PsychotherapyNotes) && categories.len() > 1 {
        // 45 CFR 164.508(b)(3)(ii): a separate authorization for psychotherapy notes.
        return Err(bad(
            "a psychotherapy-notes authorization names them and nothing else",
        ));
    }
    if categories.contains(&Category::PsychotherapyNotes) && c.purpose == Purpose::Payment {
        // 164.508(a)(2): psychotherapy notes are never released for payment.
        return Err(bad("psychotherapy notes are never released for payment"));
    }
    if c.recipient == ConsentRecipient::JointRecord
        && categories != BTreeSet::from([Category::IndividualCaseNotes])
    {
        return Err(bad(
            "a consent to the joint record names individual case notes only",
        ));
    }
    if categories.contains(&Category::JointRecord)
        && matches!(c.recipient, ConsentRecipient::User(_))
    {
        // Joint content belongs to every member: it reaches a user of the vault as a clinician
        // of the case, never through one member's consent.
        return Err(bad("joint content is not released to a user by consent"));
    }
    if c.expires_ms.is_some_and(|e| e <= c.start_ms) {
        return Err(bad("expires before it starts"));
    }
    if let Some(scope) = &c.scope {
        // Field names as the vault names fields: nothing that could read as the stored
        // form's separators.
        let bad_field = scope.parts().any(|(_, part)| match &part.fields {
            Fields::All => false,
            Fields::Only(names) => {
                names.is_empty() || names.iter().any(|n| FieldName::new(n).is_err())
            }
        });
        if bad_field {
            return Err(bad("a scope names fields by their names"));
        }
        if scope.category_set() != categories {
            return Err(bad("its scope names each of its categories, and no other"));
        }
        if scope
            .condition_of()
            .is_some_and(|k| matches!(k, Condition::Code(code) if code.trim().is_empty()))
        {
            return Err(bad("a condition names its code"));
        }
    }
    if categories.contains(&Category::JointRecord) != c.case.is_some()
        && c.recipient != ConsentRecipient::JointRecord
    {
        return Err(bad(
            "an authorization of joint content names its case, and only then",
        ));
    }
    if c.expiry_event
        .as_deref()
        .is_some_and(|e| e.trim().is_empty())
    {
        return Err(bad("an expiry event is described"));
    }
    Ok(categories)
}

impl Session {
    /// Record a client's consent (a treating clinician, for treatment).
    pub fn record_consent(
        &self,
        client: &ClientId,
        consent: &NewConsent,
        purpose: Purpose,
    ) -> Result<ConsentId> {
        let gate = self.admit(AuditAction::ConsentRecord, purpose)?;
        let categories = validate(consent)?;
        let id = ConsentId::random(&self.shared.rng)?;
        let audit_as = AuditAs::new(AuditAction::ConsentRecord)
            .client(client)
            .target(id.as_bytes());
        let facts = self.client_facts(&self.shared.conn(), client)?;
        let (recipient, mut details) = match &consent.recipient {
            ConsentRecipient::User(u) => (Recipient::User(*u), Vec::new()),
            ConsentRecipient::JointRecord => (Recipient::JointRecord, Vec::new()),
            ConsentRecipient::Outside {
                name,
                organisation,
                address,
            } => (
                Recipient::Outside,
                vec![
                    ("recipient_name", Value::text(name.clone())),
                    ("recipient_organisation", Value::text(organisation.clone())),
                    ("recipient_address", Value::text(address.clone())),
                ],
            ),
        };
        details.push(("description", Value::text(consent.description.clone())));
        if let Some(event) = &consent.expiry_event {
            details.push(("expiry_event", Value::text(event.clone())));
        }
        let named: Vec<(FieldName, &Value)> = details
            .iter()
            .map(|(n, v)| Ok((FieldName::new(n)?, v)))
            .collect::<Result<_>>()?;
        let entry = Entry {
            table: FieldTable::Consents,
            owner: client.into(),
            parent: *id.as_bytes(),
            compartment: Compartment::General,
            category: None,
        };
        let grant = gate.check(
            self.role,
            Access::ManageConsent,
            named.iter().map(|(n, _)| n.clone()).collect(),
            &facts,
            audit_as,
            Target::Entry(entry),
        )?;
        // 45 CFR 164.502(g): a guardian signs for a minor only as their personal representative
        // with the custody order's authority to authorize; a refusal is logged as one.
        if let Some(guardian) = &consent.signed_by {
            let signed_on_ms = consent.signed_on_ms;
            let act = Act::Authorize { signed_on_ms };
            if let Err(reason) = self.guardian_standing(client, guardian, act)? {
                return gate.refuse(audit_as, reason);
            }
        }
        let recipient_index = match &consent.recipient {
            ConsentRecipient::Outside {
                name, organisation, ..
            } => Some(self.blind_index(
                &gate,
                RECIPIENT_INDEX,
                &recipient_key(name, organisation),
            )?),
            _ => None,
        };
        if let Some(case) = &consent.case {
            if !policy_rows::members_of(&self.shared.conn(), case)?.contains(client) {
                return Err(Error::InvalidInput {
                    what: "consent",
                    reason: "the client is not a member of the case it names".into(),
                });
            }
        }
        // The scope as stored: its elements, and the condition by its keyed index only.
        let whole = categories.iter().copied().collect::<Vec<_>>();
        let scope = consent
            .scope
            .clone()
            .unwrap_or_else(|| ReleaseScope::categories(&whole))
            .indexed(|code| self.blind_index(&gate, CONDITION_INDEX, &condition_key(code)))?;
        let condition_index = match scope.condition_of() {
            Some(Condition::Index(i)) => Some(i.clone()),
            _ => None,
        };
        let row = ConsentRow {
            id,
            client: *client,
            recipient_index,
            stored_scope: Some(ConsentScopeRow {
                consent: id,
                elements: scope.elements(),
                condition_index,
                case: consent.case,
                signed_by: consent.signed_by,
                expiry_event: consent.expiry_event.is_some(),
                expiry_event_at: None,
            }),
            fact: ConsentFact {
                recipient,
                categories,
                purpose: consent.purpose,
                start_ms: consent.start_ms,
                expires_ms: consent.expires_ms,
                revoked_ms: None,
                scope: Some(scope),
                case: consent.case,
            },
            signed_on: consent.signed_on_ms,
        };
        let names: Vec<&str> = details.iter().map(|(n, _)| *n).collect();
        gate.write_audited(audit_as, |tx| {
            facts::insert_consent(tx, &row, self.shared.now_ms(), &self.user)?;
            let table = FieldTable::Consents;
            self.seal(tx, &grant, &entry, &named)?;
            let e = self.entry(
                AuditAction::ConsentRecord,
                Some(client),
                Some(id.as_bytes()),
                &names,
                purpose,
                Outcome::Allowed(grant.basis()),
            );
            let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
            self.audit_fields(tx, &e, table, id.as_bytes(), scope)
        })?;
        Ok(id)
    }

    /// Revoke a consent. It stops every request made from now on.
    pub fn revoke_consent(&self, consent: &ConsentId, purpose: Purpose) -> Result<()> {
        let gate = self.admit(AuditAction::ConsentRevoke, purpose)?;
        let audit_as = AuditAs::new(AuditAction::ConsentRevoke).target(consent.as_bytes());
        let client = policy_rows::consent_client(&self.shared.conn(), consent)?;
        let Some(client) = client else {
            return gate.refuse_unknown(audit_as);
        };
        let audit_as = audit_as.client(&client);
        let facts = self.client_facts(&self.shared.conn(), &client)?;
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        gate.change(Access::ManageConsent, &facts, audit_as, scope, |tx| {
            policy_rows::revoke_consent(tx, consent, self.shared.now_ms())?;
            Ok(())
        })?;
        Ok(())
    }

    /// Record that the event a consent names as its end happened (the claim was closed, the
    /// treatment ended): it stops every request made from now on, as an expiry date would.
    /// Releases made before stay valid.
    pub fn record_expiry_event(&self, consent: &ConsentId, purpose: Purpose) -> Result<()> {
        let action = AuditAction::ConsentExpiryEvent;
        let gate = self.admit(action, purpose)?;
        let audit_as = AuditAs::new(action).target(consent.as_bytes());
        let client = policy_rows::consent_client(&self.shared.conn(), consent)?;
        let Some(client) = client else {
            return gate.refuse_unknown(audit_as);
        };
        let audit_as = audit_as.client(&client);
        let facts = self.client_facts(&self.shared.conn(), &client)?;
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        gate.change(Access::ManageConsent, &facts, audit_as, scope, |tx| {
            if release_rows::set_expiry_event(tx, consent, self.shared.now_ms())? {
                Ok(())
            } else {
                Err(Error::InvalidInput {
                    what: "consent",
                    reason: "it names no expiry event, or its event was recorded already".into(),
                })
            }
        })?;
        Ok(())
    }

    /// The client's consents (metadata only; a treating clinician).
    pub fn list_consents(
        &self,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<ConsentSummary>> {
        let gate = self.admit(AuditAction::RecordList, purpose)?;
        let audit_as = AuditAs::new(AuditAction::RecordList).client(client);
        let (facts, rows) = {
            let conn = self.shared.conn();
            (
                self.client_facts(&conn, client)?,
                self.consents_of(&conn, client)?,
            )
        };
        let grant = gate.check(
            self.role,
            Access::ManageConsent,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let outcome = Outcome::Allowed(grant.basis());
        let e = self.entry(
            AuditAction::RecordList,
            Some(client),
            None,
            &["consents"],
            purpose,
            outcome,
        );
        self.shared.audit(&e)?;
        Ok(rows
            .into_iter()
            .map(|r| ConsentSummary {
                id: r.id,
                recipient: r.fact.recipient,
                categories: r.fact.categories,
                purpose: r.fact.purpose,
                start_ms: r.fact.start_ms,
                expires_ms: r.fact.expires_ms,
                revoked_ms: r.fact.revoked_ms,
                scope: r.fact.scope,
                case: r.fact.case,
            })
            .collect())
    }
}
