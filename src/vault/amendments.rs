//! A client's right to amend their record (45 CFR 164.526): requests recorded with their
//! deadlines, accepted (the amendment is an addendum of every affected entry) or denied in
//! writing, and the client's statement of disagreement with the practice's rebuttal, which travel
//! with every later release of a disputed entry (`docs/access.md`, "Amendments").
//!
//! A request's state (its entries, its deadlines, its outcome) is cleartext, a fact of the
//! client's scope, because the deadlines are searched and a release decides what travels with it
//! before any key is unwrapped; its texts (what was asked, why, the answers) are sealed under the
//! client's general key. Every change is decided before any key is touched and commits in one
//! transaction with its audit entry, which vouches for the request's sealed fields and for the
//! client's scope.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use crate::audit::{AuditAction, Outcome};
use crate::db::Conn;
use crate::db::amendment_rows::{self, AmendmentRow};
use crate::db::fact_rows::ScopeKind;
use crate::db::rows::{self, FieldTable};
use crate::error::{Error, Result};
use crate::ids::{AmendmentId, ClientId, RecordId};
use crate::model::{Compartment, Purpose};
use crate::policy::{Access, Facts};
use crate::value::{FieldName, Redacted, Value, redacted_if_some};

use super::Session;
use super::gate::{Admitted, AuditAs, Entry, Granted, Stored, Target, failure_of};
use super::records::named_fields;

/// 164.526(b)(2): act on a request no later than 60 days after its receipt.
pub const AMENDMENT_DUE_MS: i64 = 60 * DAY_MS;
/// 164.526(b)(2)(ii): the one extension, by no more than 30 days.
pub const AMENDMENT_EXTENSION_MS: i64 = 30 * DAY_MS;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// A client's request to amend entries of their general record. `Debug` redacts the texts.
#[derive(Clone)]
pub struct NewAmendment {
    /// The entries the client says are inaccurate or incomplete: at least one, each an entry
    /// of this client's general record (not an addendum), all of one compartment (a
    /// substance-use record is disputed in a request of its own).
    pub records: Vec<RecordId>,
    /// What the client asks to change, in their words (sealed).
    pub what: String,
    /// Why (sealed).
    pub why: String,
}

impl fmt::Debug for NewAmendment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewAmendment")
            .field("records", &self.records)
            .field("what", &Redacted)
            .field("why", &Redacted)
            .finish()
    }
}

/// Why a request was denied: the grounds 164.526(a)(2) allows, by a stable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DenialBasis {
    /// The practice did not create the information (and its originator can still act on a
    /// request), 164.526(a)(2)(i).
    NotCreatedByPractice,
    /// It is not part of the designated record set, 164.526(a)(2)(ii).
    NotInDesignatedRecordSet,
    /// It would not be available for inspection under 164.524, 164.526(a)(2)(iii).
    NotAvailableForInspection,
    /// It is accurate and complete, 164.526(a)(2)(iv).
    AccurateAndComplete,
}

impl DenialBasis {
    /// Every basis.
    pub const ALL: [DenialBasis; 4] = [
        DenialBasis::NotCreatedByPractice,
        DenialBasis::NotInDesignatedRecordSet,
        DenialBasis::NotAvailableForInspection,
        DenialBasis::AccurateAndComplete,
    ];

    /// The stable code, as stored and released.
    pub fn code(self) -> &'static str {
        match self {
            DenialBasis::NotCreatedByPractice => "not-created-by-practice",
            DenialBasis::NotInDesignatedRecordSet => "not-in-designated-record-set",
            DenialBasis::NotAvailableForInspection => "not-available-for-inspection",
            DenialBasis::AccurateAndComplete => "accurate-and-complete",
        }
    }
}

impl fmt::Display for DenialBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for DenialBasis {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        DenialBasis::ALL
            .into_iter()
            .find(|b| b.code() == s)
            .ok_or_else(|| Error::Corrupt {
                what: "amendment denial basis".into(),
            })
    }
}

/// How a request was decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AmendmentDecision {
    /// Accepted: the amendment is an addendum of every affected entry.
    Accepted,
    /// Denied in writing, with its basis.
    Denied,
}

