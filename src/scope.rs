//! What a release may carry: per category, which fields, and for diagnoses one condition.
//!
//! An authorization (45 CFR 164.508(c)(1)(i): "a specific and meaningful" description of the
//! information), a court order (164.512(e)(1)(i): "only the protected health information
//! expressly authorized by such order") and the request itself each have a scope; what leaves
//! is their intersection, so a request can narrow an authorization but never widen it. The
//! shape follows FHIR Consent's provision: a class (the category), data elements (the fields),
//! and a code (the condition).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::error::{Error, Result};
use crate::model::Category;
use crate::value::Redacted;

/// Which fields of a category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fields {
    /// Every field.
    All,
    /// These fields only.
    Only(BTreeSet<String>),
}

impl Fields {
    /// These fields only.
    pub fn only(names: &[&str]) -> Fields {
        Fields::Only(names.iter().map(|n| (*n).to_owned()).collect())
    }

    /// Includes `field`.
    pub fn includes(&self, field: &str) -> bool {
        match self {
            Fields::All => true,
            Fields::Only(names) => names.contains(field),
        }
    }

    /// Names `field` explicitly (not merely through `All`).
    pub fn names(&self, field: &str) -> bool {
        matches!(self, Fields::Only(names) if names.contains(field))
    }

    /// The fields both include.
    pub fn intersect(&self, other: &Fields) -> Fields {
        match (self, other) {
            (Fields::All, f) | (f, Fields::All) => f.clone(),
            (Fields::Only(a), Fields::Only(b)) => {
                Fields::Only(a.intersection(b).cloned().collect())
            }
        }
    }

    fn is_empty(&self) -> bool {
        matches!(self, Fields::Only(names) if names.is_empty())
    }
}

/// One condition a scope is limited to (a workers' compensation claim, one diagnosis). A code
/// given by the caller is turned into the vault's keyed index of it before the policy
/// compares: the stored form never holds the code. `Debug` redacts both.
#[derive(Clone, PartialEq, Eq)]
pub enum Condition {
    /// A diagnosis code, as the caller names it.
    Code(String),
    /// The vault's keyed blind index of a code.
    Index(Vec<u8>),
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Condition::Code(_) => f.debug_tuple("Code").field(&Redacted).finish(),
            Condition::Index(_) => f.debug_tuple("Index").field(&Redacted).finish(),
        }
    }
}

/// What of one category a scope covers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Part {
    /// Which fields.
    pub fields: Fields,
    /// For diagnoses: only entries about this condition.
    pub condition: Option<Condition>,
}

/// Per category, which fields (and for diagnoses, which condition) may leave.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReleaseScope {
    parts: BTreeMap<Category, Part>,
}

/// Fields of an appointment that say it took place: its date and whether the client attended.
pub const ATTENDANCE: &[&str] = &["date", "status"];
/// Fields of an appointment that date a service for a payer.
pub const SERVICE_DATES: &[&str] = &["date", "service_code"];
/// Fields of a billing entry a payer needs: date, code and fee.
pub const SERVICE_FEES: &[&str] = &["date", "service_code", "fee"];

impl ReleaseScope {
    /// Nothing.
    pub fn new() -> ReleaseScope {
        ReleaseScope::default()
    }

    /// These categories, whole.
    pub fn categories(categories: &[Category]) -> ReleaseScope {
        categories
            .iter()
            .fold(ReleaseScope::new(), |s, c| s.with(*c, Fields::All))
    }

    /// Attendance only (an employee-assistance programme): appointment dates and whether the
    /// client attended.
    pub fn attendance_only() -> ReleaseScope {
        ReleaseScope::new().with(Category::Appointments, Fields::only(ATTENDANCE))
    }

    /// Dates of service and fees (an insurer): appointment dates and codes, billed fees.
    pub fn dates_of_service_and_fees() -> ReleaseScope {
        ReleaseScope::new()
            .with(Category::Appointments, Fields::only(SERVICE_DATES))
            .with(Category::Billing, Fields::only(SERVICE_FEES))
    }

