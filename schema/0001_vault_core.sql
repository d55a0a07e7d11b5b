-- confide vault format 1: keys, clients, the general record, psychotherapy notes, the audit log.
-- Applied inside one transaction when a vault is created. Every clinical or identifying value is
-- an AEAD envelope (BLOB); everything in clear is an id, a code, a count or a time.

CREATE TABLE vault_meta (
    id             INTEGER PRIMARY KEY CHECK (id = 1),
    vault_id       BLOB    NOT NULL CHECK (length(vault_id) = 16),
    format_version INTEGER NOT NULL,
    created_at     INTEGER NOT NULL          -- unix milliseconds, UTC
);

CREATE TABLE users (
    user_id      BLOB    PRIMARY KEY CHECK (length(user_id) = 16),
    name         TEXT    NOT NULL UNIQUE,    -- login name of a staff member, not client data
    role         TEXT    NOT NULL,
    kdf_salt     BLOB    NOT NULL,
    kdf_m_kib    INTEGER NOT NULL,
    kdf_t        INTEGER NOT NULL,
    kdf_p        INTEGER NOT NULL,
    wrapped_mk   BLOB    NOT NULL,           -- master key sealed under this user's KEK
    disabled     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;

-- One data key per (owner, compartment, version), sealed under the wrap key.
CREATE TABLE data_keys (
    owner_id     BLOB    NOT NULL,
    compartment  TEXT    NOT NULL,
    version      INTEGER NOT NULL,
    wrapped      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (owner_id, compartment, version)
) WITHOUT ROWID;

CREATE TABLE clients (
    client_id       BLOB    PRIMARY KEY CHECK (length(client_id) = 16),
    name_dob_index  BLOB    NOT NULL,        -- HMAC blind index of normalised name + DOB
    created_at      INTEGER NOT NULL,
    created_by      BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX clients_by_name_dob ON clients (name_dob_index);

CREATE TABLE care_team (
    client_id  BLOB NOT NULL REFERENCES clients (client_id),
    user_id    BLOB NOT NULL REFERENCES users (user_id),
    relation   TEXT NOT NULL,
    since      INTEGER NOT NULL,
    PRIMARY KEY (client_id, user_id)
) WITHOUT ROWID;

-- The general record: one row per entry, one row per field, keyed so that an entry's fields
-- are one range read.
CREATE TABLE records (
    record_id   BLOB    PRIMARY KEY CHECK (length(record_id) = 16),
    client_id   BLOB    NOT NULL REFERENCES clients (client_id),
    kind        TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    created_by  BLOB    NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX records_by_client ON records (client_id, created_at);

CREATE TABLE record_fields (
    record_id    BLOB    NOT NULL REFERENCES records (record_id),
    field        TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    envelope     BLOB    NOT NULL,
    PRIMARY KEY (record_id, field)
) WITHOUT ROWID;

-- Psychotherapy notes (45 CFR 164.501): their own tables and their own data key per client.
CREATE TABLE psychotherapy_notes (
    note_id     BLOB    PRIMARY KEY CHECK (length(note_id) = 16),
    client_id   BLOB    NOT NULL REFERENCES clients (client_id),
    author_id   BLOB    NOT NULL REFERENCES users (user_id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX notes_by_client ON psychotherapy_notes (client_id, created_at);

CREATE TABLE psychotherapy_note_fields (
    note_id      BLOB    NOT NULL REFERENCES psychotherapy_notes (note_id),
    field        TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    envelope     BLOB    NOT NULL,
    PRIMARY KEY (note_id, field)
) WITHOUT ROWID;

-- The hash-chained audit log. Ids, codes and field names only; never a field value.
CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,          -- 1, 2, 3, ... without gaps
    at         INTEGER NOT NULL,             -- unix milliseconds, UTC
    actor      BLOB,                         -- user id, NULL when unknown (failed login)
    action     TEXT    NOT NULL,
    client_id  BLOB,
    target_id  BLOB,                         -- record or note id
    fields     TEXT    NOT NULL,             -- comma-separated field names
    purpose    TEXT    NOT NULL,
    outcome    TEXT    NOT NULL,
    prev_hash  BLOB    NOT NULL,
    hash       BLOB    NOT NULL
);
