"""Benchmark: WHO PQS 30-DTR alarm detection throughput (readings/s).

python bench/bench_alarms.py [--devices 2000] [--days 30] [--interval 10]
Prints one line per figure. Target (issue 3): ≥ 1,000,000 readings/s.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from krc.immunization.coldchain.alarms import AlarmParams, detect, detect_batch

T0 = 1_773_619_200  # 2026-03-16 00:00 UTC


def synthetic(devices: int, days: int, interval_min: int, seed: int = 1
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (device, epoch seconds, °C) sorted by device and time: daily cycles around
    5 °C, noise, and a few long heat and freeze excursions per device."""
    rng = np.random.default_rng(seed)
    per = days * 24 * 60 // interval_min
    minutes = np.arange(per, dtype=np.int64) * interval_min
    base = 5.0 + 1.5 * np.sin(2 * np.pi * minutes / 1440.0)
    temps = base[None, :] + rng.normal(0.0, 0.4, (devices, per))
    for _ in range(3):  # excursions of random length at random places
        start = rng.integers(0, per - 200, devices)
        length = rng.integers(3, 150, devices)
        level = np.where(rng.random(devices) < 0.7, 10.5, -1.5)
        idx = start[:, None] + np.arange(150)[None, :]
        mask = np.arange(150)[None, :] < length[:, None]
        rows = np.repeat(np.arange(devices), 150).reshape(devices, 150)
        temps[rows[mask], idx[mask]] = np.repeat(level, 150).reshape(devices, 150)[mask]
    group = np.repeat(np.arange(devices, dtype=np.int64), per)
    times = np.tile(T0 + minutes * 60, devices)
    return group, times, temps.ravel()


def main() -> None:
    """Run the benchmark and print readings/s."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--devices", type=int, default=2000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--interval", type=int, default=10, help="minutes between readings")
    args = ap.parse_args()
    group, times, temps = synthetic(args.devices, args.days, args.interval)
    n = times.size
    params = AlarmParams()
    t0 = time.perf_counter()
    events = detect_batch(group, times, temps, params)
    batch_s = time.perf_counter() - t0
    per = n // args.devices
    t0 = time.perf_counter()
    single = 0
    for d in range(args.devices):
        single += len(detect(times[d * per:(d + 1) * per], temps[d * per:(d + 1) * per],
                             params))
    single_s = time.perf_counter() - t0
    alarms = sum(1 for _, e in events if e.type in ("heat", "freeze"))
    print(f"readings: {n:,} ({args.devices} devices × {args.days} days at "
          f"{args.interval} min); alarms: {alarms:,}")
    print(f"detect_batch: {n / batch_s:,.0f} readings/s ({batch_s:.2f} s)")
    print(f"detect per device: {n / single_s:,.0f} readings/s ({single_s:.2f} s; "
          f"same events: {single == len(events)})")


if __name__ == "__main__":
    main()
