//! The cleartext facts a decision is made on, gathered from the file.

use crate::db::Conn;

use crate::audit::AuditAction;
use crate::db::fact_rows::{self, ScopeKind, ScopeRead};
use crate::db::policy_rows::{self, ClientRows};
use crate::db::rows::{self, AddendumLink, History, Status};
use crate::error::{Error, Place, Result};
use crate::ids::{CaseId, ClientId};
use crate::model::Role;
use crate::policy::{CaseFacts, Facts};

use super::{Admitted, AuditAs, Session};

/// What a client's facts say of its record history: which entries are addenda of which, each
/// entry's in order, and which clinical entries and notes are drafts.
pub(in crate::vault) struct ClientHistory {
    pub addenda: Vec<AddendumLink>,
    pub drafts: Vec<[u8; 16]>,
}

impl Admitted<'_> {
    /// Facts for a request about `client`, with how to audit it; or, for a client that does not
    /// exist, the same audited refusal an unrelated client gets.
    pub(in crate::vault) fn client_request<'a>(
        &self,
        client: &'a ClientId,
        action: AuditAction,
    ) -> Result<(Facts, AuditAs<'a>)> {
        self.client_request_as(client, AuditAs::new(action).client(client))
    }

    /// [`Admitted::client_request`] audited as `audit_as` (which names `client`), for a request
    /// that also has a target: the refusal for a client that does not exist then has the same
    /// shape (action, client, target) as the one for a real client.
    pub(in crate::vault) fn client_request_as<'a>(
        &self,
        client: &ClientId,
        audit_as: AuditAs<'a>,
    ) -> Result<(Facts, AuditAs<'a>)> {
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

    /// Refuse a request about a client that does not exist, audited as `audit_as`, with the
    /// answer someone with no relationship to a real client gets. For the calls whose decision
    /// a practice-wide duty can allow without any fact about the client (a scheduler's new
    /// appointment, an admin's new case), which would otherwise go on to write for nobody.
    pub(in crate::vault) fn known_client(
        &self,
        client: &ClientId,
        audit_as: AuditAs<'_>,
    ) -> Result<()> {
        let exists = rows::client_exists(&self.session().shared.conn(), client)?;
        if !exists {
            return self.refuse_unknown(audit_as);
        }
        Ok(())
    }
}

impl Session {
    /// [`Session::check_scope`] of facts gathered for a decision: a failure is noted, and
    /// audited when the call ends.
    fn check_decision_scope(&self, kind: ScopeKind, id: &[u8], read: &ScopeRead) -> Result<()> {
        let checked = self.check_scope(kind, id, read);
        if checked.is_err() {
            self.note_failed_scope(kind, id);
        }
        checked
    }

