-- confide vault format 5: how many values each data key has sealed.
--
-- AES-GCM with random 96-bit nonces must not seal more than 2^32 values under one key (NIST SP
-- 800-38D, 8.3). The vault counts, in the transaction that seals, and starts a new version of a
-- key before it reaches its limit (MAX_SEALS_PER_KEY, well under 2^32). Keys made before this
-- format start from 0: their earlier seals are few (every vault before it was small), and the
-- limit leaves a margin of half the nonce budget.
ALTER TABLE data_keys ADD COLUMN sealed INTEGER NOT NULL DEFAULT 0;
