#!/usr/bin/env python3
"""Benchmark of hand-over: `custody export` and `custody verify-package` of a ~10 GB case
against bagit.py making and validating a bag of the same files, in the same run.

bagit.py converts a directory in place (it moves files into data/, writes no payload), so
it is given an untimed copy of the files; Custody's export copies every byte out of the
vault. Both use SHA-256 and SHA-512. CPU use (user + sys over wall time) shows whether both
cores worked. Target: >= 2x faster for export + verify against make + validate.

Every timed command starts with a cold page cache when the benchmark may drop it (root):
Custody reads the vault's blobs from disk, and bagit.py its files, rather than whichever
the previous step happened to leave in memory. Otherwise the note "warm" is printed.

Usage: bench/handover.py [--corpus DIR] [--large N] [--out DIR] [--features F]
Needs: bagit.py (pip install bagit); the photos from ../shared/bench/make_corpus.py.
`--features openssl` measures the build with the system's libcrypto SHA-512.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def timed(cmd, env=None):
    """(wall seconds, cpu seconds) of a command under /usr/bin/time."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%U %S"] + cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(map(str, cmd))}\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    user, system = map(float, p.stderr.strip().splitlines()[-1].split())
    return wall, user + system


def drop_caches():
    """Writes dirty pages and empties the page cache; False when not permitted."""
    sh(["sync"])
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError:
        return False


def make_random(path, mb, seed):
    if path.exists() and path.stat().st_size == mb * 1_000_000:
        return
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as out:
        sh(["sh", "-c", f"head -c {mb * 1_000_000} /dev/zero | openssl enc -aes-128-ctr -nosalt -pass pass:{seed} -pbkdf2"], stdout=out)
    tmp.rename(path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, help="make_corpus.py output (its photos/ are used)")
    ap.add_argument("--large", type=int, default=7, help="1 GB files added to reach the case size")
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument("--features", default="", help="cargo features of custody-cli to build with")
    args = ap.parse_args()
    if shutil.which("bagit.py") is None:
        sys.exit("bagit.py is needed: pip install bagit")
    args.out.mkdir(parents=True, exist_ok=True)
    build = ["cargo", "build", "--release", "-q", "-p", "custody-cli"]
    if args.features:
        build += ["--features", args.features]
    sh(build, cwd=ROOT)
    custody = str(ROOT / "target" / "release" / "custody")
    corpus = args.corpus or args.out / "corpus-2000"
    if not (corpus / "photos").is_dir():
        gen = ROOT.parent / "shared" / "bench" / "make_corpus.py"
        sh([sys.executable, str(gen), str(corpus), "--n", "2000", "--videos", "0"])

    # The case: the photos and some large files.
    case_dir = args.out / "handover-case"
    if case_dir.exists():
        shutil.rmtree(case_dir)
    shutil.copytree(corpus / "photos", case_dir / "photos")
    large = args.out / "large"
    large.mkdir(exist_ok=True)
    (case_dir / "video").mkdir()
    for i in range(args.large):
        f = large / f"large-{i}.bin"
        make_random(f, 1000, seed=f"large{i}")
        os.link(f, case_dir / "video" / f.name)
    files = [p for p in case_dir.rglob("*") if p.is_file()]
    nbytes = sum(p.stat().st_size for p in files)

    env = dict(os.environ, CUSTODY_ACTOR="bench@localhost")
    vault = args.out / "vault-handover"
    shutil.rmtree(vault, ignore_errors=True)
    sh([custody, "init", str(vault), "--name", "Benchmark"], env=env, stdout=subprocess.DEVNULL)
    sh([custody, "--vault", str(vault), "ingest", str(case_dir), "--case", "BENCH", "--json"], env=env, stdout=subprocess.DEVNULL)

    pkg = args.out / "package"
    shutil.rmtree(pkg, ignore_errors=True)
    cold = drop_caches()
    export = timed([custody, "--vault", str(vault), "export", "--case", "BENCH", "--out", str(pkg)], env=env)
    cold &= drop_caches()
    verify = timed([custody, "verify-package", str(pkg)], env=env)
    shutil.rmtree(pkg, ignore_errors=True)
    shutil.rmtree(vault, ignore_errors=True)

    bag = args.out / "bagit-py"
    shutil.rmtree(bag, ignore_errors=True)
    sh(["cp", "-a", str(case_dir), str(bag)])
    cold &= drop_caches()
    make = timed(["bagit.py", "--sha256", "--sha512", str(bag)])
    cold &= drop_caches()
    validate = timed(["bagit.py", "--validate", str(bag)])
    shutil.rmtree(bag, ignore_errors=True)
    shutil.rmtree(case_dir, ignore_errors=True)

    r = {
        "files": len(files), "bytes": nbytes, "cache": "cold" if cold else "warm",
        "features": args.features,
        "export_s": export[0], "export_cpu_s": export[1],
        "verify_package_s": verify[0], "verify_package_cpu_s": verify[1],
        "bagit_make_s": make[0], "bagit_make_cpu_s": make[1],
        "bagit_validate_s": validate[0], "bagit_validate_cpu_s": validate[1],
    }
    r["ratio_export_vs_make"] = make[0] / export[0]
    r["ratio_verify_vs_validate"] = validate[0] / verify[0]
    r["ratio_total"] = (make[0] + validate[0]) / (export[0] + verify[0])
    (args.out / "handover.json").write_text(json.dumps(r, indent=2))
    gb = nbytes / 1e9
    print(f"\ncase: {len(files)} files, {gb:.2f} GB; page cache {r['cache']} before each command;"
          f" features: {args.features or 'default'}")
    print(f"custody export          {export[0]:7.1f} s  {gb / export[0] * 1000:6.0f} MB/s  cpu {export[1] / export[0]:.2f} cores")
    print(f"custody verify-package  {verify[0]:7.1f} s  {gb / verify[0] * 1000:6.0f} MB/s  cpu {verify[1] / verify[0]:.2f} cores")
    print(f"bagit.py make (in place){make[0]:7.1f} s  {gb / make[0] * 1000:6.0f} MB/s  cpu {make[1] / make[0]:.2f} cores")
    print(f"bagit.py --validate     {validate[0]:7.1f} s  {gb / validate[0] * 1000:6.0f} MB/s  cpu {validate[1] / validate[0]:.2f} cores")
    print(f"ratios: export {r['ratio_export_vs_make']:.2f}x make, verify {r['ratio_verify_vs_validate']:.2f}x validate,"
          f" together {r['ratio_total']:.2f}x (target >= 2)")
    print(f"full results: {args.out / 'handover.json'}")


if __name__ == "__main__":
    main()
