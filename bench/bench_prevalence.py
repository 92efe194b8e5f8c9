"""Benchmark: survey prevalence (`krc growth prevalence`) against WHO's R anthro_prevalence.

python bench/bench_prevalence.py [--rows 50000] [--clusters 500] [--strata 10] [--no-r]
Makes a synthetic stratified two-stage cluster survey with sampling weights and a region
grouping, then times, on the same CSV file: krc (read, z-scores, table, write) and R
(`read.csv`, `anthro_prevalence(..., cluster, strata, sw)`, `write.csv`; needs Rscript
with anthro and survey). Prints one line per figure, and the largest difference between
the two tables.
"""

from __future__ import annotations

import argparse
import csv
import math
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from krc.nutrition import csvio
from krc.nutrition.cli_prevalence import Design, prevalence_from_table, render

KNOTS = np.array([0, 6, 12, 24, 36, 48, 60], dtype=float)
MEDIAN_H = np.array([49.9, 67.6, 75.7, 87.1, 96.1, 103.3, 110.0])
MEDIAN_W = np.array([3.3, 7.9, 9.6, 12.2, 14.3, 16.3, 18.3])

R_SCRIPT = r"""
suppressMessages(library(anthro))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], na.strings = c("NA", ""))
t0 <- proc.time()[["elapsed"]]
res <- suppressWarnings(anthro_prevalence(
  sex = d$sex, age = d$age, weight = d$weight, lenhei = d$lenhei, measure = d$measure,
  oedema = d$oedema, cluster = d$cluster, strata = d$strata, sw = d$sw, gregion = d$gregion))
cat(proc.time()[["elapsed"]] - t0, "\n")
write.csv(res, args[2], row.names = FALSE)
"""


def synthetic(rows: int, clusters: int, strata: int, seed: int = 1) -> list[list[object]]:
    """Return survey records: sex, age (days), weight, lenhei, measure, oedema, cluster,
    strata, sw, gregion; stunting around 30 %, some flagged values and oedema cases."""
    rng = np.random.default_rng(seed)
    cluster = rng.integers(0, clusters, rows)
    stratum = cluster % strata
    shift = np.linspace(-0.6, 0.3, strata)[stratum]
    weight_of_cluster = rng.uniform(0.4, 3.5, clusters)
    age = rng.uniform(0, 1850, rows)
    months = age / 30.4375
    hmed = np.interp(np.minimum(months, 60), KNOTS, MEDIAN_H)
    wmed = np.interp(np.minimum(months, 60), KNOTS, MEDIAN_W)
    lenhei = np.round(hmed * (1 + 0.037 * rng.normal(-1.2 + shift, 1.1)), 1)
    weight = np.round(wmed * (lenhei / hmed) ** 2 * (1 + 0.09 * rng.normal(-0.5, 1.0, rows)), 2)
    weight[rng.random(rows) < 0.002] = 40.0
    measure = np.where(age < 731, "l", "h")
    oedema = np.where(rng.random(rows) < 0.02, "y", "n")
    sex = rng.integers(1, 3, rows)
    regions = np.array(["Kayes", "Koulikoro", "Sikasso", "Ségou", "Mopti", "Tombouctou",
                        "Gao", "Kidal", "Bamako", "Ménaka"])
    return [[int(sex[i]), round(float(age[i]), 2), float(weight[i]), float(lenhei[i]),
             str(measure[i]), str(oedema[i]), int(cluster[i]) + 1, int(stratum[i]) + 1,
             round(float(weight_of_cluster[cluster[i]]), 3), str(regions[stratum[i]])]
            for i in range(rows)]


def _num(v: str) -> float:
    return math.nan if v in ("", "NA") else float(v)


def main() -> None:
    """Run the benchmark and print one line per figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--clusters", type=int, default=500)
    ap.add_argument("--strata", type=int, default=10)
    ap.add_argument("--no-r", action="store_true", help="skip R anthro")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "survey.csv"
        with src.open("w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["sex", "age", "weight", "lenhei", "measure", "oedema", "cluster",
                        "strata", "sw", "gregion"])
            w.writerows(synthetic(args.rows, args.clusters, args.strata))
        out = Path(tmp) / "krc.csv"
        t0 = time.perf_counter()
        table = csvio.read_csv(src)
        t_read = time.perf_counter()
        result = prevalence_from_table(table, {}, False,
                                       Design(cluster="cluster", strata="strata", weight="sw"))
        krc_core = time.perf_counter() - t_read
        header, columns = render(result, table.decimal)
        csvio.write_csv(out, header, columns)
        krc_s = time.perf_counter() - t0
        print(f"krc growth prevalence: {args.rows} records, {args.clusters} clusters, "
              f"{args.strata} strata, weights, {len(result.groups)} groups: {krc_s:.2f} s "
              f"end to end (z-scores + table {krc_core:.2f} s)")
        rscript = shutil.which("Rscript")
        if args.no_r or rscript is None:
            print("R anthro_prevalence: not run" + ("" if args.no_r else " (no Rscript)"))
            return
        script = Path(tmp) / "bench.R"
        script.write_text(R_SCRIPT, "utf-8")
        r_out = Path(tmp) / "r.csv"
        t0 = time.perf_counter()
        proc = subprocess.run([rscript, str(script), str(src), str(r_out)], check=True,
                              capture_output=True, text=True)
        r_s = time.perf_counter() - t0
        r_core = float(proc.stdout.split()[-1])
        print(f"R anthro_prevalence (survey 4.1.1): {r_s:.2f} s "
              f"(of which anthro_prevalence {r_core:.2f} s)")
        print(f"speed-up krc vs R: {r_s / krc_s:.0f}x end to end, "
              f"{r_core / krc_core:.0f}x computation")
        with out.open(newline="", encoding="utf-8") as fh:
            ours = list(csv.DictReader(fh))
        with r_out.open(newline="", encoding="utf-8") as fh:
            theirs = list(csv.DictReader(fh))
        worst = 0.0
        same_groups = [r["Group"] for r in ours] == [r["Group"] for r in theirs]
        for a, b in zip(ours, theirs, strict=False):
            for col, text in b.items():
                if col == "Group":
                    continue
                x, y = _num(a[col]), _num(text)
                if math.isnan(x) != math.isnan(y):
                    worst = math.inf
                elif not math.isnan(x):
                    worst = max(worst, abs(x - y))
        print(f"agreement with R: same groups {same_groups}, largest difference {worst:.2e}")


if __name__ == "__main__":
    main()
