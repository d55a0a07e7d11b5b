//! The cleartext facts a decision is made on, gathered from the file.

use crate::db::Conn;

use crate::audit::AuditAction;
use crate::db::{policy_rows, rows};
use crate::error::Result;
use crate::ids::{CaseId, ClientId};
use crate::policy::{CaseFacts, Facts};

use super::{Admitted, AuditAs, Session};

impl Admitted<'_> {
    /// Facts for a request about `client`, with how to audit it; or, for a client that does not
    /// exist, the same audited refusal an unrelated client gets.
    pub(in crate::vault) fn client_request<'a>(
        &self,
        client: &'a ClientId,
        action: AuditAction,
    ) -> Result<(Facts, AuditAs<'a>)> {
        let audit_as = AuditAs::new(action).client(client);
        let session = self.session();
        let (exists, facts) = {
            let conn = session.shared.conn();
            (
                rows::client_exists(&conn, client)?,
                session.client_facts(&conn, client)?,
            )
        };
        if !exists {
            return self.refuse_unknown(audit_as);
        }
        Ok((facts, audit_as))
    }
}

impl Session {
    /// Cleartext facts about this user and `client`, at the current time: one query, and a
    /// second only when the client has consents.
    pub(in crate::vault) fn client_facts(&self, conn: &Conn, client: &ClientId) -> Result<Facts> {
        let now = self.shared.now_ms();
        let rel = crate::vault::facts::relationship(conn, client, &self.user, now)?;
        let consents = if rel.has_consents {
            crate::vault::facts::consents_of(conn, client)?
                .into_iter()
                .map(|c| c.fact)
                .collect()
        } else {
            Vec::new()
        };
        Ok(Facts {
            now_ms: now,
            on_care_team: rel.on_care_team,
            supervises_care_team: rel.supervises_care_team,
            break_glass_active: rel.break_glass_active,
            consents,
            minor: rel.minor,
            ..Facts::default()
        })
    }

    /// Facts about `case`: its kind and policy, and whether this user is one of its clinicians.
    /// `as_client` is the client an export is made for, with the creation time of the entry
    /// asked for: a member who left keeps what the joint record held when they left, and gets
    /// nothing written after. `subject` is the member an individual note is about.
    pub(in crate::vault) fn case_facts(
        &self,
        conn: &Conn,
        case: &CaseId,
        subject: Option<&ClientId>,
        as_client: Option<(&ClientId, i64)>,
    ) -> Result<Option<CaseFacts>> {
        let Some((kind, secrets)) = policy_rows::case(conn, case)? else {
            return Ok(None);
        };
        let requester_is_member = match as_client {
            Some((c, entry_at)) => match policy_rows::membership(conn, case, c)? {
                Some(left_at) => left_at.is_none_or(|left| entry_at <= left),
                None => false,
            },
            None => false,
        };
        Ok(Some(CaseFacts {
            kind,
            secrets,
            requester_is_case_clinician: policy_rows::is_case_clinician(conn, case, &self.user)?,
            requester_is_member,
            requester_is_subject: as_client.is_some_and(|(c, _)| Some(c) == subject),
        }))
    }
}
