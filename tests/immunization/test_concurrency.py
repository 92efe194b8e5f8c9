"""Concurrent retries of one create: every caller gets the record, the database holds one.

On PostgreSQL the retries race past the existence check and meet at the unique index, which
exercises the conflict path of services.register_child / record_dose: their rows go in with
`INSERT … ON CONFLICT DO NOTHING` (db.insert_unless_taken). An earlier savepoint version
flushed the INSERT before the savepoint, so the race rolled back the whole transaction and
answered 500 (found by the load benchmark).
"""

from __future__ import annotations

import threading
import uuid
from datetime import date

from sqlalchemy import func, select

from krc.db import insert_unless_taken
from krc.immunization import services
from krc.immunization.models import Child, Vaccination
from krc.immunization.schemas import ChildCreate, VaccinationCreate
from tests.conftest import TODAY, World, child_payload

N = 6


def _race(world: World, work: object) -> list[object]:
    barrier = threading.Barrier(N)
    results: list[object] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            out = work()  # type: ignore[operator]
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            out = exc
        with lock:
            results.append(out)

    threads = [threading.Thread(target=run) for _ in range(N)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_concurrent_child_retries_make_one_record(world: World) -> None:
    actor = world.actor("vacc_kati")
    cid = uuid.uuid4()
    body = ChildCreate(**{**child_payload(id=str(cid), confirm_new=True)})

    def work() -> tuple[bool, str | None]:
        with world.db.session() as s:
            r = services.register_child(s, actor, body, TODAY)
            return r.created, r.child.registry_number

    results = _race(world, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(1 for r in results if r[0]) == 1  # type: ignore[index]
    assert len({r[1] for r in results}) == 1  # type: ignore[index]
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Child).where(Child.id == cid)) == 1


def test_concurrent_dose_retries_make_one_dose(world: World) -> None:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        child = services.register_child(s, actor, ChildCreate(**child_payload(
            birth_date="2025-11-03", confirm_new=True)), TODAY).child
    vid = uuid.uuid4()
    body = VaccinationCreate(id=vid, vaccine="BCG", dose=1, date=date(2025, 11, 3),
                             facility="ML0207-C01")

    def work() -> bool:
        with world.db.session() as s:
            return services.record_dose(s, actor, child.id, body, TODAY).created

    results = _race(world, work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(True) == 1
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Vaccination)) == 1


def test_insert_unless_taken_leaves_the_transaction_usable(world: World) -> None:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        first = services.register_child(s, actor, ChildCreate(**child_payload(
            confirm_new=True)), TODAY).child
        again = Child(**{c.key: getattr(first, c.key) for c in Child.__mapper__.column_attrs
                         if c.key != "pk"})
        assert insert_unless_taken(s, again) is False  # same id: nothing written
        assert again not in s
        # The transaction goes on (no aborted statement, no savepoint needed).
        assert s.scalar(select(func.count()).select_from(Child).where(
            Child.id == first.id)) == 1
        other = Child(**{**{c.key: getattr(first, c.key) for c in Child.__mapper__.column_attrs
                            if c.key not in ("pk", "registry_number")}, "id": uuid.uuid4()})
        assert insert_unless_taken(s, other) is True
        assert other in s and other.pk is not None and other.pk != first.pk
        assert s.get(Child, other.pk) is other  # persistent, in the identity map
    with world.db.session() as s:
        stored = s.scalar(select(Child).where(Child.id == other.id))
        assert stored is not None and stored.given_name == first.given_name
