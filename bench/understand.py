#!/usr/bin/env python3
"""Benchmark of metadata extraction, perceptual hashing, whole ingest and the
near-duplicate index, each beside its reference tool measured in the same run.

  - metadata extraction alone (the extract crate's bench binary, built with the `c2pa`
    feature as the release build is: both cores, the same extraction `custody` runs,
    content credentials checked) against `exiftool -j -r` on the same folder (target >= 20x
    files/s); and, for the record, `custody extract --all --force`, which also computes
    perceptual hashes and writes a ledger entry per file;
  - perceptual hashing (the crate's bench binary, 2 threads) against Python
    `imagehash.phash` with Pillow's draft decoding, one process (target >= 5x);
  - `custody ingest` of the photo folder (hash, store, metadata, perceptual hash,
    ledger) against `restic backup` into a fresh repository (target >= 3x), with the
    ceiling of an ingest that did nothing but the perceptual hash and SHA-256 (each at
    its own rate measured in the run, both cores), and preservation alone (`ingest
    --no-extract`) against the same restic runs;
  - the near-duplicate index at 10 million hashes (query < 10 ms), and recall and
    precision on the corpus's known near-duplicate pairs.

Usage: bench/understand.py [--corpus DIR] [--photos N] [--out DIR] [--pairs N]
Needs: exiftool (libimage-exiftool-perl), restic, Python Pillow + imagehash; the corpus
comes from ../shared/bench/make_corpus.py (Pillow, piexif, numpy).
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None, cwd=None):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return dt, p.stdout


def warm(paths):
    """Reads every file into the page cache, then writes out whatever the previous run
    left dirty, so that neither tool pays for the other's write-back."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(8 << 20):
                pass
    os.sync()


def files_under(d):
    return sorted(str(p) for p in Path(d).rglob("*") if p.is_file())


def rate(text, what):
    m = re.search(r"([\d.]+) files/s", text)
    if not m:
        sys.exit(f"no files/s in the {what} output:\n{text}")
    return float(m.group(1))


