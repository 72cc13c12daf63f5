#!/usr/bin/python3
"""Benchmarks of the foundation issue (not run by CI): kadastr against its peers, in one run.

Usage (from the project root, after `make`):
  /usr/bin/python3 tests/bench/bench_foundation.py DATADIR [--kadastr build/kadastr]
        [--runs 3] [--points 100000] [--sample-parcels N]

DATADIR is a directory made by ../shared/peers/gen_cadastre.py (cadastre.gpkg in EPSG:32642,
meta.json). The script
  (a) load: times `ogr2ogr -f SQLite -dsco SPATIALITE=YES` of DATADIR/cadastre.gpkg (the
      peer, ../shared/peers/bench_load.py, also builds DATADIR/cadastre.sqlite) and
      `kadastr init` + `kadastr load --as parcels` of the same file, full validation, with
      peak RSS; then the same two on a region made by `kadastr sample --export` (same size,
      EPSG:32642) when --sample-parcels is given;
  (b) point lookup: the peer's SpatiaLite SQL figures (../shared/peers/bench_spatialite_lookup.py,
      R*Tree and SpatialIndex forms, one process, one core) and `kadastr lookup --points`
      over the first --points random points of DATADIR/points.csv (EPSG:32642), one thread,
      with the index build reported apart.
Every figure is printed and appended to $CADBENCH_WORK/results.jsonl (the peers' format);
ratios are printed at the end. Record them in docs/performance.md.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
PEERS = os.path.normpath(os.path.join(ROOT, "..", "shared", "peers"))
sys.path.insert(0, PEERS)
from benchlib import WORK, dataset_name, load_meta, record  # noqa: E402


def peak_rss_run(cmd):
    """Runs cmd under /usr/bin/time; returns (wall seconds, peak RSS MB, stdout)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "RSS %M"] + cmd, capture_output=True, text=True)
    dt = time.perf_counter() - t
    if p.returncode not in (0, 3):
        sys.exit("failed (%d): %s\n%s" % (p.returncode, " ".join(cmd), p.stderr[-2000:]))
    rss = int(re.findall(r"RSS (\d+)", p.stderr)[-1]) / 1024.0
    return dt, rss, p.stdout


def rm_db(path):
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(path + suffix):
            os.remove(path + suffix)


def bench_load(kadastr, src, name, runs, mapping):
    ogr, kd, rss = [], [], []
    target = os.path.join(WORK, "bench_ogr.sqlite")
    db = os.path.join(WORK, "bench_kadastr_%s.sqlite" % name)
    for _ in range(runs):
        rm_db(target)
        t = time.perf_counter()
        subprocess.run(["ogr2ogr", "-f", "SQLite", "-dsco", "SPATIALITE=YES", target, src,
                        "parcels"], check=True)
        ogr.append(time.perf_counter() - t)
        rm_db(db)
        t0 = time.perf_counter()
        subprocess.run([kadastr, "init", db], check=True, capture_output=True)
        cmd = [kadastr, "load", db, src, "--as", "parcels", "--layer", "parcels", "--json"]
        if mapping:
            cmd += ["--mapping", mapping]
        _, r, out = peak_rss_run(cmd)
        kd.append(time.perf_counter() - t0)
        rss.append(r)
    s_ogr = record("load.ogr2ogr_spatialite." + name, ds, "s", ogr)
    s_kd = record("load.kadastr." + name, ds, "s", kd, peak_rss_mb=max(rss))
    return s_ogr["median"], s_kd["median"], max(rss)


def bench_points(kadastr, datadir, n_points, runs):
    db = os.path.join(WORK, "bench_kadastr_gen_gpkg.sqlite")  # left by bench_load
    pts = os.path.join(WORK, "bench_points.csv")
    with open(os.path.join(datadir, "points.csv")) as fh, open(pts, "w") as out:
        rows = [ln for ln in fh.read().splitlines() if ln and ln[0] in "0123456789-"]
        if len(rows) < n_points:
            sys.exit("points.csv has %d points; make_workload.py --points %d" % (len(rows), n_points))
        for ln in rows[:n_points]:
            x, y = ln.split(",")[:2]
            out.write("%s,%s\n" % (x, y))
    rates, builds, found = [], [], 0
    for _ in range(runs):
        p = subprocess.run([kadastr, "lookup", db, "--points", pts, "--crs", "EPSG:32642",
                            "--verbose"], capture_output=True, text=True, check=True)
        m = re.search(r"(\d+) lines in ([\d.]+) s", p.stderr)
        b = re.search(r"built in ([\d.]+) s, ([\d.]+) MB", p.stderr)
        rates.append(int(m.group(1)) / float(m.group(2)))
        builds.append(float(b.group(1)))
        found = sum(1 for ln in p.stdout.splitlines() if ln.split(",")[2:3] not in ([], [""]))
    s = record("lookup.kadastr.points", ds, "points/s", rates, points=n_points, found=found)
    record("lookup.kadastr.index_build", ds, "s", builds, index_mb=float(b.group(2)))
    return s["median"]