/// A request as listed: its cleartext state only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmendmentSummary {
    /// The request.
    pub id: AmendmentId,
    /// Whose.
    pub client: ClientId,
    /// The entries it disputes.
    pub records: Vec<RecordId>,
    /// When the practice received it (unix ms).
    pub received_at_ms: i64,
    /// When it must be acted on (unix ms): 60 days after receipt, 90 once extended.
    pub due_at_ms: i64,
    /// The one 30-day extension was taken.
    pub extended: bool,
    /// How it was decided, once it was.
    pub decision: Option<AmendmentDecision>,
    /// When it was decided (unix ms).
    pub decided_at_ms: Option<i64>,
    /// The client's statement of disagreement was filed (after a denial).
    pub statement_filed: bool,
    /// The practice's rebuttal of the statement was written.
    pub rebutted: bool,
}

/// A denial's basis and written explanation. `Debug` redacts the explanation.
#[derive(Clone, PartialEq, Eq)]
pub struct Denial {
    /// The ground it rests on.
    pub basis: DenialBasis,
    /// The practice's explanation, as sent to the client.
    pub explanation: String,
}

/// A request with its sealed texts, for whoever may read it. `Debug` redacts every text.
#[derive(Clone, PartialEq, Eq)]
pub struct Amendment {
    /// Its state.
    pub summary: AmendmentSummary,
    /// What the client asked to change.
    pub what: String,
    /// Why.
    pub why: String,
    /// Why the decision was delayed, if it was.
    pub extension_reason: Option<String>,
    /// For an accepted request: the persons the client named to be told of the amendment
    /// (164.526(c)(3)).
    pub notify: Vec<String>,
    /// For a denied request: its basis and explanation.
    pub denial: Option<Denial>,
    /// The client's statement of disagreement.
    pub statement: Option<String>,
    /// The practice's rebuttal.
    pub rebuttal: Option<String>,
}

impl fmt::Debug for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Denial")
            .field("basis", &self.basis)
            .field("explanation", &Redacted)
            .finish()
    }
}

impl fmt::Debug for Amendment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Amendment")
            .field("summary", &self.summary)
            .field("what", &Redacted)
            .field("why", &Redacted)
            .field(
                "extension_reason",
                &redacted_if_some(&self.extension_reason),
            )
            .field(
                "notify",
                &self.notify.iter().map(|_| Redacted).collect::<Vec<_>>(),
            )
            .field("denial", &self.denial)
            .field("statement", &redacted_if_some(&self.statement))
            .field("rebuttal", &redacted_if_some(&self.rebuttal))
            .finish()
    }
}

/// The sealed fields of a request.
const WHAT: &str = "what";
const WHY: &str = "why";
const EXTENSION_REASON: &str = "extension_reason";
pub(super) const NOTIFY: &str = "notify";
const DENIAL_BASIS: &str = "denial_basis";
const DENIAL_EXPLANATION: &str = "denial_explanation";
const STATEMENT: &str = "statement";
const REBUTTAL: &str = "rebuttal";

pub(super) fn invalid(reason: &str) -> Error {
    Error::InvalidInput {
        what: "amendment request",
        reason: reason.into(),
    }
}

fn said(text: &str, what: &str) -> Result<Value> {
    if text.trim().is_empty() {
        return Err(invalid(&format!("the {what} is written out")));
    }
    Ok(Value::text(text))
}

/// Where a request's sealed texts are: under its client's general key.
pub(super) fn amendment_entry(client: &ClientId, id: &AmendmentId) -> Entry {
    Entry {
        table: FieldTable::Amendments,
        owner: client.into(),
        parent: *id.as_bytes(),
        compartment: Compartment::General,
        category: None,
    }
}

fn summary_of(client: &ClientId, r: &AmendmentRow) -> AmendmentSummary {
    AmendmentSummary {
        id: r.id,
        client: *client,
        records: r.records.clone(),
        received_at_ms: r.received_at,
        due_at_ms: r.due_at,
        extended: r.extended_at.is_some(),
        decision: r.accepted.map(|a| {
            if a {
                AmendmentDecision::Accepted
            } else {
                AmendmentDecision::Denied
            }
        }),
        decided_at_ms: r.decided_at,
        statement_filed: r.statement_at.is_some(),
        rebutted: r.rebuttal_at.is_some(),
    }
}

