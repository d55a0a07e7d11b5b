//! Identifier newtypes.
//!
//! Ids are 128 random bits: pseudonymous, so a thief holding the file learns nothing from them,
//! and unguessable, so an id from one vault never names an object in another by accident.

use std::fmt;
use std::str::FromStr;

use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name([u8; 16]);

        impl $name {
            /// A fresh random id.
            pub(crate) fn random(rng: &SystemRandom) -> Result<Self> {
                let mut b = [0u8; 16];
                rng.fill(&mut b).map_err(|_| Error::Crypto("random source failed"))?;
                Ok(Self(b))
            }

            /// The raw bytes, as stored.
            pub fn as_bytes(&self) -> &[u8; 16] {
                &self.0
            }

            /// From its bytes, as stored.
            #[allow(dead_code)] // Not every kind of id is rebuilt from a stored link.
            pub(crate) fn from_bytes(b: [u8; 16]) -> Self {
                Self(b)
            }

            /// Rebuild from stored bytes.
            pub(crate) fn from_slice(b: &[u8]) -> Result<Self> {
                let arr: [u8; 16] = b.try_into().map_err(|_| Error::Corrupt {
                    what: concat!("stored ", $what, " id").into(),
                })?;
                Ok(Self(arr))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&hex::encode(self.0))
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self> {
                let mut b = [0u8; 16];
                hex::decode_to_slice(s, &mut b).map_err(|_| Error::InvalidInput {
                    what: concat!($what, " id"),
                    reason: "expected 32 hexadecimal digits".into(),
                })?;
                Ok(Self(b))
            }
        }
    };
}

id_type!(
    /// A vault: one practice's file.
    VaultId,
    "vault"
);
id_type!(
    /// A user of the vault (staff member).
    UserId,
    "user"
);
id_type!(
    /// A client of the practice.
    ClientId,
    "client"
);
id_type!(
    /// One general-record entry (a diagnosis, a progress note, ...).
    RecordId,
    "record"
);
id_type!(
    /// One psychotherapy note.
    NoteId,
    "note"
);
id_type!(
    /// A couple, family or group case.
    CaseId,
    "case"
);
id_type!(
    /// One consent (release of information).
    ConsentId,
    "consent"
);
id_type!(
    /// One entry of a case's joint record.
    JointRecordId,
    "joint record"
);
id_type!(
    /// A restriction a client asked for (45 CFR 164.522(a)).
    RestrictionId,
    "restriction"
);
id_type!(
    /// A client's request to amend their record (45 CFR 164.526).
    AmendmentId,
    "amendment request"
);
id_type!(
    /// A minor's guardian (personal representative, 45 CFR 164.502(g)).
    GuardianId,
    "guardian"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_hex() {
        let rng = SystemRandom::new();
        let id = ClientId::random(&rng).unwrap();
        let parsed: ClientId = id.to_string().parse().unwrap();
        assert_eq!(id, parsed);
        assert_ne!(id, ClientId::random(&rng).unwrap());
    }

    #[test]
    fn malformed_ids_are_typed_errors() {
        assert!(matches!(
            "xyz".parse::<RecordId>(),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            RecordId::from_slice(&[1, 2, 3]),
            Err(Error::Corrupt { .. })
        ));
    }
}

/// Whose data key seals an entry: a client (their general record, notes and consents), a case
/// (its joint record) or the vault itself (the disclosure ledger). The same 128 bits as the id
/// it is made from, named for what it does in the key hierarchy and the associated data.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct OwnerId([u8; 16]);

impl OwnerId {
    pub(crate) fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    pub(crate) fn from_slice(b: &[u8]) -> Result<Self> {
        let arr: [u8; 16] = b.try_into().map_err(|_| Error::Corrupt {
            what: "stored owner id".into(),
        })?;
        Ok(Self(arr))
    }
}

impl From<&ClientId> for OwnerId {
    fn from(id: &ClientId) -> Self {
        Self(id.0)
    }
}

impl From<&CaseId> for OwnerId {
    fn from(id: &CaseId) -> Self {
        Self(id.0)
    }
}

impl From<&VaultId> for OwnerId {
    fn from(id: &VaultId) -> Self {
        Self(id.0)
    }
}

impl fmt::Display for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for OwnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "OwnerId({self})")
    }
}
