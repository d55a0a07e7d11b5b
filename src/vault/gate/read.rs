//! The one read path, and the one field write.
//!
//! [`Admitted::read_in`] is every audited read of entries (a record, a batch of them, a note, a
//! joint record, an export's entries): each is decided on its own, opened only as far as its
//! decision permits, and gets its own audit entry, all appended in the caller's transaction and
//! so committed before any plaintext is returned. A single read is a batch of one. Releases and
//! key rotation open fields through [`Session::open`] under their own decision's grant.

use std::collections::BTreeMap;

use crate::db::Conn;
use crate::db::fact_rows::ScopeKind;

use crate::audit::Outcome;
use crate::db::rows::{self, FieldRow, ParentAuth};
use crate::error::{Error, Result};
use crate::model::Role;
use crate::policy::{Access, Basis, DenyReason, Facts};
use crate::value::{FieldName, Value};

use super::{Admitted, AuditAs, Entry, Granted, Session, Target, failure_of, outside_grant};

/// Opened fields, by name.
pub(in crate::vault) type Fields = BTreeMap<FieldName, Value>;

/// One opened envelope of any version: the write it was sealed in, its field, its value.
pub(in crate::vault) type Opened = (u64, FieldName, Value);

/// The envelopes of one entry with their names, none opened, and whether the set is whole.
pub(in crate::vault) struct Stored {
    entry: Entry,
    rows: Vec<FieldRow>,
    /// The parent's decision columns, write count and MAC, checked with the set when opened.
    auth: Option<ParentAuth>,
}

impl Stored {
    /// Load `entry`'s envelopes; `auth` is what authenticates them as read with the parent
    /// row, or (`None`) read now. The set is checked against it when it is opened.
    pub(in crate::vault) fn load(
        conn: &Conn,
        entry: Entry,
        auth: Option<&ParentAuth>,
    ) -> Result<Stored> {
        let rows = rows::fields(conn, entry.table, &entry.parent)?;
        let auth = match auth {
            Some(a) => Some(a.clone()),
            None => rows::parent_auth(conn, entry.table, &entry.parent)?,
        };
        Ok(Stored { entry, rows, auth })
    }

    /// The names of the stored fields, which is what a decision is asked about (a superseded
    /// version of a field is decided as the field).
    pub(in crate::vault) fn names(&self) -> Result<Vec<FieldName>> {
        self.rows
            .iter()
            .filter(|f| rows::split_version(&f.field).1.is_none())
            .map(|f| FieldName::new(&f.field))
            .collect::<Result<Vec<_>>>()
            .map_err(|_| Error::Corrupt {
                what: "stored field name".into(),
            })
    }
}

/// One entry to read: who reads it as what, the facts it is decided on, how it is audited.
pub(in crate::vault) struct ReadItem<'a> {
    pub role: Role,
    pub stored: Stored,
    pub facts: Facts,
    pub audit_as: AuditAs<'a>,
}

/// One entry asked for by a read.
// An `Ask` lives for one call; boxing the large variant would cost an allocation per entry read.
#[allow(clippy::large_enum_variant)]
pub(in crate::vault) enum Ask<'a> {
    /// An entry that exists.
    Read(ReadItem<'a>),
    /// One that does not: the same audited refusal as an entry the reader has no relationship
    /// with.
    Unknown(AuditAs<'a>),
}

/// One audit entry to append once a read is decided.
struct Pending<'a> {
    audit_as: AuditAs<'a>,
    fields: Vec<String>,
    outcome: Outcome,
}

impl Session {
    /// Open what `granted` permits of `stored`, narrowed further by `keep` (a release's own
    /// limits). On the first field that fails, returns its name and the error; a set that is
    /// not whole fails after the fields themselves.
    pub(in crate::vault) fn open(
        &self,
        conn: &Conn,
        granted: &Granted,
        stored: Stored,
        keep: impl Fn(&str) -> bool,
    ) -> Result<Fields, (String, Error)> {
        // The current fields only: earlier versions are opened by `open_versions`.
        let current = |f: &FieldRow| rows::split_version(&f.field).1.is_none() && keep(&f.field);
        Ok(self
            .open_rows(conn, granted, stored, current)?
            .into_iter()
            .map(|(_, name, value)| (name, value))
            .collect())
    }

    /// Open every version `granted` permits of `stored`: the current envelopes and the
    /// superseded ones (`field@write`), each as (write it was sealed in, field, value), oldest
    /// write first. Checked whole, as [`Session::open`] checks.
    pub(in crate::vault) fn open_versions(
        &self,
        conn: &Conn,
        granted: &Granted,
        stored: Stored,
    ) -> Result<Vec<Opened>, (String, Error)> {
        let mut out = self.open_rows(conn, granted, stored, |_| true)?;
        out.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        Ok(out)
    }

