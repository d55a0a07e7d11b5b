//! Authenticated state: the MACs over the cleartext facts a decision trusts, checked before the
//! facts are used and written in the transaction of the change, with the audit entry vouching
//! for the same digest (keyless, for `audit-verify`).
//!
//! Two kinds of MAC, both under the fact key (HKDF of the master key, its own info string):
//!
//! - a **scope** MAC in the head row of a client, a case or a user, over the digest of every
//!   row of the scope ([`fact_rows`]): a row added, deleted, changed, moved to another scope or
//!   put back from an older copy breaks it;
//! - a **parent** MAC in each record, note, joint record, consent and grant, over its decision
//!   columns, its write count and its field set ([`fields_digest_v2`]): a relabelled record, a
//!   field deleted, or an older envelope put back (even with the plain digest recomputed) fails
//!   before anything opens.
//!
//! A missing MAC is a failure like a wrong one: every fact had one from the baseline on.

use crate::audit::{
    EntryView, Failure, NewEntry, Outcome, Vouch, fields_digest_v2, fields_digest_v2_of,
};
use crate::crypto::keys::FactKey;
use crate::db::fact_rows::{self, ScopeKind, ScopeRead};
use crate::db::rows::{self, FieldRow, FieldTable, ParentAuth, claimed_write};
use crate::db::{self, Conn};
use crate::error::{Error, Place, Result};

use crate::crypto::keys::MasterKey;
use crate::ids::UserId;
use crate::vault::Shared;

use super::session::Vouched;
use super::{Granted, Session, Target, outside_grant};

/// Check `user`'s scope of facts at login, with the master key their passphrase just opened,
/// once the vault's state is authenticated (before that, the baseline this login writes
/// authenticates it).
pub(in crate::vault) fn check_login(shared: &Shared, mk: &MasterKey, user: &UserId) -> Result<()> {
    let conn = shared.conn();
    if fact_rows::baseline_seq(&conn)?.is_none() {
        return Ok(());
    }
    let read = fact_rows::scope_digest(&conn, ScopeKind::User, user.as_bytes())?;
    let key = mk.fact_key(&shared.vault_id)?;
    let kind = ScopeKind::User;
    match &read.mac {
        Some(mac)
            if key.verify(
                &shared.vault_id,
                kind.name(),
                user.as_bytes(),
                &read.digest,
                mac,
            ) =>
        {
            Ok(())
        }
        _ => Err(Error::Integrity {
            place: scope_place(kind, user.as_bytes()),
        }),
    }
}

/// The first user of a new vault: MAC their scope in `tx` with `mk`'s fact key and mark the
/// vault as authenticated from its first entry on. Returns the scope's digest, for the entry
/// that adds the user.
pub(in crate::vault) fn seal_first_user(
    shared: &Shared,
    tx: &Conn,
    mk: &MasterKey,
    user: &UserId,
) -> Result<[u8; 32]> {
    let key = mk.fact_key(&shared.vault_id)?;
    let kind = ScopeKind::User;
    let read = fact_rows::scope_digest(tx, kind, user.as_bytes())?;
    let mac = key.mac(&shared.vault_id, kind.name(), user.as_bytes(), &read.digest);
    fact_rows::set_scope_mac(tx, kind, user.as_bytes(), &mac)?;
    // Nothing before the vault's first entry: its whole state is authenticated from there.
    fact_rows::set_baseline_seq(tx, 1)?;
    Ok(read.digest)
}

/// How many verified scopes a session remembers (a practice's clients, cases and staff, many
/// times over); past it the memory starts again.
const VERIFIED_KEPT: usize = 4096;

/// The place named when a scope's facts fail their MAC.
pub(in crate::vault) fn scope_place(kind: ScopeKind, id: &[u8]) -> Place {
    let table = match kind {
        ScopeKind::Client => "clients",
        ScopeKind::Case => "cases",
        ScopeKind::User => "users",
    };
    Place {
        table,
        owner: hex::encode(id),
        record: "-".into(),
        field: "(the facts of this scope)".into(),
    }
}

fn parent_place(table: FieldTable, parent: &[u8]) -> Place {
    Place {
        table: table.name(),
        owner: "-".into(),
        record: hex::encode(parent),
        field: "(the set of fields)".into(),
    }
}

