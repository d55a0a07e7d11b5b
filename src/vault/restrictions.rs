//! Restrictions a client asks for (45 CFR 164.522(a)): recorded, listed and lifted by a treating
//! clinician, and the rule that says which of them bind a release.
//!
//! A restriction is a fact of the client's scope, cleartext because the release path decides on
//! it before any key is unwrapped, and authenticated by the scope's MAC like a consent: every
//! change goes through the gate's scope-changing path and is audited with the scope's digest. The
//! recipient it binds (a health plan) is stored as the keyed blind index consents use, never by
//! name.

use std::collections::BTreeSet;
use std::fmt;

use crate::audit::{AuditAction, Outcome};
use crate::db::fact_rows::ScopeKind;
use crate::db::release_rows::{self, RestrictionRow};
use crate::db::rows;
use crate::error::{Error, Result};
use crate::ids::{ClientId, RecordId, RestrictionId};
use crate::model::{Category, LegalBasis, Purpose};
use crate::policy::Access;
use crate::value::{Redacted, redacted_if_some};

use super::Session;
use super::consents::{RECIPIENT_INDEX, recipient_key};
use super::gate::{AuditAs, Target};

/// A restriction a client asks for. `Debug` redacts every name.
#[derive(Clone, PartialEq, Eq)]
pub enum NewRestriction {
    /// 45 CFR 164.522(a)(1)(vi): the client paid for a service in full out of pocket and
    /// requires that it not be disclosed to their health plan for payment or health-care
    /// operations. The practice must agree, so it is always recorded as agreed.
    SelfPay {
        /// The health plan's name (matched as consents match an outside recipient: trimmed,
        /// case and inner spacing ignored; stored as a keyed index only).
        plan_name: String,
        /// The health plan's organisation.
        plan_organisation: String,
        /// The general-record entries of the service paid for (its appointments, its billing).
        records: Vec<RecordId>,
    },
    /// Any other restriction request (164.522(a)(1)(i)): the practice may agree to it, and is
    /// then bound by it, or refuse it, and it is recorded as refused and binds nothing.
    Other {
        /// The recipient (name, organisation) it keeps the information from; `None`: every
        /// recipient.
        recipient: Option<(String, String)>,
        /// The purposes of release it stops: at least one.
        purposes: Vec<Purpose>,
        /// The categories it withholds, whole.
        categories: Vec<Category>,
        /// The general-record entries it withholds.
        records: Vec<RecordId>,
        /// Whether the practice agreed to it.
        agreed: bool,
    },
}

impl fmt::Debug for NewRestriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NewRestriction::SelfPay { records, .. } => f
                .debug_struct("SelfPay")
                .field("plan_name", &Redacted)
                .field("plan_organisation", &Redacted)
                .field("records", records)
                .finish(),
            NewRestriction::Other {
                recipient,
                purposes,
                categories,
                records,
                agreed,
            } => f
                .debug_struct("Other")
                .field("recipient", &redacted_if_some(recipient))
                .field("purposes", purposes)
                .field("categories", categories)
                .field("records", records)
                .field("agreed", agreed)
                .finish(),
        }
    }
}

/// A recorded restriction, as listed (cleartext metadata only: the recipient it binds is stored
/// as a keyed index, so only whether it names one is shown).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RestrictionSummary {
    /// The restriction.
    pub id: RestrictionId,
    /// A self-pay restriction (164.522(a)(1)(vi)).
    pub self_pay: bool,
    /// Agreed (binding), or refused (recorded, binding nothing).
    pub agreed: bool,
    /// It binds releases to one recipient; `false`: to every recipient.
    pub names_recipient: bool,
    /// The purposes of release it stops.
    pub purposes: BTreeSet<Purpose>,
    /// The categories it withholds, whole.
    pub categories: BTreeSet<Category>,
    /// The general-record entries it withholds.
    pub records: BTreeSet<RecordId>,
    /// When it was recorded (unix ms).
    pub recorded_ms: i64,
    /// When it was lifted (unix ms).
    pub lifted_ms: Option<i64>,
}

/// An agreed restriction in force that binds one release: what the release must leave out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Binding {
    /// The restriction, for the manifest to name.
    pub id: RestrictionId,
    /// A self-pay restriction (164.522(a)(1)(vi)).
    pub self_pay: bool,
    /// Categories withheld whole.
    pub categories: BTreeSet<Category>,
    /// Entries withheld.
    pub records: BTreeSet<RecordId>,
}

