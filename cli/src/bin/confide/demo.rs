//! The demonstration practice: two clinicians, a biller, an auditor, three clients.

use std::path::Path;

use confide::{
    Date, Error, Passphrase, Purpose, RecordKind, Role, Session, Value, Vault, VaultConfig,
    VerifyOptions, WitnessFile, verify_audit_log_with,
};

use crate::out::outln;
use crate::present::{client, section, show};

const ADMIN: (&str, &str) = ("admin", "correct horse battery staple (admin)");
const RIVERA: (&str, &str) = ("dr.rivera", "rivera: the river runs to the sea");
const CHEN: (&str, &str) = ("dr.chen", "chen: quiet mountains at dawn");
const BILLER: (&str, &str) = ("billing.office", "billing: ledgers balance at dusk");
const AUDITOR: (&str, &str) = ("compliance", "compliance: every door has a log");

fn login(vault: &Vault, (name, pass): (&str, &str)) -> Result<Session, Error> {
    vault.unlock(name, &Passphrase::new(pass))
}

fn remove_existing(path: &Path) -> Result<(), Error> {
    for suffix in ["", "-wal", "-shm", ".witness"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        match std::fs::remove_file(&p) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
    }
    Ok(())
}

pub(crate) fn run(path: &Path, force: bool) -> Result<(), Error> {
    if force {
        remove_existing(path)?;
    }
    // The demo keeps its witness beside the vault, where `audit-verify` finds it. (An app keeps
    // it elsewhere: beside the vault, someone who edits both files is not caught.)
    let witness = crate::witness_beside(path);
    if witness.exists() {
        return Err(Error::AlreadyExists { path: witness });
    }
    let t = Purpose::Treatment;
    outln!("confide demo: building a practice in {}", path.display());
    outln!("(Argon2id at its default cost, m = 64 MiB, t = 3: each login takes a moment)");
    let config = VaultConfig::default().with_witness(&witness);
    let vault = Vault::create(path, ADMIN.0, &Passphrase::new(ADMIN.1), config)?;
    let admin = login(&vault, ADMIN)?;
    for ((name, pass), role) in [
        (RIVERA, Role::Clinician),
        (CHEN, Role::Clinician),
        (BILLER, Role::Biller),
        (AUDITOR, Role::Auditor),
    ] {
        admin.add_user(name, role, &Passphrase::new(pass))?;
        outln!("  user {name:<15} role {role}");
    }

    section("Dr. Rivera registers two clients and writes their records");
    let rivera = login(&vault, RIVERA)?;
    let jordan = client(&rivera, "Jordan Avery", (1987, 5, 23))?;
    let morgan = client(&rivera, "Morgan Lee", (1995, 11, 2))?;
    let dx = rivera.create_record(
        &jordan,
        RecordKind::Diagnosis,
        &[
            ("code", Value::code("F43.10")),
            ("description", Value::text("PTSD, unspecified")),
        ],
        t,
    )?;
    let plan = rivera.create_record(
        &jordan,
        RecordKind::TreatmentPlan,
        &[
            (
                "goals",
                Value::text("Reduce nightmares to under one a week; return to driving"),
            ),
            (
                "modality",
                Value::text("Prolonged exposure, weekly 90-minute sessions"),
            ),
        ],
        t,
    )?;
    let progress = rivera.create_record(
        &jordan,
        RecordKind::ProgressNote,
        &[
            (
                "summary",
                Value::text("Session 4: completed imaginal exposure; SUDS 80 -> 45"),
            ),
            ("minutes", Value::Number(90)),
        ],
        t,
    )?;
    rivera.create_record(
        &morgan,
        RecordKind::Appointment,
        &[
            ("date", Value::Date(Date::new(2026, 12, 1)?)),
            ("minutes", Value::Number(50)),
        ],
        t,
    )?;
    let note = rivera.write_psychotherapy_note(
        &jordan,
        &[(
            "impressions",
            Value::text("Guilt about the accident is the real block; go slowly"),
        )],
        t,
    )?;
    outln!("  clients {jordan} and {morgan}; 4 record entries; 1 psychotherapy note");

    section("Dr. Chen registers her own client");
    let chen = login(&vault, CHEN)?;
    let casey = client(&chen, "Casey Morgan", (2001, 2, 9))?;
    chen.write_psychotherapy_note(&casey, &[("impressions", Value::text("Guarded"))], t)?;
    outln!("  client {casey}; 1 psychotherapy note");

    section("Reads the policy allows");
    let fields = |r: confide::Record| {
        r.fields
            .iter()
            .map(|(k, v)| format!("{k} = {:?}", v.reveal().as_str()))
            .collect::<Vec<_>>()
            .join("; ")
    };
    show(
        "Dr. Rivera reads Jordan's diagnosis",
        rivera.read_record(&dx, t),
        fields,
    );
    show(
        "Dr. Rivera reads Jordan's treatment plan",
        rivera.read_record(&plan, t),
        fields,
    );
    show(
        "Dr. Rivera reads her own psychotherapy note",
        rivera.read_psychotherapy_note(&note, t),
        |n| {
            n.fields
                .values()
                .map(|v| v.reveal().as_str().to_owned())
                .collect::<Vec<_>>()
                .join("; ")
        },
    );
    show(
        "Dr. Rivera looks up \"jordan  AVERY\", born 1987-05-23",
        rivera.find_client("jordan  AVERY", &Date::new(1987, 5, 23)?, t),
        |ids| format!("{ids:?}"),
    );

    section("Reads the policy refuses (each refusal is audited; no key is unwrapped)");
    show(
        "Dr. Chen reads Jordan's progress note",
        chen.read_record(&progress, t),
        fields,
    );
    show(
        "Dr. Chen reads Dr. Rivera's psychotherapy note",
        chen.read_psychotherapy_note(&note, t),
        |_| "note".into(),
    );
    show(
        "Dr. Chen looks Jordan up by name and birth date",
        chen.find_client("Jordan Avery", &Date::new(1987, 5, 23)?, t),
        |ids| {
            format!(
                "{} match(es) -- same answer as for a client who does not exist",
                ids.len()
            )
        },
    );
    let biller = login(&vault, BILLER)?;
    show(
        "The biller reads Jordan's progress note for payment",
        biller.read_record(&progress, Purpose::Payment),
        fields,
    );
    show(
        "The administrator reads Jordan's diagnosis",
        admin.read_record(&dx, Purpose::Operations),
        fields,
    );
    show(
        "Dr. Rivera reads Jordan's diagnosis \"for payment\"",
        rivera.read_record(&dx, Purpose::Payment),
        fields,
    );
    show(
        "A login with the wrong passphrase",
        vault.unlock(RIVERA.0, &Passphrase::new("not her passphrase")),
        |_| "session".into(),
    );

    section("Minimum necessary");
    show(
        "The biller reads Jordan's diagnosis for payment",
        biller.read_record(&dx, Purpose::Payment),
        |r| format!("{} (the description is withheld)", fields(r)),
    );

    crate::couple::run(&rivera, &chen, &jordan, &progress, &note)?;
    crate::releases::run(&rivera, &jordan)?;
    crate::history::run(&rivera, &progress, &note)?;
    crate::history::amendment(&rivera, &jordan, &dx)?;

    section(
        "The audit log's last entries (metadata only: no field values; ! = flagged for review)",
    );
    let auditor = login(&vault, AUDITOR)?;
    let names = [&admin, &rivera, &chen, &biller, &auditor].map(|s| (s.user_id(), s.user_name()));
    for e in auditor.audit_tail(24)? {
        let who = names
            .iter()
            .find(|(id, _)| Some(*id) == e.actor)
            .map_or("(unknown)", |(_, n)| n);
        let client = e
            .client
            .map_or("-".to_owned(), |c| c.to_string()[..8].to_owned());
        outln!(
            "{} #{:<3} {} {:<14} {:<17} client {:<8} {:<7} {:<28} [{}]",
            if e.is_flagged() { "!" } else { " " },
            e.seq,
            &e.time_utc()[11..19],
            who,
            e.action,
            client,
            e.purpose,
            e.outcome,
            e.fields.join(",")
        );
    }

    section("Verification, as `audit-verify` does it, without any passphrase");
    drop((admin, rivera, chen, biller, auditor));
    drop(vault);
    let opts = VerifyOptions {
        witness: Some(WitnessFile::read(&witness)?),
        ..VerifyOptions::default()
    };
    let report = verify_audit_log_with(path, &opts)?;
    if report.is_intact() {
        outln!(
            "  intact: {} entries, held to its witness {}",
            report.entries,
            witness.display()
        );
    } else {
        outln!("  TAMPERED: {} finding(s)", report.findings_total);
    }
    outln!(
        "\nThe vault is at {p}. Try:\n  cargo run --release --bin audit-verify -- {p}\n  \
         CONFIDE_PASSPHRASE='{pass}' cargo run --release --bin confide -- accounting \\\n    \
         --vault {p} --user {user} --client {jordan}",
        p = path.display(),
        pass = RIVERA.1,
        user = RIVERA.0,
    );
    Ok(())
}
