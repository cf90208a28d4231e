-- Perceptual hashes of video keyframes, from metadata.extracted ledger entries: one row per
-- hashed keyframe, at_ms its presentation time in milliseconds from the track's start. The
-- hash is the same function as an image's (compared with them) and stored the same way, as
-- the signed 64-bit integer reinterpretation of its 64 bits. The latest extraction of some
-- bytes replaces all their rows of that algorithm.
CREATE TABLE keyframe_hashes (
    sha256     TEXT NOT NULL,
    algorithm  TEXT NOT NULL,
    at_ms      INTEGER NOT NULL,
    hash       INTEGER NOT NULL,
    ledger_seq INTEGER NOT NULL,
    PRIMARY KEY (sha256, algorithm, at_ms)
);
