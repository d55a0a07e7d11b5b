//! De-identified extracts for consultation outside the care team (45 CFR 164.514(b), safe
//! harbor): every identifier the vault holds for the client is removed from the text, dates are
//! reduced to the year, and the client is a fresh pseudonym. Addenda, accepted amendments among
//! them, are left out whole, and so are amendment requests and their answers.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use regex::Regex;

use crate::audit::{AuditAction, Outcome, format_utc};
use crate::db::rows;
use crate::disclosure::{ConsultationExtract, PackageItem};
use crate::error::Result;
use crate::ids::ClientId;
use crate::model::{Category, Purpose, RecordKind};
use crate::policy::Access;
use crate::value::Value;

use super::Session;
use super::gate::{Stored, Target};
use super::records::record_entry;

/// Field names that identify a person wherever they appear: dropped from every extract.
const IDENTIFYING_FIELDS: &[&str] = &[
    "full_name",
    "name",
    "date_of_birth",
    "phone",
    "email",
    "address",
    "insurance_id",
    "insurance_group",
    "emergency_contact",
    "ssn",
];

/// Dates written in free text, in the forms practices use: ISO, numeric with any separator and
/// two- or four-digit years, and with month names either side of the day.
static DATES: LazyLock<Option<Regex>> = LazyLock::new(|| {
    let month = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?";
    let pattern = format!(
        r"(?i)\b\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\b|\b\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}\b|\b{month}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{2,4}}\b|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{month},?\s+\d{{2,4}}\b"
    );
    // A constant pattern (tests::the_date_pattern_compiles); were it ever refused, every text
    // value is withheld rather than released with its dates.
    Regex::new(&pattern).ok()
});

/// Each lower-cased char of `text` with the byte range of the original char it came from, so a
/// match in the folded text maps back to whole chars of the original whatever case mapping did
/// to lengths.
fn folded(text: &str) -> Vec<(char, usize, usize)> {
    let mut out = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        out.extend(c.to_lowercase().map(|l| (l, i, end)));
    }
    out
}

/// Replace every occurrence of each identifier in `text`, ignoring case, then every date.
fn scrub(text: &str, identifiers: &[String]) -> String {
    let mut out = text.to_owned();
    for id in identifiers {
        let needle: Vec<char> = id.chars().flat_map(char::to_lowercase).collect();
        if needle.is_empty() {
            continue;
        }
        let hay = folded(&out);
        let mut result = String::with_capacity(out.len());
        let (mut rest, mut i) = (0, 0);
        while i + needle.len() <= hay.len() {
            let window = hay[i..i + needle.len()].iter().map(|h| h.0);
            if window.eq(needle.iter().copied()) {
                let (start, end) = (hay[i].1, hay[i + needle.len() - 1].2);
                if start >= rest {
                    result.push_str(&out[rest..start]);
                    result.push_str("[redacted]");
                    rest = end;
                }
                i += needle.len();
            } else {
                i += 1;
            }
        }
        result.push_str(&out[rest..]);
        out = result;
    }
    match DATES.as_ref() {
        Some(dates) => dates.replace_all(&out, "[date]").into_owned(),
        None => "[redacted]".into(),
    }
}

/// Every way the vault may hold one identifying value, lower-cased.
fn identifier_forms(v: &Value, into: &mut Vec<String>) {
    match v {
        // Dates in text are all removed by the date pattern; the structured ones never leave.
        Value::Date(_) => {}
        other => {
            let text = other.reveal().to_lowercase();
            // Names also appear one part at a time ("Jordan", "Avery").
            for part in text.split(|c: char| !c.is_alphanumeric() && c != '@' && c != '.') {
                if part.chars().count() >= 3 {
                    into.push(part.to_owned());
                }
            }
            // Phone numbers are written with and without separators.
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 7 {
                into.push(digits);
            }
            if !text.trim().is_empty() {
                into.push(text);
            }
        }
    }
}