/// The kind a parent's summary MAC is bound to (its full MAC is bound to its table's name).
const SUMMARY: &str = "parent-summary";

/// What a read checks of a parent without hashing its envelopes: its table, id, decision
/// columns and write count, then for each field its name, key version and either the write its
/// envelope claims (version 2: its associated data binds that claim, so the envelope opens only
/// where and as what it was sealed) or, for an envelope of version 1, which binds no write, the
/// SHA-256 of its bytes.
fn parent_summary(
    table: FieldTable,
    parent: &[u8; 16],
    auth: &ParentAuth,
    stored: &[FieldRow],
) -> Vec<u8> {
    let mut b = Vec::with_capacity(128 + stored.len() * 48);
    b.extend_from_slice(b"confide/parent-summary/v1");
    crate::crypto::envelope::push_str(&mut b, table.name());
    b.extend_from_slice(parent);
    b.extend_from_slice(&(auth.head.len() as u32).to_be_bytes());
    for c in &auth.head {
        c.encode(&mut b);
    }
    b.extend_from_slice(&auth.write_version.to_be_bytes());
    b.extend_from_slice(&(stored.len() as u32).to_be_bytes());
    for f in stored {
        crate::crypto::envelope::push_str(&mut b, &f.field);
        b.extend_from_slice(&f.key_version.to_be_bytes());
        match f.envelope.first() {
            Some(2) => {
                b.push(2);
                b.extend_from_slice(&claimed_write(&f.envelope).to_be_bytes());
            }
            _ => {
                b.push(1);
                b.extend_from_slice(
                    ring::digest::digest(&ring::digest::SHA256, &f.envelope).as_ref(),
                );
            }
        }
    }
    b
}

impl Session {
    /// A copy of the fact key, wiped when dropped; fails closed on a locked session.
    fn fact_key(&self) -> Result<FactKey> {
        self.with_unlocked(|u, _| Ok(u.facts.clone()))
    }

    /// Whether this session already found what `read` found at (`kind`, `id`) vouched for:
    /// the same rows (the same digest) under the same stored MAC. The MAC is compared too
    /// because a change re-MACs the scope: rows put back as this session once saw them, under
    /// the MAC of a later change, must be checked again and fail, as a session that never saw
    /// them would find.
    fn seen(&self, kind: ScopeKind, id: &[u8], read: &ScopeRead) -> Result<bool> {
        let (Ok(id), Some(mac)) = (<[u8; 16]>::try_from(id), &read.mac) else {
            return Ok(false);
        };
        self.with_unlocked(|u, _| {
            Ok(u.verified
                .get(&(kind, id))
                .is_some_and(|v| v.digest == read.digest && v.mac == *mac))
        })
    }

    /// Remember that the digest and MAC `read` found were vouched for at (`kind`, `id`).
    fn remember(&self, kind: ScopeKind, id: &[u8], read: &ScopeRead) -> Result<()> {
        let (Ok(id), Some(mac)) = (<[u8; 16]>::try_from(id), &read.mac) else {
            return Ok(());
        };
        self.with_unlocked(|u, _| {
            if u.verified.len() >= VERIFIED_KEPT {
                u.verified.clear();
            }
            let vouched = Vouched {
                digest: read.digest,
                mac: mac.clone(),
            };
            u.verified.insert((kind, id), vouched);
            Ok(())
        })
    }

    /// Check what reading scope (`kind`, `id`) found against the MAC its head row stores. A
    /// scope with no head row has nothing to vouch for it; the caller treats it as unknown.
    pub(in crate::vault) fn check_scope(
        &self,
        kind: ScopeKind,
        id: &[u8],
        read: &ScopeRead,
    ) -> Result<()> {
        if !read.exists || self.seen(kind, id, read)? {
            return Ok(());
        }
        let key = self.fact_key()?;
        match &read.mac {
            Some(mac) if key.verify(&self.shared.vault_id, kind.name(), id, &read.digest, mac) => {
                self.remember(kind, id, read)
            }
            _ => Err(Error::Integrity {
                place: scope_place(kind, id),
            }),
        }
    }

    /// Read scope (`kind`, `id`) as it is stored now and check it.
    pub(in crate::vault) fn check_scope_now(
        &self,
        conn: &Conn,
        kind: ScopeKind,
        id: &[u8],
    ) -> Result<()> {
        let read = fact_rows::scope_digest(conn, kind, id)?;
        self.check_scope(kind, id, &read)
    }

