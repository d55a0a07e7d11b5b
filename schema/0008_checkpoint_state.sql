-- confide vault format 8: checkpoints say whether the vault was open or closed.
--
-- A checkpoint of this format signs "confide/checkpoint/v2" ‖ vault id ‖ seq (u64 BE)
-- ‖ entry hash ‖ at (i64 BE, unix ms) ‖ state (one byte): 1 open (in use; entries may follow),
-- 2 closed (its entry is a clean close), 3 a backup's (a copy was taken with this entry as its
-- last). Checkpoints signed before keep their signature of version 1 (no time, no state) and
-- a NULL state; the verifier checks each under its own version.
ALTER TABLE audit_checkpoints ADD COLUMN state INTEGER CHECK (state IN (1, 2, 3));
