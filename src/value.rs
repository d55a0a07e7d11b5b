//! Typed clinical values and the names of the fields that hold them.
//!
//! A [`Value`] is plaintext: it is wiped from memory when dropped and never printed.

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use crate::error::{Error, Result};

/// Largest encoded value accepted for one field (1 MiB): a session note is far smaller, and a
/// bound keeps a bad caller from filling the disk through one call.
pub const MAX_FIELD_BYTES: usize = 1 << 20;

/// A calendar date (no time zone), e.g. a date of birth or of service.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Zeroize)]
pub struct Date {
    year: i16,
    month: u8,
    day: u8,
}

impl Date {
    /// A validated date.
    pub fn new(year: i16, month: u8, day: u8) -> Result<Self> {
        let m = time::Month::try_from(month).map_err(|_| bad_date())?;
        time::Date::from_calendar_date(i32::from(year), m, day).map_err(|_| bad_date())?;
        Ok(Self { year, month, day })
    }

    /// Parse `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Result<Self> {
        let mut parts = s.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad_date());
        };
        let (Ok(y), Ok(m), Ok(d)) = (y.parse(), m.parse(), d.parse()) else {
            return Err(bad_date());
        };
        Self::new(y, m, d)
    }

    /// The year.
    pub fn year(&self) -> i16 {
        self.year
    }
    /// The month, 1 to 12.
    pub fn month(&self) -> u8 {
        self.month
    }
    /// The day of the month.
    pub fn day(&self) -> u8 {
        self.day
    }
}

fn bad_date() -> Error {
    Error::InvalidInput {
        what: "date",
        reason: "not a valid calendar date (YYYY-MM-DD)".into(),
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A date of birth is identifying: never print it through Debug.
        f.write_str("Date([redacted])")
    }
}

/// A typed field value. Plaintext: wiped on drop, redacted in `Debug`, and never `Display`ed
/// implicitly (use [`Value::reveal`], itself wiped on drop, when showing it to an authorised
/// person).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Zeroize, ZeroizeOnDrop)]
pub enum Value {
    /// Free text (a note, a name, a plan).
    Text(String),
    /// A calendar date.
    Date(Date),
    /// One code (ICD-10, CPT, ...).
    Code(String),
    /// Several codes.
    Codes(Vec<String>),
    /// An integer (e.g. a fee in cents, a session length in minutes).
    Number(i64),
}

impl Value {
    /// A text value.
    pub fn text(s: impl Into<String>) -> Self {
        Value::Text(s.into())
    }

    /// A code value.
    pub fn code(s: impl Into<String>) -> Self {
        Value::Code(s.into())
    }

    /// The value as readable text, for showing to the person the vault released it to.
    ///
    /// Named so that every place plaintext is turned into a string is easy to find. The text
    /// is a copy of the plaintext, so it wipes itself on drop as the value does; it derefs to a
    /// `String` (`reveal().as_str()`). Keep it no longer than the screen that shows it.
    ///
    /// ```
    /// let code = confide::Value::code("F41.1");
    /// let shown = code.reveal();
    /// assert_eq!(shown.as_str(), "F41.1");
    /// // `shown` is wiped here.
    /// ```
    pub fn reveal(&self) -> Zeroizing<String> {
        Zeroizing::new(self.reveal_plain())
    }

    /// The value as a plain `String`, for what the vault hands over as plaintext by design and
    /// whole (a release package, the accounting of disclosures): the caller owns that copy.
    pub(crate) fn reveal_plain(&self) -> String {
        match self {
            Value::Text(s) | Value::Code(s) => s.clone(),
            Value::Date(d) => d.to_string(),
            Value::Codes(c) => c.join(", "),
            Value::Number(n) => n.to_string(),
        }
    }

    /// The text, if this is a text value.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl fmt::Debug for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Value::Text(_) => "Text",
            Value::Date(_) => "Date",
            Value::Code(_) => "Code",
            Value::Codes(_) => "Codes",
            Value::Number(_) => "Number",
        };
        write!(f, "{kind}([redacted])")
    }
}

/// What a hand-written `Debug` prints in place of plaintext (a name, a date of birth, a
/// recipient, a description, a field value): `[redacted]`. `Debug` output ends up in logs and
/// panic messages the practice does not control.
pub(crate) struct Redacted;

impl fmt::Debug for Redacted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// `Some([redacted])` or `None`: whether an optional text is there is metadata, what it says is
/// not.
pub(crate) fn redacted_if_some<T>(o: &Option<T>) -> Option<Redacted> {
    o.as_ref().map(|_| Redacted)
}

/// The name of a field within a record: lowercase ASCII letters, digits and `_`, starting with
/// a letter, at most 64 bytes.
///
/// Field names are metadata: they appear in the audit log and in error messages, so the
/// restricted alphabet also keeps a caller from smuggling a value into the log as a "name".
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct FieldName(String);

impl FieldName {
    /// A validated field name.
    pub fn new(name: &str) -> Result<Self> {
        let ok = !name.is_empty()
            && name.len() <= 64
            && name.as_bytes()[0].is_ascii_lowercase()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if ok {
            Ok(Self(name.to_owned()))
        } else {
            Err(Error::InvalidInput {
                what: "field name",
                reason: "use 1-64 characters of a-z, 0-9 and _, starting with a letter".into(),
            })
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for FieldName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_validated() {
        assert!(Date::new(2024, 2, 29).is_ok());
        assert!(Date::new(2023, 2, 29).is_err());
        assert!(Date::new(2023, 13, 1).is_err());
        assert_eq!(
            Date::parse_iso("1984-07-01").unwrap().to_string(),
            "1984-07-01"
        );
        assert!(Date::parse_iso("1984-07").is_err());
        assert!(Date::parse_iso("1984-07-01-02").is_err());
    }

    #[test]
    fn debug_output_never_shows_plaintext() {
        let v = Value::text("CANARY-secret");
        let d = Date::new(1984, 7, 1).unwrap();
        assert_eq!(format!("{v:?}"), "Text([redacted])");
        assert!(!format!("{d:?}").contains("1984"));
        assert!(!format!("{:?}", Value::Date(d)).contains("1984"));
    }

    #[test]
    fn field_names_are_restricted() {
        assert!(FieldName::new("diagnosis_code").is_ok());
        for bad in [
            "",
            "Diagnosis",
            "1st",
            "a b",
            "x'; DROP TABLE",
            &"a".repeat(65),
        ] {
            assert!(FieldName::new(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn revealed_text_is_a_wiping_copy() {
        let v = Value::Codes(vec!["F41.1".into(), "Z63.0".into()]);
        let mut shown = v.reveal();
        assert_eq!(shown.as_str(), "F41.1, Z63.0");
        shown.zeroize();
        assert_eq!(shown.as_str(), "");
        // The value itself is untouched by wiping its revealed copy.
        assert_eq!(v.reveal().as_str(), "F41.1, Z63.0");
        assert_eq!(Value::Number(-12).reveal().as_str(), "-12");
        assert_eq!(
            Value::Date(Date::new(1984, 7, 1).unwrap())
                .reveal()
                .as_str(),
            "1984-07-01"
        );
    }

    #[test]
    fn values_zeroize() {
        let mut v = Value::text("secret");
        v.zeroize();
        assert_eq!(v.as_text(), Some(""));
    }
}