    /// Check `stored`, every field row of `parent`, with the parent's decision columns and
    /// write count, against the MAC it keeps.
    ///
    /// A read checks the summary MAC (names, key versions and the write each envelope claims,
    /// which its associated data binds, so opening an envelope checks the rest of it); `whole`
    /// also checks the MAC over every byte, before a write vouches for the set or a rotation
    /// re-authenticates it.
    pub(in crate::vault) fn check_parent(
        &self,
        table: FieldTable,
        parent: &[u8; 16],
        auth: Option<&ParentAuth>,
        stored: &[FieldRow],
        whole: bool,
    ) -> Result<()> {
        let fail = || Error::Integrity {
            place: parent_place(table, parent),
        };
        if table == FieldTable::Disclosures {
            // The ledger is append-only (triggers refuse changes) and every row is vouched for
            // by its release entry, which `audit-verify` checks; no decision reads it.
            return Ok(());
        }
        let Some(auth) = auth else {
            return Err(fail());
        };
        let (Some(mac), key) = (&auth.mac, self.fact_key()?) else {
            return Err(fail());
        };
        let (summary_mac, full_mac) = mac.split_at(mac.len().min(32));
        let summary = parent_summary(table, parent, auth, stored);
        if !key.verify(
            &self.shared.vault_id,
            SUMMARY,
            parent,
            &summary,
            summary_mac,
        ) {
            return Err(fail());
        }
        if whole {
            let parts = stored
                .iter()
                .map(|f| (f.field.as_str(), f.key_version, f.envelope.as_slice()));
            let digest =
                fields_digest_v2_of(table.name(), parent, &auth.head, auth.write_version, parts);
            if !key.verify(
                &self.shared.vault_id,
                table.name(),
                parent,
                &digest,
                full_mac,
            ) {
                return Err(fail());
            }
        }
        // No envelope may claim a write after the last one the MAC vouches for (the claim is
        // bound into its associated data, so opening it checks the claim in turn).
        let latest = u64::try_from(auth.write_version).unwrap_or(0);
        if stored.iter().any(|f| claimed_write(&f.envelope) > latest) {
            return Err(fail());
        }
        Ok(())
    }

    /// [`Session::check_parent`] of `parent` as it is stored now, if it exists yet.
    pub(in crate::vault) fn check_parent_now(
        &self,
        conn: &Conn,
        table: FieldTable,
        parent: &[u8; 16],
    ) -> Result<()> {
        let Some(auth) = rows::parent_auth(conn, table, parent)? else {
            return Ok(());
        };
        let stored = rows::fields(conn, table, parent)?;
        self.check_parent(table, parent, Some(&auth), &stored, true)
    }

    /// MAC scope (`kind`, `id`) as `tx` now holds it; returns its digest.
    fn seal_scope(&self, tx: &Conn, key: &FactKey, kind: ScopeKind, id: &[u8]) -> Result<[u8; 32]> {
        let read = fact_rows::scope_digest(tx, kind, id)?;
        let mac = key.mac(&self.shared.vault_id, kind.name(), id, &read.digest);
        fact_rows::set_scope_mac(tx, kind, id, &mac)?;
        Ok(read.digest)
    }

    /// MAC `parent` and its fields as `tx` now holds them, counting one more write; returns
    /// the digest.
    fn seal_parent(
        &self,
        tx: &Conn,
        key: &FactKey,
        table: FieldTable,
        parent: &[u8; 16],
        count_write: bool,
    ) -> Result<[u8; 32]> {
        if count_write {
            rows::bump_write_version(tx, table, parent)?;
        }
        let auth =
            rows::parent_auth(tx, table, parent)?.ok_or(Error::NotFound { what: "record" })?;
        let fields = rows::field_cells(tx, table, parent)?;
        let digest = fields_digest_v2(
            table.name(),
            parent,
            &auth.head,
            auth.write_version,
            &fields,
        );
        let stored = rows::fields(tx, table, parent)?;
        let summary = parent_summary(table, parent, &auth, &stored);
        let mut mac = key
            .mac(&self.shared.vault_id, SUMMARY, parent, &summary)
            .to_vec();
        mac.extend_from_slice(&key.mac(&self.shared.vault_id, table.name(), parent, &digest));
        rows::set_parent_mac(tx, table, parent, &digest, &mac)?;
        Ok(digest)
    }

