//! Stored facts on their way to the policy: storage reads plain rows, this turns them into the
//! policy's types (and back, for writes), and checks field sets against the digests the audit
//! module computes. Only the vault, which composes the peers, knows both sides.

use crate::db::Conn;

use crate::audit::fields_digest_of;
use crate::db::policy_rows::{self, MinorRow, RecipientRow};
use crate::db::rows::{self, FieldRow, FieldTable};
use crate::error::{Error, Place, Result};
use crate::ids::{ClientId, ConsentId, UserId};
use crate::policy::{ConsentFact, MinorFacts, Recipient};

/// A consent's cleartext columns, its policy facts typed.
pub(crate) struct ConsentRow {
    pub id: ConsentId,
    pub client: ClientId,
    pub fact: ConsentFact,
    pub signed_on: i64,
    /// Blind index of an outside recipient's name and organisation.
    pub recipient_index: Option<Vec<u8>>,
}

impl From<policy_rows::ConsentRow> for ConsentRow {
    fn from(r: policy_rows::ConsentRow) -> Self {
        ConsentRow {
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
                expires_ms: r.expires_ms,
                revoked_ms: r.revoked_ms,
            },
            signed_on: r.signed_on,
            recipient_index: r.recipient_index,
        }
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
            expires_ms: c.fact.expires_ms,
            revoked_ms: c.fact.revoked_ms,
            signed_on: c.signed_on,
            recipient_index: c.recipient_index.clone(),
        }
    }
}

fn minor_facts(m: MinorRow) -> MinorFacts {
    MinorFacts {
        consented_to_own_treatment: m.consented_to_own_treatment,
        court_directed: m.court_directed,
        guardian_agreed_confidential: m.guardian_agreed_confidential,
    }
}

/// Every consent of `client`, in force or not (the policy judges them against the time).
pub(crate) fn consents_of(conn: &Conn, client: &ClientId) -> Result<Vec<ConsentRow>> {
    Ok(policy_rows::consents_of(conn, client)?
        .into_iter()
        .map(ConsentRow::from)
        .collect())
}

pub(crate) fn insert_consent(conn: &Conn, c: &ConsentRow, at: i64, by: &UserId) -> Result<()> {
    policy_rows::insert_consent(conn, &c.into(), at, by)
}

/// [`policy_rows::Relationship`], the minor status typed for the policy.
pub(crate) struct Relationship {
    pub on_care_team: bool,
    pub supervises_care_team: bool,
    pub break_glass_active: bool,
    pub has_consents: bool,
    pub minor: Option<MinorFacts>,
}

pub(crate) fn relationship(
    conn: &Conn,
    client: &ClientId,
    user: &UserId,
    now: i64,
) -> Result<Relationship> {
    let r = policy_rows::relationship(conn, client, user, now)?;
    Ok(Relationship {
        on_care_team: r.on_care_team,
        supervises_care_team: r.supervises_care_team,
        break_glass_active: r.break_glass_active,
        has_consents: r.has_consents,
        minor: r.minor.map(minor_facts),
    })
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

/// Check `stored`, every field row of `parent`, against the digest the parent recorded: a field
/// row deleted, added or rolled back on its own is `Error::Integrity`. Parents written before
/// format 5 have no digest until their next write.
pub(crate) fn check_fields_whole(
    conn: &Conn,
    table: FieldTable,
    parent: &[u8; 16],
    stored: &[FieldRow],
) -> Result<()> {
    let recorded = rows::recorded_fields_digest(conn, table, parent)?;
    check_fields_against(table, parent, stored, recorded.as_deref())
}

/// [`check_fields_whole`] against a digest the caller already read with the parent row.
pub(crate) fn check_fields_against(
    table: FieldTable,
    parent: &[u8; 16],
    stored: &[FieldRow],
    recorded: Option<&[u8]>,
) -> Result<()> {
    let Some(recorded) = recorded else {
        return Ok(());
    };
    let parts = stored
        .iter()
        .map(|f| (f.field.as_str(), f.key_version, f.envelope.as_slice()));
    if fields_digest_of(table.name(), parent, parts)[..] == recorded[..] {
        return Ok(());
    }
    Err(Error::Integrity {
        place: Place {
            table: table.name(),
            owner: "-".into(),
            record: hex::encode(parent),
            field: "(the set of fields)".into(),
        },
    })
}
