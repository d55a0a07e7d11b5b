//! Couples and groups for the joint-release stories (tests/release_joint.rs): a case with one
//! joint-record entry and an individual-session note of each member, and the people the members
//! authorize.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the fixture"
)]

use std::collections::BTreeMap;

use confide::{
    CaseId, CaseKind, Category, ClientId, ConsentId, DisclosureRequest, JointRecordId, LegalBasis,
    OutsideParty, Purpose, RecordId, SecretsPolicy, Session, Value,
};

use crate::common::{Practice, new_client};
use crate::disclosing::{Item, T, ask, joint_consent, party, with_consent};

pub const JOINT_SESSION: &str = "Joint session 2: pursue-withdraw cycle around money; homework";
pub const NOTES: [&str; 3] = [
    "Disclosed an ongoing affair with a coworker; has not told partner",
    "Has already retained a divorce lawyer; not ready to say so",
    "Relapsed twice this month; ashamed to tell the group",
];
pub const NAMES: [&str; 3] = ["Alex Morgan", "Blake Morgan", "Casey Lin"];

/// A case seen by dr.a, one joint-record entry, and each member's individual note.
pub struct Joint {
    pub p: Practice,
    pub members: Vec<ClientId>,
    pub case: CaseId,
    pub joint: JointRecordId,
    /// Each member's individual-session note, in member order.
    pub notes: Vec<RecordId>,
}

impl Joint {
    pub fn dr(&self) -> Session {
        self.p.login("dr.a")
    }

    /// The joint-record entries `ids`, as a release must hold them.
    pub fn items(&self, ids: &[(JointRecordId, &str)]) -> Vec<Item> {
        let mut items: Vec<Item> = ids
            .iter()
            .map(|(id, text)| {
                (
                    id.to_string(),
                    "joint_record".to_owned(),
                    "joint_record".to_owned(),
                    BTreeMap::from([("summary".to_owned(), (*text).to_owned())]),
                )
            })
            .collect();
        items.sort();
        items
    }

    /// The one joint entry written at intake.
    pub fn want(&self) -> Vec<Item> {
        self.items(&[(self.joint, JOINT_SESSION)])
    }

    /// Every member's individual note and the joint text: nothing the audit entry may hold.
    pub fn secrets(&self) -> Vec<String> {
        let mut s: Vec<String> = NOTES[..self.members.len()]
            .iter()
            .map(|n| (*n).to_owned())
            .collect();
        s.push(JOINT_SESSION.to_owned());
        s
    }

    /// `member` authorizes the joint content of the case to `to` for `purpose`.
    pub fn authorize(&self, member: usize, to: &OutsideParty, purpose: Purpose) -> ConsentId {
        joint_consent(&self.dr(), &self.members[member], self.case, to, purpose)
    }

    /// A release of the joint record, for `member`, to `to` under `consent`.
    pub fn request(
        &self,
        member: usize,
        to: &OutsideParty,
        purpose: Purpose,
        consent: ConsentId,
    ) -> DisclosureRequest {
        DisclosureRequest {
            case: Some(self.case),
            ..with_consent(
                ask(
                    self.members[member],
                    to,
                    LegalBasis::Authorization,
                    purpose,
                    &[Category::JointRecord],
                ),
                consent,
            )
        }
    }
}

/// A case of `kind` with `n` members under `secrets`.
pub fn case_of(kind: CaseKind, secrets: SecretsPolicy, n: usize) -> Joint {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let members: Vec<ClientId> = NAMES[..n].iter().map(|m| new_client(&dr, m)).collect();
    let case = dr.create_case(kind, secrets, &members, T).unwrap();
    let joint = dr
        .write_joint_record(&case, &[("summary", Value::text(JOINT_SESSION))], T)
        .unwrap();
    let notes = members
        .iter()
        .zip(NOTES)
        .map(|(m, text)| {
            dr.write_case_note(&case, m, &[("disclosure", Value::text(text))], T)
                .unwrap()
        })
        .collect();
    drop(dr);
    Joint {
        p,
        members,
        case,
        joint,
        notes,
    }
}

/// Alex and Blake, a couple.
pub fn couple_under(secrets: SecretsPolicy) -> Joint {
    case_of(CaseKind::Couple, secrets, 2)
}

pub const POLICIES: [SecretsPolicy; 2] =
    [SecretsPolicy::NoSecrets, SecretsPolicy::HeldInConfidence];

pub fn alex_lawyer() -> OutsideParty {
    party(
        "Jamie Ruiz, Esq.",
        "Ruiz Family Law",
        "5 Court Street, Springfield",
    )
}

pub fn blake_lawyer() -> OutsideParty {
    party(
        "Morgan Patel, Esq.",
        "Patel & Stone LLP",
        "90 Elm Avenue, Springfield",
    )
}

pub fn mediator() -> OutsideParty {
    party(
        "Robin Ames",
        "Springfield Family Mediation",
        "14 Maple Road, Springfield",
    )
}
