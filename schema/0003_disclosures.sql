-- confide vault format 3: the disclosure ledger and erasures.
--
-- Audit entries gain a digest column: the SHA-256 of a ledger row the entry vouches for, so
-- audit-verify can check the ledger against the chain without any key. Entries without a
-- digest hash exactly as format 1 and 2 entries did.
ALTER TABLE audit_log ADD COLUMN digest BLOB;

-- Append-only: no update or delete path exists in the code, and the triggers refuse one from
-- SQL; an edit made by rewriting the file is caught by audit-verify through the digest.
CREATE TABLE disclosures (
    disclosure_id  BLOB    PRIMARY KEY CHECK (length(disclosure_id) = 16),
    client_id      BLOB    NOT NULL REFERENCES clients (client_id),
    case_id        BLOB,
    disclosed_at   INTEGER NOT NULL,
    purpose        TEXT    NOT NULL,
    legal_basis    TEXT    NOT NULL,
    categories     TEXT    NOT NULL,
    consent_id     BLOB,
    accountable    INTEGER NOT NULL,         -- listed in the accounting of disclosures
    released_by    BLOB    NOT NULL,
    audit_seq      INTEGER NOT NULL UNIQUE
) WITHOUT ROWID;
CREATE INDEX disclosures_by_client ON disclosures (client_id, disclosed_at);

-- Recipient, address, description and reference, sealed under the vault's ledger key (not the
-- client's), so the accounting survives the client's crypto-shredding.
CREATE TABLE disclosure_fields (
    disclosure_id  BLOB    NOT NULL REFERENCES disclosures (disclosure_id),
    field          TEXT    NOT NULL,
    key_version    INTEGER NOT NULL,
    envelope       BLOB    NOT NULL,
    PRIMARY KEY (disclosure_id, field)
) WITHOUT ROWID;

CREATE TRIGGER disclosures_no_update BEFORE UPDATE ON disclosures
BEGIN SELECT RAISE(ABORT, 'the disclosure ledger is append-only'); END;
CREATE TRIGGER disclosures_no_delete BEFORE DELETE ON disclosures
BEGIN SELECT RAISE(ABORT, 'the disclosure ledger is append-only'); END;
CREATE TRIGGER disclosure_fields_no_update BEFORE UPDATE ON disclosure_fields
BEGIN SELECT RAISE(ABORT, 'the disclosure ledger is append-only'); END;
CREATE TRIGGER disclosure_fields_no_delete BEFORE DELETE ON disclosure_fields
BEGIN SELECT RAISE(ABORT, 'the disclosure ledger is append-only'); END;

-- A consent to an outside recipient names them: this keyed blind index of the recipient's name
-- and organisation lets a release be checked against it before any key is unwrapped.
ALTER TABLE consents ADD COLUMN recipient_index BLOB;

-- Clients whose data keys were destroyed at the end of retention (crypto-shredding).
CREATE TABLE erasures (
    client_id  BLOB    PRIMARY KEY REFERENCES clients (client_id),
    erased_at  INTEGER NOT NULL,
    erased_by  BLOB    NOT NULL
) WITHOUT ROWID;
