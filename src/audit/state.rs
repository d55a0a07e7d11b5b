//! Data against log: every write entry vouches for the complete stored state of what it wrote
//! (a digest of its envelopes, never the values). After the chain, every stored record must be
//! exactly what its latest write entry vouches for, so a record deleted from the file, a field
//! rolled back to an older ciphertext, or a row added outside the vault is reported without a
//! key. (Checking only the log's hashes, and not the data, would miss all three.)

use crate::audit::layout::EntryView;
use crate::audit::ledger::fields_digest;
use crate::audit::report::FindingKind;
use crate::audit::verify::Verifier;
use crate::stored::Cell;

/// The field table a granted write action leaves its fields in.
fn table_of(action: &[u8]) -> Option<&'static str> {
    Some(match action {
        b"record.create" | b"record.update" | b"record.rekey" | b"client.create" => "record_fields",
        b"note.create" | b"note.rekey" => "psychotherapy_note_fields",
        b"joint.create" | b"joint.share" => "case_record_fields",
        b"consent.record" | b"consent.rekey" => "consent_fields",
        b"break_glass.start" | b"break_glass.rekey" => "break_glass_fields",
        _ => return None,
    })
}

fn id16(b: &[u8]) -> [u8; 16] {
    b.try_into().unwrap_or([0; 16])
}

impl Verifier {
    pub(super) fn observe_writes(&mut self, seq: i64, v: &EntryView<'_>) {
        let (Some(table), Some(target)) = (table_of(v.action), v.target) else {
            return;
        };
        if !v.outcome.starts_with(b"granted") {
            return;
        }
        let key = (table, target.to_vec());
        match v.digest {
            Some(d) => {
                self.legacy.remove(&key);
                self.wrote.insert(key, (seq, d.to_vec()));
            }
            None => {
                self.wrote.remove(&key);
                self.legacy.insert(key);
            }
        }
    }

    /// Check one stored parent's fields against its latest write entry. Call after every
    /// entry has been pushed.
    pub(crate) fn check_fields(
        &mut self,
        table: &'static str,
        parent: Vec<u8>,
        fields: &[[Cell; 3]],
    ) {
        let id = id16(&parent);
        let key = (table, parent);
        match self.wrote.remove(&key) {
            Some((seq, vouched)) => {
                if vouched[..] != fields_digest(table, &key.1, fields)[..] {
                    self.find(seq, FindingKind::RecordChanged { id });
                }
            }
            None if self.legacy.contains(&key) || self.partial => {}
            // No entry to name: reported at the end of the log.
            None => self.find(self.last_seq, FindingKind::RecordUnlogged { id }),
        }
    }

    /// Write entries whose record was never found.
    pub(super) fn finish_writes(&mut self) {
        let missing: Vec<(i64, [u8; 16])> = std::mem::take(&mut self.wrote)
            .into_iter()
            .map(|((_, parent), (seq, _))| (seq, id16(&parent)))
            .collect();
        for (seq, id) in missing {
            self.find(seq, FindingKind::RecordMissing { id });
        }
    }
}
