-- Extracted metadata: one record per (bytes, extractor version), from metadata.extracted
-- ledger entries. The record is the extractor's JSON, kept whole; the columns beside it
-- are copies for queries (first position of the record, if any).
CREATE TABLE metadata (
    sha256     TEXT NOT NULL,
    extractor  TEXT NOT NULL,
    version    TEXT NOT NULL,
    ledger_seq INTEGER NOT NULL UNIQUE,
    record     TEXT NOT NULL,
    latitude   REAL,
    longitude  REAL,
    PRIMARY KEY (sha256, extractor, version)
);
CREATE INDEX metadata_position ON metadata (latitude, longitude);
