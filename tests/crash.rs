//! Crash injection: a child process writes, reads, rotates keys and takes backups in one vault,
//! reporting each operation on stdout only once the call has returned; the parent kills it
//! (SIGKILL) at a random moment, again and again. After every kill the vault must open, its chain
//! verify, every write the child reported be there (or a later one), every read the child
//! reported returning plaintext have its audit entry, no record be half-written, and every
//! finished backup verify.
//!
//! `CONFIDE_CRASH_ROUNDS` sets the number of kills (default 120).

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use confide::{ClientId, Passphrase, Purpose, RecordId, RecordKind, Value, Vault};

const FIELDS: [&str; 3] = ["summary", "plan", "risk"];

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s)
}

/// The value every field of a record gets at its `n`th write.
fn value(n: u64) -> String {
    format!("version {n:08}")
}

fn version_of(text: &str) -> u64 {
    text.trim_start_matches("version ").parse().unwrap()
}

/// The child: runs operations until it is killed. Each line is printed only after its call
/// returned, so the parent knows a reported write committed and a reported read returned
/// plaintext.
#[test]
#[ignore = "run as a child process by crashes_at_random_moments_lose_nothing"]
fn crash_workload_child() {
    let Ok(path) = std::env::var("CONFIDE_CRASH_VAULT") else {
        return;
    };
    let seed: u64 = std::env::var("CONFIDE_CRASH_SEED")
        .unwrap()
        .parse()
        .unwrap();
    let client: ClientId = std::env::var("CONFIDE_CRASH_CLIENT")
        .unwrap()
        .parse()
        .unwrap();
    let backups = PathBuf::from(std::env::var("CONFIDE_CRASH_BACKUPS").unwrap());
    let vault = Vault::open(&path, test_config()).unwrap();
    let dr = vault.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    let admin = vault.unlock("admin", &pass(ADMIN_PASS)).unwrap();
    let mut known: Vec<(RecordId, u64)> = dr
        .list_records(&client, Purpose::Treatment)
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == RecordKind::ProgressNote)
        .map(|r| {
            let rec = dr.read_record(&r.id, Purpose::Treatment).unwrap();
            (r.id, version_of(&rec.get("summary").unwrap().reveal()))
        })
        .collect();
    let deadline = std::env::var("CONFIDE_CRASH_DEADLINE_MS")
        .ok()
        .and_then(|s| s.parse().ok())
        .map(|ms| std::time::Instant::now() + Duration::from_millis(ms));
    let mut rng = seed | 1;
    let mut out = std::io::stdout();
    for step in 0u64.. {
        if deadline.is_some_and(|d| std::time::Instant::now() > d) {
            return;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let pick = rng % 100;
        if known.is_empty() || pick < 20 {
            let fields: Vec<(&str, Value)> =
                FIELDS.iter().map(|f| (*f, Value::text(value(0)))).collect();
            let id = dr
                .create_record(
                    &client,
                    RecordKind::ProgressNote,
                    &fields,
                    Purpose::Treatment,
                )
                .unwrap();
            known.push((id, 0));
            writeln!(out, "W {id} 0").unwrap();
        } else if pick < 60 {
            let i = (rng >> 8) as usize % known.len();
            let n = known[i].1 + 1;
            let fields: Vec<(&str, Value)> =
                FIELDS.iter().map(|f| (*f, Value::text(value(n)))).collect();
            dr.update_record(&known[i].0, &fields, Purpose::Treatment)
                .unwrap();
            known[i].1 = n;
            writeln!(out, "W {} {n}", known[i].0).unwrap();
        } else if pick < 90 {
            let i = (rng >> 8) as usize % known.len();
            let r = dr.read_record(&known[i].0, Purpose::Treatment).unwrap();
            assert!(version_of(&r.get("summary").unwrap().reveal()) >= known[i].1);
            writeln!(out, "R {}", known[i].0).unwrap();
        } else if pick < 97 {
            let done = admin.rotate_client_keys(&client, Some(2)).unwrap();
            writeln!(out, "K {}", done.reencrypted).unwrap();
        } else {
            let to = backups.join(format!("{seed}-{step}.backup"));
            admin.backup(&to).unwrap();
            writeln!(out, "B {}", to.display()).unwrap();
        }
        out.flush().unwrap();
    }
}