    /// Append `entry` inside `tx`, vouching for the fields of `parent` (written earlier in the
    /// transaction, counted as one more write) and, if given, for the scope the change touched.
    pub(in crate::vault) fn audit_fields(
        &self,
        tx: &Conn,
        entry: &NewEntry<'_>,
        table: FieldTable,
        parent: &[u8; 16],
        scope: Option<(ScopeKind, &[u8])>,
    ) -> Result<u64> {
        let key = self.fact_key()?;
        self.shared.audit_vouched(tx, entry, |_| {
            let digest = self.seal_parent(tx, &key, table, parent, true)?;
            let facts = scope
                .map(|(kind, id)| self.seal_scope(tx, &key, kind, id))
                .transpose()?;
            Ok(Vouch {
                digest: Some(digest),
                digest_v2: true,
                facts,
            })
        })
    }

    /// Append `entry` inside `tx`, vouching for scope (`kind`, `id`) as the change left it.
    pub(in crate::vault) fn audit_scope(
        &self,
        tx: &Conn,
        entry: &NewEntry<'_>,
        kind: ScopeKind,
        id: &[u8],
    ) -> Result<u64> {
        let key = self.fact_key()?;
        self.shared.audit_vouched(tx, entry, |_| {
            Ok(Vouch {
                facts: Some(self.seal_scope(tx, &key, kind, id)?),
                ..Vouch::default()
            })
        })
    }

    /// Change scope (`kind`, `id`) with `op` and append `entry` vouching for what it left, in
    /// one transaction. The scope is checked whole first: the vault never vouches for facts
    /// someone changed outside it. A scope that fails its check is audited as a failure.
    pub(in crate::vault) fn write_scope(
        &self,
        entry: &NewEntry<'_>,
        kind: ScopeKind,
        id: &[u8],
        op: impl FnOnce(&Conn) -> Result<()>,
    ) -> Result<u64> {
        let written = self.shared.write(|tx| {
            self.check_scope_now(tx, kind, id)?;
            op(tx)?;
            self.audit_scope(tx, entry, kind, id)
        });
        match written {
            Err(e @ Error::Integrity { .. }) => {
                let failed = NewEntry {
                    outcome: Outcome::Failed(Failure::Integrity),
                    fields: &[],
                    ..*entry
                };
                self.shared.audit(&failed)?;
                Err(e)
            }
            other => other,
        }
    }

    /// The first unlock after the upgrade to format 8: authenticate the state as it stands, in
    /// one transaction, and append the baseline entry vouching for every scope and field set
    /// (through `facts_baseline`, whose digest it carries). Refused if any fact already has a
    /// MAC, or the log already holds an entry that vouched for facts (a baseline, or any change
    /// of a vault authenticated from its creation): then the state was authenticated before and
    /// its marker was removed from the file, with every MAC stripped if none is left.
    pub(in crate::vault) fn baseline_if_needed(&self) -> Result<()> {
        if fact_rows::baseline_seq(&self.shared.conn())?.is_some() {
            return Ok(());
        }
        let entry = NewEntry {
            actor: Some(&self.user),
            action: crate::audit::AuditAction::FactsBaseline,
            client: None,
            target: None,
            fields: &[],
            purpose: Some(crate::model::Purpose::Operations),
            outcome: Outcome::Granted,
        };
        let made = self.shared.write(|tx| {
            if fact_rows::baseline_seq(tx)?.is_some() {
                // Another process made it meanwhile.
                return Ok(());
            }
            if fact_rows::any_fact_mac(tx)? || authenticated_before(tx)? {
                return Err(Error::Integrity {
                    place: Place {
                        table: "vault_meta",
                        owner: self.shared.vault_id.to_string(),
                        record: "-".into(),
                        field: "facts_baseline".into(),
                    },
                });
            }
            self.seal_everything(tx, |kind, id, digest| {
                fact_rows::insert_baseline(tx, kind, id, digest)
            })?;
            let (_, digest) = fact_rows::baseline(tx)?;
            let seq = self.shared.audit_vouched(tx, &entry, |_| {
                Ok(Vouch {
                    digest: Some(digest),
                    ..Vouch::default()
                })
            })?;
            // INVARIANT: sequence numbers are below 2^63.
            fact_rows::set_baseline_seq(tx, seq as i64)
        });
        match made {
            Err(e @ Error::Integrity { .. }) => {
                self.wipe();
                let failed = NewEntry {
                    outcome: Outcome::Failed(Failure::Integrity),
                    ..entry
                };
                self.shared.audit(&failed)?;
                Err(e)
            }
            other => other,
        }
    }