    /// Open the rows of `stored` that `granted` permits (a superseded envelope as its field)
    /// and `keep` keeps. The whole set as the vault last wrote it is judged before narrowing
    /// and reported after the fields themselves: a damaged envelope is named before a damaged
    /// set, and neither returns anything.
    fn open_rows(
        &self,
        conn: &Conn,
        granted: &Granted,
        stored: Stored,
        keep: impl Fn(&FieldRow) -> bool,
    ) -> Result<Vec<Opened>, (String, Error)> {
        let Stored {
            entry,
            mut rows,
            auth,
        } = stored;
        if !granted.covers(&entry) {
            return Err((String::new(), outside_grant()));
        }
        let whole = self.check_parent(entry.table, &entry.parent, auth.as_ref(), &rows, false);
        rows.retain(|f| granted.permits(&entry, rows::split_version(&f.field).0) && keep(f));
        // A key another session still caches must not outlive the client's erasure.
        match rows::is_erased(conn, &entry.owner) {
            Ok(false) => {}
            Ok(true) => return Err((String::new(), Error::Erased)),
            Err(e) => return Err((String::new(), e)),
        }
        let out = self.decrypt_rows(conn, &entry, &rows)?;
        whole.map_err(|e| (String::new(), e))?;
        Ok(out)
    }
}