    /// One condition (a workers' compensation claim): the diagnosis entries with this code,
    /// nothing else.
    pub fn condition(code: &str) -> ReleaseScope {
        let mut s = ReleaseScope::new();
        s.parts.insert(
            Category::DiagnosisCodes,
            Part {
                fields: Fields::All,
                condition: Some(Condition::Code(code.to_owned())),
            },
        );
        s
    }

    /// This scope and `fields` of `category` (replacing what it had of it).
    pub fn with(mut self, category: Category, fields: Fields) -> ReleaseScope {
        self.parts.insert(
            category,
            Part {
                fields,
                condition: None,
            },
        );
        self
    }

    /// This scope and the named fields of `category`, added to what it had of it.
    pub fn with_fields(self, category: Category, names: &[&str]) -> ReleaseScope {
        let added = Fields::only(names);
        let fields = match self.parts.get(&category).map(|p| &p.fields) {
            None => added,
            Some(Fields::All) => Fields::All,
            Some(Fields::Only(had)) => {
                let mut all = had.clone();
                all.extend(names.iter().map(|n| (*n).to_owned()));
                Fields::Only(all)
            }
        };
        self.with(category, fields)
    }

    /// The part of `category` this scope covers.
    pub fn part(&self, category: Category) -> Option<&Part> {
        self.parts.get(&category)
    }

    /// The categories it covers.
    pub fn category_set(&self) -> BTreeSet<Category> {
        self.parts.keys().copied().collect()
    }

    /// Each category with its part.
    pub fn parts(&self) -> impl Iterator<Item = (Category, &Part)> {
        self.parts.iter().map(|(c, p)| (*c, p))
    }

    /// Covers nothing.
    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// What both cover. Two different conditions cover nothing of the category.
    pub fn intersect(&self, other: &ReleaseScope) -> ReleaseScope {
        let mut out = ReleaseScope::new();
        for (c, a) in &self.parts {
            let Some(b) = other.parts.get(c) else {
                continue;
            };
            let condition = match (&a.condition, &b.condition) {
                (Some(x), Some(y)) if x != y => continue,
                (x, y) => x.clone().or_else(|| y.clone()),
            };
            let fields = a.fields.intersect(&b.fields);
            if !fields.is_empty() {
                out.parts.insert(*c, Part { fields, condition });
            }
        }
        out
    }

    /// What either covers. (A condition of either part is kept: scopes joined here never
    /// carry two.)
    pub fn union(&self, other: &ReleaseScope) -> ReleaseScope {
        let mut out = self.clone();
        for (c, b) in &other.parts {
            let part = match out.parts.get(c) {
                None => b.clone(),
                Some(a) => Part {
                    fields: match (&a.fields, &b.fields) {
                        (Fields::Only(x), Fields::Only(y)) => {
                            Fields::Only(x.union(y).cloned().collect())
                        }
                        _ => Fields::All,
                    },
                    condition: a.condition.clone().or_else(|| b.condition.clone()),
                },
            };
            out.parts.insert(*c, part);
        }
        out
    }

    /// Everything `other` covers, this covers too.
    pub fn covers(&self, other: &ReleaseScope) -> bool {
        self.intersect(other) == *other
    }

    /// The same scope with every condition code replaced by `index(code)`.
    pub fn indexed(&self, mut index: impl FnMut(&str) -> Result<Vec<u8>>) -> Result<ReleaseScope> {
        let mut out = self.clone();
        for part in out.parts.values_mut() {
            if let Some(Condition::Code(code)) = &part.condition {
                part.condition = Some(Condition::Index(index(code)?));
            }
        }
        Ok(out)
    }

    /// The one condition, if the scope has one.
    pub fn condition_of(&self) -> Option<&Condition> {
        self.parts.values().find_map(|p| p.condition.as_ref())
    }

