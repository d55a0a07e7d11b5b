//! The golden access matrix (45 CFR 164.514(d)(2): the minimum-necessary artefact).
//!
//! Every role × category × purpose × operation is decided under the role's canonical
//! relationship to the client, and compared with a table written by hand in
//! `tests/common/matrix.rs`, independently of `src/policy/matrix.rs`. `docs/access.md` is the same
//! table in prose; that file is its source of truth. A new permissive rule changes the
//! allowed-cell count and fails the test.
//!
//! Only the public API is used: `decide` is pure, so no vault is needed.

#[path = "common/matrix.rs"]
mod matrix;

use std::collections::BTreeSet;

use confide::{Access, Category, Purpose, Role, decide};
use matrix::*;

#[test]
fn the_table_covers_every_role_category_and_purpose() {
    assert_eq!(Purpose::ALL, COLUMNS.as_slice(), "columns out of step");
    for role in Role::ALL {
        assert!(
            PROFILES.iter().any(|p| p.role == *role),
            "no profile for role {role}"
        );
    }
    for p in PROFILES {
        for (op, rows) in [("read", p.read), ("write", p.write)] {
            let cats: Vec<Category> = rows.iter().map(|r| r.0).collect();
            assert_eq!(cats, Category::ALL, "{}: {op} rows out of step", p.name);
        }
    }
    let requested: BTreeSet<&str> = REQUESTED.iter().copied().collect();
    for want in [BILL_DEMO, BILL_DOS, BILL_CODES, DESK_CONTACT, DESK_SCHED] {
        let Want::Allow(_, Fields::Only(scope)) = want else {
            panic!("not a scoped grant")
        };
        assert!(scope.len() < REQUESTED.len());
        for f in scope {
            assert!(requested.contains(f), "{f} is not requested");
        }
    }
}

#[test]
fn every_cell_matches_the_golden_table() {
    let mut failures = Vec::new();
    let (mut cells, mut allowed) = (0usize, 0usize);
    for p in PROFILES {
        let facts = (p.facts)();
        for (write, rows) in [(false, p.read), (true, p.write)] {
            for &(category, wants) in rows {
                for (&want, &purpose) in wants.iter().zip(COLUMNS.iter()) {
                    cells += 1;
                    if matches!(want, Want::Allow(..)) {
                        allowed += 1;
                    }
                    let access = if write {
                        Access::Write(category)
                    } else {
                        Access::Read(category)
                    };
                    for (fields, expected) in cases_of(want, write) {
                        let got = decide(&request(p.role, access, purpose, fields), &facts);
                        if got != expected {
                            failures.push(format!(
                                "{} [{}] {access:?} {purpose} fields={fields:?}\n    \
                                 expected {expected:?}\n    got      {got:?}",
                                p.name,
                                role_name(p.role),
                            ));
                        }
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} cell check(s) differ from the golden table:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(
        cells,
        PROFILES.len() * Category::ALL.len() * COLUMNS.len() * 2
    );
    assert_eq!(cells, 1800);
    assert_eq!(
        allowed, ALLOWED_CELLS,
        "the number of allowed cells changed: a rule was added or removed"
    );
    assert_eq!(allowed, 71);
}

// ---------------------------------------------------------------------------------------------
// Refusals beat permissions.
