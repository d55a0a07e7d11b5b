//! Restrictions a client asked for (45 CFR 164.522(a)): placeholder for the binding rule.

use std::collections::BTreeSet;

use crate::db::release_rows::RestrictionRow;
use crate::ids::{RecordId, RestrictionId};
use crate::model::{Category, LegalBasis, Purpose};

/// An agreed restriction that binds one release.
pub(super) struct Binding {
    pub id: RestrictionId,
    pub self_pay: bool,
    pub categories: BTreeSet<Category>,
    pub records: BTreeSet<RecordId>,
}

impl Binding {
    pub(super) fn covers(&self, record: &RecordId, category: Category) -> bool {
        self.records.contains(record) || self.categories.contains(&category)
    }
}

pub(super) fn binding(
    restrictions: &[RestrictionRow],
    recipient_index: &[u8],
    purpose: Purpose,
    basis: LegalBasis,
    now_ms: i64,
) -> Vec<Binding> {
    if basis.is_mandatory() || basis == LegalBasis::MedicalEmergency {
        return Vec::new();
    }
    restrictions
        .iter()
        .filter(|r| {
            r.agreed
                && r.recorded_at <= now_ms
                && r.lifted_at.is_none_or(|l| l > now_ms)
                && r.recipient_index
                    .as_deref()
                    .is_none_or(|i| i == recipient_index)
                && r.purposes.contains(&purpose)
        })
        .map(|r| Binding {
            id: r.id,
            self_pay: r.self_pay,
            categories: r.categories.clone(),
            records: r.records.clone(),
        })
        .collect()
}
