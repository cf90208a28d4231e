#!/usr/bin/env python3
"""Mirrored and turned copies: what `--turned` finds, what it wrongly joins, what it costs.

Makes a turned copy of every eighth original photograph of the corpus (200 of the
2,000-photo corpus; each turn in turn: mirrored, rotated 180, mirrored upside down,
transposed, rotated 90 clockwise, transversed, rotated 90 anticlockwise), at 55% of the
size, JPEG quality 75, metadata stripped (as a repost is), ingests the corpus and the
copies into a fresh vault, and runs `custody clusters` with and without `--turned`:

  - recall of the turned copies: a copy in the same group as its original, and the turn
    named against a reference of the same picture upright;
  - the corpus's own near-duplicate pairs, still grouped;
  - wrong joins: members grouped with a picture that is not theirs (by the corpus's
    ground truth), with and without `--turned`;
  - the time of each `clusters` run: `--turned` by the turned hashes recorded at
    ingest, and again as for items extracted before those were recorded (the catalog's
    turned hashes set to NULL, as an earlier build's records project), when every
    stored copy is read again; both must give the same groups;

and, in a vault of their own, N unrelated synthetic scenes (`--strangers N`, default
2,000; no copies at all, so every group is a wrong one): groups with and without
`--turned`, and turns named.

Usage: bench/turned.py [--corpus DIR] [--out DIR] [--runs N] [--strangers N]
Needs: Python Pillow; the corpus from ../shared/bench/make_corpus.py (see understand.py).
"""
import argparse
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import random

from PIL import Image, ImageDraw, ImageOps

ROOT = Path(__file__).resolve().parent.parent

# Each turn, as `custody` names it, and how Pillow makes it from the upright picture.
TURNS = [
    ("mirrored", [Image.Transpose.FLIP_LEFT_RIGHT]),
    ("rotated-180", [Image.Transpose.ROTATE_180]),
    ("mirrored-upside-down", [Image.Transpose.FLIP_TOP_BOTTOM]),
    ("transposed", [Image.Transpose.TRANSPOSE]),
    ("rotated-90-clockwise", [Image.Transpose.ROTATE_270]),  # Pillow turns anticlockwise
    ("transversed", [Image.Transpose.TRANSVERSE]),
    ("rotated-90-anticlockwise", [Image.Transpose.ROTATE_90]),
]


