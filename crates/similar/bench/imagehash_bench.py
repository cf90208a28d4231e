#!/usr/bin/env python3
"""Reference for phash_bench: Python imagehash.phash over every JPEG in a folder.

Pillow's draft mode lets libjpeg(-turbo) decode at reduced scale (DCT scaling), the
fastest way Pillow offers to get a small greyscale image. Single process.

Usage: imagehash_bench.py DIR
Needs: pip install Pillow imagehash
"""
import os
import sys
import time

import imagehash
from PIL import Image


def main():
    root = sys.argv[1]
    files = sorted(
        os.path.join(d, f)
        for d, _, fs in os.walk(root)
        for f in fs
        if f.lower().endswith((".jpg", ".jpeg"))
    )
    total = sum(os.path.getsize(f) for f in files)
    t0 = time.perf_counter()
    for f in files:
        with Image.open(f) as img:
            img.draft("L", (64, 64))
            imagehash.phash(img)
    dt = time.perf_counter() - t0
    print(f"python imagehash.phash (Pillow {Image.__version__} draft L 64x64, "
          f"imagehash {imagehash.__version__}): {len(files)} files ({total / 1e6:.1f} MB) "
          f"in {dt:.3f} s: {len(files) / dt:.1f} files/s, {total / 1e6 / dt:.1f} MB/s")


if __name__ == "__main__":
    main()
