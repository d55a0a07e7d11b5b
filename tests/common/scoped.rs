//! Helpers of the authorization stories (tests/release_authorizations.rs, tests/release_joint.rs):
//! consents with a scope, requests that cite them, the manifest as expected, a chart on a clock
//! the test moves, and searches of the vault's bytes.

#![allow(
    dead_code,
    reason = "each test file uses a different part of the helpers"
)]

use std::path::Path;
use std::time::Duration;

use confide::{
    AccountingEntry, Category, ClientId, ConsentId, DisclosureRequest, LegalBasis, NewConsent,
    OutsideParty, Purpose, ReleasePackage, ReleaseScope, ReleasedPart, Session, TestClock,
    WithheldPart,
};

use crate::common::{Practice, raw, test_config};
use crate::disclosing::{Chart, ask, signed, with_consent};

/// 2026-03-02 09:00 UTC.
pub const NINE_AM: i64 = 1_772_442_000_000;
pub const MINUTE: Duration = Duration::from_secs(60);
pub const MINUTE_MS: i64 = 60_000;

/// The chart of tests/common/disclosing.rs in a practice on `clock`, whose sessions stay
/// unlocked through a working day.
pub fn chart_on(clock: TestClock) -> Chart {
    let config = test_config()
        .with_test_clock(clock)
        .with_idle_timeout(Duration::from_secs(8 * 3600));
    Chart::in_practice(Practice::with_config(config))
}

pub fn eap() -> OutsideParty {
    crate::disclosing::party(
        "Case Manager",
        "Acme Employee Assistance Program",
        "77 Industrial Way, Springfield",
    )
}

pub fn adjuster() -> OutsideParty {
    crate::disclosing::party(
        "Claims Adjuster",
        "Statewide Workers' Compensation Fund",
        "3 Insurance Plaza, Capitol City",
    )
}

/// A consent to `to` for `purpose`, limited to `scope` (its categories are the scope's), in
/// force from `start_ms`.
pub fn scoped(
    to: &OutsideParty,
    scope: ReleaseScope,
    purpose: Purpose,
    start_ms: i64,
    expires_ms: Option<i64>,
) -> NewConsent {
    let categories: Vec<Category> = scope.category_set().into_iter().collect();
    NewConsent {
        scope: Some(scope),
        ..signed(to, &categories, purpose, start_ms, expires_ms)
    }
}

/// A release to `to` under the authorization `consent`, for `categories`, not narrowed.
pub fn authorized(
    client: ClientId,
    to: &OutsideParty,
    purpose: Purpose,
    categories: &[Category],
    consent: ConsentId,
) -> DisclosureRequest {
    with_consent(
        ask(client, to, LegalBasis::Authorization, purpose, categories),
        consent,
    )
}

/// What left of `category`, under `limit`.
pub fn part(category: &str, fields: &[&str], limit: &str) -> ReleasedPart {
    ReleasedPart {
        category: category.into(),
        fields: fields.iter().map(|f| (*f).to_owned()).collect(),
        limit: limit.into(),
    }
}

/// One free-text field of one entry, left out of a payment release.
pub fn free_text_withheld(entry: &str, category: &str, field: &str) -> WithheldPart {
    WithheldPart {
        entry: Some(entry.into()),
        category: category.into(),
        field: Some(field.into()),
        reason: "free-text-on-payment".into(),
    }
}

/// The manifest says exactly what left, under which limit, what was withheld, and the scope of
/// the authorization it relied on.
#[track_caller]
pub fn assert_manifest(
    pkg: &ReleasePackage,
    released: &[ReleasedPart],
    withheld: &[WithheldPart],
    authorization_scope: Option<&str>,
) {
    let m = &pkg.manifest;
    assert_eq!(m.released, released, "released parts");
    assert_eq!(m.withheld, withheld, "withheld parts");
    assert_eq!(m.authorization_scope.as_deref(), authorization_scope);
}

/// The client's accounting of disclosures, as their clinician reads it.
pub fn accounting(dr: &Session, client: &ClientId) -> Vec<AccountingEntry> {
    dr.accounting(client, None).unwrap()
}

/// The ledger holds the release `pkg` (by its id).
pub fn in_ledger(p: &Practice, pkg: &ReleasePackage) -> bool {
    raw(p.path())
        .query_row(
            "SELECT COUNT(*) FROM disclosures WHERE lower(hex(disclosure_id)) = ?1",
            [&pkg.manifest.disclosure_id],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

/// Some text or blob cell of `table` holds `needle`.
pub fn table_holds(p: &Practice, table: &str, needle: &str) -> bool {
    let conn = raw(p.path());
    let mut stmt = conn.prepare(&format!("SELECT * FROM {table}")).unwrap();
    let columns = stmt.column_count();
    let mut rows = stmt.query([]).unwrap();
    let needle = needle.as_bytes();
    while let Some(row) = rows.next().unwrap() {
        for i in 0..columns {
            let bytes: Vec<u8> = match row.get_ref(i).unwrap() {
                rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => {
                    t.to_vec()
                }
                _ => continue,
            };
            if bytes.windows(needle.len()).any(|w| w == needle) {
                return true;
            }
        }
    }
    false
}

/// The vault file, its WAL or its shared-memory file holds `needle`.
pub fn file_holds(path: &Path, needle: &str) -> bool {
    ["", "-wal", "-shm"].iter().any(|suffix| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
    })
}
