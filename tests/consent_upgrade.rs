//! The upgrade to format 9 lists every consent whose reach it narrowed: a consent that named
//! the joint record without naming an outside recipient by identity (one to a user of the
//! vault) no longer reaches joint content. It is listed once, in an audit entry naming the
//! client and the consent, through `Vault::narrowed_by_upgrade`, and by `confide upgrade`.

mod common;
#[path = "common/upgraded.rs"]
mod upgraded;

use common::*;
use confide::{AuditFilter, Category, Purpose, Vault, read_audit_log};
use upgraded::*;

const T: Purpose = Purpose::Treatment;

#[test]
fn the_upgrade_lists_each_consent_it_narrowed_once() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let dr_b = p.login("dr.b");
    let client = new_client(&dr, "Avery Quinn");
    let narrowed = dr
        .record_consent(&client, &to_user(dr_b.user_id()), T)
        .unwrap();
    let kept = dr
        .record_consent(&client, &to_user(dr_b.user_id()), T)
        .unwrap();
    drop((dr, dr_b));
    let Practice { dir, path, vault } = p;
    drop(vault);
    as_format_8(&path, &[narrowed]);

    let vault = Vault::open(&path, test_config()).unwrap();
    let listed = vault.narrowed_by_upgrade().unwrap();
    assert_eq!(
        listed.len(),
        1,
        "only the consent that named the joint record"
    );
    assert_eq!((listed[0].client, listed[0].consent), (client, narrowed));
    let seq = listed[0].audit_seq.expect("logged at the first open");
    let log = read_audit_log(&path, &AuditFilter::default()).unwrap();
    let entry = log.entries.iter().find(|e| e.seq == seq).unwrap();
    assert_eq!(entry.action.to_string(), "consent.scopes_migrate");
    assert_eq!(entry.outcome, "granted");
    assert_eq!(entry.client, Some(client));
    assert_eq!(entry.fields, ["joint_record"]);
    assert!(listed.iter().all(|n| n.consent != kept));
    drop(vault);

    // A second open lists it again (for the upgrade's output) but logs nothing new.
    let vault = Vault::open(&path, test_config()).unwrap();
    assert_eq!(vault.narrowed_by_upgrade().unwrap()[0].audit_seq, Some(seq));
    drop(vault);
    let log = read_audit_log(&path, &AuditFilter::default()).unwrap();
    let migrated = log
        .entries
        .iter()
        .filter(|e| e.action == "consent.scopes_migrate")
        .count();
    assert_eq!(migrated, 1);
    drop(dir);
}

#[test]
fn a_vault_created_at_format_9_lists_nothing() {
    let p = Practice::new();
    assert!(p.vault.narrowed_by_upgrade().unwrap().is_empty());
}

#[test]
fn a_consent_to_a_user_never_names_the_joint_record_now() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    let client = new_client(&dr, "Avery Quinn");
    let mut c = to_user(p.login("dr.b").user_id());
    c.categories.push(Category::JointRecord);
    assert!(matches!(
        dr.record_consent(&client, &c, T),
        Err(confide::Error::InvalidInput { .. })
    ));
}
