//! A synthetic practice for load, scale and speed work: clients with realistic record sizes and
//! a long audit log, built through the public API with cheap KDF costs, `Durability::Normal` and
//! batched audited reads. Not for real data: the passphrases are fixed.

use std::path::Path;

use crate::error::Result;
use crate::ids::{ClientId, RecordId};
use crate::model::{Purpose, RecordKind, Role};
use crate::value::{Date, Value};
use crate::vault::{NewClient, Passphrase, Session, Vault, VaultConfig};
use crate::{Durability, KdfParams};

const WORDS: &[&str] = &[
    "client",
    "reported",
    "sleep",
    "improved",
    "anxiety",
    "session",
    "homework",
    "reviewed",
    "mood",
    "stable",
    "goals",
    "exposure",
    "avoidance",
    "coping",
    "skills",
    "family",
    "work",
    "stress",
    "plan",
    "continue",
    "weekly",
    "affect",
    "congruent",
    "denies",
    "risk",
    "safety",
];

/// The six fields of every synthetic progress note, about 150 bytes each.
pub const FIELDS: [&str; 6] = [
    "subjective",
    "objective",
    "assessment",
    "plan",
    "interventions",
    "risk",
];

/// Bytes of text in every field of a synthetic progress note.
pub const FIELD_BYTES: usize = 150;

/// The passphrase of every synthetic user.
pub const PASSPHRASE: &str = "synthetic passphrase";

/// A fixed-seed xorshift, so two runs make the same practice.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn text(&mut self, bytes: usize) -> String {
        let mut s = String::with_capacity(bytes + 12);
        while s.len() < bytes {
            s.push_str(WORDS[(self.next() % WORDS.len() as u64) as usize]);
            s.push(' ');
        }
        s.truncate(bytes);
        s
    }
}

/// What was built.
#[derive(Clone, Debug)]
pub struct Synthetic {
    /// Every client's progress note, with the index (`dr.0` ..) of their clinician.
    pub charts: Vec<(usize, RecordId)>,
    /// Audit entries written (at least).
    pub entries: u64,
}

/// What each synthetic client's progress note holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Six fields of [`FIELD_BYTES`] ([`FIELDS`]): the read benchmarks' shape.
    SixFields,
    /// Twenty fields (`section_00`..`section_19`) of 1 to 2 KB each: the long notes a therapy
    /// practice writes.
    LongNotes,
}

/// The fields of one note of `shape`, as (name, value).
fn note_fields(shape: Shape, rng: &mut Rng) -> Vec<(String, Value)> {
    match shape {
        Shape::SixFields => FIELDS
            .iter()
            .map(|f| ((*f).to_owned(), Value::text(rng.text(FIELD_BYTES))))
            .collect(),
        Shape::LongNotes => (0..20)
            .map(|i| {
                let bytes = 1024 + (rng.next() % 1025) as usize;
                (format!("section_{i:02}"), Value::text(rng.text(bytes)))
            })
            .collect(),
    }
}

/// Build a practice at `path`: four clinicians (`dr.0`..`dr.3`), `clients` clients each with a
/// six-field progress note, then batched reads until the log holds `entries` entries.
/// `progress` is called now and then with the entries so far.
pub fn build(
    path: &Path,
    clients: usize,
    entries: u64,
    progress: impl FnMut(u64),
) -> Result<Synthetic> {
    build_shaped(path, clients, entries, Shape::SixFields, progress)
}

/// [`build`], each client's progress note of `shape`.
pub fn build_shaped(
    path: &Path,
    clients: usize,
    entries: u64,
    shape: Shape,
    mut progress: impl FnMut(u64),
) -> Result<Synthetic> {
    let config = VaultConfig::default()
        .with_kdf(KdfParams::new(64, 1, 1)?)
        .with_durability(Durability::Normal);
    let pass = Passphrase::new(PASSPHRASE);
    let vault = Vault::create(path, "admin", &pass, config)?;
    let admin = vault.unlock("admin", &pass)?;
    let mut clinicians: Vec<Session> = Vec::new();
    for i in 0..4 {
        let name = format!("dr.{i}");
        admin.add_user(&name, Role::Clinician, &pass)?;
        clinicians.push(vault.unlock(&name, &pass)?);
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut written: u64 = 11;
    let mut charts = Vec::with_capacity(clients);
    for i in 0..clients {
        let who = i % clinicians.len();
        let dr = &clinicians[who];
        let dob = Date::new(
            1950 + (i % 60) as i16,
            1 + (i % 12) as u8,
            1 + (i % 28) as u8,
        )?;
        let client: ClientId = dr.create_client(
            &NewClient {
                full_name: format!("Synthetic Client {i}"),
                date_of_birth: dob,
            },
            Purpose::Treatment,
        )?;
        let owned = note_fields(shape, &mut rng);
        let values: Vec<(&str, Value)> =
            owned.iter().map(|(n, v)| (n.as_str(), v.clone())).collect();
        let note = dr.create_record(
            &client,
            RecordKind::ProgressNote,
            &values,
            Purpose::Treatment,
        )?;
        charts.push((who, note));
        written += 2;
        if i % 1000 == 999 {
            progress(written);
        }
    }
    let per = (charts.len() / clinicians.len()).max(1) as u64;
    while written < entries && !charts.is_empty() {
        let who = (rng.next() % clinicians.len() as u64) as usize;
        let batch: Vec<RecordId> = (0..100)
            .map(|_| {
                let k = (rng.next() % per) as usize;
                charts[(k * clinicians.len() + who).min(charts.len() - 1)].1
            })
            .collect();
        written += clinicians[who]
            .read_records(&batch, Purpose::Treatment)?
            .len() as u64;
        if written % 100_000 < 100 {
            progress(written);
        }
    }
    drop(clinicians);
    drop(admin);
    vault.close()?;
    Ok(Synthetic {
        charts,
        entries: written,
    })
}