/// What the children reported, over every round.
#[derive(Default)]
struct Reported {
    /// The newest version each record was reported written with.
    writes: BTreeMap<String, u64>,
    /// Reads reported per record.
    reads: BTreeMap<String, usize>,
    backups: Vec<PathBuf>,
    operations: usize,
}

/// The child process, not yet started.
fn child(path: &Path, client: &ClientId, backups: &Path, seed: u64) -> std::process::Command {
    let mut cmd = std::process::Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "crash_workload_child",
        "--exact",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env("CONFIDE_CRASH_VAULT", path)
    .env("CONFIDE_CRASH_SEED", seed.to_string())
    .env("CONFIDE_CRASH_CLIENT", client.to_string())
    .env("CONFIDE_CRASH_BACKUPS", backups)
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::null());
    cmd
}

/// Tally a child's report lines into `reported`.
fn tally(lines: Vec<String>, reported: &mut Reported) {
    for line in lines {
        let parts: Vec<&str> = line.split(' ').collect();
        match parts[..] {
            ["W", id, n] => {
                let n: u64 = n.parse().unwrap();
                let e = reported.writes.entry(id.to_string()).or_default();
                *e = (*e).max(n);
            }
            ["R", id] => *reported.reads.entry(id.to_string()).or_default() += 1,
            ["B", to] => reported.backups.push(PathBuf::from(to)),
            ["K", _] => {}
            _ => continue,
        }
        reported.operations += 1;
    }
}

fn run_child(
    path: &Path,
    client: &ClientId,
    backups: &Path,
    seed: u64,
    kill_after: Duration,
) -> Vec<String> {
    let mut child = child(path, client, backups, seed).spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .collect::<Vec<String>>()
    });
    std::thread::sleep(kill_after);
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap()
}

