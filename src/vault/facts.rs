//! Stored facts on their way to the policy: storage reads plain rows, this turns them into the
//! policy's types (and back, for writes). Only the vault, which composes the peers, knows both
//! sides.

use crate::db::Conn;

use crate::db::policy_rows::{self, MinorRow, RecipientRow};
use crate::db::release_rows::{self, ConsentScopeRow};
use crate::error::{Error, Result};
use crate::ids::{ClientId, ConsentId, UserId};
use crate::policy::ReleaseScope;
use crate::policy::{ConsentFact, MinorFacts, Recipient};

/// A consent's cleartext columns, its policy facts typed.
pub(crate) struct ConsentRow {
    pub id: ConsentId,
    pub client: ClientId,
    pub fact: ConsentFact,
    pub signed_on: i64,
    /// Blind index of an outside recipient's name and organisation.
    pub recipient_index: Option<Vec<u8>>,
    /// Its scope row as stored (format 9), for writing it and for who signed it.
    pub stored_scope: Option<ConsentScopeRow>,
}

impl TryFrom<policy_rows::ConsentRow> for ConsentRow {
    type Error = Error;

    fn try_from(r: policy_rows::ConsentRow) -> Result<Self> {
        let scope = r
            .scope
            .as_ref()
            .map(|s| ReleaseScope::from_elements(&s.elements, s.condition_index.clone()))
            .transpose()?;
        // A stored scope speaks of exactly the consent's categories; anything else was not
        // written by the vault.
        if scope
            .as_ref()
            .is_some_and(|s| s.category_set() != r.categories)
        {
            return Err(Error::Corrupt {
                what: "consent scope".into(),
            });
        }
        // An expiry event ends the consent as an expiry date would, from when it was recorded.
        let event_at = r.scope.as_ref().and_then(|s| s.expiry_event_at);
        let expires_ms = match (r.expires_ms, event_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        Ok(ConsentRow {
            id: r.id,
            client: r.client,
            fact: ConsentFact {
                recipient: match r.recipient {
                    RecipientRow::User(u) => Recipient::User(u),
                    RecipientRow::JointRecord => Recipient::JointRecord,
                    RecipientRow::Outside => Recipient::Outside,
                },
                categories: r.categories,
                purpose: r.purpose,
                start_ms: r.start_ms,
                expires_ms,
                revoked_ms: r.revoked_ms,
                scope,
                case: r.scope.as_ref().and_then(|s| s.case),
            },
            signed_on: r.signed_on,
            recipient_index: r.recipient_index,
            stored_scope: r.scope,
        })
    }
}

impl From<&ConsentRow> for policy_rows::ConsentRow {
    fn from(c: &ConsentRow) -> Self {
        policy_rows::ConsentRow {
            id: c.id,
            client: c.client,
            recipient: match c.fact.recipient {
                Recipient::User(u) => RecipientRow::User(u),
                Recipient::JointRecord => RecipientRow::JointRecord,
                Recipient::Outside => RecipientRow::Outside,
            },
            categories: c.fact.categories.clone(),
            purpose: c.fact.purpose,
            start_ms: c.fact.start_ms,
            // Written once, when recorded: before any expiry event.
            expires_ms: c.fact.expires_ms,
            revoked_ms: c.fact.revoked_ms,
            signed_on: c.signed_on,
            recipient_index: c.recipient_index.clone(),
            scope: c.stored_scope.clone(),
        }
    }
}

pub(crate) fn minor_facts(m: MinorRow) -> MinorFacts {
    MinorFacts {
        consented_to_own_treatment: m.consented_to_own_treatment,
        court_directed: m.court_directed,
        guardian_agreed_confidential: m.guardian_agreed_confidential,
    }
}

/// Insert a consent and its scope row.
pub(crate) fn insert_consent(conn: &Conn, c: &ConsentRow, at: i64, by: &UserId) -> Result<()> {
    policy_rows::insert_consent(conn, &c.into(), at, by)?;
    if let Some(scope) = &c.stored_scope {
        release_rows::insert_consent_scope(conn, &c.client, scope)?;
    }
    Ok(())
}

pub(crate) fn set_minor_status(
    conn: &Conn,
    client: &ClientId,
    status: Option<MinorFacts>,
    at: i64,
) -> Result<()> {
    let status = status.map(|m| MinorRow {
        consented_to_own_treatment: m.consented_to_own_treatment,
        court_directed: m.court_directed,
        guardian_agreed_confidential: m.guardian_agreed_confidential,
    });
    policy_rows::set_minor_status(conn, client, status, at)
}
