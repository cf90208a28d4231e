"""Writes a small seed corpus for the `hash` fuzz target: synthetic (non-photographic)
pictures of a few kilobytes, saved in every form the hash reads (baseline JPEG in three
samplings, optimised Huffman codes, progressive, greyscale, restart markers, an EXIF
orientation, PNG, WebP lossy and lossless, TIFF).

    python3 make_seeds.py corpus/hash      # needs Pillow and numpy
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    h, w = 264, 300  # a 1/8 image of at least 32x32 samples: the DC-only JPEG path
    y, x = np.mgrid[0:h, 0:w]
    grey = 128 + 60 * np.sin(x / 23.0) + 50 * np.cos(y / 17.0) + rng.normal(0, 6, (h, w))
    grey = grey.clip(0, 255).astype(np.uint8)
    rgb = Image.fromarray(np.stack([grey, np.roll(grey, 40, 1), 255 - grey], -1), "RGB")
    g = Image.fromarray(grey, "L")
    rgb.save(out / "baseline420.jpg", quality=40)
    rgb.save(out / "baseline444.jpg", quality=40, subsampling=0)
    rgb.save(out / "baseline422.jpg", quality=40, subsampling=1)
    rgb.save(out / "optimized.jpg", quality=40, optimize=True)
    rgb.save(out / "progressive.jpg", quality=40, progressive=True)
    rgb.save(out / "restart.jpg", quality=40, restart_marker_blocks=7)
    if b"\xff\xd0" not in (out / "restart.jpg").read_bytes():
        sys.exit("this Pillow wrote no restart markers (restart_marker_blocks); upgrade it")
    g.save(out / "grey.jpg", quality=40)
    g.save(out / "grey-progressive.jpg", quality=40, progressive=True)
    exif = rgb.getexif()
    exif[0x0112] = 6  # orientation: rotated 90 degrees
    rgb.save(out / "oriented.jpg", quality=40, exif=exif)
    small = rgb.resize((120, 90))  # below the DC path's size: the general decoder
    small.save(out / "small.jpg", quality=40)
    small.save(out / "small.png")
    small.save(out / "small.webp", quality=40)
    small.save(out / "small-lossless.webp", lossless=True)
    small.save(out / "small.tif")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: make_seeds.py OUT_FOLDER")
    main(Path(sys.argv[1]))