#[test]
fn crashes_at_random_moments_lose_nothing() {
    let rounds: u64 = std::env::var("CONFIDE_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let p = Practice::new();
    let client = new_client(&p.login("dr.a"), "Crash Client");
    drop(p.vault);
    let backups = p.dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let mut reported = Reported::default();
    let mut rng: u64 = 0x5DEE_CE66_D1CE_4E5B;
    for round in 0..rounds {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        // From before the vault is even open to well into the workload.
        let kill_after = Duration::from_millis(30 + rng % 250);
        let lines = run_child(&p.path, &client, &backups, rng, kill_after);
        tally(lines, &mut reported);
        check(&p.path, &client, &reported, round);
    }
    for backup in &reported.backups {
        let report = confide::verify_audit_log(backup).unwrap();
        assert!(
            report.is_intact(),
            "{}: {:?}",
            backup.display(),
            report.findings
        );
    }
    println!(
        "crash injection: {rounds} kills, {} operations reported and checked, 0 lost",
        reported.operations
    );
    assert!(
        reported.operations > rounds as usize,
        "the workload hardly ran"
    );
}

/// After a kill: the vault opens, the chain verifies, reported writes are there, reported reads
/// are audited, and no record is half-written.
fn check(path: &Path, client: &ClientId, reported: &Reported, round: u64) {
    let report = confide::verify_audit_log(path).unwrap();
    assert!(report.is_intact(), "round {round}: {:?}", report.findings);
    let vault = Vault::open(path, test_config()).unwrap();
    let dr = vault.unlock("dr.a", &pass(CLIN_PASS)).unwrap();
    let mut present = BTreeMap::new();
    for r in dr.list_records(client, Purpose::Treatment).unwrap() {
        if r.kind != RecordKind::ProgressNote {
            continue;
        }
        let rec = dr.read_record(&r.id, Purpose::Treatment).unwrap();
        // Whole: every field, all from the same write.
        let versions: Vec<u64> = FIELDS
            .iter()
            .map(|f| version_of(&rec.get(f).unwrap().reveal()))
            .collect();
        assert!(
            versions.windows(2).all(|w| w[0] == w[1]),
            "round {round}: {versions:?}"
        );
        present.insert(r.id.to_string(), versions[0]);
    }
    for (id, n) in &reported.writes {
        let got = present.get(id).copied();
        assert!(
            got.is_some_and(|g| g >= *n),
            "round {round}: {id} reported at {n}, stored {got:?}"
        );
    }
    let admin = vault.unlock("admin", &pass(ADMIN_PASS)).unwrap();
    let mut audited: BTreeMap<String, usize> = BTreeMap::new();
    for e in admin.audit_tail(u32::MAX).unwrap() {
        if e.action == "record.read" && e.outcome.starts_with("granted") {
            if let Some(t) = e.target {
                *audited.entry(t).or_default() += 1;
            }
        }
    }
    for (id, n) in &reported.reads {
        let a = audited.get(id).copied().unwrap_or(0);
        assert!(a >= *n, "round {round}: {id} read {n} times, audited {a}");
    }
}

/// Two processes, each running the workload, plus this process reading, all at once on one
/// vault for a bounded time: no error reaches any caller (busy waits are absorbed), nothing
/// reported is lost, the chain is intact and its sequence numbers gapless.
#[test]
fn two_processes_and_a_reader_share_one_vault() {
    let p = Practice::new();
    let dr = p.login("dr.a");
    // One client per writer process: each child counts its own record versions.
    let clients = [
        new_client(&dr, "Client of A"),
        new_client(&dr, "Client of B"),
    ];
    let client = new_client(&dr, "Client of the reader");
    let first = dr
        .create_record(
            &client,
            RecordKind::ProgressNote,
            &FIELDS.map(|f| (f, Value::text(value(0)))),
            Purpose::Treatment,
        )
        .unwrap();
    let backups = p.dir.path().join("backups");
    std::fs::create_dir(&backups).unwrap();
    let spawn = |client: &ClientId, seed: u64| {
        let mut cmd = child(&p.path, client, &backups, seed);
        cmd.env("CONFIDE_CRASH_DEADLINE_MS", "3000");
        let mut c = cmd.spawn().unwrap();
        let out = c.stdout.take().unwrap();
        let lines = std::thread::spawn(move || {
            std::io::BufReader::new(out)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        (c, lines)
    };
    let (mut a, a_lines) = spawn(&clients[0], 11);
    let (mut b, b_lines) = spawn(&clients[1], 23);
    // Meanwhile this process reads too, through its own connection.
    let mut own_reads = 0;
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(2500) {
        dr.read_record(&first, Purpose::Treatment).unwrap();
        own_reads += 1;
    }
    assert!(a.wait().unwrap().success(), "a child hit an error");
    assert!(b.wait().unwrap().success(), "a child hit an error");
    let mut of_a = Reported::default();
    tally(a_lines.join().unwrap(), &mut of_a);
    let mut of_b = Reported::default();
    tally(b_lines.join().unwrap(), &mut of_b);
    let mut own = Reported::default();
    own.reads.insert(first.to_string(), own_reads);
    drop(dr);
    drop(p.vault);
    check(&p.path, &clients[0], &of_a, 0);
    check(&p.path, &clients[1], &of_b, 0);
    check(&p.path, &client, &own, 0);
    for backup in of_a.backups.iter().chain(&of_b.backups) {
        let report = confide::verify_audit_log(backup).unwrap();
        assert!(
            report.is_intact(),
            "{}: {:?}",
            backup.display(),
            report.findings
        );
    }
    assert!(
        of_a.operations > 10 && of_b.operations > 10,
        "the workload hardly ran"
    );
}
