//! The state a checkpoint of version 2 signs: whether the vault was open or closed at the
//! entry it covers, or a backup was taken there.

/// What a checkpoint of version 2 (format 8 on) says the vault was doing at the entry it
/// covers. Signed with it: a row edited to say otherwise no longer verifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SealState {
    /// In use: entries may follow, and a later checkpoint covers them unless the process dies.
    Open,
    /// Closed cleanly: the entry is the close marker.
    Closed,
    /// A backup was taken with this entry as its last: a copy that ends here is complete.
    Backup,
}

impl SealState {
    /// The byte stored in `audit_checkpoints.state` and signed.
    pub(crate) fn code(self) -> u8 {
        match self {
            SealState::Open => 1,
            SealState::Closed => 2,
            SealState::Backup => 3,
        }
    }

    pub(crate) fn from_code(code: i64) -> Option<Self> {
        Some(match code {
            1 => SealState::Open,
            2 => SealState::Closed,
            3 => SealState::Backup,
            _ => return None,
        })
    }

    /// The word a witness line and an anchor use.
    pub(crate) fn name(self) -> &'static str {
        match self {
            SealState::Open => "open",
            SealState::Closed => "closed",
            SealState::Backup => "backup",
        }
    }

    pub(crate) fn from_name(name: &str) -> Option<Self> {
        [SealState::Open, SealState::Closed, SealState::Backup]
            .into_iter()
            .find(|s| s.name() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_are_fixed() {
        // Golden values: these are stored and signed.
        let all = [
            (SealState::Open, 1, "open"),
            (SealState::Closed, 2, "closed"),
            (SealState::Backup, 3, "backup"),
        ];
        for (state, code, name) in all {
            assert_eq!((state.code(), state.name()), (code, name));
            assert_eq!(SealState::from_code(i64::from(code)), Some(state));
            assert_eq!(SealState::from_name(name), Some(state));
        }
        assert_eq!(SealState::from_code(0), None);
        assert_eq!(SealState::from_code(4), None);
        assert_eq!(SealState::from_name("Open"), None);
    }
}
