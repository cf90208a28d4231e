-- The hashes a picture would have if mirrored or turned by quarter turns, recorded with its
-- perceptual hash (details.phash.turned, details.keyframes.frames[].turned): 56 bytes, the
-- seven 64-bit hashes big-endian in the order mirrored, rotated-180, mirrored-upside-down,
-- transposed, rotated-90-clockwise, transversed, rotated-90-anticlockwise. NULL where the
-- extraction recorded none (entries written before they were recorded).
ALTER TABLE phashes ADD COLUMN turned BLOB;
ALTER TABLE keyframe_hashes ADD COLUMN turned BLOB;
