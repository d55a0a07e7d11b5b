//! What leaves the vault: disclosure requests, release packages, the accounting of disclosures,
//! de-identified extracts and answers to erasure requests. The operations are on
//! [`Session`](crate::Session); this module holds what they take and give.

use std::collections::BTreeMap;
use std::fmt;

use serde::Serialize;

use crate::ids::{CaseId, ClientId, ConsentId};
use crate::model::{Category, LegalBasis, Purpose};
use crate::scope::ReleaseScope;
use crate::value::{Redacted, redacted_if_some};

/// Someone outside the practice who receives a release. Who receives a client's information
/// says something about the client (a lawyer, a clinic), so `Debug` redacts all of it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct OutsideParty {
    /// Name of the person.
    pub name: String,
    /// Their organisation.
    pub organisation: String,
    /// Their address.
    pub address: String,
}

/// A court order or subpoena, with what it names (164.512(e)): the package holds exactly
/// that. `Debug` redacts the issuer.
#[derive(Clone, PartialEq, Eq)]
pub struct Order {
    /// The court or officer that issued it.
    pub issuer: String,
    /// When it was issued (unix ms).
    pub issued_on_ms: i64,
    /// The data elements it names, down to fields (e.g. diagnosis codes and dates of service).
    pub names: ReleaseScope,
}

fn category_code<S: serde::Serializer>(c: &Category, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(c.code())
}

/// Someone a protective release is made to protect. `Debug` redacts all of it.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct PersonAtRisk {
    /// Their name.
    pub name: String,
    /// How to reach them.
    pub contact: String,
}

/// One field beyond the protective minimum, and why it is needed. `Debug` redacts the reason.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct NamedField {
    /// The category.
    #[serde(serialize_with = "category_code")]
    pub category: Category,
    /// The field.
    pub field: String,
    /// Why the recipient needs it to prevent or lessen the threat.
    pub reason: String,
}

/// A protective release (duty to warn or protect, 164.512(j); abuse reports, 164.512(b), (c)):
/// the person at risk, the threat, and any field beyond the minimum to identify and locate the
/// client, named one by one with its reason. `Debug` redacts the text.
#[derive(Clone, PartialEq, Eq)]
pub struct Protective {
    /// The person at risk (for an abuse report, the person abused).
    pub at_risk: PersonAtRisk,
    /// The threat, or the abuse reported, as the clinician states it.
    pub threat: String,
    /// Fields beyond name and contact, each with its reason.
    pub named: Vec<NamedField>,
}

/// A release asked for. `Debug` shows ids, codes and categories, never the recipient, the
/// reference, the order's issuer, the person at risk or the description.
#[derive(Clone)]
pub struct DisclosureRequest {
    /// Whose information.
    pub client: ClientId,
    /// The joint case, when joint-record content is asked for.
    pub case: Option<CaseId>,
    /// To whom.
    pub recipient: OutsideParty,
    /// Why.
    pub purpose: Purpose,
    /// On which legal basis.
    pub basis: LegalBasis,
    /// The consent relied on, for `Authorization` and `TreatmentWithConsent`.
    pub consent: Option<ConsentId>,
    /// The reference of the order, subpoena or report (required for those bases).
    pub reference: Option<String>,
    /// For a court order or subpoena: the order, with what it names.
    pub order: Option<Order>,
    /// The categories asked for.
    pub categories: Vec<Category>,
    /// A narrower scope than the basis allows (e.g. [`ReleaseScope::attendance_only`]): it can
    /// only narrow. On an order, a narrowing that would drop something the order names is an
    /// error.
    pub narrow: Option<ReleaseScope>,
    /// For duty to warn and abuse reports: the person at risk, the threat, named fields.
    pub protective: Option<Protective>,
    /// A description of the request, for the ledger (sealed).
    pub description: String,
}

/// What of one category left, and under which limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ReleasedPart {
    /// The category.
    pub category: String,
    /// The fields that left (in at least one entry).
    pub fields: Vec<String>,
    /// The limit they left under (`authorization-scope`, `payment-minimum-necessary`,
    /// `court-order`, `subpoena`, `protective-minimum`, `named-with-reason`, `emergency`).
    pub limit: String,
}

/// Something the basis would have let leave that did not, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WithheldPart {
    /// The entry, if one entry (not a whole category).
    pub entry: Option<String>,
    /// The category.
    pub category: String,
    /// The field, if one field.
    pub field: Option<String>,
    /// Why: `restriction:<id>` (164.522), `free-text-on-payment` (minimum necessary).
    pub reason: String,
}

