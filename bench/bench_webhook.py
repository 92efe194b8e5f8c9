"""Benchmark: RapidPro stock-report webhook over loopback, then an exactly-once check.

python bench/bench_webhook.py [--db postgresql://postgres@127.0.0.1:5432/krc_bench_webhook]
    [--seconds 15] [--concurrency 32] [--workers 2] [--facilities 200]
Without --db it creates (and afterwards drops) a fresh PostgreSQL database on 127.0.0.1.
Starts `uvicorn krc.web.asgi:app` with the given workers, sends SMS stock reports in both
RapidPro payload shapes (full with input/run uuids, default with contact/flow/results only),
about 10 % of them replays of earlier calls sent concurrently with the original, prints
reports/s, p50/p99 and errors, then verifies in the database that every distinct message
was applied exactly once (no loss, no double). Target: ≥ 1,000 reports/s, p99 ≤ 100 ms.
The client is a minimal keep-alive HTTP/1.1 client on asyncio with uvloop (httpx would take
more CPU than the server on a 2-core machine); the bodies are made before the clock starts.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import psycopg
import uvloop
from sqlalchemy import func, select

from krc.accounts.services import create_token, create_user
from krc.db import Database, normalise_url
from krc.geo.models import FACILITY
from krc.geo.queries import unit_by_code
from krc.geo.services import add_unit, load_mali_seed
from krc.immunization.stock.ledger import VACCINES
from krc.immunization.stock.models import StockMessage, StockReporter, StockTransaction
from krc.immunization.stock.services import read_payload
from krc.migrations import upgrade

PG = "postgresql://postgres@127.0.0.1:5432"
DISTRICTS = ["ML0207", "ML0201", "ML0501", "ML0301", "ML0401"]


def free_port() -> int:
    """Return a free loopback TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def seed(url: str, facilities: int) -> tuple[str, list[str]]:
    """Build the schema, facilities, reporters and an integration token; return both."""
    upgrade(url)
    db = Database(url)
    phones: list[str] = []
    with db.session() as s:
        load_mali_seed(s)
        for i in range(facilities):
            district = unit_by_code(s, DISTRICTS[i % len(DISTRICTS)])
            fac = add_unit(s, f"BW-{i:04d}", f"CSCom banc {i}", FACILITY, district)
            phone = f"+2237{6 + i // 100_000 % 4}{i % 1_000_000:06d}"
            s.add(StockReporter(phone=phone, facility_id=fac.id, name=f"Rapporteur {i}",
                                language="fra", active=True, created_at=datetime.now(UTC),
                                updated_at=datetime.now(UTC)))
            phones.append(phone)
        user = create_user(s, "rapidpro-bench", "bench-pass-1", "integration", "ML")
        token = create_token(s, user, "bench")
    db.dispose()
    return token, phones


def payload(rng: random.Random, phone: str, shape: str) -> dict[str, Any]:
    """Return one webhook body carrying a random stock report."""
    kind = rng.choices(["REC", "UTL", "STK"], weights=[6, 3, 1])[0]
    codes = rng.sample(VACCINES, rng.randint(1, 4))
    text = kind + " " + " ".join(f"{c} {rng.randint(0, 500)}" for c in codes)

    def u() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    contact = {"uuid": u(), "name": "Rapporteur", "urn": f"tel:{phone}"}
    flow = {"uuid": "0b0e8f7a-3c1f-4a4b-9d8e-1f2a3b4c5d6e", "name": "Stock"}
    if shape == "default":
        return {"contact": contact, "flow": flow,
                "results": {"report": {"value": text, "category": "Has Text"}}}
    node = u()
    return {"contact": contact, "flow": flow,
            "path": [{"node_uuid": node, "arrived_on": "", "exit_uuid": u()}],
            "results": {"report": {"name": "report", "value": text, "category": "Has Text",
                                   "node_uuid": node, "input": text, "created_on": ""}},
            "run": {"uuid": u(), "created_on": ""},
            "input": {"uuid": u(), "type": "msg", "text": text, "attachments": [],
                      "channel": None, "created_on": "",
                      "urn": {"scheme": "tel", "path": phone, "display": ""}},
            "channel": None}


class Conn:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def post(self, head: bytes, body: bytes) -> tuple[int, bytes]:
        self.writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
        status_line = await self.reader.readline()
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return int(status_line.split()[1]), data


class Run:
    """Outcomes of the load run."""

    def __init__(self) -> None:
        self.latency: list[float] = []
        self.errors: Counter[str] = Counter()
        self.sent: list[bytes] = []  # every distinct body sent (first sending)
        self.answers: dict[bytes, bytes] = {}
        self.replays = 0
        self.replay_mismatch = 0


def make_bodies(rng: random.Random, phones: list[str], n: int) -> list[bytes]:
    """Return n distinct webhook bodies, half in each shape (made before the clock starts,
    so that the client spends its CPU on sending)."""
    return [json.dumps(payload(rng, rng.choice(phones),
                               "full" if rng.random() < 0.5 else "default")).encode()
            for _ in range(n)]


