"""Benchmark: mixed API load over loopback (register, record a dose, read the card).

python bench/bench_load.py --db postgresql://postgres@127.0.0.1:5432/krc_bench \
    [--workers 2] [--concurrency 32] [--seconds 30]
Starts `uvicorn krc.web.asgi:app` with the given workers, drives it with an asyncio client
for a fixed time (bounded), retries 10 % of creates with the same client UUID, then checks
that nothing was lost or doubled. Target (issue 2): ≥ 500 requests/s, p99 ≤ 100 ms, no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select

from krc.accounts.models import User
from krc.accounts.services import create_token
from krc.db import Database
from krc.geo.models import FACILITY, OrgUnit
from krc.immunization.models import Child, Vaccination

GIVEN = ["Awa", "Fatoumata", "Mariam", "Aminata", "Kadiatou", "Moussa", "Oumar", "Seydou",
         "Bakary", "Issa", "Adama", "Hawa", "Salif", "Drissa", "Rokia", "Assitan"]
FAMILY = ["Traoré", "Coulibaly", "Diarra", "Keïta", "Koné", "Touré", "Sidibé", "Sissoko",
          "Dembélé", "Doumbia", "Camara", "Cissé", "Diallo", "Sangaré", "Maïga", "Konaté"]
SERIES = [("BCG", 1, 0), ("OPV", 1, 45), ("PENTA", 1, 45), ("PCV", 1, 45), ("ROTA", 1, 45)]


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Load:
    """Shared state of the load run: latencies, outcomes, what was created."""

    def __init__(self, facilities: list[str], seed: int) -> None:
        self.facilities = facilities
        self.rng = random.Random(seed)
        self.latency: dict[str, list[float]] = {"register": [], "dose": [], "card": []}
        self.errors: list[str] = []
        self.children: dict[str, tuple[date, int]] = {}  # id -> (birth, next dose index)
        self.created_children: set[str] = set()
        self.created_doses: set[str] = set()

    async def call(self, client: httpx.AsyncClient, kind: str, method: str, url: str,
                   **kw: Any) -> httpx.Response | None:
        t0 = time.perf_counter()
        try:
            r = await client.request(method, url, **kw)
        except httpx.HTTPError as exc:
            self.errors.append(f"{kind}: {exc!r}")
            return None
        self.latency[kind].append((time.perf_counter() - t0) * 1000)
        if r.status_code >= 500 or r.status_code in (401, 403, 404, 422):
            self.errors.append(f"{kind}: {r.status_code} {r.text[:200]}")
        return r

    async def register(self, client: httpx.AsyncClient) -> None:
        rng = self.rng
        birth = date(2026, 1, 1) + timedelta(days=rng.randint(0, 200))
        cid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        body = {"id": cid, "given_name": rng.choice(GIVEN), "family_name": rng.choice(FAMILY),
                "sex": rng.choice("FM"), "birth_date": birth.isoformat(),
                "caregiver_name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
                "caregiver_phone": f"7{rng.randint(0, 9999999):07d}",
                "facility": rng.choice(self.facilities), "confirm_new": True}
        r = await self.call(client, "register", "POST", "/api/v1/children", json=body)
        if r is not None and r.status_code in (200, 201):
            self.created_children.add(cid)
            self.children[cid] = (birth, 0)
            if rng.random() < 0.1:  # a client retry with the same id
                r2 = await self.call(client, "register", "POST", "/api/v1/children", json=body)
                if r2 is not None and r2.status_code != 200:
                    self.errors.append(f"replay answered {r2.status_code}")

    async def dose(self, client: httpx.AsyncClient) -> None:
        ready = [c for c, (_, i) in self.children.items() if i < len(SERIES)]
        if not ready:
            return await self.register(client)
        cid = self.rng.choice(ready)
        birth, i = self.children[cid]
        self.children[cid] = (birth, i + 1)
        vaccine, n, age = SERIES[i]
        vid = str(uuid.UUID(int=self.rng.getrandbits(128), version=4))
        day = min(birth + timedelta(days=age), date.today())
        body = {"id": vid, "vaccine": vaccine, "dose": n, "date": day.isoformat(),
                "facility": self.facilities[0]}
        r = await self.call(client, "dose", "POST", f"/api/v1/children/{cid}/vaccinations",
                            json=body)
        if r is not None and r.status_code in (200, 201):
            self.created_doses.add(vid)
            if self.rng.random() < 0.1:
                await self.call(client, "dose", "POST", f"/api/v1/children/{cid}/vaccinations",
                                json=body)
        return None

    async def card(self, client: httpx.AsyncClient) -> None:
        if not self.children:
            return await self.register(client)
        cid = self.rng.choice(list(self.children))
        await self.call(client, "card", "GET", f"/api/v1/children/{cid}")
        return None


async def drive(base: str, token: str, load: Load, concurrency: int, seconds: float) -> float:
    """Run `concurrency` workers for `seconds`; return the elapsed time."""
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=30) as client:
        for _ in range(concurrency):  # seed some children
            await load.register(client)
        deadline = time.perf_counter() + seconds
        t0 = time.perf_counter()

        async def worker() -> None:
            ops = [load.register, load.dose, load.card]
            k = 0
            while time.perf_counter() < deadline:
                await ops[k % 3](client)
                k += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile of values."""
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")


