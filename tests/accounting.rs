//! The accounting of disclosures (45 CFR 164.528): what a client may ask to see of the releases
//! made of their information, through the library and through `confide accounting`.
//!
//! The rule lists disclosures made without the client's authorization and outside treatment,
//! payment and operations: duty to warn, abuse reports, court orders, emergencies. Each line
//! gives the date, the recipient and their address, a brief description of what was disclosed
//! and the purpose. Only the client's treating clinician produces it, and every attempt is
//! audited.

mod common;
#[path = "common/releases.rs"]
mod releases;
#[path = "common/stories.rs"]
mod stories;

use std::time::Duration;

use common::*;
use confide::{AccountingEntry, ClientId, Error, Purpose};
use releases::*;
use stories::*;

/// The accounting line of `made`, checked field by field against what the releaser gave.
#[track_caller]
fn assert_line(line: &AccountingEntry, made: &Made, p: &Practice, client: &ClientId) {
    let m = &made.package.manifest;
    assert_eq!(line.legal_basis, made.basis.code());
    assert_eq!(line.audit_seq, m.audit_seq);
    assert_eq!(line.disclosed_at, m.released_at, "the date of the release");
    assert!(line.disclosed_at_ms > 0);
    assert!(
        line.disclosed_at_ms <= now_ms() && line.disclosed_at_ms > now_ms() - 60_000,
        "released within the last minute: {}",
        line.disclosed_at_ms
    );
    assert_eq!(line.recipient, made.recipient, "recipient as given");
    assert_eq!(line.purpose, made.purpose.code());
    // A brief description of what was disclosed: every category and field released, and the
    // releaser's own words.
    assert!(
        line.description.contains(&made.description),
        "{:?} lacks the request's description",
        line.description
    );
    assert!(
        !made.package.items.is_empty(),
        "{} released nothing",
        made.basis
    );
    for item in &made.package.items {
        assert!(
            line.description.contains(&item.category),
            "{:?} does not name category {}",
            line.description,
            item.category
        );
        for field in item.fields.keys() {
            assert!(
                line.description.contains(field.as_str()),
                "{:?} does not name field {field}",
                line.description
            );
        }
    }
    // No field value leaks into the description: it names what, it does not copy it.
    for item in &made.package.items {
        for value in item.fields.values() {
            if value.len() > 8 {
                assert!(
                    !line.description.contains(value.as_str()),
                    "the description copies a released value: {value:?}"
                );
            }
        }
    }
    // The audit log has the release at that sequence number.
    let tail = p.admin().audit_tail(100_000).unwrap();
    let entry = tail
        .iter()
        .find(|e| e.seq == line.audit_seq)
        .unwrap_or_else(|| panic!("no audit entry at seq {}", line.audit_seq));
    assert_eq!(entry.action, "disclosure.release");
    assert_eq!(entry.client.as_ref(), Some(client));
    assert_eq!(entry.outcome, format!("granted:{}", made.basis.code()));
    assert_eq!(entry.purpose, made.purpose.code());
    // The release is dated when it was decided; its audit entry when it committed, just after.
    let lag = entry.at_ms - line.disclosed_at_ms;
    assert!(
        (0..5_000).contains(&lag),
        "audit entry at {} for a release at {}",
        entry.at_ms,
        line.disclosed_at_ms
    );
    assert_eq!(
        entry.target.as_deref(),
        Some(m.disclosure_id.as_str()),
        "the audit entry names the ledger row"
    );
}

#[test]
fn lists_exactly_the_accountable_releases_with_every_element() {
    let r = released();
    let dr = r.p.login("dr.a");
    let lines = dr.accounting(&r.jordan, None).unwrap();
    let bases: Vec<&str> = lines.iter().map(|l| l.legal_basis.as_str()).collect();
    assert_eq!(
        bases,
        vec![
            "duty-to-warn",
            "child-abuse-report",
            "court-order",
            "medical-emergency"
        ],
        "exactly the accountable releases, oldest first: {lines:#?}"
    );
    for (line, made) in lines.iter().zip(&r.accountable) {
        assert_line(line, made, &r.p, &r.jordan);
    }
    // Treatment, payment and authorized releases are not listed, by any element.
    for made in &r.exempt {
        assert!(!made.basis.accountable());
        let seq = made.seq();
        assert!(
            lines.iter().all(|l| l.audit_seq != seq),
            "{} release listed",
            made.basis
        );
        assert!(
            lines
                .iter()
                .all(|l| l.recipient.name != made.recipient.name),
            "{} recipient listed",
            made.basis
        );
    }
    // Oldest first.
    assert!(
        lines.windows(2).all(
            |w| w[0].disclosed_at_ms <= w[1].disclosed_at_ms && w[0].audit_seq < w[1].audit_seq
        )
    );
    // Producing it is audited, as read at the client's request.
    let read = entries(&r.p, "accounting.read");
    let last = read.last().expect("an accounting.read entry");
    assert_eq!(last.actor, Some(dr.user_id()));
    assert_eq!(last.client, Some(r.jordan));
    assert!(last.outcome.starts_with("granted"), "{}", last.outcome);
    assert_eq!(last.purpose, Purpose::PatientRequest.code());
    assert_log_intact(&r.p);
}

