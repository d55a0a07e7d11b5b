-- confide vault format 2: the access policy's facts. Supervision, minors, couple, family and
-- group cases with their joint records, consents (release of information) and break-glass
-- grants. Policy facts are cleartext metadata; anything said about a client (consent details,
-- a break-glass reason, joint-record content) is an envelope.

CREATE TABLE supervision (
    supervisor_id  BLOB    NOT NULL REFERENCES users (user_id),
    supervisee_id  BLOB    NOT NULL REFERENCES users (user_id),
    training       INTEGER NOT NULL,         -- inside a training programme (164.508(a)(2))
    since          INTEGER NOT NULL,
    PRIMARY KEY (supervisor_id, supervisee_id)
) WITHOUT ROWID;
CREATE INDEX supervision_by_supervisee ON supervision (supervisee_id);

-- A row here means: the client is a minor with a guardian on record.
CREATE TABLE minor_status (
    client_id                     BLOB    PRIMARY KEY REFERENCES clients (client_id),
    consented_to_own_treatment    INTEGER NOT NULL,
    court_directed                INTEGER NOT NULL,
    guardian_agreed_confidential  INTEGER NOT NULL,
    updated_at                    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE cases (
    case_id         BLOB    PRIMARY KEY CHECK (length(case_id) = 16),
    kind            TEXT    NOT NULL,
    secrets_policy  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      BLOB    NOT NULL
) WITHOUT ROWID;

CREATE TABLE case_members (
    case_id    BLOB    NOT NULL REFERENCES cases (case_id),
    client_id  BLOB    NOT NULL REFERENCES clients (client_id),
    joined_at  INTEGER NOT NULL,
    left_at    INTEGER,                      -- a member who left keeps the joint record
    PRIMARY KEY (case_id, client_id)
) WITHOUT ROWID;
CREATE INDEX case_members_by_client ON case_members (client_id);

CREATE TABLE case_clinicians (
    case_id  BLOB    NOT NULL REFERENCES cases (case_id),
    user_id  BLOB    NOT NULL REFERENCES users (user_id),
    since    INTEGER NOT NULL,
    PRIMARY KEY (case_id, user_id)
) WITHOUT ROWID;

-- The joint record: entries owned by the case, sealed under the case's own data key.
CREATE TABLE case_records (
    record_id      BLOB    PRIMARY KEY CHECK (length(record_id) = 16),
    case_id        BLOB    NOT NULL REFERENCES cases (case_id),
    created_at     INTEGER NOT NULL,
    created_by     BLOB    NOT NULL,
    updated_at     INTEGER NOT NULL,
    shared_from    BLOB                      -- the individual case note it was brought in from
) WITHOUT ROWID;
CREATE INDEX case_records_by_case ON case_records (case_id, created_at);

CREATE TABLE case_record_fields (
    record_id    BLOB    NOT NULL REFERENCES case_records (record_id),
    field        TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    envelope     BLOB    NOT NULL,
    PRIMARY KEY (record_id, field)
) WITHOUT ROWID;

-- Individual-session notes within a case stay in the member's own general record.
ALTER TABLE records ADD COLUMN case_id BLOB REFERENCES cases (case_id);

CREATE TABLE consents (
    consent_id      BLOB    PRIMARY KEY CHECK (length(consent_id) = 16),
    client_id       BLOB    NOT NULL REFERENCES clients (client_id),
    recipient_kind  TEXT    NOT NULL CHECK (recipient_kind IN ('user', 'joint_record', 'outside')),
    recipient_user  BLOB    REFERENCES users (user_id),
    categories      TEXT    NOT NULL,        -- comma-separated category codes
    purpose         TEXT    NOT NULL,
    start_at        INTEGER NOT NULL,
    expires_at      INTEGER,
    revoked_at      INTEGER,
    signed_on       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    created_by      BLOB    NOT NULL
) WITHOUT ROWID;
CREATE INDEX consents_by_client ON consents (client_id);

-- Recipient name, organisation, address, description: sealed under the client's key.
CREATE TABLE consent_fields (
    consent_id   BLOB    NOT NULL REFERENCES consents (consent_id),
    field        TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    envelope     BLOB    NOT NULL,
    PRIMARY KEY (consent_id, field)
) WITHOUT ROWID;

CREATE TABLE break_glass (
    grant_id    BLOB    PRIMARY KEY CHECK (length(grant_id) = 16),
    user_id     BLOB    NOT NULL REFERENCES users (user_id),
    client_id   BLOB    NOT NULL REFERENCES clients (client_id),
    started_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX break_glass_by_user ON break_glass (user_id, client_id);

-- The stated reason for the emergency, sealed under the client's key.
CREATE TABLE break_glass_fields (
    grant_id     BLOB    NOT NULL REFERENCES break_glass (grant_id),
    field        TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    envelope     BLOB    NOT NULL,
    PRIMARY KEY (grant_id, field)
) WITHOUT ROWID;