/// One entry of a release package: the permitted fields, as text. `Debug` shows the fields'
/// names, not their values.
#[derive(Clone, Serialize)]
pub struct PackageItem {
    /// The entry's id.
    pub id: String,
    /// Its category.
    pub category: String,
    /// Its kind (record kind, `psychotherapy_note` or `joint_record`).
    pub kind: String,
    /// When it was written (RFC 3339).
    pub written: String,
    /// The released fields.
    pub fields: BTreeMap<String, String>,
    /// For an addendum: the entry it corrects (its reason is its field `reason`, where the
    /// release may carry free text).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub addendum_of: Option<String>,
    /// For an addendum that carries out an accepted amendment: the request (45 CFR 164.526(c)).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amends: Option<String>,
}

/// A client's disagreement with a denied amendment, which travels with every release of an
/// entry it disputes (45 CFR 164.526(d)(4)-(5)): the request, the denial, the client's statement
/// of disagreement and the practice's rebuttal. `Debug` shows ids and the basis only.
#[derive(Clone, Serialize)]
pub struct Dispute {
    /// The amendment request.
    pub request: String,
    /// Every entry the request disputes.
    pub records: Vec<String>,
    /// What the client asked to change.
    pub what: String,
    /// Why.
    pub why: String,
    /// The denial's basis (its stable code).
    pub denial_basis: String,
    /// The denial's written explanation.
    pub denial_explanation: String,
    /// The client's statement of disagreement.
    pub statement: String,
    /// The practice's rebuttal, if one was written.
    pub rebuttal: Option<String>,
}

/// A dispute a release carries, as its manifest names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DisputeRef {
    /// The amendment request.
    pub request: String,
    /// The disputed entries this release carries.
    pub records: Vec<String>,
}

/// What, to whom, why, on which basis, when, by whom. `Debug` redacts the recipient and the
/// reference.
#[derive(Clone, Serialize)]
pub struct Manifest {
    /// The ledger entry of this release.
    pub disclosure_id: String,
    /// The client (pseudonymous id).
    pub client: String,
    /// The recipient.
    pub recipient: OutsideParty,
    /// The purpose of use (HL7 code).
    pub purpose: String,
    /// The legal basis.
    pub legal_basis: String,
    /// The reference of the order, subpoena, report or consent.
    pub reference: Option<String>,
    /// Categories released.
    pub categories: Vec<String>,
    /// Number of entries released.
    pub entries: usize,
    /// When (RFC 3339, UTC).
    pub released_at: String,
    /// By whom (user name).
    pub released_by: String,
    /// The audit entry that records the release.
    pub audit_seq: u64,
    /// Exactly which fields left, per category, and under which limit.
    pub released: Vec<ReleasedPart>,
    /// What was withheld from what the basis allowed, and why (a restriction, free text).
    pub withheld: Vec<WithheldPart>,
    /// The authorization's scope, as recorded, for a release under one.
    pub authorization_scope: Option<String>,
    /// The order's issuer and date (RFC 3339), for a court order or subpoena.
    pub order: Option<(String, String)>,
    /// For a protective release: the person at risk.
    pub at_risk: Option<PersonAtRisk>,
    /// For a protective release: the threat.
    pub threat: Option<String>,
    /// For a protective release: the fields named beyond the minimum, with their reasons.
    pub named: Vec<NamedField>,
    /// The disputes this release carries (164.526(d)(5)): each denied amendment request with a
    /// statement of disagreement about a released entry.
    pub disputes: Vec<DisputeRef>,
}

/// A copy of the consent a release relies on (42 CFR 2.32 requires one with Part 2 records).
/// `Debug` redacts its description.
#[derive(Clone, Serialize)]
pub struct ConsentCopy {
    /// The consent.
    pub id: String,
    /// What it names.
    pub categories: Vec<String>,
    /// For what.
    pub purpose: String,
    /// Signed on (RFC 3339).
    pub signed_on: String,
    /// Expires (RFC 3339), if it does.
    pub expires: Option<String>,
    /// Its description of the information, as signed.
    pub description: String,
}

/// A release package: decrypted, permitted fields only, with its manifest.
///
/// It holds plaintext by design: it is what the practice sends. Keep it no longer than needed.
#[derive(Clone, Debug, Serialize)]
pub struct ReleasePackage {
    /// What, to whom, why, on which basis, when, by whom.
    pub manifest: Manifest,
    /// The released entries.
    pub items: Vec<PackageItem>,
    /// The 42 CFR 2.32 notice, for Part 2 records.
    pub redisclosure_notice: Option<String>,
    /// A copy of the consent, for Part 2 records released with consent.
    pub consent_copy: Option<ConsentCopy>,
    /// The disputes that travel with the released entries, in full (164.526(d)(5)).
    pub disputes: Vec<Dispute>,
}

