-- confide vault format 8: authenticated state, and checkpoints that say whether the vault was
-- open or closed.
--
-- Every cleartext fact a decision trusts is covered
-- by a MAC under a key derived from the master key, so an edit of the file made without that key
-- fails closed on the read path.
--
-- Facts are grouped by scope: a client's (its row, minor status, care team, consents and
-- break-glass grants), a case's (its row, members and clinicians) and a user's (role, status
-- and who supervises them). Each scope's head row keeps a MAC of the digest of every row in the
-- scope, so a row added, deleted, changed or put back from an older copy breaks it. The audit
-- entry that changes a scope vouches for the same digest, keyless, for audit-verify.
ALTER TABLE clients ADD COLUMN facts_mac BLOB;
ALTER TABLE cases ADD COLUMN facts_mac BLOB;
ALTER TABLE users ADD COLUMN facts_mac BLOB;
CREATE INDEX break_glass_by_client ON break_glass (client_id);

-- Each parent of sealed fields counts its writes, and keeps a MAC over its decision columns,
-- that count and the digest of its field set: an older envelope put back, a relabelled record
-- or a field deleted fails before anything opens.
ALTER TABLE records ADD COLUMN write_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE records ADD COLUMN mac BLOB;
ALTER TABLE psychotherapy_notes ADD COLUMN write_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE psychotherapy_notes ADD COLUMN mac BLOB;
ALTER TABLE case_records ADD COLUMN write_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE case_records ADD COLUMN mac BLOB;
ALTER TABLE consents ADD COLUMN write_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE consents ADD COLUMN mac BLOB;
ALTER TABLE break_glass ADD COLUMN write_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE break_glass ADD COLUMN mac BLOB;

-- What the baseline entry vouches for: the keyless digest of every scope and parent as it stood
-- when the vault first authenticated its state (the first unlock after the upgrade, or its
-- creation). The entry's own digest covers this whole table.
CREATE TABLE facts_baseline (
    kind    TEXT NOT NULL,
    id      BLOB NOT NULL,
    digest  BLOB NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;

-- The sequence number of the baseline entry; NULL until the first unlock after the upgrade.
ALTER TABLE vault_meta ADD COLUMN facts_baseline INTEGER;

-- Checkpoints say whether the vault was open or closed.
--
-- A checkpoint of this format signs "confide/checkpoint/v2" ‖ vault id ‖ seq (u64 BE)
-- ‖ entry hash ‖ at (i64 BE, unix ms) ‖ state (one byte): 1 open (in use; entries may follow),
-- 2 closed (its entry is a clean close), 3 a backup's (a copy was taken with this entry as its
-- last). Checkpoints signed before keep their signature of version 1 (no time, no state) and
-- a NULL state; the verifier checks each under its own version.
ALTER TABLE audit_checkpoints ADD COLUMN state INTEGER CHECK (state IN (1, 2, 3));
