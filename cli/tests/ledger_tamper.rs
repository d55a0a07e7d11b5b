//! Tamper evidence of the disclosure ledger, end to end through the real `audit-verify` binary
//! and through `confide::verify_audit_log`.
//!
//! The ledger records what left the vault; each row is vouched for by the `disclosure.release`
//! audit entry that committed with it, through a digest of the row and its sealed fields that
//! the hash chain covers. The schema's triggers refuse a plain UPDATE or DELETE, so each attack
//! here first drops them, as anyone with write access to the file can, then edits the SQLite
//! file directly. `audit-verify` must exit 1 and name the release's sequence number.

mod common;

use std::path::{Path, PathBuf};

use common::{Practice, audit_sql, audit_verify, new_client, raw};
use confide::{
    Category, ClientId, ConsentRecipient, DisclosureRequest, Error, Finding, FindingKind,
    LegalBasis, NewConsent, OutsideParty, Purpose, RecordKind, Session, Value, Vault,
    verify_audit_log,
};
use ring::digest::{Context, SHA256};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, params};

/// The ledger's columns, in the order the digest hashes them.
const LEDGER_COLUMNS: &str = "disclosure_id, client_id, case_id, disclosed_at, purpose, \
     legal_basis, categories, consent_id, accountable, released_by, audit_seq";

// ---------------------------------------------------------------------------------------------
// A closed vault with some releases
// ---------------------------------------------------------------------------------------------

/// One release: its ledger row's id and the audit entry that vouches for it.
#[derive(Clone, Debug)]
struct Rel {
    id: Vec<u8>,
    seq: i64,
}

/// A closed vault file in which dr.a released Jordan's information four times.
struct Built {
    _dir: tempfile::TempDir,
    path: PathBuf,
    jordan: ClientId,
    /// Duty to warn (accountable).
    warn: Rel,
    /// Court order (accountable).
    order: Rel,
    /// Under the client's authorization (not accountable).
    authorized: Rel,
    /// Medical emergency (accountable).
    emergency: Rel,
    /// An entry that vouches for nothing (an accounting read after the releases).
    plain_seq: i64,
}

fn party(name: &str, organisation: &str, address: &str) -> OutsideParty {
    OutsideParty {
        name: name.into(),
        organisation: organisation.into(),
        address: address.into(),
    }
}

fn request(
    client: ClientId,
    basis: LegalBasis,
    purpose: Purpose,
    to: OutsideParty,
    categories: &[Category],
) -> DisclosureRequest {
    DisclosureRequest {
        client,
        case: None,
        recipient: to,
        purpose,
        basis,
        consent: None,
        reference: None,
        order: None,
        categories: categories.to_vec(),
        narrow: None,
        // A protective release names the person at risk, the threat, and each field beyond
        // name and contact with its reason.
        protective: matches!(
            basis,
            LegalBasis::DutyToWarn | LegalBasis::ChildAbuseReport | LegalBasis::ElderAbuseReport
        )
        .then(|| confide::Protective {
            at_risk: confide::PersonAtRisk {
                name: "the person threatened".into(),
                contact: "through the officer".into(),
            },
            threat: "a threat stated in session".into(),
            named: categories
                .iter()
                .filter(|c| **c != Category::Demographics)
                .map(|c| confide::NamedField {
                    category: *c,
                    field: "summary".into(),
                    reason: "needed to assess the threat".into(),
                })
                .collect(),
        }),
        description: format!("release on the basis {basis}"),
    }
}

fn release(dr: &Session, req: &DisclosureRequest) -> Rel {
    let package = dr.disclose(req).unwrap();
    Rel {
        id: hex::decode(&package.manifest.disclosure_id).unwrap(),
        seq: i64::try_from(package.manifest.audit_seq).unwrap(),
    }
}

fn now_ms() -> i64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