    /// The stored form of the elements: `category:*` or `category:field|field`, `;`-separated,
    /// in category order. The condition is stored apart (as its index).
    pub(crate) fn elements(&self) -> String {
        self.parts
            .iter()
            .map(|(c, p)| match &p.fields {
                Fields::All => format!("{}:*", c.code()),
                Fields::Only(names) => format!(
                    "{}:{}",
                    c.code(),
                    names.iter().cloned().collect::<Vec<_>>().join("|")
                ),
            })
            .collect::<Vec<_>>()
            .join(";")
    }

    /// Parse [`ReleaseScope::elements`]; the condition index, if any, goes to diagnoses.
    pub(crate) fn from_elements(text: &str, condition: Option<Vec<u8>>) -> Result<ReleaseScope> {
        let corrupt = || Error::Corrupt {
            what: "consent scope".into(),
        };
        let mut out = ReleaseScope::new();
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (code, names) = part.split_once(':').ok_or_else(corrupt)?;
            let category: Category = code.parse().map_err(|_| corrupt())?;
            let fields = match names {
                "*" => Fields::All,
                names => Fields::Only(names.split('|').map(str::to_owned).collect()),
            };
            out = out.with(category, fields);
        }
        if let Some(index) = condition {
            let part = out
                .parts
                .get_mut(&Category::DiagnosisCodes)
                .ok_or_else(corrupt)?;
            part.condition = Some(Condition::Index(index));
        }
        Ok(out)
    }

    /// A short description for manifests: `diagnosis_codes (code, codes; one condition)`.
    pub fn describe(&self) -> String {
        self.parts
            .iter()
            .map(|(c, p)| {
                let fields = match &p.fields {
                    Fields::All => "all fields".to_owned(),
                    Fields::Only(names) => names.iter().cloned().collect::<Vec<_>>().join(", "),
                };
                let condition = if p.condition.is_some() {
                    "; one condition"
                } else {
                    ""
                };
                format!("{} ({fields}{condition})", c.code())
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_only_narrows() {
        let eap = ReleaseScope::attendance_only();
        let asked = ReleaseScope::categories(&[Category::Appointments, Category::ProgressNotes]);
        let out = eap.intersect(&asked);
        assert_eq!(out, eap);
        assert!(eap.covers(&out));
        assert!(!eap.covers(&asked));
        let only_date = ReleaseScope::new().with(Category::Appointments, Fields::only(&["date"]));
        assert_eq!(eap.intersect(&only_date), only_date);
        // Nothing in common: nothing at all, not an empty category.
        let billing = ReleaseScope::new().with(Category::Appointments, Fields::only(&["fee"]));
        assert!(eap.intersect(&billing).is_empty());
    }

    #[test]
    fn conditions_must_agree() {
        let a = ReleaseScope::condition("F43.1")
            .indexed(|c| Ok(c.as_bytes().to_vec()))
            .unwrap();
        let b = ReleaseScope::condition("F32.1")
            .indexed(|c| Ok(c.as_bytes().to_vec()))
            .unwrap();
        assert!(a.intersect(&b).is_empty());
        let all = ReleaseScope::categories(&[Category::DiagnosisCodes]);
        assert_eq!(a.intersect(&all), a);
        assert_eq!(all.intersect(&a), a);
        assert!(!format!("{a:?}").contains("F43"));
    }

    #[test]
    fn elements_round_trip() {
        let s = ReleaseScope::dates_of_service_and_fees()
            .with(Category::DiagnosisCodes, Fields::All)
            .with_fields(Category::Billing, &["memo"]);
        let text = s.elements();
        assert_eq!(
            text,
            "appointments:date|service_code;diagnosis_codes:*;billing:date|fee|memo|service_code"
        );
        assert_eq!(ReleaseScope::from_elements(&text, None).unwrap(), s);
        let with_condition =
            ReleaseScope::from_elements("diagnosis_codes:*", Some(vec![1])).unwrap();
        assert_eq!(
            with_condition.condition_of(),
            Some(&Condition::Index(vec![1]))
        );
        assert!(ReleaseScope::from_elements("nonsense:*", None).is_err());
        assert!(ReleaseScope::from_elements("appointments:*", Some(vec![1])).is_err());
    }
}