impl Binding {
    /// The restriction withholds this entry: it names it, or its category.
    pub fn covers(&self, record: &RecordId, category: Category) -> bool {
        self.records.contains(record) || self.categories.contains(&category)
    }
}

/// A release on this basis goes out whatever the client asked. 45 CFR 164.522(a)(1)(v): a
/// restriction does not stop a disclosure permitted or required under 164.512 (a threat to
/// health or safety, abuse reports, court orders, and subpoenas under 164.512(e)(1)(ii));
/// 164.522(a)(1)(iii): nor one a provider needs for emergency treatment.
fn unstoppable(basis: LegalBasis) -> bool {
    basis.is_mandatory() || matches!(basis, LegalBasis::MedicalEmergency | LegalBasis::Subpoena)
}

/// The restrictions that bind a release of `purpose` on `basis` to the recipient whose blind
/// index (`RECIPIENT_INDEX` of [`recipient_key`]) is `recipient_index`, at `now_ms`: agreed,
/// recorded at or before then and not lifted at or before then, naming that recipient or every
/// recipient, and that purpose; none on a basis a restriction cannot stop.
pub(super) fn binding(
    restrictions: &[RestrictionRow],
    recipient_index: &[u8],
    purpose: Purpose,
    basis: LegalBasis,
    now_ms: i64,
) -> Vec<Binding> {
    if unstoppable(basis) {
        return Vec::new();
    }
    restrictions
        .iter()
        .filter(|r| {
            r.agreed
                && r.recorded_at <= now_ms
                && r.lifted_at.is_none_or(|lifted| lifted > now_ms)
                && r.recipient_index
                    .as_deref()
                    .is_none_or(|i| i == recipient_index)
                && r.purposes.contains(&purpose)
        })
        .map(|r| Binding {
            id: r.id,
            self_pay: r.self_pay,
            categories: r.categories.clone(),
            records: r.records.clone(),
        })
        .collect()
}

fn invalid(reason: &str) -> Error {
    Error::InvalidInput {
        what: "restriction",
        reason: reason.into(),
    }
}

/// A restriction as asked, checked: what is stored, but the recipient's index (computed once the
/// request is granted).
struct Checked<'a> {
    self_pay: bool,
    agreed: bool,
    recipient: Option<(&'a str, &'a str)>,
    purposes: BTreeSet<Purpose>,
    categories: BTreeSet<Category>,
    records: BTreeSet<RecordId>,
}

fn validate(r: &NewRestriction) -> Result<Checked<'_>> {
    let named = |name: &str, organisation: &str| {
        if name.trim().is_empty() || organisation.trim().is_empty() {
            Err(invalid("the recipient is named, with its organisation"))
        } else {
            Ok(())
        }
    };
    let checked = match r {
        NewRestriction::SelfPay {
            plan_name,
            plan_organisation,
            records,
        } => {
            named(plan_name, plan_organisation)?;
            if records.is_empty() {
                return Err(invalid(
                    "a self-pay restriction names the service's records",
                ));
            }
            Checked {
                self_pay: true,
                // 164.522(a)(1)(vi): the practice must agree.
                agreed: true,
                recipient: Some((plan_name, plan_organisation)),
                purposes: BTreeSet::from([Purpose::Payment, Purpose::Operations]),
                categories: BTreeSet::new(),
                records: records.iter().copied().collect(),
            }
        }
        NewRestriction::Other {
            recipient,
            purposes,
            categories,
            records,
            agreed,
        } => {
            if let Some((name, organisation)) = recipient {
                named(name, organisation)?;
            }
            if purposes.is_empty() {
                return Err(invalid("name at least one purpose"));
            }
            if categories.is_empty() && records.is_empty() {
                return Err(invalid("name at least one category or record"));
            }
            Checked {
                self_pay: false,
                agreed: *agreed,
                recipient: recipient.as_ref().map(|(n, o)| (n.as_str(), o.as_str())),
                purposes: purposes.iter().copied().collect(),
                categories: categories.iter().copied().collect(),
                records: records.iter().copied().collect(),
            }
        }
    };
    Ok(checked)
}

