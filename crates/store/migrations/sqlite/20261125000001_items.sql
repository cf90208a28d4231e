-- Catalog schema 1: items and the index of ledger events.
-- Every table here except catalog_state is a projection of the ledger and can be rebuilt.

CREATE TABLE catalog_state (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    applied_seq INTEGER            -- last ledger entry applied; NULL before the first
);
INSERT INTO catalog_state (id, applied_seq) VALUES (1, NULL);

CREATE TABLE items (
    id            TEXT PRIMARY KEY,      -- ITM-000042
    number        INTEGER NOT NULL UNIQUE,
    sha256        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    media_type    TEXT NOT NULL,
    original_name TEXT NOT NULL,
    original_path TEXT NOT NULL,
    fs_modified   TEXT,
    fs_created    TEXT,
    fs_accessed   TEXT,
    collected_by  TEXT,
    source        TEXT,
    method        TEXT,
    case_id       TEXT,
    note          TEXT,
    ingested_at   TEXT NOT NULL,
    actor         TEXT NOT NULL,
    ledger_seq    INTEGER NOT NULL UNIQUE,
    duplicate_of  TEXT
);
CREATE INDEX items_sha256 ON items (sha256);
CREATE INDEX items_case ON items (case_id, number);

CREATE TABLE events (
    seq    INTEGER PRIMARY KEY,
    time   TEXT NOT NULL,
    actor  TEXT NOT NULL,
    action TEXT NOT NULL,
    item   TEXT,
    sha256 TEXT
);
CREATE INDEX events_item ON events (item, seq);
CREATE INDEX events_sha256 ON events (sha256, seq);

CREATE TABLE annotations (
    seq  INTEGER PRIMARY KEY,
    item TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX annotations_item ON annotations (item, seq);
