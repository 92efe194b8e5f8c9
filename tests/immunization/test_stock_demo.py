"""The stock demo hook: realistic, consistent with the ledger, fast (both databases)."""

from __future__ import annotations

import time

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.immunization.stock import ledger
from krc.immunization.stock.demo import add_stock_demo
from krc.immunization.stock.models import (
    StockBalance,
    StockMessage,
    StockMonth,
    StockTransaction,
)
from tests.conftest import FACILITIES, TODAY, World


def test_demo_histories_are_consistent(client: TestClient, world: World) -> None:
    t0 = time.perf_counter()
    with world.db.session() as s:
        counts = add_stock_demo(s, 7, TODAY, [*FACILITIES, "NOPE"])
    assert time.perf_counter() - t0 < 20
    assert counts["stock_transactions"] > 3 * 9 * 12 * 2
    assert counts["stock_reporters"] >= 3 and counts["stock_messages"] >= 4
    with world.db.session() as s:
        rows = s.execute(select(StockTransaction.facility_id, StockTransaction.product,
                                StockTransaction.occurred_on, StockTransaction.kind,
                                StockTransaction.quantity, StockTransaction.pk)).all()
        lines: dict[tuple[int, str], list[ledger.Txn]] = {}
        for f, p, d, k, q, pk in rows:
            lines.setdefault((f, p), []).append(ledger.Txn(d, k, q, pk))
        stored = {(b.facility_id, b.product): b.balance for b in s.scalars(select(StockBalance))}
        assert stored == {key: ledger.balance(t) for key, t in lines.items()}
        used = {(m.facility_id, m.product, m.period): m.used
                for m in s.scalars(select(StockMonth))}
        for (f, p), txns in lines.items():
            for period, q in ledger.monthly_consumption(txns).items():
                assert used[(f, p, period)] == q
        kinds = set(s.scalars(select(StockTransaction.kind).distinct()))
        assert kinds == {"receipt", "consumption", "loss", "count"}
        assert s.scalar(select(func.count()).select_from(StockTransaction).where(
            StockTransaction.kind == "count", StockTransaction.discrepancy != 0)) > 0
        statuses = set(s.scalars(select(StockMessage.status)))
        assert statuses == {"ok", "error"}
        assert all(min(t.quantity for t in txns) >= 0 for txns in lines.values())
    status = client.get("/api/v1/stock/status", params={"org_unit": "ML"},
                        headers=world.headers("national")).json()
    assert sum(len(f["lines"]) for f in status["facilities"]) >= 27
    assert sum(status["summary"].values()) > 0