impl Session {
    /// A de-identified extract of the client's record for peer consultation or supervision
    /// outside the care team: no name, contact, date of birth or other identifier the vault
    /// holds for the client; dates reduced to the year; a fresh pseudonym. Psychotherapy notes,
    /// substance-use records and case content are left out. Needs no consent (164.514(a));
    /// a treating clinician's act, audited.
    pub fn consultation_extract(&self, client: &ClientId) -> Result<ConsultationExtract> {
        let purpose = Purpose::Treatment;
        let action = AuditAction::ExtractDeidentified;
        let gate = self.admit(action, purpose)?;
        let (facts, audit_as) = gate.client_request(client, action)?;
        let records = rows::records_of(&self.shared.conn(), client)?;
        let grant = gate.check(
            self.role,
            Access::Deidentify,
            vec![],
            &facts,
            audit_as,
            Target::Owners(vec![client.into()]),
        )?;
        let mut identifiers = vec![client.to_string()];
        let mut opened = Vec::new();
        {
            let conn = self.shared.conn();
            for meta in records {
                // Addenda (an accepted amendment among them) are free text about the client, in
                // their own words or the clinician's: they never go into an extract.
                if meta.history.addendum_of.is_some() {
                    continue;
                }
                self.check_draft_now(&conn, client, meta.id.as_bytes(), &meta.history)?;
                let stored = Stored::load(&conn, record_entry(&meta), None)?;
                let fields = self
                    .open(&conn, &grant, stored, |_| true)
                    .map_err(|(_, e)| e)?;
                if meta.kind == RecordKind::Demographics {
                    fields
                        .values()
                        .for_each(|v| identifier_forms(v, &mut identifiers));
                } else {
                    opened.push((meta, fields));
                }
            }
        }
        identifiers.sort_by_key(|s| std::cmp::Reverse(s.len()));
        identifiers.dedup();
        let keep = [
            Category::Appointments,
            Category::DiagnosisCodes,
            Category::TreatmentPlan,
            Category::ProgressNotes,
        ];
        let items = opened
            .into_iter()
            .filter(|(meta, _)| keep.contains(&meta.kind.category()))
            .enumerate()
            .map(|(n, (meta, fields))| PackageItem {
                id: format!("item-{}", n + 1),
                category: meta.kind.category().code().into(),
                kind: meta.kind.code().into(),
                written: format_utc(meta.created_at).chars().take(4).collect(),
                fields: fields
                    .iter()
                    .filter(|(k, _)| !IDENTIFYING_FIELDS.contains(&k.as_str()))
                    .map(|(k, v)| {
                        let text = match v {
                            Value::Date(d) => d.year().to_string(),
                            other => scrub(&other.reveal(), &identifiers),
                        };
                        (k.as_str().to_owned(), text)
                    })
                    .collect::<BTreeMap<_, _>>(),
                addendum_of: None,
                amends: None,
            })
            .collect();
        let pseudonym: [u8; 4] = self.shared.random_bytes()?;
        let e = self.entry(
            AuditAction::ExtractDeidentified,
            Some(client),
            None,
            &[],
            purpose,
            Outcome::Allowed(grant.basis()),
        );
        self.shared.audit(&e)?;
        Ok(ConsultationExtract {
            pseudonym: format!("consult-{}", hex::encode(pseudonym)),
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_date_pattern_compiles() {
        assert!(DATES.as_ref().is_some_and(|d| d.is_match("1987-05-23")));
    }

    #[test]
    fn scrub_replaces_every_case() {
        let ids = vec!["jordan avery".to_owned(), "jordan".to_owned()];
        assert_eq!(
            scrub("Jordan Avery said JORDAN was tired", &ids),
            "[redacted] said [redacted] was tired"
        );
        assert_eq!(scrub("nothing here", &ids), "nothing here");
    }

    #[test]
    fn dates_in_text_go_whatever_their_form() {
        for text in [
            "born 1987-05-23 here",
            "born 05/23/1987 here",
            "born 5/23/87 here",
            "born 1987/05/23 here",
            "born May 23, 1987 here",
            "born 23 May 1987 here",
            "born 23rd of May 1987 here",
            "born 23.5.1987 here",
        ] {
            assert_eq!(scrub(text, &[]), "born [date] here", "{text}");
        }
    }

    #[test]
    fn case_mappings_that_change_lengths_are_safe() {
        // U+2126 (Ohm) lower-cases to a shorter char, U+0130 (dotted I) to two chars.
        let ids = vec!["ipek".to_owned(), "yılmaz".to_owned()];
        let out = scrub("ΩΩ İpek Yılmaz measured İ", &ids);
        assert!(!out.to_lowercase().contains("yılmaz"), "{out}");
        assert!(out.contains("[redacted]"));
        let ids = vec!["i̇pek".to_owned()];
        let out = scrub("ΩΩ İpek Yılmaz", &ids);
        assert!(out.starts_with("ΩΩ [redacted]"), "{out}");
    }
}