def sha256_rate(paths, threads=2):
    """Files/s of SHA-256 alone over the files in `paths`, held in memory (the perceptual
    hash's rate already counts reading them), on `threads` threads: OpenSSL's SHA-256
    through hashlib, which releases the GIL on large data."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    held = [Path(p).read_bytes() for p in paths]
    t = time.perf_counter()
    with ThreadPoolExecutor(threads) as ex:
        for _ in ex.map(lambda b: hashlib.sha256(b).digest(), held):
            pass
    return len(held) / (time.perf_counter() - t)


def spread(ratios):
    """Median, lowest and highest of the pairs' ratios."""
    s = sorted(ratios)
    mid = len(s) // 2
    median = s[mid] if len(s) % 2 else (s[mid - 1] + s[mid]) / 2
    return {"median": median, "min": s[0], "max": s[-1]}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path)
    ap.add_argument("--photos", type=int, default=2000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--pairs", type=int, default=3,
                    help="alternating runs of each tool for ingest and hashing (default 3)")
    args = ap.parse_args()
    if args.pairs < 1:
        ap.error("--pairs must be at least 1")
    args.out.mkdir(parents=True, exist_ok=True)
    for tool in ["exiftool", "restic"]:
        if shutil.which(tool) is None:
            sys.exit(f"{tool} is needed (Debian: apt-get install libimage-exiftool-perl restic)")

    sh(["cargo", "build", "--release", "-q", "-p", "custody-cli"], cwd=ROOT)
    sh(["cargo", "build", "--release", "-q", "-p", "custody-similar", "--examples"], cwd=ROOT)
    sh(["cargo", "build", "--release", "-q", "-p", "custody-extract", "--features", "c2pa",
        "--example", "extract_bench"], cwd=ROOT)
    custody = str(ROOT / "target" / "release" / "custody")
    examples = ROOT / "target" / "release" / "examples"

    corpus = args.corpus
    if corpus is None:
        corpus = args.out / f"corpus-{args.photos}"
        if not (corpus / "corpus-truth.json").exists():
            gen = ROOT.parent / "shared" / "bench" / "make_corpus.py"
            print(f"generating corpus in {corpus} (once) ...", flush=True)
            sh([sys.executable, str(gen), str(corpus), "--n", str(args.photos), "--videos", "0"])
    photos_dir = corpus / "photos"
    photos = files_under(photos_dir)
    nbytes = sum(os.path.getsize(p) for p in photos)
    env = dict(os.environ, CUSTODY_ACTOR="bench@localhost")
    results = {"photos": len(photos), "bytes": nbytes}

    # Whole ingest against restic backup, both warm, in alternating pairs (each into a
    # fresh vault / repository); the vault of the last pair is kept for `extract` below.
    vault = args.out / "vault-understand"
    repo = args.out / "restic-repo"
    renv = dict(os.environ, RESTIC_PASSWORD="benchmark", RESTIC_REPOSITORY=str(repo))
    pairs = []
    for _ in range(args.pairs):
        shutil.rmtree(vault, ignore_errors=True)
        sh([custody, "init", str(vault), "--name", "Benchmark"], env=env, stdout=subprocess.DEVNULL)
        warm(photos)
        t_ingest, _ = timed([custody, "--vault", str(vault), "ingest", str(photos_dir), "--json"], env=env)
        # Preservation alone (hash, copy, catalog, ledger; no metadata or perceptual
        # hash), into a vault of its own: what ingest costs before it examines anything.
        bare = args.out / "vault-understand-bare"
        shutil.rmtree(bare, ignore_errors=True)
        sh([custody, "init", str(bare), "--name", "Benchmark"], env=env, stdout=subprocess.DEVNULL)
        warm(photos)
        t_bare, _ = timed([custody, "--vault", str(bare), "ingest", str(photos_dir), "--no-extract", "--json"], env=env)
        shutil.rmtree(bare, ignore_errors=True)
        shutil.rmtree(repo, ignore_errors=True)
        sh(["restic", "init", "-q"], env=renv, stdout=subprocess.DEVNULL)
        warm(photos)
        t_restic, _ = timed(["restic", "backup", "-q", str(photos_dir)], env=renv)
        shutil.rmtree(repo, ignore_errors=True)
        pairs.append({
            "custody_s": t_ingest, "custody_files_per_s": len(photos) / t_ingest,
            "custody_MBps": nbytes / 1e6 / t_ingest,
            "restic_s": t_restic, "restic_files_per_s": len(photos) / t_restic,
            "restic_MBps": nbytes / 1e6 / t_restic,
            "ratio": t_restic / t_ingest,
            "preserve_only_s": t_bare, "preserve_only_files_per_s": len(photos) / t_bare,
            "preserve_only_ratio": t_restic / t_bare,
        })
    results["ingest"] = {"pairs": pairs, **spread([p["ratio"] for p in pairs]),
                         "preserve_only": spread([p["preserve_only_ratio"] for p in pairs])}

    # Metadata extraction alone: the vault command against exiftool on the same folder.
    warm(photos)
    t_extract, out = timed([custody, "--vault", str(vault), "extract", "--all", "--force", "--json"], env=env)
    extracted = json.loads(out)["extracted"]
    t_exif, _ = timed(["exiftool", "-j", "-r", "-q", str(photos_dir)])
    warm(photos)
    _, alone = timed([str(examples / "extract_bench"), str(photos_dir)])
    m = re.search(r"ratio: ([\d.]+)x exiftool", alone)
    results["extract"] = {
        "metadata_alone": alone.strip(),
        "metadata_alone_ratio": float(m.group(1)) if m else None,
        "custody_extract_all_files": extracted, "custody_extract_all_s": t_extract,
        "custody_extract_all_files_per_s": extracted / t_extract,
        "exiftool_files_per_s": len(photos) / t_exif,
        "custody_extract_all_ratio": (extracted / t_extract) / (len(photos) / t_exif),
    }
    shutil.rmtree(vault, ignore_errors=True)

    # Perceptual hashing: ours (2 threads) against imagehash (one process, draft decoding).
    # Alternating pairs, as for ingest: on a shared machine one pair can mislead.
    jpegs = [p for p in photos if p.lower().endswith((".jpg", ".jpeg"))]
    warm(jpegs)
    pairs = []
    for _ in range(args.pairs):
        _, ours = timed([str(examples / "phash_bench"), str(photos_dir)])
        _, theirs = timed([sys.executable, str(ROOT / "crates" / "similar" / "bench" / "imagehash_bench.py"), str(photos_dir)])
        pairs.append({"custody": ours.strip(), "imagehash": theirs.strip(),
                      "ratio": rate(ours, "phash_bench") / rate(theirs, "imagehash_bench")})
    results["phash"] = {"pairs": pairs, **spread([p["ratio"] for p in pairs])}

    # What ingest could reach if it did nothing but its two unavoidable computations,
    # the perceptual hash and SHA-256, each at its own measured rate on both cores (no
    # copy, metadata, catalog or ledger): the ceiling the 3x target is measured against.
    sha = max(sha256_rate(jpegs) for _ in range(2))
    ph = spread([rate(q["custody"], "phash_bench") for q in pairs])["median"]
    ceiling = 1 / (1 / ph + 1 / sha)
    restic_rate = spread([q["restic_files_per_s"] for q in results["ingest"]["pairs"]])["median"]
    results["ceiling"] = {"sha256_files_per_s": sha, "phash_files_per_s": ph,
                          "photos_per_s": ceiling, "restic_photos_per_s": restic_rate,
                          "ratio": ceiling / restic_rate}

    # The index at 10 million hashes, and recall/precision on the corpus.
    _, index = timed([str(examples / "index_bench"), "--n", "10000000"])
    _, recall = timed([str(examples / "recall"), str(corpus)])
    results["index"] = index.strip()
    results["recall"] = recall.strip()

    (args.out / "understand.json").write_text(json.dumps(results, indent=2))
    i, e, p = results["ingest"], results["extract"], results["phash"]
    print(f"\ncorpus: {len(photos)} photos, {nbytes / 1e9:.2f} GB ({corpus})")
    print(f"\nwhole ingest, {len(i['pairs'])} pairs (target >= 3x restic):")
    for n, q in enumerate(i["pairs"], 1):
        print(f"  {n}: custody {q['custody_files_per_s']:.0f} photos/s, {q['custody_MBps']:.0f} MB/s;"
              f" restic backup {q['restic_files_per_s']:.0f} photos/s, {q['restic_MBps']:.0f} MB/s;"
              f" ratio {q['ratio']:.2f}x")
    print(f"  ratio median {i['median']:.2f}x, lowest {i['min']:.2f}x, highest {i['max']:.2f}x")
    b = i["preserve_only"]
    print("  preservation alone (ingest --no-extract: no metadata, no perceptual hash): "
          + ", ".join(f"{q['preserve_only_files_per_s']:.0f}" for q in i["pairs"])
          + f" photos/s; ratio median {b['median']:.2f}x restic, lowest {b['min']:.2f}x, highest {b['max']:.2f}x")
    c = results["ceiling"]
    print(f"  ceiling (perceptual hash {c['phash_files_per_s']:.0f} files/s and SHA-256 {c['sha256_files_per_s']:.0f} files/s,"
          f" nothing else): {c['photos_per_s']:.0f} photos/s = {c['ratio']:.2f}x restic's median {c['restic_photos_per_s']:.0f}")
    print(f"extraction alone (target >= 20x exiftool):\n  {e['metadata_alone']}")
    print(f"custody extract --all --force (metadata + perceptual hash + ledger): {e['custody_extract_all_files_per_s']:.0f} files/s,"
          f" {e['custody_extract_all_ratio']:.1f}x exiftool's {e['exiftool_files_per_s']:.0f} files/s")
    print(f"perceptual hash, {len(p['pairs'])} pairs (target >= 5x imagehash):")
    for n, q in enumerate(p["pairs"], 1):
        print(f"  {n}: ratio {q['ratio']:.2f}x\n     {q['custody']}\n     {q['imagehash']}")
    print(f"  ratio median {p['median']:.2f}x, lowest {p['min']:.2f}x, highest {p['max']:.2f}x")
    print(f"\nindex at 10 million hashes:\n{index.strip()}")
    print(f"\nrecall and precision:\n{recall.strip()}")
    print(f"\nfull results: {args.out / 'understand.json'}")


if __name__ == "__main__":
    main()