impl Session {
    /// Record a client's restriction request, agreed or refused (a treating clinician, for
    /// treatment). A self-pay restriction is always agreed (164.522(a)(1)(vi)). Its records must
    /// be entries of this client's general record.
    pub fn record_restriction(
        &self,
        client: &ClientId,
        restriction: &NewRestriction,
        purpose: Purpose,
    ) -> Result<RestrictionId> {
        let action = AuditAction::RestrictionRecord;
        let gate = self.admit(action, purpose)?;
        let checked = validate(restriction)?;
        let id = RestrictionId::random(&self.shared.rng)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let audit_as = audit_as.target(id.as_bytes());
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        // Inside the change, so after the decision: neither the blind-index key nor whether a
        // record exists is used for a request the policy refuses.
        gate.change(Access::ManageConsent, &facts, audit_as, scope, |tx| {
            for record in &checked.records {
                if rows::record(tx, record)?.is_none_or(|r| r.client != *client) {
                    return Err(invalid("a record it names is not this client's"));
                }
            }
            let recipient_index = checked
                .recipient
                .map(|(name, organisation)| {
                    let key = recipient_key(name, organisation);
                    self.blind_index(&gate, RECIPIENT_INDEX, &key)
                })
                .transpose()?;
            let row = RestrictionRow {
                id,
                self_pay: checked.self_pay,
                agreed: checked.agreed,
                recipient_index,
                purposes: checked.purposes.clone(),
                categories: checked.categories.clone(),
                records: checked.records.clone(),
                recorded_at: self.shared.now_ms(),
                lifted_at: None,
            };
            release_rows::insert_restriction(tx, client, &row, &self.user)
        })?;
        Ok(id)
    }

    /// Lift an agreed restriction: it binds no release made from now on. An unknown one is
    /// `NotFound`; a refused one (which never bound anything) or one lifted already is invalid.
    pub fn lift_restriction(
        &self,
        client: &ClientId,
        restriction: &RestrictionId,
        purpose: Purpose,
    ) -> Result<()> {
        let action = AuditAction::RestrictionLift;
        let gate = self.admit(action, purpose)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let audit_as = audit_as.target(restriction.as_bytes());
        let found = self
            .client_rows(&self.shared.conn(), client)?
            .restrictions
            .into_iter()
            .find(|r| r.id == *restriction);
        let scope = (ScopeKind::Client, &client.as_bytes()[..]);
        // Looked at inside the change, so after the decision: a requester the policy refuses
        // does not learn whether the restriction exists.
        gate.change(Access::ManageConsent, &facts, audit_as, scope, |tx| {
            let Some(row) = found else {
                return Err(Error::NotFound {
                    what: "restriction",
                });
            };
            if !row.agreed {
                return Err(invalid("a refused restriction binds nothing to lift"));
            }
            let at = self.shared.now_ms();
            if row.lifted_at.is_some()
                || !release_rows::lift_restriction(tx, client, restriction, at, &self.user)?
            {
                return Err(invalid("it was lifted already"));
            }
            Ok(())
        })
    }

