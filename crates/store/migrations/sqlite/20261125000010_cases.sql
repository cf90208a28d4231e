-- Cases (crate custody-cases): every case event as the ledger holds it, and the cases
-- opened. A case is loaded by replaying its events (Case::replay); nothing here is more
-- than a projection of the ledger. Details are stored in canonical JSON (keys sorted).
CREATE TABLE case_events (
    seq     INTEGER PRIMARY KEY,   -- the ledger entry
    case_id TEXT NOT NULL,
    action  TEXT NOT NULL,
    details TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, seq);

CREATE TABLE cases (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL,
    opened_seq INTEGER NOT NULL
);

-- The sealed store (witness identities and contacts, encrypted outside the catalog):
-- which records exist and the digest of their ciphertext (sealed.stored), and every read
-- (sealed.read), written before the record was decrypted.
CREATE TABLE sealed_records (
    ref               TEXT PRIMARY KEY,
    ciphertext_sha256 TEXT NOT NULL,
    key_id            TEXT NOT NULL,
    case_id           TEXT,
    stored_seq        INTEGER NOT NULL
);

CREATE TABLE sealed_reads (
    seq        INTEGER PRIMARY KEY,
    ref        TEXT NOT NULL,
    actor      TEXT NOT NULL,
    permission TEXT NOT NULL,
    purpose    TEXT NOT NULL
);
CREATE INDEX sealed_reads_ref ON sealed_reads (ref, seq);