fn build() -> Built {
    let p = Practice::new();
    let built = {
        let dr = p.login("dr.a");
        let t = Purpose::Treatment;
        let jordan = new_client(&dr, "Jordan Blake");
        new_client(&dr, "Riley Moss");
        dr.create_record(
            &jordan,
            RecordKind::Diagnosis,
            &[("code", Value::code("F43.10"))],
            t,
        )
        .unwrap();
        dr.create_record(
            &jordan,
            RecordKind::ProgressNote,
            &[("summary", Value::text("Threatened a former supervisor"))],
            t,
        )
        .unwrap();
        let police = party("Officer Dana Cole", "Springfield PD", "1 Main Street");
        let warn = release(
            &dr,
            &request(
                jordan,
                LegalBasis::DutyToWarn,
                Purpose::Legal,
                police,
                &[Category::Demographics, Category::ProgressNotes],
            ),
        );
        dr.list_records(&jordan, t).unwrap();
        let court = party("Clerk", "Superior Court", "200 Justice Plaza");
        let mut req = request(
            jordan,
            LegalBasis::CourtOrder,
            Purpose::Legal,
            court,
            &[Category::DiagnosisCodes],
        );
        req.reference = Some("Order 2025-FL-0192".into());
        req.order = Some(confide::Order {
            issuer: "Superior Court".into(),
            issued_on_ms: 0,
            names: confide::ReleaseScope::categories(&[Category::DiagnosisCodes]),
        });
        let order = release(&dr, &req);
        let lawyer = party("Morgan Ellis", "Ellis & Park LLP", "400 Court Street");
        let day = 24 * 3600 * 1000;
        let consent = dr
            .record_consent(
                &jordan,
                &NewConsent {
                    recipient: ConsentRecipient::Outside {
                        name: lawyer.name.clone(),
                        organisation: lawyer.organisation.clone(),
                        address: lawyer.address.clone(),
                    },
                    categories: vec![Category::DiagnosisCodes],
                    purpose: Purpose::Legal,
                    start_ms: now_ms() - day,
                    expires_ms: None,
                    signed_on_ms: now_ms() - day,
                    description: "diagnosis, for a disability claim".into(),
                    scope: None,
                    case: None,
                    expiry_event: None,
                    signed_by: None,
                },
                t,
            )
            .unwrap();
        let mut req = request(
            jordan,
            LegalBasis::Authorization,
            Purpose::Legal,
            lawyer,
            &[Category::DiagnosisCodes],
        );
        req.consent = Some(consent);
        let authorized = release(&dr, &req);
        let er = party("Dr. Lee Okafor", "St. Mary's ED", "5 Hospital Way");
        let emergency = release(
            &dr,
            &request(
                jordan,
                LegalBasis::MedicalEmergency,
                Purpose::EmergencyTreatment,
                er,
                &[Category::Demographics, Category::DiagnosisCodes],
            ),
        );
        assert_eq!(dr.accounting(&jordan, None).unwrap().len(), 3);
        let plain_seq = max_seq(&raw(p.path()));
        dr.list_records(&jordan, t).unwrap();
        (jordan, warn, order, authorized, emergency, plain_seq)
    };
    let (jordan, warn, order, authorized, emergency, plain_seq) = built;
    let Practice { dir, path, vault } = p;
    // The last connection closes: the WAL is checkpointed into the main file.
    drop(vault);
    Built {
        _dir: dir,
        path,
        jordan,
        warn,
        order,
        authorized,
        emergency,
        plain_seq,
    }
}

/// A copy of a closed vault file in a fresh directory, to tamper with.
fn copy(b: &Built) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join("copy.vault");
    std::fs::copy(&b.path, &to).unwrap();
    (dir, to)
}

// ---------------------------------------------------------------------------------------------
// The attacker's tools
// ---------------------------------------------------------------------------------------------

/// Open the file with SQLite and drop the append-only triggers, as an attacker would; the
/// audit log's documented layout is at hand as SQL functions (`common::audit_sql`).
fn attacker(path: &Path) -> Connection {
    let conn = audit_sql::open(path);
    conn.execute_batch(
        "DROP TRIGGER disclosures_no_update;
         DROP TRIGGER disclosures_no_delete;
         DROP TRIGGER disclosure_fields_no_update;
         DROP TRIGGER disclosure_fields_no_delete;",
    )
    .unwrap();
    conn
}

