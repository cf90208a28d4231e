#!/usr/bin/env python3
"""Benchmark of AV1 pictures: what hashing AVIF stills costs in `custody ingest`, where
each picture is decoded by rav1d (no assembly) in a child process of `custody`, beside
the reference decoder, libavif's `avifdec` (libdav1d, with its assembly), on the same
files in the same run, both cores.

  - 12-megapixel photographs: the first N photos of the corpus (a phone's 4032×3024
    JPEGs) encoded once to AVIF with `avifenc` (speed 9), kept in bench/out/avif-N.
    `custody ingest` of the folder into a fresh vault (hash, store, metadata,
    perceptual hash through the child, ledger), against `avifdec -j 1` decoding each
    file to a Y4M, two at a time; and, for scale, the same photos as the corpus's JPEGs
    through `custody ingest`.
  - The child's own cost: 200 small (160×120) distinct AVIF stills, against the same
    pictures as PNG, both through `custody ingest`: the difference per file is about
    what starting a child and decoding a small picture costs.

Usage: bench/av1.py [--corpus DIR] [--photos N] [--runs N]
Needs: a release build (`cargo build --release -p custody-cli`), avifenc and avifdec
(`apt-get install libavif-bin`), Pillow; the corpus from ../shared/bench/make_corpus.py.
"""
import argparse
import concurrent.futures
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parent.parent


def need(tool):
    if not shutil.which(tool):
        sys.exit(f"{tool} not found: install it (apt-get install libavif-bin) and run again")


def photos(corpus, n):
    found = sorted(p for p in (corpus / "photos").rglob("*.jpg"))
    if len(found) < n:
        sys.exit(f"{corpus}: {len(found)} photos, {n} wanted; make the corpus first")
    # The phone photographs first: full-size camera pictures.
    found.sort(key=lambda p: ("DCIM" not in str(p), str(p)))
    return found[:n]


def encode_all(sources, folder):
    folder.mkdir(parents=True, exist_ok=True)
    todo = [(s, folder / (s.stem + ".avif")) for s in sources]
    todo = [(s, d) for s, d in todo if not d.exists()]
    if todo:
        print(f"encoding {len(todo)} photos to AVIF (once) ...", flush=True)

    def one(pair):
        s, d = pair
        subprocess.run(["avifenc", "-s", "9", "-j", "1", "--min", "24", "--max", "40",
                        str(s), str(d)], check=True, stdout=subprocess.DEVNULL)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        list(pool.map(one, todo))


def small_pictures(folder, n):
    if (folder / f"s{n - 1:04d}.avif").exists():
        return
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        rng = random.Random(i)
        img = Image.new("RGB", (160, 120), tuple(rng.randrange(256) for _ in range(3)))
        d = ImageDraw.Draw(img)
        for _ in range(8):
            x, y = rng.randrange(160), rng.randrange(120)
            d.rectangle([x, y, x + rng.randrange(10, 80), y + rng.randrange(10, 60)],
                        fill=tuple(rng.randrange(256) for _ in range(3)))
        png = folder / f"s{i:04d}.png"
        img.save(png)
        subprocess.run(["avifenc", "-s", "9", "-j", "1", str(png), str(folder / f"s{i:04d}.avif")],
                       check=True, stdout=subprocess.DEVNULL)


def ingest(custody, folder, files):
    """Seconds for `custody ingest` of `files` (copied into a fresh folder) into a fresh
    vault, and how many got a perceptual hash."""
    with tempfile.TemporaryDirectory(dir=ROOT / "bench" / "out") as tmp:
        tmp = Path(tmp)
        src = tmp / "in"
        src.mkdir()
        for f in files:
            os.link(f, src / f.name) if f.stat().st_dev == src.stat().st_dev else shutil.copy(f, src)
        vault = tmp / "vault"
        env = dict(os.environ, CUSTODY_ACTOR="bench")
        subprocess.run([custody, "init", str(vault), "--name", "AV1 bench"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["sync"], check=True)
        t = time.perf_counter()
        subprocess.run([custody, "--vault", str(vault), "ingest", str(src), "--json"], env=env,
                       check=True, stdout=subprocess.DEVNULL)
        dt = time.perf_counter() - t
        db = vault / "catalog.sqlite"
        import sqlite3
        hashed = sqlite3.connect(db).execute("select count(*) from phashes").fetchone()[0]
        return dt, hashed


def avifdec_all(files):
    with tempfile.TemporaryDirectory() as tmp:
        def one(f):
            subprocess.run(["avifdec", "-j", "1", str(f), str(Path(tmp) / (f.stem + ".y4m"))],
                           check=True, stdout=subprocess.DEVNULL)
            (Path(tmp) / (f.stem + ".y4m")).unlink()
        t = time.perf_counter()
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            list(pool.map(one, files))
        return time.perf_counter() - t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=ROOT / "bench" / "out" / "corpus-2000")
    ap.add_argument("--photos", type=int, default=30)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    for tool in ["avifenc", "avifdec"]:
        need(tool)
    custody = ROOT / "target" / "release" / "custody"
    if not custody.exists():
        sys.exit("no release build: cargo build --release -p custody-cli")
    out = ROOT / "bench" / "out"
    jpegs = photos(args.corpus, args.photos)
    big = out / f"avif-{args.photos}"
    encode_all(jpegs, big)
    avifs = [big / (s.stem + ".avif") for s in jpegs]
    small = out / "avif-small-200"
    small_pictures(small, 200)

    rows = []
    for r in range(args.runs):
        a, ah = ingest(custody, big, avifs)
        d = avifdec_all(avifs)
        j, jh = ingest(custody, big, jpegs)
        sa, sah = ingest(custody, small, sorted(small.glob("*.avif")))
        sp, sph = ingest(custody, small, sorted(small.glob("*.png")))
        n = len(avifs)
        row = {
            "custody_avif_per_s": n / a, "hashed": ah, "avifdec_per_s": n / d,
            "custody_jpeg_per_s": len(jpegs) / j, "jpeg_hashed": jh,
            "small_avif_ms": 1000 * sa / 200, "small_png_ms": 1000 * sp / 200,
            "small_hashed": (sah, sph),
        }
        rows.append(row)
        print(f"run {r + 1}: 12 MP AVIF ingest {row['custody_avif_per_s']:.2f} photos/s "
              f"({ah}/{n} hashed) | avifdec {row['avifdec_per_s']:.2f}/s "
              f"(ratio {row['custody_avif_per_s'] / row['avifdec_per_s']:.2f}) | "
              f"same photos as JPEG {row['custody_jpeg_per_s']:.1f}/s | "
              f"small AVIF {row['small_avif_ms']:.1f} ms/file, PNG {row['small_png_ms']:.1f} "
              f"ms/file ({sah}, {sph} hashed)", flush=True)


if __name__ == "__main__":
    main()