def run_wrk(db: Database, base: str, token: str, facility: str, args: argparse.Namespace,
            before_children: int, before_doses: int) -> None:
    """Drive the server with wrk and bench/load_mixed.lua, then check the database."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "load_mixed.lua")
    env = {**os.environ, "KRC_TOKEN": token, "KRC_FACILITY": facility}
    run = subprocess.run(["wrk", "-t2", f"-c{args.concurrency}", f"-d{int(args.seconds)}s",
                          "--timeout", "10s", "-s", script, base], env=env, capture_output=True,
                         text=True, timeout=args.seconds + 60)
    if run.returncode != 0:
        raise SystemExit(f"wrk failed: {run.stdout}\n{run.stderr}")
    out = run.stdout
    figures = dict(item.split("=") for line in out.splitlines() if line.startswith("KRC ")
                   for item in line[4:].split())
    rps = next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
    errors = int(figures["errors_status"]) + int(figures["errors_other"])
    print(f"mixed API load (wrk, {args.workers} workers, {args.concurrency} connections, "
          f"{int(args.seconds)} s, {db.engine.dialect.name}): {float(rps):,.0f} requests/s, "
          f"p50 {float(figures['p50_ms']):.1f} ms, p99 {float(figures['p99_ms']):.1f} ms, "
          f"{errors} errors (target >= 500 req/s, p99 <= 100 ms, no errors)")
    with db.session() as s:
        children = (s.scalar(select(func.count()).select_from(Child)) or 0) - before_children
        doses = (s.scalar(select(func.count()).select_from(Vaccination)) or 0) - before_doses
    ack_c, ack_d = int(figures["created_children"]), int(figures["created_doses"])
    print(f"nothing lost or doubled: {children:,} children stored for {ack_c:,} acknowledged "
          f"(201), {doses:,} doses for {ack_d:,}; acknowledged but missing: "
          f"{max(0, ack_c - children)} children, {max(0, ack_d - doses)} doses; stored after "
          f"wrk stopped reading (in flight at the end, <= connections): "
          f"{max(0, children - ack_c) + max(0, doses - ack_d)}; "
          f"{int(figures['replays']):,} retries answered as replays (200)")


def main() -> None:
    """Run the load and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--client", choices=("wrk", "python"), default="wrk",
                        help="wrk (Debian package, lighter on the CPU) or the asyncio client")
    args = parser.parse_args()
    db = Database(args.db)
    with db.session() as s:
        admin = s.scalar(select(User).where(User.role == "admin"))
        assert admin is not None, "no admin user: build the demo first"
        token = create_token(s, admin, "bench-load")
        facilities = list(s.scalars(select(OrgUnit.code).where(OrgUnit.level == FACILITY)
                                    .order_by(OrgUnit.code).limit(50)))
        before_children = s.scalar(select(func.count()).select_from(Child)) or 0
        before_doses = s.scalar(select(func.count()).select_from(Vaccination)) or 0
    port = free_port()
    env = {**os.environ, "KRC_DATABASE_URL": db.url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "krc.web.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
         "--no-access-log"], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                if httpx.get(base + "/openapi.json", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        if args.client == "wrk":
            return run_wrk(db, base, token, facilities[0], args, before_children, before_doses)
        load = Load(facilities, seed=int(time.time()))
        elapsed = asyncio.run(drive(base, token, load, args.concurrency, args.seconds))
    finally:
        server.terminate()
        server.wait(10)
    every = [x for v in load.latency.values() for x in v]
    print(f"mixed API load ({args.workers} workers, {args.concurrency} connections, "
          f"{elapsed:.0f} s, {db.engine.dialect.name}): {len(every) / elapsed:,.0f} requests/s, "
          f"p50 {pct(every, 0.5):.1f} ms, p99 {pct(every, 0.99):.1f} ms, "
          f"{len(load.errors)} errors (target >= 500 req/s, p99 <= 100 ms, no errors)")
    for kind, values in load.latency.items():
        print(f"  {kind}: {len(values):,} requests, p50 {pct(values, 0.5):.1f} ms, "
              f"p99 {pct(values, 0.99):.1f} ms")
    with db.session() as s:
        children = (s.scalar(select(func.count()).select_from(Child)) or 0) - before_children
        doses = (s.scalar(select(func.count()).select_from(Vaccination)) or 0) - before_doses
    lost = len(load.created_children) - children, len(load.created_doses) - doses
    print(f"nothing lost or doubled: {children:,} children stored for "
          f"{len(load.created_children):,} acknowledged, {doses:,} doses for "
          f"{len(load.created_doses):,} acknowledged (difference {lost[0]}, {lost[1]})")
    for e in load.errors[:5]:
        print("  error:", e)


if __name__ == "__main__":
    main()
