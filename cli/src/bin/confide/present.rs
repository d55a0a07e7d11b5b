//! What the demo's parts share: section headings, the outcome of an attempt, a new client.

use confide::{ClientId, Date, Error, NewClient, Purpose, Session};

use crate::out::outln;

pub(crate) fn section(title: &str) {
    outln!("\n== {title}");
}

/// Print the outcome of an attempt: the value shown, or the typed refusal.
pub(crate) fn show<T>(what: &str, result: Result<T, Error>, render: impl FnOnce(T) -> String) {
    match result {
        Ok(v) => outln!("  allowed  {what}: {}", render(v)),
        Err(e) => outln!("  refused  {what}: {e}"),
    }
}

pub(crate) fn client(s: &Session, name: &str, dob: (i16, u8, u8)) -> Result<ClientId, Error> {
    let date_of_birth = Date::new(dob.0, dob.1, dob.2)?;
    s.create_client(
        &NewClient {
            full_name: name.into(),
            date_of_birth,
        },
        Purpose::Treatment,
    )
}