#[test]
fn the_court_order_reference_and_recipient_address_survive() {
    let r = released();
    let dr = r.p.login("dr.a");
    let lines = dr.accounting(&r.jordan, None).unwrap();
    let order = lines
        .iter()
        .find(|l| l.legal_basis == "court-order")
        .unwrap();
    assert_eq!(order.recipient.address, "200 Justice Plaza, Springfield");
    assert_eq!(
        order.recipient.organisation,
        "Springfield County Superior Court"
    );
    assert_eq!(order.purpose, "HLEGAL");
    let manifest = &r.accountable[2].package.manifest;
    assert_eq!(
        manifest.reference.as_deref(),
        Some("Order No. 2025-FL-0192")
    );
}

#[test]
fn another_clients_releases_never_appear() {
    let r = released();
    let dr = r.p.login("dr.a");
    let jordans = dr.accounting(&r.jordan, None).unwrap();
    assert!(jordans.iter().all(|l| l.audit_seq != r.rileys.seq()));
    let rileys = dr.accounting(&r.riley, None).unwrap();
    assert_eq!(rileys.len(), 1, "{rileys:#?}");
    assert_line(&rileys[0], &r.rileys, &r.p, &r.riley);
    let jordan_seqs: Vec<u64> = r
        .accountable
        .iter()
        .chain(&r.exempt)
        .map(Made::seq)
        .collect();
    assert!(rileys.iter().all(|l| !jordan_seqs.contains(&l.audit_seq)));
    // A client with no release has an empty accounting.
    let quiet = client_with_records(&dr, "Quinn Avery");
    assert_eq!(dr.accounting(&quiet, None).unwrap(), vec![]);
}

#[test]
fn the_period_excludes_earlier_releases() {
    let clock = confide::TestClock::starting_at(now_ms());
    let p = Practice::on_clock(clock);
    let dr = p.login("dr.a");
    let client = client_with_records(&dr, "Jordan Blake");
    let early = [duty_to_warn(&dr, client), abuse_report(&dr, client)];
    clock.advance(Duration::from_millis(1));
    let since = clock.now_ms();
    clock.advance(Duration::from_millis(1));
    let _exempt = authorized(&dr, client);
    let late = [court_order(&dr, client), emergency(&dr, client)];

    let everything = dr.accounting(&client, None).unwrap();
    assert_eq!(everything.len(), 4);

    let recent = dr.accounting(&client, Some(since)).unwrap();
    let seqs: Vec<u64> = recent.iter().map(|l| l.audit_seq).collect();
    assert_eq!(seqs, late.iter().map(Made::seq).collect::<Vec<_>>());
    for (line, made) in recent.iter().zip(&late) {
        assert!(line.disclosed_at_ms >= since);
        assert_line(line, made, &p, &client);
    }
    for made in &early {
        assert!(seqs.iter().all(|s| *s != made.seq()));
    }
    // The period is inclusive of its start.
    let from_first = dr
        .accounting(&client, Some(everything[2].disclosed_at_ms))
        .unwrap();
    assert_eq!(from_first.len(), 2);
    // A period that starts after every release is empty; one from the epoch lists everything.
    assert_eq!(
        dr.accounting(&client, Some(now_ms() + 60_000)).unwrap(),
        vec![]
    );
    assert_eq!(dr.accounting(&client, Some(0)).unwrap(), everything);
}

#[test]
fn only_the_treating_clinician_produces_it_and_every_refusal_is_audited() {
    let r = released();
    let before = entries(&r.p, "accounting.read").len();
    let mut refused = Vec::new();
    for name in ["dr.b", "biller", "front.desk", "auditor"] {
        let s = r.p.login(name);
        let got = s.accounting(&r.jordan, None);
        assert!(
            matches!(got, Err(Error::Denied { .. })),
            "{name} got {got:?}"
        );
        refused.push(s.user_id());
    }
    let admin = r.p.admin();
    let got = admin.accounting(&r.jordan, None);
    assert!(
        matches!(got, Err(Error::Denied { .. })),
        "admin got {got:?}"
    );
    refused.push(admin.user_id());

    let after = entries(&r.p, "accounting.read");
    let new = &after[before..];
    assert_eq!(new.len(), refused.len(), "one entry per attempt: {new:#?}");
    for (entry, who) in new.iter().zip(&refused) {
        assert_eq!(entry.actor.as_ref(), Some(who));
        assert_eq!(entry.client, Some(r.jordan));
        assert!(entry.outcome.starts_with("denied:"), "{}", entry.outcome);
        assert!(
            entry.fields.is_empty(),
            "a refusal touches no field: {:?}",
            entry.fields
        );
    }
    // dr.b, not on Jordan's care team, is refused for having no relationship.
    assert_denied(
        r.p.login("dr.b").accounting(&r.jordan, None),
        confide::DenyReason::NoRelationship,
    );
    assert_log_intact(&r.p);
}

// ---------------------------------------------------------------------------------------------
// The command line
// ---------------------------------------------------------------------------------------------