/// The request from its state and its opened fields.
pub(super) fn amendment_from(
    client: &ClientId,
    row: &AmendmentRow,
    fields: BTreeMap<FieldName, Value>,
) -> Result<Amendment> {
    let text = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .map(|(_, v)| v.reveal_plain())
    };
    let denial = match (text(DENIAL_BASIS), text(DENIAL_EXPLANATION)) {
        (Some(basis), Some(explanation)) => Some(Denial {
            basis: basis.parse()?,
            explanation,
        }),
        (None, None) => None,
        _ => {
            return Err(Error::Corrupt {
                what: "amendment denial".into(),
            });
        }
    };
    Ok(Amendment {
        summary: summary_of(client, row),
        what: text(WHAT).unwrap_or_default(),
        why: text(WHY).unwrap_or_default(),
        extension_reason: text(EXTENSION_REASON),
        notify: text(NOTIFY)
            .map(|n| n.lines().map(str::to_owned).collect())
            .unwrap_or_default(),
        denial,
        statement: text(STATEMENT),
        rebuttal: text(REBUTTAL),
    })
}

/// Which of a request's steps a change takes, checked against the request as it stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Extend,
    Deny,
    Disagree,
    Rebut,
}

impl Step {
    fn action(self) -> AuditAction {
        match self {
            Step::Extend => AuditAction::AmendmentExtend,
            Step::Deny => AuditAction::AmendmentDeny,
            Step::Disagree => AuditAction::AmendmentDisagree,
            Step::Rebut => AuditAction::AmendmentRebut,
        }
    }

    /// Take the step in `tx`, at `now`, if the request allows it.
    fn take(self, tx: &Conn, s: &Session, client: &ClientId, row: &AmendmentRow) -> Result<()> {
        let (id, now) = (&row.id, s.shared.now_ms());
        let done = match self {
            Step::Extend => {
                if row.accepted.is_some() {
                    return Err(invalid("a decided request is not extended"));
                }
                if row.extended_at.is_some() {
                    return Err(invalid(
                        "the one extension was taken already (164.526(b)(2)(ii))",
                    ));
                }
                if now >= row.due_at {
                    return Err(invalid("it is extended before it is due"));
                }
                let due = row.due_at.saturating_add(AMENDMENT_EXTENSION_MS);
                amendment_rows::extend(tx, client, id, now, due)?
            }
            Step::Deny => amendment_rows::decide(tx, client, id, false, now, &s.user)?,
            Step::Disagree => {
                if row.accepted != Some(false) {
                    return Err(invalid("a statement of disagreement answers a denial"));
                }
                amendment_rows::file_statement(tx, client, id, now)?
            }
            Step::Rebut => {
                if row.statement_at.is_none() {
                    return Err(invalid("a rebuttal answers a statement of disagreement"));
                }
                amendment_rows::rebut(tx, client, id, now)?
            }
        };
        if done {
            Ok(())
        } else {
            Err(invalid(match self {
                Step::Extend => "the one extension was taken already (164.526(b)(2)(ii))",
                Step::Deny => "it is decided already",
                Step::Disagree => "the statement of disagreement was filed already",
                Step::Rebut => "the rebuttal was written already",
            }))
        }
    }
}

/// A request found, its client's facts and how to audit a call about it.
pub(super) struct Found<'a> {
    pub client: ClientId,
    pub facts: Facts,
    pub audit_as: AuditAs<'a>,
}

