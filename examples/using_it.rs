//! Create a vault, add a clinician, write and read a record, and check the audit log.

use confide::{
    AuditAction, AuditFilter, Date, Error, KdfParams, NewClient, Passphrase, Purpose, RecordKind,
    Role, Value, Vault, VaultConfig, read_audit_log, verify_audit_log,
};

fn main() -> confide::Result<()> {
    let path = std::env::temp_dir().join("confide-using-it.vault");
    let _ = std::fs::remove_file(&path); // Vault::create never overwrites: clear an earlier run.

    // Cheap KDF costs for a quick try; the default (Argon2id, m=64 MiB, t=3) is the strong one.
    let config = VaultConfig::default().with_kdf(KdfParams::new(64, 1, 1)?);
    // Passphrases need at least 12 characters.
    let admin_pass = Passphrase::new("the administrator's own passphrase");
    let vault = Vault::create(&path, "admin", &admin_pass, config)?;
    let admin = vault.unlock("admin", &admin_pass)?;
    let dr_pass = Passphrase::new("dr rivera's passphrase");
    admin.add_user("dr.rivera", Role::Clinician, &dr_pass)?;

    // Every call names its purpose of use, and every one is audited.
    let dr = vault.unlock("dr.rivera", &dr_pass)?;
    let sam = NewClient {
        full_name: "Sam Doe".into(),
        date_of_birth: Date::new(1990, 4, 2)?,
    };
    let client = dr.create_client(&sam, Purpose::Treatment)?;
    let dx = dr.create_record(
        &client,
        RecordKind::Diagnosis,
        &[("code", Value::code("F41.1"))],
        Purpose::Treatment,
    )?;
    let record = dr.read_record(&dx, Purpose::Treatment)?; // audited before it returns
    assert_eq!(record.get("code"), Some(&Value::code("F41.1")));
    // To show a value, reveal it: the text wipes itself when dropped, as the value does.
    let code = record.get("code").map(Value::reveal).unwrap_or_default();
    assert_eq!(code.as_str(), "F41.1");

    // An administrator has no clinical access: refused, and the refusal is in the log.
    let refused = admin.read_record(&dx, Purpose::Operations);
    assert!(matches!(refused, Err(Error::Denied { .. })));
    let reads = AuditFilter {
        action: Some(AuditAction::RecordRead),
        ..AuditFilter::default()
    };
    let log = read_audit_log(&path, &reads)?;
    let last = log.entries.last().map(|e| e.outcome.as_str());
    assert!(last.is_some_and(|outcome| outcome.starts_with("denied")));

    // Anyone can check the log's hash chain and signatures, without a passphrase.
    let report = verify_audit_log(&path)?;
    assert!(report.is_intact());
    println!(
        "{} audit entries, intact; vault at {}",
        report.entries,
        path.display()
    );
    Ok(())
}
