-- confide vault format 10: clinical record history. A record or psychotherapy note is a draft
-- until its author signs it; a signed one is never overwritten (a correction is an addendum,
-- its own entry linked to it); the earlier versions of a draft are kept; a client's requests to
-- amend (45 CFR 164.526) are recorded with their deadlines and their outcome.
--
-- Signing and linking are decision columns of the record's row, so the row's MAC covers them.
-- A row written before this format has `status` NULL and keeps the MAC and log entries that
-- cover the columns they always did: a clinical entry (diagnosis, plan, progress note,
-- substance-use record, case note) or a psychotherapy note is then finished documentation,
-- signed by this upgrade; an administrative entry (demographics, appointment, billing) stays
-- open to updates, as every such entry is. A row written from this format on has a status, and its MAC covers the new columns too.
-- (Clearing a status, or setting one on an older row, changes what the MAC covers: it fails.)
--
-- Superseded envelopes of a draft keep their row in the field table, renamed `field@write`
-- (the write they were sealed in, which their associated data binds), so the record's MAC and
-- the digest its log entries vouch for cover every version as they cover its current fields.

-- 1 draft, 2 signed, 3 open: an administrative entry, never signed, always open to updates.
ALTER TABLE records ADD COLUMN status INTEGER CHECK (status IN (1, 2, 3));
ALTER TABLE records ADD COLUMN signed_by BLOB;
ALTER TABLE records ADD COLUMN signed_at INTEGER;
ALTER TABLE records ADD COLUMN cosigned_by BLOB;
ALTER TABLE records ADD COLUMN cosigned_at INTEGER;
ALTER TABLE records ADD COLUMN addendum_of BLOB;  -- the record this addendum corrects
ALTER TABLE records ADD COLUMN amends BLOB;       -- the amendment request it carries out

ALTER TABLE psychotherapy_notes ADD COLUMN status INTEGER CHECK (status IN (1, 2));
ALTER TABLE psychotherapy_notes ADD COLUMN signed_by BLOB;
ALTER TABLE psychotherapy_notes ADD COLUMN signed_at INTEGER;
ALTER TABLE psychotherapy_notes ADD COLUMN cosigned_by BLOB;
ALTER TABLE psychotherapy_notes ADD COLUMN cosigned_at INTEGER;
ALTER TABLE psychotherapy_notes ADD COLUMN addendum_of BLOB;

-- A client's drafts (clinical entries and notes not yet signed) are a fact of the client: the
-- ids, 16 bytes each, in one blob of its head row (NULL when there are none), which its scope's
-- MAC covers. A signed entry put back as the draft it was is not among them.
ALTER TABLE clients ADD COLUMN drafts BLOB;

-- Which entries are addenda of which, per client: a policy fact of the client (its scope's MAC
-- covers these rows), so an addendum deleted from the file, or unlinked, fails the client's
-- check before anything of the client is read.
CREATE TABLE addenda (
    addendum_id  BLOB    PRIMARY KEY CHECK (length(addendum_id) = 16),
    client_id    BLOB    NOT NULL REFERENCES clients (client_id),
    of_kind      TEXT    NOT NULL CHECK (of_kind IN ('record', 'note')),
    of_id        BLOB    NOT NULL,
    ordinal      INTEGER NOT NULL,   -- 1 for the entry's first addendum, 2 for the next, ...
    author_id    BLOB    NOT NULL,
    added_at     INTEGER NOT NULL,
    amends       BLOB                -- the amendment request it carries out
) WITHOUT ROWID;
CREATE INDEX addenda_by_client ON addenda (client_id);
CREATE UNIQUE INDEX addenda_by_entry ON addenda (of_id, ordinal);

-- Requests to amend (164.526): cleartext state in the client's scope of facts, what was asked,
-- why, and the answers in `amendment_fields` (sealed under the client's general key).
CREATE TABLE amendment_requests (
    request_id     BLOB    PRIMARY KEY CHECK (length(request_id) = 16),
    client_id      BLOB    NOT NULL REFERENCES clients (client_id),
    records        TEXT    NOT NULL,  -- the disputed records, comma-separated ids (hex)
    received_at    INTEGER NOT NULL,
    due_at         INTEGER NOT NULL,  -- 60 days after receipt, 90 once extended
    extended_at    INTEGER,           -- the one 30-day extension (164.526(b)(2)(ii))
    decision       TEXT    CHECK (decision IN ('accepted', 'denied')),
    decided_at     INTEGER,
    decided_by     BLOB,
    statement_at   INTEGER,           -- the client's statement of disagreement was filed
    rebuttal_at    INTEGER,           -- the practice's rebuttal was written
    recorded_by    BLOB    NOT NULL,
    write_version  INTEGER NOT NULL DEFAULT 0,
    fields_digest  BLOB,
    mac            BLOB
) WITHOUT ROWID;
CREATE INDEX amendment_requests_by_client ON amendment_requests (client_id);

CREATE TABLE amendment_fields (
    request_id   BLOB    NOT NULL REFERENCES amendment_requests (request_id),
    field        TEXT    NOT NULL,
    key_version  INTEGER NOT NULL,
    envelope     BLOB    NOT NULL,
    PRIMARY KEY (request_id, field)
) WITHOUT ROWID;

-- How many clinical entries and psychotherapy notes this upgrade signed; the vault logs one
-- entry saying so (`history.signed_by_upgrade`) at its next open and notes its sequence here.
CREATE TABLE signed_by_upgrade (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    records    INTEGER NOT NULL,
    notes      INTEGER NOT NULL,
    audit_seq  INTEGER
);
INSERT INTO signed_by_upgrade (id, records, notes)
    SELECT 1, r.n, n.n
    FROM (SELECT count(*) AS n FROM records WHERE kind IN
            ('diagnosis', 'treatment_plan', 'progress_note', 'substance_use', 'case_note')) r,
         (SELECT count(*) AS n FROM psychotherapy_notes) n
    WHERE r.n + n.n > 0;
