-- Perceptual hashes of images, from metadata.extracted ledger entries. The 64-bit hash is
-- stored as its signed 64-bit integer reinterpretation; algorithm names the hash function,
-- and hashes of different algorithms are never compared.
CREATE TABLE phashes (
    sha256     TEXT NOT NULL,
    algorithm  TEXT NOT NULL,
    hash       INTEGER NOT NULL,
    ledger_seq INTEGER NOT NULL,
    PRIMARY KEY (sha256, algorithm)
);
