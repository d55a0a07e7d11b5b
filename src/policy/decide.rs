//! Decisions for the vault core: a clinician reaches the clients they treat, an admin manages
//! users, an auditor reads audit metadata; everything else is denied.

use std::fmt;

use crate::model::{Purpose, RecordKind, Role};

/// What is being asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Access {
    /// Add or change users.
    ManageUsers,
    /// Read the audit log's metadata.
    ReadAuditLog,
    /// Register a new client (the requester becomes their treating clinician).
    CreateClient,
    /// Look a client up by name and date of birth.
    FindClient,
    /// List a client's record and note metadata (ids, kinds, dates).
    ListRecords,
    /// Read one general-record entry of this kind.
    ReadRecord(RecordKind),
    /// Write (create or update) one general-record entry of this kind.
    WriteRecord(RecordKind),
    /// Read a psychotherapy note.
    ReadNote,
    /// Write a psychotherapy note.
    WriteNote,
}

/// A request, as the policy sees it: who, in which role, asks for what, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// The requester's role.
    pub role: Role,
    /// What they ask for.
    pub access: Access,
    /// Their stated purpose of use.
    pub purpose: Purpose,
}

/// Cleartext facts about the requester's relationship to the target, gathered by the vault.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// The requester is on the target client's care team.
    pub on_care_team: bool,
    /// The requester wrote the target psychotherapy note.
    pub is_note_author: bool,
}

/// Why a request was refused. The code is stored in the audit log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DenyReason {
    /// The role may never have this.
    RoleNotPermitted,
    /// The stated purpose does not justify this access.
    PurposeNotPermitted,
    /// The requester does not treat this client.
    NotOnCareTeam,
    /// Psychotherapy notes go to their author only (45 CFR 164.508(a)(2)).
    NotNoteAuthor,
}

impl DenyReason {
    /// The stable code.
    pub fn code(self) -> &'static str {
        match self {
            DenyReason::RoleNotPermitted => "role-not-permitted",
            DenyReason::PurposeNotPermitted => "purpose-not-permitted",
            DenyReason::NotOnCareTeam => "not-on-care-team",
            DenyReason::NotNoteAuthor => "not-note-author",
        }
    }
}

impl fmt::Display for DenyReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The policy's answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Go ahead.
    Allow,
    /// Refuse, for this reason.
    Deny(DenyReason),
}

/// Decide a request. Default deny: only the cases listed here are allowed.
pub fn decide(req: &Request, facts: &Facts) -> Decision {
    use Access::*;
    use Decision::*;
    use DenyReason::*;
    match (req.role, req.access) {
        (Role::Admin, ManageUsers) | (Role::Admin | Role::Auditor, ReadAuditLog) => {
            if req.purpose == Purpose::Operations {
                Allow
            } else {
                Deny(PurposeNotPermitted)
            }
        }
        (Role::Clinician, CreateClient | FindClient) => treatment_only(req.purpose),
        (Role::Clinician, ListRecords | ReadRecord(_) | WriteRecord(_) | WriteNote) => {
            match treatment_only(req.purpose) {
                Allow if facts.on_care_team => Allow,
                Allow => Deny(NotOnCareTeam),
                deny => deny,
            }
        }
        (Role::Clinician, ReadNote) => match treatment_only(req.purpose) {
            Allow if !facts.on_care_team => Deny(NotOnCareTeam),
            Allow if !facts.is_note_author => Deny(NotNoteAuthor),
            other => other,
        },
        _ => Deny(RoleNotPermitted),
    }
}

fn treatment_only(purpose: Purpose) -> Decision {
    if purpose == Purpose::Treatment {
        Decision::Allow
    } else {
        Decision::Deny(DenyReason::PurposeNotPermitted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all_accesses() -> Vec<Access> {
        let mut v = vec![
            Access::ManageUsers,
            Access::ReadAuditLog,
            Access::CreateClient,
            Access::FindClient,
            Access::ListRecords,
            Access::ReadNote,
            Access::WriteNote,
        ];
        for k in RecordKind::ALL {
            v.push(Access::ReadRecord(*k));
            v.push(Access::WriteRecord(*k));
        }
        v
    }

    fn all_facts() -> [Facts; 4] {
        [(false, false), (true, false), (false, true), (true, true)].map(
            |(on_care_team, is_note_author)| Facts {
                on_care_team,
                is_note_author,
            },
        )
    }

    #[test]
    fn only_clinicians_reach_clinical_content() {
        for role in Role::ALL {
            for access in all_accesses() {
                for purpose in Purpose::ALL {
                    for facts in all_facts() {
                        let req = Request {
                            role: *role,
                            access,
                            purpose: *purpose,
                        };
                        let d = decide(&req, &facts);
                        let clinical = matches!(
                            access,
                            Access::ReadRecord(_)
                                | Access::WriteRecord(_)
                                | Access::ReadNote
                                | Access::WriteNote
                                | Access::ListRecords
                        );
                        if d == Decision::Allow && clinical {
                            assert_eq!(*role, Role::Clinician, "{req:?}");
                            assert!(facts.on_care_team, "{req:?} {facts:?}");
                            assert_eq!(*purpose, Purpose::Treatment);
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn treating_clinician_reads_and_writes() {
        let facts = Facts {
            on_care_team: true,
            is_note_author: false,
        };
        let req = |access| Request {
            role: Role::Clinician,
            access,
            purpose: Purpose::Treatment,
        };
        assert_eq!(
            decide(&req(Access::ReadRecord(RecordKind::Diagnosis)), &facts),
            Decision::Allow
        );
        assert_eq!(decide(&req(Access::WriteNote), &facts), Decision::Allow);
        assert_eq!(
            decide(&req(Access::ReadNote), &facts),
            Decision::Deny(DenyReason::NotNoteAuthor)
        );
        let author = Facts {
            is_note_author: true,
            ..facts
        };
        assert_eq!(decide(&req(Access::ReadNote), &author), Decision::Allow);
    }

    #[test]
    fn refusals_carry_the_right_reason() {
        let outsider = Facts::default();
        let read = Access::ReadRecord(RecordKind::ProgressNote);
        let clin = |purpose| Request {
            role: Role::Clinician,
            access: read,
            purpose,
        };
        assert_eq!(
            decide(&clin(Purpose::Treatment), &outsider),
            Decision::Deny(DenyReason::NotOnCareTeam)
        );
        let team = Facts {
            on_care_team: true,
            is_note_author: true,
        };
        assert_eq!(
            decide(&clin(Purpose::Payment), &team),
            Decision::Deny(DenyReason::PurposeNotPermitted)
        );
        let biller = Request {
            role: Role::Biller,
            access: read,
            purpose: Purpose::Payment,
        };
        assert_eq!(
            decide(&biller, &team),
            Decision::Deny(DenyReason::RoleNotPermitted)
        );
        let admin = Request {
            role: Role::Admin,
            access: read,
            purpose: Purpose::Operations,
        };
        assert_eq!(
            decide(&admin, &team),
            Decision::Deny(DenyReason::RoleNotPermitted)
        );
    }
}