impl Admitted<'_> {
    /// Decide every entry of `asks` on its own, open only what each decision permits, and
    /// append one audit entry per entry (granted, refused or failed) inside `tx`, in order. A
    /// refusal or failure of one entry is its own `Err` and hides nothing else.
    ///
    /// INVARIANT: every entry is appended in `tx`, which the caller commits before it returns
    /// any of the plaintext.
    pub(in crate::vault) fn read_in(
        &self,
        tx: &Conn,
        asks: Vec<Ask<'_>>,
    ) -> Result<Vec<Result<(Basis, Fields)>>> {
        let mut pending = Vec::with_capacity(asks.len());
        let mut out = Vec::with_capacity(asks.len());
        for ask in asks {
            let item = match ask {
                Ask::Read(item) => item,
                Ask::Unknown(audit_as) => {
                    let reason = DenyReason::NoRelationship;
                    pending.push(Pending {
                        audit_as,
                        fields: Vec::new(),
                        outcome: Outcome::Denied(reason),
                    });
                    out.push(Err(Error::Denied { reason }));
                    continue;
                }
            };
            let ReadItem {
                role,
                stored,
                facts,
                audit_as,
            } = item;
            let entry = stored.entry;
            let Some(category) = entry.category else {
                // INVARIANT: the read path is asked only for entries of a record.
                return Err(outside_grant());
            };
            let access = Access::Read(category);
            let target = Target::Entry(entry);
            let granted = match self.grant(role, access, stored.names()?, &facts, target) {
                Ok(g) => g,
                Err(reason) => {
                    pending.push(Pending {
                        audit_as,
                        fields: Vec::new(),
                        outcome: Outcome::Denied(reason),
                    });
                    out.push(Err(Error::Denied { reason }));
                    continue;
                }
            };
            // Decided: only now unwrap keys and open the permitted fields.
            match self.session().open(tx, &granted, stored, |_| true) {
                Ok(fields) => {
                    pending.push(Pending {
                        audit_as,
                        fields: fields.keys().map(|k| k.as_str().to_owned()).collect(),
                        outcome: Outcome::Allowed(granted.basis()),
                    });
                    out.push(Ok((granted.basis(), fields)));
                }
                Err((field, err)) => {
                    pending.push(Pending {
                        audit_as,
                        fields: vec![field],
                        outcome: Outcome::Failed(failure_of(&err)),
                    });
                    out.push(Err(err));
                }
            }
        }
        let fields: Vec<Vec<&str>> = pending
            .iter()
            .map(|p| p.fields.iter().map(String::as_str).collect())
            .collect();
        let entries: Vec<_> = pending
            .iter()
            .zip(&fields)
            .map(|(p, fields)| {
                let AuditAs {
                    action,
                    client,
                    target,
                } = p.audit_as;
                self.entry(action, client, target, fields, p.outcome)
            })
            .collect();
        self.session().shared.audit_all(tx, &entries)?;
        Ok(out)
    }

    /// [`Admitted::read_in`] of one entry, which `ask` finds, in its own transaction.
    pub(in crate::vault) fn read_one<'a>(
        &self,
        ask: impl FnOnce(&Conn) -> Result<Ask<'a>>,
    ) -> Result<(Basis, Fields)> {
        self.session()
            .shared
            .write(|tx| {
                let ask = ask(tx)?;
                self.read_in(tx, vec![ask])
            })?
            .pop()
            // INVARIANT: read_in gives exactly one result per entry asked for.
            .ok_or(Error::NotFound { what: "entry" })?
    }

    /// Decide a read of every version of one entry, open what the decision permits of each
    /// and append its audit entry (naming every envelope opened, `field@write` for the
    /// earlier ones), in one transaction committed before anything is returned.
    pub(in crate::vault) fn read_versions(&self, item: ReadItem<'_>) -> Result<Vec<Opened>> {
        let session = self.session();
        let ReadItem {
            role,
            stored,
            facts,
            audit_as,
        } = item;
        let entry = stored.entry;
        let category = entry.category.ok_or_else(outside_grant)?;
        let target = Target::Entry(entry);
        let names = stored.names()?;
        let granted = match self.grant(role, Access::Read(category), names, &facts, target) {
            Ok(g) => g,
            Err(reason) => return self.refuse(audit_as, reason),
        };
        let AuditAs {
            action,
            client,
            target,
        } = audit_as;
        let outcome = session.shared.write(|tx| {
            Ok(match session.open_versions(tx, &granted, stored) {
                Ok(opened) => {
                    let names: Vec<String> = opened
                        .iter()
                        .map(|(w, n, _)| format!("{n}{}{w}", rows::VERSION_MARK))
                        .collect();
                    let names: Vec<&str> = names.iter().map(String::as_str).collect();
                    let outcome = Outcome::Allowed(granted.basis());
                    session
                        .shared
                        .audit_in(tx, &self.entry(action, client, target, &names, outcome))?;
                    Ok(opened)
                }
                Err((field, err)) => Err((field, err)),
            })
        })?;
        match outcome {
            Ok(opened) => Ok(opened),
            Err((field, err)) => self.fail(audit_as, &[field.as_str()], failure_of(&err), err),
        }
    }

    /// Decide a write of `fields` to `entry`, then, in one transaction, create the parent row
    /// (`create`), seal the fields and append the audit entry vouching for the stored set.
    pub(in crate::vault) fn write_entry(
        &self,
        entry: &Entry,
        facts: &Facts,
        fields: &[(FieldName, &Value)],
        audit_as: AuditAs<'_>,
        create: impl FnOnce(&Conn, i64) -> Result<()>,
    ) -> Result<Basis> {
        self.write_entry_in(entry, facts, fields, audit_as, None, create)
    }

    /// [`Admitted::write_entry`] that also changes a scope of facts in `create` (an addendum's
    /// link): the scope is checked before and vouched for after, by the same entry.
    pub(in crate::vault) fn write_entry_in(
        &self,
        entry: &Entry,
        facts: &Facts,
        fields: &[(FieldName, &Value)],
        audit_as: AuditAs<'_>,
        scope: Option<(ScopeKind, &[u8])>,
        create: impl FnOnce(&Conn, i64) -> Result<()>,
    ) -> Result<Basis> {
        let session = self.session();
        let names: Vec<FieldName> = fields.iter().map(|(n, _)| n.clone()).collect();
        let Some(category) = entry.category else {
            return Err(outside_grant());
        };
        let access = Access::Write(category);
        let target = Target::Entry(*entry);
        let granted = self.check(session.role, access, names, facts, audit_as, target)?;
        let written: Vec<&str> = fields.iter().map(|(n, _)| n.as_str()).collect();
        let written_ok = session.shared.write(|tx| {
            // Never vouch for a set of fields, or facts, someone changed outside the vault.
            session.check_parent_now(tx, entry.table, &entry.parent)?;
            if let Some((kind, id)) = scope {
                session.check_scope_now(tx, kind, id)?;
            }
            create(tx, session.shared.now_ms())?;
            session.seal(tx, &granted, entry, fields)?;
            let AuditAs {
                action,
                client,
                target,
            } = audit_as;
            let outcome = Outcome::Allowed(granted.basis());
            let e = self.entry(action, client, target, &written, outcome);
            session.audit_fields(tx, &e, entry.table, &entry.parent, scope)
        });
        match written_ok {
            Ok(_) => Ok(granted.basis()),
            // Rolled back; the refusal to write over damaged fields, over a signed entry, or
            // with a master key rotated meanwhile, is audited on its own.
            Err(e @ (Error::Integrity { .. } | Error::SessionLocked | Error::Signed { .. })) => {
                self.fail(audit_as, &[], failure_of(&e), e)
            }
            Err(e) => Err(e),
        }
    }
}