fn count(conn: &Connection) -> i64 {
    conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

fn max_seq(conn: &Connection) -> i64 {
    conn.query_row("SELECT max(seq) FROM audit_log", [], |r| r.get(0))
        .unwrap()
}

fn ledger_row(conn: &Connection, id: &[u8]) -> Vec<Sql> {
    conn.query_row(
        &format!("SELECT {LEDGER_COLUMNS} FROM disclosures WHERE disclosure_id = ?1"),
        [id],
        |r| (0..11).map(|i| r.get::<_, Sql>(i)).collect(),
    )
    .unwrap()
}

fn ledger_fields(conn: &Connection, id: &[u8]) -> Vec<[Sql; 3]> {
    let mut stmt = conn
        .prepare(
            "SELECT field, key_version, envelope FROM disclosure_fields \
             WHERE disclosure_id = ?1 ORDER BY field",
        )
        .unwrap();
    stmt.query_map([id], |r| Ok([r.get(0)?, r.get(1)?, r.get(2)?]))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
}

fn blob_at(conn: &Connection, sql: &str, seq: i64) -> Vec<u8> {
    conn.query_row(sql, [seq], |r| r.get(0)).unwrap()
}

// The digest, recomputed independently from its documented layout (the audit entry's layout
// and hash are `common::audit_sql`'s).

fn encode(cell: &Sql, out: &mut Vec<u8>) {
    let bytes = |out: &mut Vec<u8>, tag: u8, b: &[u8]| {
        out.push(tag);
        out.extend_from_slice(&u32::try_from(b.len()).unwrap().to_be_bytes());
        out.extend_from_slice(b);
    };
    match cell {
        Sql::Null => out.push(0),
        Sql::Integer(i) => {
            out.push(1);
            out.extend_from_slice(&i.to_be_bytes());
        }
        Sql::Real(r) => {
            out.push(2);
            out.extend_from_slice(&r.to_bits().to_be_bytes());
        }
        Sql::Text(s) => bytes(out, 3, s.as_bytes()),
        Sql::Blob(b) => bytes(out, 4, b),
    }
}

/// `SHA-256("confide/ledger/v1" ‖ row cells ‖ u32 field count ‖ (field, key_version, envelope)…)`.
fn ledger_digest(row: &[Sql], fields: &[[Sql; 3]]) -> Vec<u8> {
    let mut buf = Vec::new();
    for c in row {
        encode(c, &mut buf);
    }
    buf.extend_from_slice(&u32::try_from(fields.len()).unwrap().to_be_bytes());
    for f in fields {
        for c in f {
            encode(c, &mut buf);
        }
    }
    let mut ctx = Context::new(&SHA256);
    ctx.update(b"confide/ledger/v1");
    ctx.update(&buf);
    ctx.finish().as_ref().to_vec()
}

// ---------------------------------------------------------------------------------------------
// Verdicts
// ---------------------------------------------------------------------------------------------

fn at(seq: i64, kind: FindingKind) -> Finding {
    Finding {
        seq: u64::try_from(seq).unwrap(),
        kind,
    }
}

/// Both `audit-verify` and `verify_audit_log` report exactly `expected`, in order.
#[track_caller]
fn assert_found(path: &Path, expected: &[Finding], what: &str) -> String {
    let report = verify_audit_log(path).unwrap();
    assert_eq!(report.findings, expected, "{what}: library findings");
    assert!(!report.is_intact(), "{what}");
    let (code, stdout, stderr) = audit_verify(&[path.as_os_str()]);
    assert_eq!(code, 1, "{what}: exit code\n{stdout}\n{stderr}");
    assert_eq!(stderr, "", "{what}: stderr");
    assert!(
        stdout.starts_with(&format!("tampered: first break at {}\n", expected[0])),
        "{what}:\n{stdout}"
    );
    let listed: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .collect();
    let wanted: Vec<String> = expected.iter().map(ToString::to_string).collect();
    assert_eq!(listed, wanted, "{what}:\n{stdout}");
    assert!(
        stdout.contains(&format!("{} finding(s):", expected.len())),
        "{what}:\n{stdout}"
    );
    stdout
}

/// The vault, reopened after the attack, as dr.a sees its accounting.
fn accounting_after(
    path: &Path,
    client: &ClientId,
) -> confide::Result<Vec<confide::AccountingEntry>> {
    let vault = Vault::open(path, common::test_config()).unwrap();
    let dr = vault
        .unlock("dr.a", &confide::Passphrase::new(common::CLIN_PASS))
        .unwrap();
    dr.accounting(client, None)
}

// ---------------------------------------------------------------------------------------------
// Untouched
// ---------------------------------------------------------------------------------------------

#[test]
fn untouched_vault_with_releases_is_intact() {
    let b = build();
    let conn = audit_sql::open(&b.path);
    let n = count(&conn);
    let (code, stdout, stderr) = audit_verify(&[b.path.as_os_str()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert_eq!(
        stdout.lines().next(),
        Some(&*format!("intact: {n} entries"))
    );
    let report = verify_audit_log(&b.path).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.entries, u64::try_from(n).unwrap());

    // Exactly the four release entries vouch for a ledger row, each for the digest of its row,
    // as the documented layout recomputes it. (Write entries vouch for their records too.)
    let vouching: Vec<i64> = conn
        .prepare(
            "SELECT seq FROM audit_log WHERE audit_part(entry, 'digest') IS NOT NULL \
             AND audit_part(entry, 'action') = 'disclosure.release' ORDER BY seq",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let rels = [&b.warn, &b.order, &b.authorized, &b.emergency];
    assert_eq!(vouching, rels.iter().map(|r| r.seq).collect::<Vec<_>>());
    for rel in rels {
        let stored = blob_at(
            &conn,
            "SELECT audit_part(entry, 'digest') FROM audit_log WHERE seq = ?1",
            rel.seq,
        );
        let row = ledger_row(&conn, &rel.id);
        assert_eq!(row[10], Sql::Integer(rel.seq), "the row names its entry");
        let fields = ledger_fields(&conn, &rel.id);
        // Five for every release (description, recipient name, organisation and address,
        // reference); a protective release adds the person at risk and the threat, an order
        // its issuer.
        let extra = if std::ptr::eq(rel, &b.warn) {
            3
        } else if std::ptr::eq(rel, &b.order) {
            1
        } else {
            0
        };
        assert_eq!(fields.len(), 5 + extra, "sealed fields of seq {}", rel.seq);
        assert_eq!(
            ledger_digest(&row, &fields),
            stored,
            "digest of seq {}",
            rel.seq
        );
        let action: String = conn
            .query_row(
                "SELECT audit_part(entry, 'action') FROM audit_log WHERE seq = ?1",
                [rel.seq],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(action, "disclosure.release");
    }
    // The recipient is sealed: no cleartext of it in the ledger's tables.
    let cleartext: i64 = conn
        .query_row(
            "SELECT count(*) FROM disclosure_fields WHERE instr(envelope, 'Officer Dana Cole') > 0",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cleartext, 0);
}

#[test]
fn the_triggers_refuse_a_plain_update_or_delete() {
    let b = build();
    let conn = raw(&b.path);
    let attempts = [
        "UPDATE disclosures SET accountable = 0 WHERE disclosure_id = ?1",
        "DELETE FROM disclosures WHERE disclosure_id = ?1",
        "UPDATE disclosure_fields SET key_version = 9 WHERE disclosure_id = ?1",
        "DELETE FROM disclosure_fields WHERE disclosure_id = ?1",
    ];
    for sql in attempts {
        let err = conn.execute(sql, [&b.warn.id]).unwrap_err();
        assert!(err.to_string().contains("append-only"), "{sql}: {err}");
    }
    drop(conn);
    let (code, stdout, _) = audit_verify(&[b.path.as_os_str()]);
    assert_eq!(code, 0, "{stdout}");
}

// ---------------------------------------------------------------------------------------------
// Edited rows
// ---------------------------------------------------------------------------------------------

#[test]
fn an_edited_cleartext_column_is_a_changed_ledger_row() {
    let b = build();
    // Riley, the other client.
    let riley: Vec<u8> = raw(&b.path)
        .query_row(
            "SELECT client_id FROM clients WHERE client_id <> ?1",
            [b.jordan.as_bytes()],
            |r| r.get(0),
        )
        .unwrap();
    let edits: Vec<(&str, String)> = vec![
        (
            "legal_basis 'duty-to-warn' -> 'authorization'",
            "legal_basis = 'authorization'".into(),
        ),
        ("accountable 1 -> 0", "accountable = 0".into()),
        (
            "disclosed_at moved back a year",
            "disclosed_at = disclosed_at - 31536000000".into(),
        ),
        (
            "disclosed_at moved by one ms",
            "disclosed_at = disclosed_at + 1".into(),
        ),
        ("purpose", "purpose = 'TREAT'".into()),
        ("categories narrowed", "categories = 'demographics'".into()),
        ("released_by blanked", "released_by = zeroblob(16)".into()),
        ("accountable as text", "accountable = 'yes'".into()),
        ("a case attached", "case_id = zeroblob(16)".into()),
        (
            "moved to another client",
            format!("client_id = X'{}'", hex::encode(riley)),
        ),
    ];
    for (what, set) in edits {
        let (_dir, path) = copy(&b);
        {
            let conn = attacker(&path);
            let n = conn
                .execute(
                    &format!("UPDATE disclosures SET {set} WHERE disclosure_id = ?1"),
                    [&b.warn.id],
                )
                .unwrap();
            assert_eq!(n, 1, "{what}");
        }
        let stdout = assert_found(&path, &[at(b.warn.seq, FindingKind::LedgerEdited)], what);
        assert!(
            stdout.contains(&format!(
                "seq {}: disclosure-ledger row changed",
                b.warn.seq
            )),
            "{what}:\n{stdout}"
        );
    }
}

#[test]
fn hiding_a_release_from_the_accounting_is_caught() {
    // The attack's point: marked not accountable, the duty-to-warn release drops out of the
    // client's accounting. The vault cannot know at read time; audit-verify does.
    let b = build();
    let (_dir, path) = copy(&b);
    attacker(&path)
        .execute(
            "UPDATE disclosures SET accountable = 0 WHERE disclosure_id = ?1",
            [&b.warn.id],
        )
        .unwrap();
    let lines = accounting_after(&path, &b.jordan).unwrap();
    assert_eq!(lines.len(), 2, "the attack hides the release: {lines:#?}");
    assert!(lines.iter().all(|l| l.audit_seq != b.warn.seq as u64));
    assert_found(
        &path,
        &[at(b.warn.seq, FindingKind::LedgerEdited)],
        "accountable 1 -> 0",
    );
}

#[test]
fn a_swapped_sealed_field_is_a_changed_ledger_row() {
    let b = build();
    for field in [
        "recipient_name",
        "recipient_address",
        "description",
        "reference",
    ] {
        let (_dir, path) = copy(&b);
        {
            let conn = attacker(&path);
            let n = conn
                .execute(
                    "UPDATE disclosure_fields SET envelope = (SELECT envelope FROM \
                     disclosure_fields WHERE disclosure_id = ?2 AND field = ?3) \
                     WHERE disclosure_id = ?1 AND field = ?3",
                    params![&b.warn.id, &b.order.id, field],
                )
                .unwrap();
            assert_eq!(n, 1, "{field}");
        }
        let what = format!("{field} envelope taken from another release");
        let stdout = assert_found(&path, &[at(b.warn.seq, FindingKind::LedgerEdited)], &what);
        assert!(
            stdout.contains(&format!(
                "seq {}: disclosure-ledger row changed",
                b.warn.seq
            )),
            "{what}:\n{stdout}"
        );
        // The envelope is bound to its row: opening it there fails, and the vault says so.
        let got = accounting_after(&path, &b.jordan);
        assert!(
            matches!(got, Err(Error::Integrity { .. })),
            "{what}: accounting gave {got:?}"
        );
    }
}

#[test]
fn other_edits_to_the_sealed_fields_are_changed_ledger_rows() {
    let b = build();
    let edits = [
        (
            "key version bumped",
            "UPDATE disclosure_fields SET key_version = key_version + 1 \
             WHERE disclosure_id = ?1 AND field = 'recipient_name'",
        ),
        (
            "one field deleted",
            "DELETE FROM disclosure_fields WHERE disclosure_id = ?1 AND field = 'description'",
        ),
        (
            "a field added",
            "INSERT INTO disclosure_fields (disclosure_id, field, key_version, envelope) \
             SELECT disclosure_id, 'note', key_version, envelope FROM disclosure_fields \
             WHERE disclosure_id = ?1 AND field = 'description'",
        ),
        (
            "one envelope byte flipped",
            "UPDATE disclosure_fields SET envelope = \
             CAST(X'FF' || substr(envelope, 2) AS BLOB) WHERE disclosure_id = ?1 AND field = 'recipient_name'",
        ),
    ];
    for (what, sql) in edits {
        let (_dir, path) = copy(&b);
        assert_eq!(
            attacker(&path).execute(sql, [&b.warn.id]).unwrap(),
            1,
            "{what}"
        );
        assert_found(&path, &[at(b.warn.seq, FindingKind::LedgerEdited)], what);
    }
}

// ---------------------------------------------------------------------------------------------
// Deleted and forged rows
// ---------------------------------------------------------------------------------------------

#[test]
fn a_deleted_row_is_missing() {
    let b = build();
    for (what, rel) in [("duty to warn", &b.warn), ("authorized", &b.authorized)] {
        let (_dir, path) = copy(&b);
        {
            let conn = attacker(&path);
            conn.execute(
                "DELETE FROM disclosure_fields WHERE disclosure_id = ?1",
                [&rel.id],
            )
            .unwrap();
            let n = conn
                .execute(
                    "DELETE FROM disclosures WHERE disclosure_id = ?1",
                    [&rel.id],
                )
                .unwrap();
            assert_eq!(n, 1);
        }
        let stdout = assert_found(&path, &[at(rel.seq, FindingKind::LedgerMissing)], what);
        assert!(
            stdout.contains(&format!("seq {}: disclosure-ledger row missing", rel.seq)),
            "{what}:\n{stdout}"
        );
    }
    // Deleting every row at once names every release.
    let (_dir, path) = copy(&b);
    attacker(&path)
        .execute_batch("DELETE FROM disclosure_fields; DELETE FROM disclosures;")
        .unwrap();
    let all: Vec<Finding> = [&b.warn, &b.order, &b.authorized, &b.emergency]
        .iter()
        .map(|r| at(r.seq, FindingKind::LedgerMissing))
        .collect();
    assert_found(&path, &all, "every row deleted");
}

/// Copy the row `from` as a new row with id `id` vouched for by `seq`, fields and all.
fn forge(conn: &Connection, from: &[u8], id: &[u8], seq: i64) {
    let cols = LEDGER_COLUMNS
        .replace("disclosure_id, ", "")
        .replace(", audit_seq", "");
    conn.execute(
        &format!(
            "INSERT INTO disclosures ({LEDGER_COLUMNS}) \
             SELECT ?2, {cols}, ?3 FROM disclosures WHERE disclosure_id = ?1"
        ),
        params![from, id, seq],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO disclosure_fields (disclosure_id, field, key_version, envelope) \
         SELECT ?2, field, key_version, envelope FROM disclosure_fields WHERE disclosure_id = ?1",
        params![from, id],
    )
    .unwrap();
}

#[test]
fn a_forged_row_is_unlogged() {
    let b = build();
    let end = max_seq(&raw(&b.path));
    let forged_id = [0x5a_u8; 16];
    for (what, seq) in [
        ("vouched for by a seq past the end of the log", end + 1),
        (
            "vouched for by an entry that vouches for nothing",
            b.plain_seq,
        ),
        ("vouched for by the first entry", 1),
    ] {
        let (_dir, path) = copy(&b);
        forge(&attacker(&path), &b.warn.id, &forged_id, seq);
        let stdout = assert_found(&path, &[at(seq, FindingKind::LedgerUnlogged)], what);
        assert!(
            stdout.contains(&format!(
                "seq {seq}: disclosure-ledger row that no release entry vouches for"
            )),
            "{what}:\n{stdout}"
        );
        assert!(stdout.contains("no release entry vouches for"), "{what}");
    }
}

#[test]
fn a_forged_row_in_place_of_a_deleted_one_is_a_changed_row() {
    // The original row is deleted and a copy with another id takes its entry's seq.
    let b = build();
    let (_dir, path) = copy(&b);
    {
        let conn = attacker(&path);
        let fresh = [0x77_u8; 16];
        forge(&conn, &b.warn.id, &fresh, -1);
        conn.execute(
            "DELETE FROM disclosure_fields WHERE disclosure_id = ?1",
            [&b.warn.id],
        )
        .unwrap();
        conn.execute(
            "DELETE FROM disclosures WHERE disclosure_id = ?1",
            [&b.warn.id],
        )
        .unwrap();
        conn.execute(
            "UPDATE disclosures SET audit_seq = ?2 WHERE disclosure_id = ?1",
            params![&fresh[..], b.warn.seq],
        )
        .unwrap();
    }
    assert_found(
        &path,
        &[at(b.warn.seq, FindingKind::LedgerEdited)],
        "row replaced under its seq",
    );
}

#[test]
fn two_rows_swapping_their_vouching_entries_are_both_changed() {
    let b = build();
    let (_dir, path) = copy(&b);
    {
        let conn = attacker(&path);
        conn.execute_batch(&format!(
            "UPDATE disclosures SET audit_seq = -1 WHERE audit_seq = {w};
             UPDATE disclosures SET audit_seq = {w} WHERE audit_seq = {o};
             UPDATE disclosures SET audit_seq = {o} WHERE audit_seq = -1;",
            w = b.warn.seq,
            o = b.order.seq
        ))
        .unwrap();
    }
    assert_found(
        &path,
        &[
            at(b.warn.seq, FindingKind::LedgerEdited),
            at(b.order.seq, FindingKind::LedgerEdited),
        ],
        "audit_seq swapped between two rows",
    );
}

// ---------------------------------------------------------------------------------------------
// The vouching entry itself
// ---------------------------------------------------------------------------------------------

#[test]
fn an_edited_digest_is_a_changed_entry() {
    let b = build();
    let seq = b.warn.seq;
    let other = b.order.seq;
    let edits = [
        ("random digest", "randomblob(32)".to_string()),
        (
            "another release's digest",
            format!("(SELECT audit_part(entry, 'digest') FROM audit_log WHERE seq = {other})"),
        ),
    ];
    for (what, digest) in edits {
        let (_dir, path) = copy(&b);
        let conn = audit_sql::open(&path);
        let before = blob_at(&conn, "SELECT entry FROM audit_log WHERE seq = ?1", seq);
        let n = conn
            .execute(
                &format!(
                    "UPDATE audit_log SET entry = audit_with(entry, 'digest', {digest}) \
                     WHERE seq = ?1"
                ),
                [seq],
            )
            .unwrap();
        assert_eq!(n, 1);
        // Only the digest changed: the entry still parses, and every other part is as it was.
        let after = blob_at(&conn, "SELECT entry FROM audit_log WHERE seq = ?1", seq);
        let (was, now) = (
            audit_sql::decode(&before).unwrap(),
            audit_sql::decode(&after).unwrap(),
        );
        assert_ne!(was.digest, now.digest, "{what}");
        assert_eq!(now.digest.as_ref().map(Vec::len), Some(32), "{what}");
        assert_eq!(
            audit_sql::Parts {
                digest: was.digest.clone(),
                ..now
            },
            was,
            "{what}"
        );
        drop(conn);
        // The chain sees the entry changed; the row no longer matches what it now vouches for.
        let stdout = assert_found(
            &path,
            &[
                at(seq, FindingKind::Changed),
                at(seq, FindingKind::LedgerEdited),
            ],
            what,
        );
        assert!(
            stdout.starts_with(&format!(
                "tampered: first break at seq {seq}: entry changed"
            )),
            "{what}:\n{stdout}"
        );
    }
}

#[test]
fn a_removed_digest_is_a_changed_entry_and_an_unlogged_row() {
    let b = build();
    let seq = b.warn.seq;
    let remove = "UPDATE audit_log SET entry = audit_with(entry, 'digest', NULL) WHERE seq = ?1";
    let (_dir, path) = copy(&b);
    assert_eq!(audit_sql::open(&path).execute(remove, [seq]).unwrap(), 1);
    assert_found(
        &path,
        &[
            at(seq, FindingKind::Changed),
            at(seq, FindingKind::LedgerUnlogged),
        ],
        "digest set to NULL",
    );
    // And with the row deleted too, the entry still reports changed.
    let (_dir, path) = copy(&b);
    {
        let conn = attacker(&path);
        assert_eq!(conn.execute(remove, [seq]).unwrap(), 1);
        conn.execute(
            "DELETE FROM disclosure_fields WHERE disclosure_id = ?1",
            [&b.warn.id],
        )
        .unwrap();
        conn.execute(
            "DELETE FROM disclosures WHERE disclosure_id = ?1",
            [&b.warn.id],
        )
        .unwrap();
    }
    assert_found(
        &path,
        &[at(seq, FindingKind::Changed)],
        "digest removed and the row deleted",
    );
}

#[test]
fn a_row_edited_with_its_digest_recomputed_breaks_the_chain() {
    // A careful attacker hides the release (accountable 1 -> 0) and stores the digest of the
    // edited row in the entry, so the ledger check passes: the entry's hash no longer does.
    let b = build();
    let seq = b.warn.seq;
    let (_dir, path) = copy(&b);
    {
        let conn = attacker(&path);
        conn.execute(
            "UPDATE disclosures SET accountable = 0 WHERE disclosure_id = ?1",
            [&b.warn.id],
        )
        .unwrap();
        let digest = ledger_digest(
            &ledger_row(&conn, &b.warn.id),
            &ledger_fields(&conn, &b.warn.id),
        );
        let n = conn
            .execute(
                "UPDATE audit_log SET entry = audit_with(entry, 'digest', ?2) WHERE seq = ?1",
                params![seq, digest],
            )
            .unwrap();
        assert_eq!(n, 1);
    }
    assert_found(
        &path,
        &[at(seq, FindingKind::Changed)],
        "row edited and digest recomputed",
    );

    // Recomputing the entry's hash too (after the previous row's stored hash, as the layout
    // says) moves the break to the next link: the next entry's link names the old hash.
    {
        let conn = audit_sql::open(&path);
        let prev = blob_at(&conn, "SELECT hash FROM audit_log WHERE seq = ?1", seq - 1);
        let entry = blob_at(&conn, "SELECT entry FROM audit_log WHERE seq = ?1", seq);
        let old = blob_at(&conn, "SELECT hash FROM audit_log WHERE seq = ?1", seq);
        let hash = audit_sql::entry_hash(&prev, seq, &entry);
        assert_ne!(hash, old);
        conn.execute(
            "UPDATE audit_log SET hash = ?2 WHERE seq = ?1",
            params![seq, hash],
        )
        .unwrap();
        let next = blob_at(&conn, "SELECT entry FROM audit_log WHERE seq = ?1", seq + 1);
        assert_eq!(audit_sql::decode(&next).unwrap().link, old[..8]);
    }
    assert_found(
        &path,
        &[at(seq + 1, FindingKind::Unlinked)],
        "row edited, digest and entry hash recomputed",
    );
}

#[test]
fn the_independent_chain_hash_matches_the_vault() {
    // Guards the tests above: the documented layout, recomputed by `common::audit_sql` apart
    // from the library, gives every stored row of a real vault its hash and its link, chaining
    // from SHA-256 of the vault id, and decodes every entry to the parts the tests edit.
    let b = build();
    let conn = raw(&b.path);
    let vault = confide::vault_id_of(&b.path).unwrap();
    let stored: Vec<u8> = conn
        .query_row("SELECT vault_id FROM vault_meta", [], |r| r.get(0))
        .unwrap();
    assert_eq!(&vault.as_bytes()[..], &stored[..]);
    let rows: Vec<(i64, Vec<u8>, Vec<u8>)> = conn
        .prepare("SELECT seq, entry, hash FROM audit_log ORDER BY seq")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(rows.len(), usize::try_from(count(&conn)).unwrap());
    let mut prev = ring::digest::digest(&SHA256, vault.as_bytes())
        .as_ref()
        .to_vec();
    let mut releases = Vec::new();
    for (i, (seq, entry, hash)) in rows.iter().enumerate() {
        assert_eq!(*seq, i64::try_from(i).unwrap() + 1, "seq without gaps");
        assert_eq!(hash.len(), 32, "hash of seq {seq}");
        assert_eq!(
            &audit_sql::entry_hash(&prev, *seq, entry),
            hash,
            "hash of seq {seq}"
        );
        let parts = audit_sql::decode(entry).unwrap_or_else(|| panic!("entry {seq} decodes"));
        assert_eq!(parts.link, prev[..8], "link of seq {seq}");
        assert_eq!(audit_sql::encode(&parts), *entry, "entry {seq} re-encodes");
        if parts.action == b"disclosure.release" {
            releases.push(*seq);
        }
        prev = hash.clone();
    }
    assert_eq!(
        releases,
        [&b.warn, &b.order, &b.authorized, &b.emergency]
            .iter()
            .map(|r| r.seq)
            .collect::<Vec<_>>()
    );
}
