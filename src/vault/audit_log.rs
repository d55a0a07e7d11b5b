//! Reading a vault's audit log for review, and the clear facts a reviewer needs, without a
//! passphrase: storage's rows, selected and typed by the audit module.

use std::path::Path;

use crate::audit::{AuditFilter, AuditLog, Matcher, genesis_hash};
use crate::db::{self, audit_rows, rows};
use crate::error::{Error, Result};
use crate::ids::UserId;

/// Read the entries of a vault's audit log that match `filter`, oldest first. Needs no
/// passphrase and never writes to the file; reads one consistent snapshot.
///
/// A client or actor that no entry of the log names at all is an error
/// ([`Error::NotFound`]), so a mistyped id is not mistaken for "no activity". So is a `since`
/// later than `until` ([`Error::InvalidInput`]).
pub fn read_audit_log(path: impl AsRef<Path>, filter: &AuditFilter) -> Result<AuditLog> {
    let criteria = filter.criteria()?;
    let mut conn = db::open_read_only(path.as_ref())?;
    // Rolled back on drop: a read-only snapshot, so every query sees the same log.
    let tx = conn.transaction()?;
    let vault = rows::vault_id(&tx)?;
    let mut matcher = Matcher::new(criteria, &genesis_hash(&vault));
    audit_rows::for_each(&tx, 1, |e| matcher.push(e))?;
    matcher.finish(vault)
}

/// The id of the staff member with this user name, read without a passphrase (user names are
/// staff identities, kept in clear).
pub fn staff_user_id(path: impl AsRef<Path>, name: &str) -> Result<UserId> {
    let conn = db::open_read_only(path.as_ref())?;
    rows::user_by_name(&conn, name)?
        .map(|u| u.id)
        .ok_or(Error::NotFound { what: "user" })
}

/// How many entries an intact log of this vault holds (its newest sequence number), read
/// without a passphrase. Cheap: for sizing a progress display before verification, which alone
/// says whether the log really holds them.
pub fn audit_log_len(path: impl AsRef<Path>) -> Result<u64> {
    let conn = db::open_read_only(path.as_ref())?;
    let head = audit_rows::max_seq(&conn)?;
    Ok(u64::try_from(head).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Date;

    #[test]
    fn a_reversed_range_is_refused_before_the_file_is_opened() {
        let filter = AuditFilter {
            since: Some(Date::new(2024, 3, 2).unwrap()),
            until: Some(Date::new(2024, 3, 1).unwrap()),
            ..AuditFilter::default()
        };
        assert!(matches!(
            read_audit_log("/nonexistent/vault", &filter),
            Err(Error::InvalidInput {
                what: "date range",
                ..
            })
        ));
    }
}
