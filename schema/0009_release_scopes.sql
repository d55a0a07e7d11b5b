-- confide vault format 9: authorizations carry their scope; restrictions and guardians are
-- recorded facts.
--
-- Every row here is a policy fact of one client: cleartext, because the gate decides on it
-- before any key is unwrapped, and authenticated in the client's scope of facts (its MAC
-- covers these rows as it covers consents). Nothing said about the client is stored here: a
-- health plan or a condition is named by a keyed blind index only.

-- What an authorization covers within its categories (45 CFR 164.508(c)(1)(i)): data elements
-- per category, one condition, the case whose joint content it covers, who signed it and the
-- event that ends it. A consent recorded before format 9 has no row: it reaches its categories
-- whole for its client's own records, and never joint content.
CREATE TABLE consent_scopes (
    consent_id       BLOB    PRIMARY KEY REFERENCES consents (consent_id),
    client_id        BLOB    NOT NULL REFERENCES clients (client_id),
    elements         TEXT    NOT NULL,   -- "category:*" or "category:field|field", ';'-separated
    condition_index  BLOB,               -- blind index of the one condition's code
    case_id          BLOB    REFERENCES cases (case_id),
    signed_by        BLOB,               -- the guardian who signed it; NULL: the client
    expiry_event     INTEGER NOT NULL,   -- 1: it ends on an event its description names
    expiry_event_at  INTEGER             -- when that event was recorded
) WITHOUT ROWID;
CREATE INDEX consent_scopes_by_client ON consent_scopes (client_id);

-- Restrictions a client asked for (164.522(a)): agreed ones bind every release they name;
-- a self-pay restriction (164.522(a)(1)(vi)) must be agreed.
CREATE TABLE restrictions (
    restriction_id   BLOB    PRIMARY KEY CHECK (length(restriction_id) = 16),
    client_id        BLOB    NOT NULL REFERENCES clients (client_id),
    kind             TEXT    NOT NULL CHECK (kind IN ('self_pay', 'other')),
    agreed           INTEGER NOT NULL,
    recipient_index  BLOB,               -- the recipient it binds (blind index); NULL: any
    purposes         TEXT    NOT NULL,   -- comma-separated purpose codes
    categories       TEXT    NOT NULL,   -- comma-separated category codes
    records          TEXT    NOT NULL,   -- comma-separated record ids (hex)
    recorded_at      INTEGER NOT NULL,
    recorded_by      BLOB    NOT NULL,
    lifted_at        INTEGER,
    lifted_by        BLOB
) WITHOUT ROWID;
CREATE INDEX restrictions_by_client ON restrictions (client_id);

-- A minor's personal representatives (164.502(g)) and the limits a custody order sets.
CREATE TABLE guardians (
    guardian_id      BLOB    PRIMARY KEY CHECK (length(guardian_id) = 16),
    client_id        BLOB    NOT NULL REFERENCES clients (client_id),
    basis            TEXT    NOT NULL CHECK (basis IN ('parent', 'court_appointed')),
    may_access       INTEGER NOT NULL,
    may_authorize    INTEGER NOT NULL,
    until_at         INTEGER,
    recorded_at      INTEGER NOT NULL,
    recorded_by      BLOB    NOT NULL,
    ended_at         INTEGER
) WITHOUT ROWID;
CREATE INDEX guardians_by_client ON guardians (client_id);

-- Consents whose reach this format narrowed: a consent naming the joint record no longer
-- reaches joint content unless it names an outside recipient by identity (a consent to a user
-- of the vault, or one recorded before recipients were indexed, does not). Listed once, at
-- the upgrade; the vault logs an entry for each at its next open and notes its sequence here.
CREATE TABLE narrowed_consents (
    consent_id  BLOB    PRIMARY KEY REFERENCES consents (consent_id),
    client_id   BLOB    NOT NULL REFERENCES clients (client_id),
    audit_seq   INTEGER
) WITHOUT ROWID;
INSERT INTO narrowed_consents (consent_id, client_id)
    SELECT consent_id, client_id FROM consents
    WHERE instr(',' || categories || ',', ',joint_record,') > 0
      AND NOT (recipient_kind = 'outside' AND recipient_index IS NOT NULL);