    /// Authenticate the whole stored state as it is, with this session's fact key: every
    /// scope and parent gets its MAC. Calls `each` with the digest of each, by (kind, id), for
    /// a baseline.
    fn seal_everything(
        &self,
        tx: &Conn,
        mut each: impl FnMut(&str, &[u8], &[u8; 32]) -> Result<()>,
    ) -> Result<()> {
        let key = self.fact_key()?;
        self.every_fact(tx, |fact| {
            let digest = match fact {
                Fact::Scope(kind, id) => self.seal_scope(tx, &key, kind, id)?,
                Fact::Parent(table, parent) => self.seal_parent(tx, &key, table, parent, false)?,
            };
            each(fact.kind(), fact.id(), &digest)
        })
    }

    /// A master-key rotation: check every fact under the current fact key, then MAC it under
    /// the fact key of `new_mk`, in the rotation's transaction. A fact changed outside the vault
    /// fails the rotation instead of being vouched for under the new key.
    pub(in crate::vault) fn reseal_facts(
        &self,
        tx: &Conn,
        granted: &Granted,
        new_mk: &MasterKey,
    ) -> Result<()> {
        if granted.target != Target::MasterKey {
            return Err(outside_grant());
        }
        let new = new_mk.fact_key(&self.shared.vault_id)?;
        self.every_fact(tx, |fact| match fact {
            Fact::Scope(kind, id) => {
                self.check_scope_now(tx, kind, id)?;
                self.seal_scope(tx, &new, kind, id).map(drop)
            }
            Fact::Parent(table, parent) => {
                self.check_parent_now(tx, table, parent)?;
                self.seal_parent(tx, &new, table, parent, false).map(drop)
            }
        })
    }

    /// Call `f` on every scope and parent in the vault.
    fn every_fact(&self, tx: &Conn, mut f: impl FnMut(Fact<'_>) -> Result<()>) -> Result<()> {
        for kind in ScopeKind::ALL {
            for id in fact_rows::scope_ids(tx, kind)? {
                f(Fact::Scope(kind, &id))?;
            }
        }
        for table in FieldTable::VOUCHED {
            let mut parents = Vec::new();
            rows::for_each_parent_auth(tx, table, |id, _| parents.push(id))?;
            for id in parents {
                let parent = <[u8; 16]>::try_from(id.as_slice()).map_err(|_| Error::Corrupt {
                    what: "parent id".into(),
                })?;
                f(Fact::Parent(table, &parent))?;
            }
        }
        Ok(())
    }
}

/// Whether the log already holds an entry that vouched for facts: a granted baseline, or an
/// entry carrying the digest of a scope (every change of facts from format 8 on, the first user
/// of a vault created at format 8 included). Read only when the file says the state was never
/// authenticated, which is once for a vault upgraded from an older format.
fn authenticated_before(tx: &Conn) -> Result<bool> {
    let mut found = false;
    db::audit_rows::for_each(tx, 1, |e| {
        if found {
            return;
        }
        if let Some(v) = EntryView::parse(&e.entry) {
            found = v.facts.is_some()
                || (v.action == b"facts.baseline" && v.outcome.starts_with(b"granted"));
        }
    })?;
    Ok(found)
}

/// One thing a MAC covers.
#[derive(Clone, Copy)]
enum Fact<'a> {
    Scope(ScopeKind, &'a [u8]),
    Parent(FieldTable, &'a [u8; 16]),
}

impl Fact<'_> {
    /// Its kind as `facts_baseline` names it.
    fn kind(&self) -> &'static str {
        match self {
            Fact::Scope(kind, _) => kind.name(),
            Fact::Parent(table, _) => table.name(),
        }
    }

    fn id(&self) -> &[u8] {
        match self {
            Fact::Scope(_, id) => id,
            Fact::Parent(_, id) => &id[..],
        }
    }
}