impl Session {
    /// Record a client's request to amend entries of their general record (a treating
    /// clinician, for treatment or operations). It is due 60 days after today.
    pub fn request_amendment(
        &self,
        client: &ClientId,
        request: &NewAmendment,
        purpose: Purpose,
    ) -> Result<AmendmentId> {
        let action = AuditAction::AmendmentRequest;
        let gate = self.admit(action, purpose)?;
        let mut records: Vec<RecordId> = Vec::with_capacity(request.records.len());
        for r in &request.records {
            if !records.contains(r) {
                records.push(*r);
            }
        }
        if records.is_empty() {
            return Err(invalid("name at least one entry of the record"));
        }
        let texts = [
            (WHAT, said(&request.what, "amendment asked for")?),
            (WHY, said(&request.why, "reason")?),
        ];
        let named = named_fields(&texts)?;
        let id = AmendmentId::random(&self.shared.rng)?;
        let audit_as = AuditAs::new(action).client(client).target(id.as_bytes());
        let (facts, audit_as) = gate.client_request_as(client, audit_as)?;
        let entry = amendment_entry(client, &id);
        let granted = self.decide_amendment(&gate, &named, &facts, audit_as, entry)?;
        // Checked inside the change, so after the decision: whether an entry exists is not
        // told to a requester the policy refuses.
        self.amendment_write(&gate, audit_as, |tx| {
            self.check_scope_now(tx, ScopeKind::Client, client.as_bytes())?;
            // A request travels in full with every release of any entry it names: one naming
            // a substance-use record (42 CFR Part 2) and other entries would carry what the
            // client said of the first into releases of the others.
            let mut compartment = None;
            for record in &records {
                match rows::record(tx, record)? {
                    Some(r) if r.client == *client && r.history.addendum_of.is_none() => {
                        let of = r.kind.compartment();
                        if compartment.is_some_and(|c| c != of) {
                            return Err(invalid(
                                "a substance-use record is disputed in a request of its own",
                            ));
                        }
                        compartment = Some(of);
                    }
                    Some(r) if r.client == *client => {
                        return Err(invalid(
                            "an addendum is amended through the entry it corrects",
                        ));
                    }
                    _ => return Err(invalid("an entry it names is not this client's")),
                }
            }
            let now = self.shared.now_ms();
            let row = AmendmentRow {
                id,
                records: records.clone(),
                received_at: now,
                due_at: now.saturating_add(AMENDMENT_DUE_MS),
                extended_at: None,
                accepted: None,
                decided_at: None,
                decided_by: None,
                statement_at: None,
                rebuttal_at: None,
                recorded_by: self.user,
            };
            amendment_rows::insert_amendment(tx, client, &row)?;
            self.seal_amendment(tx, &gate, &granted, (client, &entry), &named, action)
        })?;
        Ok(id)
    }

    /// Take the one 30-day extension of a request's deadline (164.526(b)(2)(ii)), with the
    /// reason for the delay (sealed; the client is told it in writing). Only while the request
    /// is undecided and not yet due; a second extension is `InvalidInput`.
    pub fn extend_amendment(
        &self,
        request: &AmendmentId,
        reason: &str,
        purpose: Purpose,
    ) -> Result<()> {
        let texts = [(EXTENSION_REASON, said(reason, "reason for the delay")?)];
        self.amendment_step(request, Step::Extend, &texts, purpose)
    }

    /// Deny a request, in writing (164.526(d)(1)): its basis and the explanation sent to the
    /// client (sealed). The client may then file a statement of disagreement.
    pub fn deny_amendment(
        &self,
        request: &AmendmentId,
        basis: DenialBasis,
        explanation: &str,
        purpose: Purpose,
    ) -> Result<()> {
        let texts = [
            (DENIAL_BASIS, Value::code(basis.code())),
            (DENIAL_EXPLANATION, said(explanation, "explanation")?),
        ];
        self.amendment_step(request, Step::Deny, &texts, purpose)
    }

    /// Record the client's statement of disagreement with a denial (164.526(d)(1)(ii)), once.
    /// From then on it travels, with the request, the denial and any rebuttal, with every
    /// release of a disputed entry.
    pub fn file_disagreement(
        &self,
        request: &AmendmentId,
        statement: &str,
        purpose: Purpose,
    ) -> Result<()> {
        let texts = [(STATEMENT, said(statement, "statement")?)];
        self.amendment_step(request, Step::Disagree, &texts, purpose)
    }

    /// Write the practice's rebuttal of a statement of disagreement (164.526(d)(3)), once.
    pub fn rebut_disagreement(
        &self,
        request: &AmendmentId,
        rebuttal: &str,
        purpose: Purpose,
    ) -> Result<()> {
        let texts = [(REBUTTAL, said(rebuttal, "rebuttal")?)];
        self.amendment_step(request, Step::Rebut, &texts, purpose)
    }