def main():
    global ds
    ap = argparse.ArgumentParser()
    ap.add_argument("datadir")
    ap.add_argument("--kadastr", default=os.path.join(ROOT, "build", "kadastr"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--points", type=int, default=100000)
    ap.add_argument("--sample-parcels", type=int, default=0)
    ap.add_argument("--only", choices=["load", "lookup"], help="run one part")
    a = ap.parse_args()
    ds = dataset_name(a.datadir)
    os.makedirs(WORK, exist_ok=True)
    kadastr = os.path.abspath(a.kadastr)
    mapping = os.path.join(ROOT, "data", "mappings", "peers-gen-cadastre.json")
    n = load_meta(a.datadir)["parcels"]
    print("dataset %s: %d parcels; kadastr %s" % (ds, n, kadastr), flush=True)

    # (a) load, peer and kadastr alternating in one run
    ratios = []
    if a.only != "lookup" or not os.path.exists(
            os.path.join(WORK, "bench_kadastr_gen_gpkg.sqlite")):
        ogr, kd, rss = bench_load(kadastr, os.path.join(a.datadir, "cadastre.gpkg"), "gen_gpkg",
                                  a.runs, mapping)
        ratios += [("load gen_cadastre.gpkg: kadastr / ogr2ogr", kd / ogr, "<= 1.0"),
                   ("load peak RSS MB", rss, "<= 1024")]
    if a.sample_parcels and a.only != "lookup":
        sample_db = os.path.join(WORK, "bench_sample.sqlite")
        sample_gpkg = os.path.join(WORK, "bench_sample.gpkg")
        rm_db(sample_db)
        if os.path.exists(sample_gpkg):
            os.remove(sample_gpkg)
        t = time.perf_counter()
        subprocess.run([kadastr, "sample", sample_db, "--parcels", str(a.sample_parcels),
                        "--export", sample_gpkg, "--export-crs", "EPSG:32642"], check=True)
        record("sample.kadastr", "sample%d" % a.sample_parcels, "s", [time.perf_counter() - t])
        s_ogr, s_kd, s_rss = bench_load(kadastr, sample_gpkg, "sample_gpkg", a.runs, None)
        ratios.append(("load kadastr sample gpkg: kadastr / ogr2ogr", s_kd / s_ogr, "<= 1.0"))
        ratios.append(("load (sample) peak RSS MB", s_rss, "<= 1024"))

    if a.only == "load":
        report(ds, ratios)
        return
    # (b) point lookups: the peer's SpatiaLite SQL in the same run, then kadastr
    if not os.path.exists(os.path.join(a.datadir, "cadastre.sqlite")):
        subprocess.run(["/usr/bin/python3", os.path.join(PEERS, "bench_load.py"), a.datadir,
                        "--runs", "1", "--sources", "gpkg"], check=True)
    p = subprocess.run(["/usr/bin/python3", os.path.join(PEERS, "bench_spatialite_lookup.py"),
                        a.datadir, "--runs", str(a.runs)], capture_output=True, text=True,
                       check=True)
    print(p.stdout, end="")
    us = [float(m.group(2)) for m in
          re.finditer(r"lookup\.sqlite3_cli\.(spatialindex|rtree)\s+\S+\s+([\d.]+)", p.stdout)]
    best_us = min(us)
    rate = bench_points(kadastr, a.datadir, a.points, a.runs)
    ratios.append(("points/s kadastr lookup --points", rate, ">= 100000"))
    ratios.append(("point lookup: kadastr / SpatiaLite (faster form, %.1f us)" % best_us,
                   rate / (1e6 / best_us), ">= 3"))
    report(ds, ratios)


def report(ds, ratios):
    print("\n%-62s %12s  %s" % ("figure (" + ds + ")", "value", "target"))
    for name, v, target in ratios:
        print("%-62s %12.2f  %s" % (name, v, target))


if __name__ == "__main__":
    main()
