//! A vault put back to format 8, as an older vault held it, for the upgrade's tests.

use confide::{Category, ConsentRecipient, NewConsent, Purpose};

use crate::common::raw;

/// A consent of `client` to `user` for diagnosis codes, signed yesterday.
pub fn to_user(user: confide::UserId) -> NewConsent {
    let yesterday = now_ms() - 86_400_000;
    NewConsent {
        recipient: ConsentRecipient::User(user),
        categories: vec![Category::DiagnosisCodes],
        purpose: Purpose::Treatment,
        start_ms: yesterday,
        expires_ms: None,
        signed_on_ms: yesterday,
        description: "for a consultation".into(),
        scope: None,
        case: None,
        expiry_event: None,
        signed_by: None,
    }
}

pub fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

/// Put the file back to format 8 as a vault of that format held it: consents without scope
/// rows, and the later tables absent. `joint` consents named the joint record as well.
pub fn as_format_8(path: &std::path::Path, joint: &[confide::ConsentId]) {
    let db = raw(path);
    db.execute_batch(
        "PRAGMA foreign_keys = OFF;
         DROP TABLE narrowed_consents; DROP TABLE consent_scopes;
         DROP TABLE restrictions; DROP TABLE guardians;
         PRAGMA user_version = 8;",
    )
    .unwrap();
    drop_history(&db);
    for id in joint {
        db.execute(
            "UPDATE consents SET categories = 'diagnosis_codes,joint_record' \
             WHERE consent_id = ?1",
            [id.as_bytes()],
        )
        .unwrap();
    }
}

/// Take out what format 10 added (record history), as a vault of format 9 had it. Entries
/// written since keep the MAC over their history columns: a test reads none of them after.
pub fn drop_history(db: &rusqlite::Connection) {
    db.execute_batch(
        "DROP TABLE addenda; DROP TABLE amendment_fields; DROP TABLE amendment_requests;
         DROP TABLE signed_by_upgrade;",
    )
    .unwrap();
    for column in [
        "status",
        "signed_by",
        "signed_at",
        "cosigned_by",
        "cosigned_at",
        "addendum_of",
    ] {
        for table in ["records", "psychotherapy_notes"] {
            db.execute_batch(&format!("ALTER TABLE {table} DROP COLUMN {column}"))
                .unwrap();
        }
    }
    db.execute_batch(
        "ALTER TABLE records DROP COLUMN amends; ALTER TABLE clients DROP COLUMN drafts",
    )
    .unwrap();
}
