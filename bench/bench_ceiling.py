"""The ceiling of this machine for krc's HTTP stack: what a do-almost-nothing request costs.

    python bench/bench_ceiling.py --db postgresql://postgres@127.0.0.1:5432/krc_bench

Serves the app exactly as bench_load.py does (uvicorn, N workers, loopback) and drives three
requests with wrk, each for a few seconds: a static file (the framework alone), `GET
/api/v1/me` (bearer-token authentication + one indexed read, no write) and `GET
/api/v1/children/{id}` (a child's card: the same plus an audited read, i.e. one committed
write). The mixed-load target of issue 2 (≥ 500 requests/s, p99 ≤ 100 ms) is read against
these ceilings: no request of the mix can be cheaper than the second, and a card read is
one of the three requests of the mix.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

import httpx
from sqlalchemy import select

from krc.accounts.models import User
from krc.accounts.services import create_token
from krc.db import Database
from krc.immunization.models import Child


def free_port() -> int:
    """Return a free TCP port on loopback."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wrk(url: str, token: str, seconds: int, connections: int) -> str:
    """Return 'N req/s, p50, p99' of wrk against one URL."""
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency",
                          "-H", f"Authorization: Bearer {token}", url],
                         capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return (f"{float(rate.group(1)) if rate else 0:,.0f} requests/s, "
            f"p50 {p50.group(1) if p50 else '?'}, p99 {p99.group(1) if p99 else '?'}, "
            f"{errors.group(1) if errors else 0} non-2xx")


def main() -> None:
    """Print one line per ceiling."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    db = Database(args.db)
    with db.session() as s:
        admin = s.scalar(select(User).where(User.role == "admin"))
        assert admin is not None, "no admin user: build the demo first"
        token = create_token(s, admin, "bench-ceiling")
        child = s.scalar(select(Child.id).limit(1))
    port = free_port()
    env = {**os.environ, "KRC_DATABASE_URL": db.url}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "krc.web.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--workers", str(args.workers), "--log-level", "warning",
         "--no-access-log"], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/static/krc.css", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        for label, path in (("static file (framework only)", "/static/krc.css"),
                            ("GET /api/v1/me (token + one read)", "/api/v1/me"),
                            ("GET /api/v1/children/{id} (card, audited read)",
                             f"/api/v1/children/{child}")):
            print(f"ceiling, {label}, {args.workers} workers, {args.connections} connections: "
                  f"{wrk(base + path, token, args.seconds, args.connections)}", flush=True)
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
