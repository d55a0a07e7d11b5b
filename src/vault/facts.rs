//! Stored facts checked before they are trusted: storage reads them, the audit module's digests
//! vouch for them, and only the vault, which composes the two, compares.

use rusqlite::Connection;

use crate::audit::fields_digest_of;
use crate::db::rows::{self, FieldRow, FieldTable};
use crate::error::{Error, Place, Result};

/// Check `stored`, every field row of `parent`, against the digest the parent recorded: a field
/// row deleted, added or rolled back on its own is `Error::Integrity`. Parents written before
/// format 5 have no digest until their next write.
pub(crate) fn check_fields_whole(
    conn: &Connection,
    table: FieldTable,
    parent: &[u8; 16],
    stored: &[FieldRow],
) -> Result<()> {
    let recorded = rows::recorded_fields_digest(conn, table, parent)?;
    check_fields_against(table, parent, stored, recorded.as_deref())
}

/// [`check_fields_whole`] against a digest the caller already read with the parent row.
pub(crate) fn check_fields_against(
    table: FieldTable,
    parent: &[u8; 16],
    stored: &[FieldRow],
    recorded: Option<&[u8]>,
) -> Result<()> {
    let Some(recorded) = recorded else {
        return Ok(());
    };
    let parts = stored
        .iter()
        .map(|f| (f.field.as_str(), f.key_version, f.envelope.as_slice()));
    if fields_digest_of(table.name(), parent, parts)[..] == recorded[..] {
        return Ok(());
    }
    Err(Error::Integrity {
        place: Place {
            table: table.name(),
            owner: "-".into(),
            record: hex::encode(parent),
            field: "(the set of fields)".into(),
        },
    })
}
