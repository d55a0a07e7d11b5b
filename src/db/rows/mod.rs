//! Row access for keys, users, clients, care teams, records and notes: one file per concept.
//!
//! Every statement is static SQL with bound parameters, prepared once per connection and
//! cached. Nothing here decides or decrypts: it moves envelopes and metadata.

mod care_team;
mod clients;
mod fields;
mod history;
mod keys;
mod meta;
mod notes;
mod records;
mod rotation;
mod users;

pub(crate) use care_team::*;
pub(crate) use clients::*;
pub(crate) use fields::*;
pub(crate) use history::*;
pub(crate) use keys::*;
pub(crate) use meta::*;
pub(crate) use notes::*;
pub(crate) use records::*;
pub(crate) use rotation::*;
pub(crate) use users::*;