    /// The client's restrictions, agreed, refused and lifted (metadata only; a treating
    /// clinician).
    pub fn list_restrictions(
        &self,
        client: &ClientId,
        purpose: Purpose,
    ) -> Result<Vec<RestrictionSummary>> {
        let gate = self.admit(AuditAction::RecordList, purpose)?;
        let audit_as = AuditAs::new(AuditAction::RecordList).client(client);
        let (facts, rows) = {
            let conn = self.shared.conn();
            (
                self.client_facts(&conn, client)?,
                self.client_rows(&conn, client)?.restrictions,
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
        let e = self.entry(
            AuditAction::RecordList,
            Some(client),
            None,
            &["restrictions"],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.shared.audit(&e)?;
        Ok(rows
            .into_iter()
            .map(|r| RestrictionSummary {
                id: r.id,
                self_pay: r.self_pay,
                agreed: r.agreed,
                names_recipient: r.recipient_index.is_some(),
                purposes: r.purposes,
                categories: r.categories,
                records: r.records,
                recorded_ms: r.recorded_at,
                lifted_ms: r.lifted_at,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000_000;
    const PLAN_A: &[u8] = b"index of plan a";
    const PLAN_B: &[u8] = b"index of plan b";

    fn id(n: u8) -> RecordId {
        RecordId::from_slice(&[n; 16]).unwrap()
    }

    fn self_pay(plan: &[u8]) -> RestrictionRow {
        RestrictionRow {
            id: RestrictionId::from_slice(&[9; 16]).unwrap(),
            self_pay: true,
            agreed: true,
            recipient_index: Some(plan.to_vec()),
            purposes: BTreeSet::from([Purpose::Payment, Purpose::Operations]),
            categories: BTreeSet::new(),
            records: BTreeSet::from([id(1), id(2)]),
            recorded_at: NOW - 1000,
            lifted_at: None,
        }
    }

    fn other(recipient: Option<&[u8]>, purposes: &[Purpose], agreed: bool) -> RestrictionRow {
        RestrictionRow {
            id: RestrictionId::from_slice(&[7; 16]).unwrap(),
            self_pay: false,
            agreed,
            recipient_index: recipient.map(<[u8]>::to_vec),
            purposes: purposes.iter().copied().collect(),
            categories: BTreeSet::from([Category::DiagnosisCodes]),
            records: BTreeSet::new(),
            recorded_at: NOW - 1000,
            lifted_at: None,
        }
    }

    fn bound(rows: &[RestrictionRow], to: &[u8], purpose: Purpose, basis: LegalBasis) -> usize {
        binding(rows, to, purpose, basis, NOW).len()
    }

    #[test]
    fn a_self_pay_restriction_binds_payment_and_operations_releases_to_its_plan() {
        let rows = [self_pay(PLAN_A)];
        let got = binding(&rows, PLAN_A, Purpose::Payment, LegalBasis::Payment, NOW);
        assert_eq!(got.len(), 1);
        assert!(got[0].self_pay);
        assert!(got[0].covers(&id(1), Category::Appointments));
        assert!(got[0].covers(&id(2), Category::Billing));
        assert!(!got[0].covers(&id(3), Category::Billing));
        let ops = LegalBasis::Authorization;
        assert_eq!(bound(&rows, PLAN_A, Purpose::Operations, ops), 1);
    }

    #[test]
    fn another_plan_and_other_purposes_are_unaffected() {
        let rows = [self_pay(PLAN_A)];
        assert_eq!(
            bound(&rows, PLAN_B, Purpose::Payment, LegalBasis::Payment),
            0
        );
        let auth = LegalBasis::Authorization;
        assert_eq!(bound(&rows, PLAN_A, Purpose::Treatment, auth), 0);
        assert_eq!(bound(&rows, PLAN_A, Purpose::PatientRequest, auth), 0);
    }

    #[test]
    fn a_lifted_restriction_binds_until_it_was_lifted() {
        let mut r = self_pay(PLAN_A);
        r.lifted_at = Some(NOW);
        let rows = [r];
        let at = |now| binding(&rows, PLAN_A, Purpose::Payment, LegalBasis::Payment, now).len();
        assert_eq!(at(NOW - 1), 1);
        // Lifted at this very millisecond: no longer binding.
        assert_eq!(at(NOW), 0);
        assert_eq!(at(NOW + 1), 0);
    }

    #[test]
    fn a_restriction_binds_from_when_it_was_recorded() {
        let rows = [self_pay(PLAN_A)];
        let at = |now| binding(&rows, PLAN_A, Purpose::Payment, LegalBasis::Payment, now).len();
        assert_eq!(at(NOW - 1001), 0);
        assert_eq!(at(NOW - 1000), 1);
    }

    #[test]
    fn a_refused_restriction_never_binds() {
        let rows = [other(None, Purpose::ALL, false)];
        for purpose in Purpose::ALL {
            for basis in LegalBasis::ALL {
                assert_eq!(bound(&rows, PLAN_A, *purpose, *basis), 0);
            }
        }
    }

    #[test]
    fn emergencies_and_what_the_law_requires_are_not_stopped() {
        let rows = [self_pay(PLAN_A), other(None, Purpose::ALL, true)];
        for basis in [
            LegalBasis::MedicalEmergency,
            LegalBasis::CourtOrder,
            LegalBasis::DutyToWarn,
            LegalBasis::ChildAbuseReport,
            LegalBasis::ElderAbuseReport,
            LegalBasis::Subpoena,
        ] {
            for purpose in Purpose::ALL {
                assert_eq!(bound(&rows, PLAN_A, *purpose, basis), 0, "{basis}");
            }
        }
        for basis in [
            LegalBasis::Authorization,
            LegalBasis::TreatmentWithConsent,
            LegalBasis::Payment,
        ] {
            assert_eq!(bound(&rows, PLAN_A, Purpose::Payment, basis), 2, "{basis}");
        }
    }

    #[test]
    fn an_agreed_restriction_without_a_recipient_binds_every_recipient_for_its_purposes() {
        let rows = [other(None, &[Purpose::Legal], true)];
        let auth = LegalBasis::Authorization;
        assert_eq!(bound(&rows, PLAN_A, Purpose::Legal, auth), 1);
        assert_eq!(bound(&rows, PLAN_B, Purpose::Legal, auth), 1);
        assert_eq!(bound(&rows, PLAN_B, Purpose::Treatment, auth), 0);
        let got = binding(&rows, PLAN_B, Purpose::Legal, auth, NOW);
        assert!(!got[0].self_pay);
        assert!(got[0].covers(&id(5), Category::DiagnosisCodes));
        assert!(!got[0].covers(&id(5), Category::ProgressNotes));
    }

    #[test]
    fn an_agreed_restriction_naming_a_recipient_binds_that_recipient_only() {
        let rows = [other(Some(PLAN_B), &[Purpose::Treatment], true)];
        let basis = LegalBasis::TreatmentWithConsent;
        assert_eq!(bound(&rows, PLAN_B, Purpose::Treatment, basis), 1);
        assert_eq!(bound(&rows, PLAN_A, Purpose::Treatment, basis), 0);
    }

    #[test]
    fn only_the_restrictions_that_apply_are_returned() {
        let mut lifted = self_pay(PLAN_A);
        lifted.lifted_at = Some(NOW - 10);
        let rows = [
            lifted,
            self_pay(PLAN_B),
            other(None, &[Purpose::Payment], true),
            other(None, &[Purpose::Payment], false),
        ];
        let got = binding(&rows, PLAN_B, Purpose::Payment, LegalBasis::Payment, NOW);
        assert_eq!(
            got.iter().map(|b| b.self_pay).collect::<Vec<_>>(),
            [true, false]
        );
    }

    fn plan(records: Vec<RecordId>) -> NewRestriction {
        NewRestriction::SelfPay {
            plan_name: "Acme Health".into(),
            plan_organisation: "Acme Health Plan".into(),
            records,
        }
    }

    fn ask(categories: &[Category], records: &[RecordId], purposes: &[Purpose]) -> NewRestriction {
        NewRestriction::Other {
            recipient: None,
            purposes: purposes.to_vec(),
            categories: categories.to_vec(),
            records: records.to_vec(),
            agreed: true,
        }
    }

    #[test]
    fn a_self_pay_restriction_is_agreed_for_payment_and_operations() {
        let asked = plan(vec![id(1), id(1), id(2)]);
        let c = validate(&asked).unwrap();
        assert!(c.self_pay && c.agreed);
        assert_eq!(
            c.purposes,
            BTreeSet::from([Purpose::Payment, Purpose::Operations])
        );
        assert_eq!(c.records, BTreeSet::from([id(1), id(2)]));
        assert!(c.categories.is_empty());
    }

    #[test]
    fn what_a_restriction_must_name_is_checked() {
        let refused = |r: &NewRestriction| {
            assert!(
                matches!(validate(r), Err(Error::InvalidInput { .. })),
                "{r:?}"
            );
        };
        refused(&plan(vec![]));
        refused(&NewRestriction::SelfPay {
            plan_name: " ".into(),
            plan_organisation: "Acme".into(),
            records: vec![id(1)],
        });
        refused(&NewRestriction::SelfPay {
            plan_name: "Acme".into(),
            plan_organisation: "".into(),
            records: vec![id(1)],
        });
        refused(&ask(&[], &[], &[Purpose::Payment]));
        refused(&ask(&[Category::Billing], &[], &[]));
        refused(&NewRestriction::Other {
            recipient: Some(("".into(), "Acme".into())),
            purposes: vec![Purpose::Payment],
            categories: vec![Category::Billing],
            records: vec![],
            agreed: false,
        });
        assert!(validate(&ask(&[], &[id(1)], &[Purpose::Payment])).is_ok());
        assert!(validate(&ask(&[Category::Billing], &[], &[Purpose::Payment])).is_ok());
    }

    #[test]
    fn debug_redacts_names() {
        let shown = format!(
            "{:?} {:?}",
            plan(vec![id(1)]),
            NewRestriction::Other {
                recipient: Some(("Pat Smith".into(), "Smith & Co Law".into())),
                purposes: vec![Purpose::Legal],
                categories: vec![Category::ProgressNotes],
                records: vec![],
                agreed: true,
            }
        );
        for name in ["Acme", "Pat Smith", "Smith & Co"] {
            assert!(!shown.contains(name), "{shown}");
        }
        assert!(shown.contains("redacted"), "{shown}");
    }
}