def stranger(seed, w=480, h=360):
    """An unrelated synthetic scene: a two-colour diagonal wash and a few dozen
    shapes, all from `seed`."""
    rng = random.Random(seed)
    a = [rng.randrange(256) for _ in range(3)]
    b = [rng.randrange(256) for _ in range(3)]
    img = Image.new("RGB", (w, h))
    px = img.load()
    for y in range(0, h, 4):
        for x in range(0, w, 4):
            f = (x / w + y / h) / 2
            c = tuple(int(p + (q - p) * f) for p, q in zip(a, b))
            for dy in range(4):
                for dx in range(4):
                    px[x + dx, y + dy] = c
    d = ImageDraw.Draw(img)
    for _ in range(rng.randrange(12, 36)):
        x, y = rng.randrange(w), rng.randrange(h)
        sw, sh = rng.randrange(20, w // 2), rng.randrange(20, h // 2)
        fill = tuple(rng.randrange(256) for _ in range(3))
        kind = rng.randrange(3)
        if kind == 0:
            d.rectangle([x, y, x + sw, y + sh], fill=fill)
        elif kind == 1:
            d.ellipse([x, y, x + sw, y + sh], fill=fill)
        else:
            d.polygon([(x, y), (x + sw, y + rng.randrange(sh)), (x + rng.randrange(sw), y + sh)], fill=fill)
    return img


def strangers(custody, env, out, n):
    """Groups among `n` unrelated scenes, with and without `--turned`."""
    folder, vault = out / f"strangers-{n}", out / f"vault-strangers-{n}"
    if not (folder / f"s{n - 1:05d}.jpg").exists():
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            stranger(1000 + i).save(folder / f"s{i:05d}.jpg", quality=85)
    shutil.rmtree(vault, ignore_errors=True)
    subprocess.run([custody, "init", str(vault), "--name", "Strangers"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    run([custody, "--vault", str(vault), "ingest", str(folder), "--json"], env)
    found = {}
    for mode, extra in [("upright", []), ("turned", ["--turned"])]:
        dt, text = run([custody, "--vault", str(vault), "clusters", "--json", *extra], env)
        clusters = json.loads(text)["clusters"]
        found[mode] = {"seconds": dt, "wrong_groups": len(clusters),
                       "members": sum(len(c["members"]) for c in clusters),
                       "named_turned": sum(1 for c in clusters for m in c["members"] if m.get("turn"))}
    return found


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def run(cmd, env):
    t = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    dt = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return dt, p.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, default=ROOT / "bench" / "out" / "corpus-2000")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--runs", type=int, default=2, help="runs of each clusters command (default 2)")
    ap.add_argument("--strangers", type=int, default=2000,
                    help="unrelated scenes for the wrong-join count (default 2000; 0: none)")
    args = ap.parse_args()
    truth_file = args.corpus / "corpus-truth.json"
    if not truth_file.exists():
        sys.exit(f"no corpus at {args.corpus}: run bench/understand.py once, or "
                 "../shared/bench/make_corpus.py DIR --n 2000 --videos 0")
    truth = json.loads(truth_file.read_text())
    subprocess.run(["cargo", "build", "--release", "-q", "-p", "custody-cli"], cwd=ROOT, check=True)
    custody = str(ROOT / "target" / "release" / "custody")

    # The picture each file shows, by the corpus's ground truth: an original's own path.
    root_of = {}
    for o in truth["originals"]:
        root_of[o["file"]] = o["file"]
    for n in truth["near_duplicates"]:
        root_of[n["file"]] = n["near_dup_of"]
    for e in truth["exact_duplicates"]:
        root_of[e["file"]] = e["exact_dup_of"]

    copies = args.out / "turned-copies"
    shutil.rmtree(copies, ignore_errors=True)
    copies.mkdir(parents=True)
    turned_of = {}  # copy path (relative to the corpus, as the truth names files) -> (original, turn)
    for i, o in enumerate(truth["originals"][::8][:200]):
        name, ops = TURNS[i % len(TURNS)]
        with Image.open(args.corpus / o["file"]) as img:
            pic = ImageOps.exif_transpose(img).convert("RGB")
        for op in ops:
            pic = pic.transpose(op)
        pic = pic.resize((pic.width * 55 // 100, pic.height * 55 // 100), Image.Resampling.LANCZOS)
        rel = f"turned/{i:03d}_{name}.jpg"
        pic.save(copies / Path(rel).name, quality=75)
        turned_of[rel] = (o["file"], name)
        root_of[rel] = o["file"]

    path_of_digest = {}
    for rel in root_of:
        p = copies / Path(rel).name if rel.startswith("turned/") else args.corpus / rel
        if p.exists():
            path_of_digest.setdefault(sha256(p), rel)

    env = dict(os.environ, CUSTODY_ACTOR="bench@localhost")
    vault = args.out / "vault-turned"
    shutil.rmtree(vault, ignore_errors=True)
    subprocess.run([custody, "init", str(vault), "--name", "Benchmark"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    for folder in [args.corpus / "photos", copies]:
        run([custody, "--vault", str(vault), "ingest", str(folder), "--json"], env)

    results = {"copies": len(turned_of)}
    for mode, extra in [("upright", []), ("turned", ["--turned"]), ("read_again", ["--turned"])]:
        if mode == "read_again":
            db = sqlite3.connect(vault / "catalog.sqlite")
            db.execute("UPDATE phashes SET turned = NULL")
            db.commit()
            db.close()
        times = []
        for _ in range(args.runs):
            dt, out = run([custody, "--vault", str(vault), "clusters", "--json", *extra], env)
            times.append(dt)
        clusters = json.loads(out)["clusters"]
        group_of, turn_of = {}, {}
        wrong = 0
        for n, c in enumerate(clusters):
            rels = []
            for m in c["members"]:
                rel = path_of_digest.get(m["sha256"])
                if rel is None:
                    continue
                rels.append(rel)
                group_of.setdefault(rel, set()).add(n)
                turn_of[rel] = (m.get("turn"), c["earliest"]["item"] if c.get("earliest") else None, m)
            roots = [root_of[r] for r in rels]
            majority = max(set(roots), key=roots.count) if roots else None
            wrong += sum(1 for r in roots if r != majority)
        found = named = 0
        for rel, (orig, name) in turned_of.items():
            if group_of.get(rel, set()) & group_of.get(orig, set()):
                found += 1
                if turn_of[rel][0] == name:
                    named += 1
        # Exact copies are the same bytes, one item each: grouped as such, not by hash.
        pairs = [(n["file"], n["near_dup_of"]) for n in truth["near_duplicates"]]
        kept = sum(1 for a, b in pairs if group_of.get(a, set()) & group_of.get(b, set()))
        results[mode] = {"seconds": times, "clusters": len(clusters), "turned_found": found,
                         "groups": sorted(sorted(m["sha256"] for m in c["members"]) for c in clusters),
                         "turned_named": named, "corpus_pairs_grouped": kept,
                         "corpus_pairs": len(pairs), "wrongly_grouped_members": wrong}

    if args.strangers:
        results["strangers"] = strangers(custody, env, args.out, args.strangers)
    (args.out / "turned.json").write_text(json.dumps(results, indent=2))
    photos = len(path_of_digest)
    print(f"{photos} distinct files ingested: the corpus and {results['copies']} turned copies")
    label = {"upright": "clusters", "turned": "clusters --turned (recorded turned hashes)",
             "read_again": "clusters --turned (every stored copy read again)"}
    same = results["turned"]["groups"] == results["read_again"]["groups"]
    for mode in ["upright", "turned", "read_again"]:
        r = results[mode]
        print(f"{label[mode]}: "
              + ", ".join(f"{t:.2f}" for t in r["seconds"]) + " s; "
              f"{r['clusters']} groups; turned copies with their original {r['turned_found']}/{results['copies']}"
              f" (turn named right {r['turned_named']}); corpus near-duplicate pairs grouped {r['corpus_pairs_grouped']}/{r['corpus_pairs']};"
              f" members grouped with another picture {r['wrongly_grouped_members']}")
    print(f"groups by recorded turned hashes and by copies read again the same: {same}")
    if not same:
        sys.exit("the two ways of turning gave different groups")
    if args.strangers:
        for mode, r in results["strangers"].items():
            print(f"{args.strangers} unrelated scenes, clusters{' --turned' if mode == 'turned' else ''}: "
                  f"{r['wrong_groups']} groups (all wrong), {r['members']} members, {r['named_turned']} named turned;"
                  f" {r['seconds']:.2f} s")
    print(f"full results: {args.out / 'turned.json'}")


if __name__ == "__main__":
    main()
