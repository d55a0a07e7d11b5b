-- confide vault format 4: signed checkpoints of the audit log.
--
-- The audit signing key is an Ed25519 key made when the vault is created (or, for an older
-- vault, at the first login after the upgrade). Its private half is sealed under a key derived
-- from the master key; its public half is in clear so audit-verify needs no passphrase.
CREATE TABLE audit_key (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    public_key    BLOB    NOT NULL CHECK (length(public_key) = 32),
    wrapped_key   BLOB    NOT NULL,
    created_at    INTEGER NOT NULL
);

-- Each checkpoint signs "confide/checkpoint/v1" ‖ vault id ‖ seq (u64 BE) ‖ entry hash.
CREATE TABLE audit_checkpoints (
    seq         INTEGER PRIMARY KEY,
    entry_hash  BLOB    NOT NULL,
    signature   BLOB    NOT NULL,
    at          INTEGER NOT NULL
);