    /// The client's requests to amend, with their deadlines and outcomes (metadata only; a
    /// treating clinician). One audited read.
    pub fn list_amendments(
        &self,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<AmendmentSummary>> {
        let action = AuditAction::AmendmentRead;
        let gate = self.admit(action, purpose)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let found = self.client_rows(&self.shared.conn(), client)?.amendments;
        let role = self.role;
        let grant = gate.check(
            role,
            Access::Amend,
            vec![],
            &facts,
            audit_as,
            Target::Nothing,
        )?;
        let outcome = Outcome::Allowed(grant.basis());
        let e = gate.entry(action, Some(client), None, &["amendments"], outcome);
        self.shared.audit(&e)?;
        let mut out: Vec<AmendmentSummary> = found.iter().map(|r| summary_of(client, r)).collect();
        out.sort_by_key(|s| (s.received_at_ms, s.id));
        Ok(out)
    }

    /// One request with its sealed texts (a treating clinician). One audited read.
    pub fn read_amendment(&self, request: &AmendmentId, purpose: Purpose) -> Result<Amendment> {
        let action = AuditAction::AmendmentRead;
        let gate = self.admit(action, purpose)?;
        let Found {
            client,
            facts,
            audit_as,
        } = self.find_amendment(&gate, request, action)?;
        let entry = amendment_entry(&client, request);
        let stored = Stored::load(&self.shared.conn(), entry, None)?;
        let names = stored.names()?;
        let role = self.role;
        let target = Target::Entry(entry);
        let granted = gate.check(role, Access::Amend, names, &facts, audit_as, target)?;
        let row = self.amendment_row(&client, request)?;
        let opened = self.shared.write(|tx| {
            Ok(match self.open(tx, &granted, stored, |_| true) {
                Ok(fields) => {
                    let names: Vec<&str> = fields.keys().map(FieldName::as_str).collect();
                    let outcome = Outcome::Allowed(granted.basis());
                    let e = gate.entry(action, Some(&client), audit_as.target, &names, outcome);
                    self.shared.audit_in(tx, &e)?;
                    Ok(fields)
                }
                Err(failed) => Err(failed),
            })
        })?;
        match opened {
            Ok(fields) => amendment_from(&client, &row, fields),
            Err((field, e)) => gate.fail(audit_as, &[field.as_str()], failure_of(&e), e),
        }
    }

    /// The undecided requests whose deadline (after any extension) has passed, of every client
    /// the caller treats, by the vault's clock. One audited read.
    pub fn amendments_past_due(&self, purpose: Purpose) -> Result<Vec<AmendmentSummary>> {
        let action = AuditAction::AmendmentRead;
        let gate = self.admit(action, purpose)?;
        let audit_as = AuditAs::new(action);
        let now = self.shared.now_ms();
        // Whether this role may answer requests at all, for this purpose, before any client's
        // facts are read: as the treating clinician of a client it would be.
        let treating = Facts {
            now_ms: now,
            on_care_team: true,
            ..Facts::default()
        };
        let role = self.role;
        let grant = gate.check(
            role,
            Access::Amend,
            vec![],
            &treating,
            audit_as,
            Target::Nothing,
        )?;
        let mut out = Vec::new();
        let candidates = amendment_rows::clients_with_amendments(&self.shared.conn())?;
        for client in candidates {
            let (facts, found) = {
                let conn = self.shared.conn();
                (
                    self.client_facts(&conn, &client)?,
                    self.client_rows(&conn, &client)?.amendments,
                )
            };
            if gate.preview(Access::Amend, &facts).is_none() {
                continue;
            }
            out.extend(
                found
                    .iter()
                    .filter(|r| r.accepted.is_none() && r.due_at <= now)
                    .map(|r| summary_of(&client, r)),
            );
        }
        out.sort_by_key(|s| (s.due_at_ms, s.id));
        let outcome = Outcome::Allowed(grant.basis());
        self.shared
            .audit(&gate.entry(action, None, None, &["past_due"], outcome))?;
        Ok(out)
    }

    /// A change of an existing request: decided, then taken, sealed and vouched for in one
    /// transaction.
    fn amendment_step(
        &self,
        request: &AmendmentId,
        step: Step,
        texts: &[(&str, Value)],
        purpose: Purpose,
    ) -> Result<()> {
        let action = step.action();
        let gate = self.admit(action, purpose)?;
        let named = named_fields(texts)?;
        let Found {
            client,
            facts,
            audit_as,
        } = self.find_amendment(&gate, request, action)?;
        let entry = amendment_entry(&client, request);
        let granted = self.decide_amendment(&gate, &named, &facts, audit_as, entry)?;
        let row = self.amendment_row(&client, request)?;
        self.amendment_write(&gate, audit_as, |tx| {
            self.check_scope_now(tx, ScopeKind::Client, client.as_bytes())?;
            self.check_parent_now(tx, FieldTable::Amendments, request.as_bytes())?;
            step.take(tx, self, &client, &row)?;
            self.seal_amendment(tx, &gate, &granted, (&client, &entry), &named, action)
        })
    }

    /// The client of `request` and their facts; for a request that does not exist, the same
    /// audited refusal as for a client the caller has no relationship with.
    pub(super) fn find_amendment<'a>(
        &self,
        gate: &Admitted<'_>,
        request: &'a AmendmentId,
        action: AuditAction,
    ) -> Result<Found<'a>> {
        let audit_as = AuditAs::new(action).target(request.as_bytes());
        let Some(client) = amendment_rows::amendment_client(&self.shared.conn(), request)? else {
            return gate.refuse_unknown(audit_as);
        };
        let (facts, _) = gate.client_request_as(&client, audit_as.client(&client))?;
        Ok(Found {
            client,
            facts,
            audit_as,
        })
    }

    /// The request as its client's authenticated scope holds it.
    pub(super) fn amendment_row(
        &self,
        client: &ClientId,
        request: &AmendmentId,
    ) -> Result<AmendmentRow> {
        self.client_rows(&self.shared.conn(), client)?
            .amendments
            .into_iter()
            .find(|a| a.id == *request)
            .ok_or(Error::NotFound {
                what: "amendment request",
            })
    }

    /// Decide a change of a request, sealing `fields` of `entry`, before any key is touched.
    pub(super) fn decide_amendment(
        &self,
        gate: &Admitted<'_>,
        fields: &[(FieldName, &Value)],
        facts: &Facts,
        audit_as: AuditAs<'_>,
        entry: Entry,
    ) -> Result<Granted> {
        let names = fields.iter().map(|(n, _)| n.clone()).collect();
        let target = Target::Entry(entry);
        gate.check(self.role, Access::Amend, names, facts, audit_as, target)
    }

    /// Seal `fields` of the request and append `action`'s entry vouching for its fields and its
    /// client's scope, inside `tx`.
    pub(super) fn seal_amendment(
        &self,
        tx: &Conn,
        gate: &Admitted<'_>,
        granted: &Granted,
        (client, entry): (&ClientId, &Entry),
        fields: &[(FieldName, &Value)],
        action: AuditAction,
    ) -> Result<()> {
        if !fields.is_empty() {
            self.seal(tx, granted, entry, fields)?;
        }
        let names: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let outcome = Outcome::Allowed(granted.basis());
        let e = gate.entry(action, Some(client), Some(&entry.parent), &names, outcome);
        let scope = Some((ScopeKind::Client, &client.as_bytes()[..]));
        self.audit_fields(tx, &e, FieldTable::Amendments, &entry.parent, scope)
            .map(drop)
    }

    /// Run a change of requests in one transaction; a refusal to vouch for damaged state, or a
    /// master key rotated meanwhile, is audited after the rollback.
    pub(super) fn amendment_write(
        &self,
        gate: &Admitted<'_>,
        audit_as: AuditAs<'_>,
        op: impl FnOnce(&Conn) -> Result<()>,
    ) -> Result<()> {
        match self.shared.write(op) {
            Err(e @ (Error::Integrity { .. } | Error::SessionLocked)) => {
                gate.fail(audit_as, &[], failure_of(&e), e)
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_bases_have_stable_codes() {
        for b in DenialBasis::ALL {
            assert_eq!(b.code().parse::<DenialBasis>().unwrap(), b);
        }
        assert!("other".parse::<DenialBasis>().is_err());
    }

    #[test]
    fn debug_redacts_the_texts() {
        let shown = format!(
            "{:?}",
            NewAmendment {
                records: vec![],
                what: "CANARY what".into(),
                why: "CANARY why".into(),
            }
        );
        assert!(!shown.contains("CANARY"), "{shown}");
        let d = Denial {
            basis: DenialBasis::AccurateAndComplete,
            explanation: "CANARY".into(),
        };
        let shown = format!("{d:?}");
        assert!(!shown.contains("CANARY") && shown.contains("AccurateAndComplete"));
    }
}
