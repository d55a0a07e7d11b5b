//! `confide accounting`: a client's accounting of disclosures, as text or JSON.

use std::path::Path;

use crate::out::outln;
use confide::{ClientId, Date, Error, Vault};

/// Midnight UTC at the start of `date`, in unix ms.
fn start_of(date: &Date) -> i64 {
    time::Month::try_from(date.month())
        .ok()
        .and_then(|m| time::Date::from_calendar_date(i32::from(date.year()), m, date.day()).ok())
        .map_or(0, |d| d.midnight().assume_utc().unix_timestamp() * 1000)
}

pub(crate) fn run(
    path: &Path,
    user: &str,
    client: &str,
    since: Option<&str>,
    json: bool,
) -> Result<(), Error> {
    let client: ClientId = client.parse()?;
    let since = since
        .map(Date::parse_iso)
        .transpose()?
        .map(|d| start_of(&d));
    let vault = Vault::open(path, crate::config(path)?)?;
    let session = vault.unlock(user, &crate::passphrase()?)?;
    let entries = session.accounting(&client, since)?;
    if json {
        let text =
            serde_json::to_string_pretty(&entries).map_err(|e| Error::Storage(e.to_string()))?;
        outln!("{text}");
        return Ok(());
    }
    outln!("Accounting of disclosures for client {client}");
    if entries.is_empty() {
        outln!("  no disclosures to account for in the period");
    }
    for e in &entries {
        outln!(
            "- {}  to {}, {}, {}\n    purpose {}, basis {}\n    {}\n    (audit entry #{})",
            e.disclosed_at,
            e.recipient.name,
            e.recipient.organisation,
            e.recipient.address,
            e.purpose,
            e.legal_basis,
            e.description,
            e.audit_seq
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_of_day_is_utc_midnight() {
        assert_eq!(start_of(&Date::new(1970, 1, 1).unwrap()), 0);
        assert_eq!(start_of(&Date::new(2000, 3, 1).unwrap()), 951_868_800_000);
    }
}