async def drive(port: int, token: str, bodies: list[bytes], run: Run, concurrency: int,
                seconds: float, rng: random.Random) -> float:
    """Run `concurrency` connections for `seconds` (or until the bodies run out); return
    the elapsed time."""
    bodies = bodies[::-1]
    head = (f"POST /api/v1/rapidpro/webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Token {token}\r\nContent-Type: application/json\r\n"
            "Content-Length: ").encode()

    async def one(conn: Conn, body: bytes, replay: bool) -> None:
        t0 = time.perf_counter()
        try:
            status, data = await conn.post(head, body)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            run.errors[f"connection: {exc!r}"[:80]] += 1
            return
        run.latency.append((time.perf_counter() - t0) * 1000)
        if status != 200:
            run.errors[f"HTTP {status}"] += 1
            return
        if json.loads(data).get("status") != "ok":
            run.errors["status error: " + data.decode()[:80]] += 1
        if replay:
            run.replays += 1
        previous = run.answers.setdefault(body, data)
        if previous != data:
            run.replay_mismatch += 1

    deadline = time.perf_counter() + seconds

    async def worker(k: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        conn = Conn(reader, writer)
        partner: Conn | None = None
        if k % 4 == 0:  # some workers also replay concurrently over a second connection
            r2, w2 = await asyncio.open_connection("127.0.0.1", port)
            partner = Conn(r2, w2)
        while time.perf_counter() < deadline and bodies:
            body = bodies.pop()
            run.sent.append(body)
            if partner is not None and rng.random() < 0.4:
                await asyncio.gather(one(conn, body, False), one(partner, body, True))
            else:
                await one(conn, body, False)
                if rng.random() < 0.02 and len(run.sent) > 10:  # a late retry
                    await one(conn, rng.choice(run.sent[:-1]), True)
        writer.close()
        if partner is not None:
            partner.writer.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return time.perf_counter() - t0


def pct(values: list[float], q: float) -> float:
    """Return the q-quantile of values."""
    v = sorted(values)
    return v[min(len(v) - 1, int(len(v) * q))] if v else float("nan")


def verify(url: str, sent: list[bytes]) -> tuple[int, int, list[str]]:
    """Check every distinct message applied exactly once; return (messages, lines, faults)."""
    today = datetime.now(UTC).date()
    expected: dict[str, int] = {}
    for body in sent:
        _p, inbound = read_payload(body, today)
        expected[inbound.key] = len((inbound.text or "").split()) // 2
    db = Database(url)
    faults: list[str] = []
    with db.session(write=False) as s:
        stored = {k: (pk, st) for k, pk, st in s.execute(
            select(StockMessage.key, StockMessage.pk, StockMessage.status))}
        lines = {pk: n for pk, n in s.execute(
            select(StockTransaction.message_pk, func.count()).group_by(
                StockTransaction.message_pk))}
        total = s.scalar(select(func.count()).select_from(StockTransaction)) or 0
    db.dispose()
    missing = [k for k in expected if k not in stored]
    if missing:
        faults.append(f"{len(missing)} message(s) lost, e.g. {missing[0]}")
    extra = [k for k in stored if k not in expected]
    if extra:
        faults.append(f"{len(extra)} unexpected message(s)")
    wrong = [k for k, n in expected.items() if k in stored
             and lines.get(stored[k][0], 0) != n]
    if wrong:
        faults.append(f"{len(wrong)} message(s) applied a wrong number of times")
    if total != sum(expected.values()):
        faults.append(f"{total} transactions stored, {sum(expected.values())} expected")
    return len(expected), total, faults


def main() -> int:
    """Run the benchmark and print one line per figure; exit 1 on any fault."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", help="PostgreSQL URL (default: a fresh database, dropped after)")
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--facilities", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    created = None
    url = args.db
    if url is None:
        created = f"krc_bench_webhook_{os.getpid()}"
        with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {created}")
        url = f"{PG}/{created}"
    url = normalise_url(url)
    server = None
    try:
        token, phones = seed(url, args.facilities)
        port = free_port()
        env = {**os.environ, "KRC_DATABASE_URL": url}
        server = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "krc.web.asgi:app", "--host", "127.0.0.1",
             "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
             "--no-access-log"], env=env)
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        time.sleep(1.0)  # let every worker start
        run = Run()
        rng = random.Random(args.seed)
        bodies = make_bodies(rng, phones, int(args.seconds * 2000))
        uvloop.install()
        cpu0 = time.process_time()
        elapsed = asyncio.run(drive(port, token, bodies, run, args.concurrency,
                                    args.seconds, rng))
        client_cpu = time.process_time() - cpu0
        calls = len(run.latency)
        print(f"webhook calls: {calls} in {elapsed:.1f} s "
              f"({args.workers} workers, concurrency {args.concurrency})")
        print(f"reports/s: {calls / elapsed:.0f}")
        print(f"load client CPU: {client_cpu / elapsed * 100:.0f} % of one core; machine load "
              f"average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        print(f"latency p50: {pct(run.latency, 0.5):.1f} ms")
        print(f"latency p99: {pct(run.latency, 0.99):.1f} ms")
        print(f"replays: {run.replays} ({run.replays / max(calls, 1) * 100:.1f} %), "
              f"answers differing from the first: {run.replay_mismatch}")
        print(f"errors: {sum(run.errors.values())} {dict(run.errors.most_common(3))}")
        messages, lines, faults = verify(url, run.sent)
        print(f"verified: {messages} distinct messages, {lines} transactions; "
              + ("exactly once" if not faults else "; ".join(faults)))
        bad = faults or run.errors or run.replay_mismatch
        return 1 if bad else 0
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        if created:
            with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {created} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