impl ReleasePackage {
    /// The package as pretty-printed JSON.
    pub fn to_json(&self) -> String {
        // INVARIANT: every field is a string, number, list or map of those; serialising them
        // cannot fail, but an empty object is a safe answer if it ever did.
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".into())
    }
}

/// One line of the accounting of disclosures (45 CFR 164.528(b)(2)). `Debug` redacts the
/// recipient and the description.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct AccountingEntry {
    /// When (unix ms).
    pub disclosed_at_ms: i64,
    /// When, as RFC 3339 UTC.
    pub disclosed_at: String,
    /// To whom, and their address.
    pub recipient: OutsideParty,
    /// A brief description of what was disclosed.
    pub description: String,
    /// The purpose (HL7 code).
    pub purpose: String,
    /// The legal basis.
    pub legal_basis: String,
    /// The audit entry of the release.
    pub audit_seq: u64,
}

/// One item the practice must keep after an erasure request, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Retained {
    /// What is kept.
    pub what: String,
    /// On which basis.
    pub basis: String,
    /// Until when (unix ms).
    pub until_ms: i64,
}

/// The answer to a request for erasure (GDPR 17(3)(c); HIPAA retention).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ErasureAnswer {
    /// What is kept, why, until when.
    pub retained: Vec<Retained>,
    /// From when the client's data keys may be destroyed (unix ms).
    pub erasable_from_ms: i64,
}

/// A de-identified extract for consultation outside the care team: no name, contact, date of
/// birth or other identifier; the client is a pseudonym; dates are reduced to the year.
#[derive(Clone, Debug, Serialize)]
pub struct ConsultationExtract {
    /// A pseudonym, fresh for each extract.
    pub pseudonym: String,
    /// The entries, identifiers removed.
    pub items: Vec<PackageItem>,
}

impl fmt::Debug for OutsideParty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutsideParty")
            .field("name", &Redacted)
            .field("organisation", &Redacted)
            .field("address", &Redacted)
            .finish()
    }
}

impl fmt::Debug for Order {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Order")
            .field("issuer", &Redacted)
            .field("issued_on_ms", &self.issued_on_ms)
            .field("names", &self.names)
            .finish()
    }
}

impl fmt::Debug for PersonAtRisk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PersonAtRisk")
            .field("name", &Redacted)
            .field("contact", &Redacted)
            .finish()
    }
}

impl fmt::Debug for NamedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NamedField")
            .field("category", &self.category)
            .field("field", &self.field)
            .field("reason", &Redacted)
            .finish()
    }
}

impl fmt::Debug for Protective {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Protective")
            .field("at_risk", &self.at_risk)
            .field("threat", &Redacted)
            .field("named", &self.named)
            .finish()
    }
}

impl fmt::Debug for DisclosureRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DisclosureRequest")
            .field("client", &self.client)
            .field("case", &self.case)
            .field("recipient", &self.recipient)
            .field("purpose", &self.purpose)
            .field("basis", &self.basis)
            .field("consent", &self.consent)
            .field("reference", &redacted_if_some(&self.reference))
            .field("order", &self.order)
            .field("categories", &self.categories)
            .field("narrow", &self.narrow)
            .field("protective", &self.protective)
            .field("description", &Redacted)
            .finish()
    }
}

/// A map's keys, each with `[redacted]` for its value.
struct NamesOnly<'a>(&'a BTreeMap<String, String>);

impl fmt::Debug for NamesOnly<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.keys().map(|k| (k, Redacted)))
            .finish()
    }
}

impl fmt::Debug for PackageItem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackageItem")
            .field("id", &self.id)
            .field("category", &self.category)
            .field("kind", &self.kind)
            .field("written", &self.written)
            .field("fields", &NamesOnly(&self.fields))
            .field("addendum_of", &self.addendum_of)
            .field("amends", &self.amends)
            .finish()
    }
}

impl fmt::Debug for Manifest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manifest")
            .field("disclosure_id", &self.disclosure_id)
            .field("client", &self.client)
            .field("recipient", &self.recipient)
            .field("purpose", &self.purpose)
            .field("legal_basis", &self.legal_basis)
            .field("reference", &redacted_if_some(&self.reference))
            .field("categories", &self.categories)
            .field("entries", &self.entries)
            .field("released_at", &self.released_at)
            .field("released_by", &self.released_by)
            .field("audit_seq", &self.audit_seq)
            .field("released", &self.released)
            .field("withheld", &self.withheld)
            .field("authorization_scope", &self.authorization_scope)
            .field("order", &self.order.as_ref().map(|(_, on)| (Redacted, on)))
            .field("at_risk", &self.at_risk)
            .field("threat", &redacted_if_some(&self.threat))
            .field("named", &self.named)
            .field("disputes", &self.disputes)
            .finish()
    }
}

