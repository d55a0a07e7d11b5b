-- confide vault format 5: how many values each data key has sealed, key rotations, the
-- user key pairs that master-key rotation needs, and digests of each parent's fields.
--
-- AES-GCM with random 96-bit nonces must not seal more than 2^32 values under one key (NIST SP
-- 800-38D, 8.3). The vault counts, in the transaction that seals, and starts a new version of a
-- key before it reaches its limit (MAX_SEALS_PER_KEY, well under 2^32). Keys made before this
-- format start from 0: their earlier seals are few (every vault before it was small), and the
-- limit leaves a margin of half the nonce budget.
ALTER TABLE data_keys ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;

-- Re-encrypting one owner's fields under a new version of a data key, in steps that each commit,
-- so an interrupted rotation resumes where it stopped. Finished: the older versions are deleted.
CREATE TABLE key_rotations (
    owner_id     BLOB    NOT NULL,
    compartment  TEXT    NOT NULL,
    to_version   INTEGER NOT NULL,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    PRIMARY KEY (owner_id, compartment, to_version)
) WITHOUT ROWID;

-- Master-key rotation. Each user also has an X25519 key pair: the public half in clear, the
-- private half sealed under their KEK. A rotation seals the new master key to each remaining
-- user's public key (sealed_mk) until their next login wraps it under their KEK.
ALTER TABLE users ADD COLUMN public_key BLOB;
ALTER TABLE users ADD COLUMN wrapped_secret BLOB;
ALTER TABLE users ADD COLUMN sealed_mk BLOB;

-- Keys that must stay the same across master-key rotations (the blind-index key, whose values
-- are stored), wrapped under the wrap key. Absent until the first rotation: until then the key
-- is derived from the master key.
CREATE TABLE vault_keys (
    name     TEXT PRIMARY KEY,
    wrapped  BLOB NOT NULL
) WITHOUT ROWID;

-- Which master key the data keys are wrapped under: a rotation counts up, so a session of another
-- process that unlocked the previous key knows to log in again instead of wrapping new data keys
-- under a key nobody holds any more.
ALTER TABLE vault_meta ADD COLUMN mk_generation INTEGER NOT NULL DEFAULT 0;

-- Each parent row records the digest of its complete set of fields (the digest its latest write
-- entry vouches for), so a read notices a field row deleted, added or rolled back on its own
-- without waiting for audit-verify. NULL until the parent is next written.
ALTER TABLE records ADD COLUMN fields_digest BLOB;
ALTER TABLE psychotherapy_notes ADD COLUMN fields_digest BLOB;
ALTER TABLE case_records ADD COLUMN fields_digest BLOB;
ALTER TABLE consents ADD COLUMN fields_digest BLOB;
ALTER TABLE break_glass ADD COLUMN fields_digest BLOB;
