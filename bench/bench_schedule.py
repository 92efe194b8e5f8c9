"""Benchmark: vectorised schedule evaluation throughput (children/s).

python bench/bench_schedule.py [--children 1000000]
Prints one line per figure. Target (issue 2): ≥ 100,000 children/s.
"""

from __future__ import annotations

import argparse
import time
from datetime import date

import numpy as np

from krc.immunization.schedule import ScheduleParams, batch_slots, evaluate_batch, to_epoch_day


def synthetic(n: int, on: date, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Return birth days and valid given days for n children under five (plausible doses)."""
    rng = np.random.default_rng(seed)
    today = to_epoch_day(on)
    birth = today - rng.integers(0, 5 * 365, n)
    slots = batch_slots(ScheduleParams())
    given = np.full((n, len(slots)), -1, dtype=np.int64)
    ages = {"BCG": 0, "OPV": 42, "PENTA": 42, "PCV": 42, "ROTA": 42, "IPV": 98, "MCV": 274,
            "YF": 274, "MENA": 274, "MALARIA": 150}
    for j, (vaccine, dose) in enumerate(slots):
        if vaccine == "MALARIA":
            continue
        step = 0 if vaccine in ("BCG", "IPV", "YF", "MENA") else 28 * max(dose - 1, 0)
        if vaccine == "MCV" and dose == 2:
            step = 183
        if vaccine == "OPV" and dose == 0:
            day = birth + rng.integers(0, 7, n)
        else:
            day = birth + ages[vaccine] + step + rng.integers(0, 60, n)
        take = (rng.random(n) < 0.8) & (day <= today)
        given[:, j] = np.where(take, day, -1)
    return birth, given


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--children", type=int, default=1_000_000)
    args = parser.parse_args()
    on = date(2026, 11, 27)
    birth, given = synthetic(args.children, on)
    evaluate_batch(birth[:1000], given[:1000], on)  # warm up
    t0 = time.perf_counter()
    _, status, _ = evaluate_batch(birth, given, on)
    dt = time.perf_counter() - t0
    overdue = int((status == 4).any(axis=1).sum())
    print(f"schedule batch: {args.children:,} children in {dt:.2f} s = "
          f"{args.children / dt:,.0f} children/s ({overdue:,} defaulters)")


if __name__ == "__main__":
    main()