impl fmt::Debug for Dispute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Dispute")
            .field("request", &self.request)
            .field("records", &self.records)
            .field("what", &Redacted)
            .field("why", &Redacted)
            .field("denial_basis", &self.denial_basis)
            .field("denial_explanation", &Redacted)
            .field("statement", &Redacted)
            .field("rebuttal", &redacted_if_some(&self.rebuttal))
            .finish()
    }
}

impl fmt::Debug for ConsentCopy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConsentCopy")
            .field("id", &self.id)
            .field("categories", &self.categories)
            .field("purpose", &self.purpose)
            .field("signed_on", &self.signed_on)
            .field("expires", &self.expires)
            .field("description", &Redacted)
            .finish()
    }
}

impl fmt::Debug for AccountingEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccountingEntry")
            .field("disclosed_at_ms", &self.disclosed_at_ms)
            .field("disclosed_at", &self.disclosed_at)
            .field("recipient", &self.recipient)
            .field("description", &Redacted)
            .field("purpose", &self.purpose)
            .field("legal_basis", &self.legal_basis)
            .field("audit_seq", &self.audit_seq)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CANARY: &str = "CANARY-4471";

    fn party() -> OutsideParty {
        OutsideParty {
            name: format!("{CANARY} name"),
            organisation: format!("{CANARY} org"),
            address: format!("{CANARY} address"),
        }
    }

    #[test]
    fn debug_shows_ids_and_codes_but_no_text() {
        let item = PackageItem {
            id: "r1".into(),
            category: "diagnosis".into(),
            kind: "diagnosis".into(),
            written: "2026-01-01T00:00:00Z".into(),
            fields: [("code".to_owned(), CANARY.to_owned())].into(),
            addendum_of: None,
            amends: None,
        };
        let manifest = Manifest {
            disclosure_id: "d1".into(),
            client: "c1".into(),
            recipient: party(),
            purpose: "TREAT".into(),
            legal_basis: "authorization".into(),
            reference: Some(CANARY.into()),
            categories: vec!["diagnosis".into()],
            entries: 1,
            released_at: "2026-01-01T00:00:00Z".into(),
            released_by: "dr.a".into(),
            audit_seq: 7,
            released: vec![],
            withheld: vec![],
            authorization_scope: None,
            order: Some((CANARY.into(), "2026-01-01T00:00:00Z".into())),
            at_risk: Some(PersonAtRisk {
                name: CANARY.into(),
                contact: CANARY.into(),
            }),
            threat: Some(CANARY.into()),
            named: vec![NamedField {
                category: Category::ProgressNotes,
                field: "summary".into(),
                reason: CANARY.into(),
            }],
            disputes: vec![],
        };
        let dispute = Dispute {
            request: "q1".into(),
            records: vec!["r1".into()],
            what: CANARY.into(),
            why: CANARY.into(),
            denial_basis: "accurate-and-complete".into(),
            denial_explanation: CANARY.into(),
            statement: CANARY.into(),
            rebuttal: Some(CANARY.into()),
        };
        let copy = ConsentCopy {
            id: "k1".into(),
            categories: vec![],
            purpose: "TREAT".into(),
            signed_on: "2026-01-01T00:00:00Z".into(),
            expires: None,
            description: CANARY.into(),
        };
        let accounting = AccountingEntry {
            disclosed_at_ms: 0,
            disclosed_at: "1970-01-01T00:00:00Z".into(),
            recipient: party(),
            description: CANARY.into(),
            purpose: "HLEGAL".into(),
            legal_basis: "court-order".into(),
            audit_seq: 9,
        };
        let shown = [
            format!("{item:?}"),
            format!("{manifest:?}"),
            format!("{copy:?}"),
            format!("{accounting:?}"),
            format!("{dispute:?}"),
            format!("{:?}", ReleaseScope::condition(CANARY)),
        ];
        for text in &shown {
            assert!(!text.contains(CANARY), "{text}");
            assert!(text.contains("[redacted]"), "{text}");
        }
        // What is not plaintext stays visible, for debugging.
        assert!(shown[0].contains("\"code\": [redacted]"), "{}", shown[0]);
        assert!(shown[1].contains("audit_seq: 7") && shown[1].contains("\"dr.a\""));
        assert!(shown[1].contains("reference: Some([redacted])"));
        assert!(shown[1].contains("\"summary\""), "{}", shown[1]);
    }
}