    /// Every row of `client`'s scope of facts, checked against its MAC: one statement.
    pub(in crate::vault) fn client_rows(
        &self,
        conn: &Conn,
        client: &ClientId,
    ) -> Result<ClientRows> {
        let (read, rows) = match policy_rows::client_rows(conn, client, self.shared.now_ms()) {
            Ok(read) => read,
            // A row that does not parse (a request's entries, an addendum's author) is judged
            // as stored first: one edited outside the vault is the tampering it is, audited,
            // not corruption.
            Err(e @ Error::Corrupt { .. }) => {
                let read = fact_rows::scope_digest(conn, ScopeKind::Client, client.as_bytes())?;
                self.check_decision_scope(ScopeKind::Client, client.as_bytes(), &read)?;
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        self.check_decision_scope(ScopeKind::Client, client.as_bytes(), &read)?;
        Ok(rows)
    }

    /// `client`'s consents, as the vault recorded them (checked against the scope's MAC).
    pub(in crate::vault) fn consents_of(
        &self,
        conn: &Conn,
        client: &ClientId,
    ) -> Result<Vec<crate::vault::facts::ConsentRow>> {
        let rows = self.client_rows(conn, client)?;
        rows.consents.into_iter().map(TryInto::try_into).collect()
    }

    /// Cleartext facts about this user and `client`, at the current time, from the client's
    /// scope (one statement, its MAC checked). A supervisor's supervision of the care team is
    /// read with the scope of each supervisee it names, checked too.
    pub(in crate::vault) fn client_facts(&self, conn: &Conn, client: &ClientId) -> Result<Facts> {
        self.client_facts_and_history(conn, client)
            .map(|(facts, _)| facts)
    }

    /// [`Session::client_facts`], with the client's record history (facts of the same scope,
    /// checked with them).
    pub(in crate::vault) fn client_facts_and_history(
        &self,
        conn: &Conn,
        client: &ClientId,
    ) -> Result<(Facts, ClientHistory)> {
        let now = self.shared.now_ms();
        let mut rows = self.client_rows(conn, client)?;
        let history = ClientHistory {
            addenda: std::mem::take(&mut rows.addenda),
            drafts: std::mem::take(&mut rows.drafts),
        };
        let supervises_care_team = if self.role == Role::Supervisor {
            let supervised = policy_rows::supervised_among(conn, &self.user, &rows.care_team)?;
            for user in &supervised {
                let read = fact_rows::scope_digest(conn, ScopeKind::User, user.as_bytes())?;
                self.check_decision_scope(ScopeKind::User, user.as_bytes(), &read)?;
            }
            !supervised.is_empty()
        } else {
            false
        };
        let facts = Facts {
            now_ms: now,
            on_care_team: rows.care_team.contains(&self.user),
            supervises_care_team,
            break_glass_active: rows.break_glass.contains(&self.user),
            consents: rows
                .consents
                .into_iter()
                .map(|c| crate::vault::facts::ConsentRow::try_from(c).map(|c| c.fact))
                .collect::<Result<_>>()?,
            minor: rows.minor.map(crate::vault::facts::minor_facts),
            ..Facts::default()
        };
        Ok((facts, history))
    }

    /// An entry whose row says it is a draft must be one of its client's drafts: else it is a
    /// signed entry put back as the draft it was (its own MAC cannot tell), and it is neither
    /// read nor written. The failure is noted as the client's, and audited with the call.
    pub(in crate::vault) fn check_draft(
        &self,
        client: &ClientId,
        entry: &[u8; 16],
        stored: &History,
        history: &ClientHistory,
    ) -> Result<()> {
        if stored.status != Status::Draft || history.drafts.contains(entry) {
            return Ok(());
        }
        self.note_failed_scope(ScopeKind::Client, client.as_bytes());
        Err(crate::error::Error::Integrity {
            place: super::state::scope_place(ScopeKind::Client, client.as_bytes()),
        })
    }

    /// [`Session::check_draft`] of an entry of `client` that a call opens without a read's own
    /// check (a release, an export, an extract, a share into a joint record, a key rotation),
    /// against the client's facts as `conn` holds them: a signed entry put back as its draft
    /// never leaves, nor is it sealed and vouched for again.
    pub(in crate::vault) fn check_draft_now(
        &self,
        conn: &Conn,
        client: &ClientId,
        entry: &[u8; 16],
        stored: &History,
    ) -> Result<()> {
        if stored.status != Status::Draft {
            return Ok(());
        }
        let history = ClientHistory {
            addenda: Vec::new(),
            drafts: self.client_rows(conn, client)?.drafts,
        };
        self.check_draft(client, entry, stored, &history)
    }

    /// Every addendum `client`'s facts link to an entry (a note's if `of_notes`, else a
    /// record's) is one `present` finds among the entries a release or an export reads: an
    /// entry never leaves without its corrections. A link whose addendum is gone fails as it
    /// fails a read.
    pub(in crate::vault) fn check_addenda_present(
        &self,
        conn: &Conn,
        client: &ClientId,
        of_notes: bool,
        present: impl Fn(&[u8; 16]) -> bool,
    ) -> Result<()> {
        let links = self.client_rows(conn, client)?.addenda;
        match links
            .iter()
            .find(|l| l.of_note == of_notes && !present(&l.addendum))
        {
            None => Ok(()),
            Some(lost) => Err(Error::Integrity {
                place: Place {
                    table: "addenda",
                    owner: "-".into(),
                    record: hex::encode(lost.addendum),
                    field: "(the addendum)".into(),
                },
            }),
        }
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
        let (read, rows) = policy_rows::case_rows(conn, case)?;
        self.check_decision_scope(ScopeKind::Case, case.as_bytes(), &read)?;
        let Some(rows) = rows else {
            return Ok(None);
        };
        let requester_is_member = match as_client {
            Some((c, entry_at)) => match rows.members.iter().find(|(m, _)| m == c) {
                Some((_, left_at)) => left_at.is_none_or(|left| entry_at <= left),
                None => false,
            },
            None => false,
        };
        Ok(Some(CaseFacts {
            kind: rows.kind,
            secrets: rows.secrets,
            requester_is_case_clinician: rows.clinicians.contains(&self.user),
            requester_is_member,
            requester_is_subject: as_client.is_some_and(|(c, _)| Some(c) == subject),
        }))
    }
}
