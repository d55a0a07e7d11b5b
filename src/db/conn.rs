//! Opening and creating vault files: pragmas, identification and migrations.

use std::fs::OpenOptions;
use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

use crate::error::{Error, Result};

/// `PRAGMA application_id` of every vault ("CNFD"): tells a vault from any other SQLite file.
pub(crate) const APPLICATION_ID: i32 = 0x434E_4644;

/// Numbered migrations from `schema/`. The vault's format version is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../../schema/0001_vault_core.sql"),
    include_str!("../../schema/0002_access_policy.sql"),
    include_str!("../../schema/0003_disclosures.sql"),
    include_str!("../../schema/0004_checkpoints.sql"),
    include_str!("../../schema/0005_key_lifetimes.sql"),
    include_str!("../../schema/0006_audit_entries.sql"),
    include_str!("../../schema/0007_compact_audit_entries.sql"),
    include_str!("../../schema/0008_authenticated_state.sql"),
    include_str!("../../schema/0009_release_scopes.sql"),
    include_str!("../../schema/0010_record_history.sql"),
];

/// The newest format this build writes and understands.
pub const FORMAT_VERSION: u32 = MIGRATIONS.len() as u32;

/// How durable each commit is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Durability {
    /// `synchronous = FULL`: a committed write or read's audit entry survives a power loss.
    #[default]
    Full,
    /// `synchronous = NORMAL`: survives an application crash; the last commits before a power
    /// loss may roll back (never a torn or corrupt file).
    Normal,
}

/// Prepared statements kept per connection.
const STATEMENT_CACHE: usize = 128;

fn apply_pragmas(conn: &Connection, durability: Durability) -> Result<()> {
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Overwrite deleted content with zeros, so replaced envelopes and dropped keys do not linger
    // in free pages.
    conn.pragma_update(None, "secure_delete", "ON")?;
    conn.pragma_update(None, "cell_size_check", "ON")?;
    conn.pragma_update(None, "trusted_schema", "OFF")?;
    conn.pragma_update(
        None,
        "synchronous",
        match durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        },
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    // Every statement of a read, a write and a session check stays prepared: rusqlite's default
    // of 16 is fewer than one chart read uses, and preparing again costs more than running.
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(())
}

/// Cap the file at `bytes` (rounded down to whole pages; at least one page): past it, writes
/// fail with `Error::DiskFull` as on a full disk.
pub(crate) fn cap_size(conn: &Connection, bytes: u64) -> Result<()> {
    let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
    let pages = (bytes / u64::try_from(page.max(1)).unwrap_or(4096)).max(1);
    let pages = i64::try_from(pages).unwrap_or(i64::MAX);
    // SQLite answers with the cap it set (never below the file's current size).
    let _set: i64 = conn.pragma_update_and_check(None, "max_page_count", pages, |r| r.get(0))?;
    Ok(())
}

/// Create a new, empty vault file with the current schema. Refuses to touch an existing file.
pub(crate) fn create(path: &Path, durability: Durability) -> Result<Connection> {
    // create_new makes "does it exist?" and "create it" one atomic step.
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Error::AlreadyExists {
                path: path.to_owned(),
            },
            _ => Error::Io(e),
        })?;
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "application_id", APPLICATION_ID)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    apply_pragmas(&conn, durability)?;
    migrate(&mut conn, 0)?;
    Ok(conn)
}

/// Open an existing vault read-write, upgrading an older format in place.
pub(crate) fn open(path: &Path, durability: Durability) -> Result<Connection> {
    let mut conn = open_checked(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    apply_pragmas(&conn, durability)?;
    let version = format_version(&conn)?;
    if version < FORMAT_VERSION {
        migrate(&mut conn, version)?;
    }
    Ok(conn)
}

/// A second connection to an open vault, for copying it (`VACUUM INTO`) while the vault's own
/// connection goes on: opened read-write so SQLite can share the write-ahead log's index with
/// other processes as usual, but nothing is written through it.
pub(crate) fn open_for_copy(path: &Path) -> Result<Connection> {
    let conn = open_checked(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Open a vault read-only, for verification. Never writes, never migrates.
pub(crate) fn open_read_only(path: &Path) -> Result<Connection> {
    let conn = open_checked(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let version = format_version(&conn)?;
    if version == 0 {
        return Err(Error::NotAVault);
    }
    Ok(conn)
}

fn open_checked(path: &Path, flags: OpenFlags) -> Result<Connection> {
    if !path.is_file() {
        return Err(Error::VaultNotFound {
            path: path.to_owned(),
        });
    }
    let conn = Connection::open_with_flags(path, flags)?;
    let app_id: i32 = conn.pragma_query_value(None, "application_id", |r| r.get(0))?;
    if app_id != APPLICATION_ID {
        return Err(Error::NotAVault);
    }
    let version = format_version(&conn)?;
    if version > FORMAT_VERSION {
        return Err(Error::NewerFormat {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    Ok(conn)
}

fn format_version(conn: &Connection) -> Result<u32> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    u32::try_from(v).map_err(|_| Error::Corrupt {
        what: "format version".into(),
    })
}

/// The format whose migration moves the audit log's rows into one blob each.
const AUDIT_ENTRIES_FORMAT: usize = 6;

/// Apply every migration after `from`, all in one transaction: a crash leaves the old format.
fn migrate(conn: &mut Connection, from: u32) -> Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from as usize) {
        tx.execute_batch(sql)?;
        if i + 1 == AUDIT_ENTRIES_FORMAT {
            crate::db::audit_rows::move_rows_before_format_6(&tx)?;
        }
    }
    tx.pragma_update(None, "user_version", FORMAT_VERSION)?;
    tx.commit()?;
    Ok(())
}

/// Make every commit so far durable with `synchronous = NORMAL`: a checkpoint of the
/// write-ahead log syncs it first. (Passive: it waits for no reader.)
pub(crate) fn sync_wal(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
    Ok(())
}

/// Move every page out of the write-ahead log and truncate it, so that what was deleted does
/// not linger there.
pub(crate) fn checkpoint_wal(conn: &Connection) -> Result<()> {
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_then_open() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v.vault");
        drop(create(&p, Durability::Full).unwrap());
        assert!(matches!(
            create(&p, Durability::Full),
            Err(Error::AlreadyExists { .. })
        ));
        let c = open(&p, Durability::Normal).unwrap();
        let mode: String = c
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(format_version(&c).unwrap(), FORMAT_VERSION);
    }

    #[test]
    fn refuses_foreign_and_newer_files() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.vault");
        assert!(matches!(
            open(&missing, Durability::Full),
            Err(Error::VaultNotFound { .. })
        ));

        let text = dir.path().join("notes.txt");
        std::fs::write(&text, "just some text, not a database at all.......").unwrap();
        assert!(matches!(
            open(&text, Durability::Full),
            Err(Error::NotAVault)
        ));

        let other = dir.path().join("other.db");
        Connection::open(&other)
            .unwrap()
            .execute_batch("CREATE TABLE t (x)")
            .unwrap();
        assert!(matches!(
            open(&other, Durability::Full),
            Err(Error::NotAVault)
        ));

        let newer = dir.path().join("newer.vault");
        drop(create(&newer, Durability::Full).unwrap());
        Connection::open(&newer)
            .unwrap()
            .pragma_update(None, "user_version", FORMAT_VERSION + 1)
            .unwrap();
        assert!(matches!(
            open(&newer, Durability::Full),
            Err(Error::NewerFormat { found, supported }) if found == FORMAT_VERSION + 1 && supported == FORMAT_VERSION
        ));
    }
}
