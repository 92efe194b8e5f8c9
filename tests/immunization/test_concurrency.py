"""Concurrent retries of one create: every caller gets the record, the database holds one.

On PostgreSQL the retries race past the existence check and meet at the unique index, which
exercises the conflict path of the creates (register_child, record_dose, outreach sessions
here; the nutrition creates in tests/nutrition/test_register_concurrency.py): their rows go in with
`INSERT … ON CONFLICT DO NOTHING` (db.insert_unless_taken). An earlier savepoint version
flushed the INSERT before the savepoint, so the race rolled back the whole transaction and
answered 500 (found by the load benchmark).
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import event, func, select

from krc.db import insert_unless_taken
from krc.immunization import services
from krc.immunization.models import Child, Vaccination
from krc.immunization.outreach import services as outreach
from krc.immunization.outreach.models import OutreachSession, OutreachSessionVillage
from krc.immunization.outreach.schemas import SessionCreate
from krc.immunization.schemas import ChildCreate, VaccinationCreate
from tests.conftest import TODAY, World, child_payload, race


def test_concurrent_child_retries_make_one_record(world: World) -> None:
    actor = world.actor("vacc_kati")
    cid = uuid.uuid4()
    body = ChildCreate(**{**child_payload(id=str(cid), confirm_new=True)})

    def work() -> tuple[bool, str | None]:
        with world.db.session() as s:
            r = services.register_child(s, actor, body, TODAY)
            return r.created, r.child.registry_number

    results = race(work)
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

    results = race(work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(True) == 1
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Vaccination)) == 1


def test_concurrent_outreach_session_retries_make_one_session(world: World) -> None:
    actor = world.actor("vacc_kati")
    sid = uuid.uuid4()
    body = SessionCreate(id=sid, facility="ML0207-C01", date=date(2026, 3, 20),
                         strategy="outreach", place_type="market", place_name="Marché",
                         villages=["ML0207-C01-V01"])

    def work() -> tuple[bool, int]:
        with world.db.session() as s:
            planned = outreach.create_session(s, actor, body, TODAY)
            return planned.created, len(outreach.village_ids(s, planned.session))

    results = race(work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r[0] for r in results) == [False] * 5 + [True]  # type: ignore[index]
    assert {r[1] for r in results} == {1}  # type: ignore[index]  # its village, once
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(OutreachSession)) == 1
        assert s.scalar(select(func.count()).select_from(OutreachSessionVillage)) == 1


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


def test_insert_unless_taken_applies_the_defaults_of_unset_columns(world: World) -> None:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        child = services.register_child(s, actor, ChildCreate(**child_payload(
            birth_date="2025-11-03", confirm_new=True)), TODAY).child
        dose = Vaccination(id=uuid.uuid4(), child_pk=child.pk, vaccine="BCG", dose=1,
                           given_on=date(2025, 11, 3), facility_id=child.facility_id,
                           residence_id=child.facility_id, created_at=child.created_at,
                           updated_at=child.created_at)  # strategy, valid, deleted unset
        assert insert_unless_taken(s, dose) is True
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(world.db.engine, "before_cursor_execute", count)
        try:  # the defaults came back with the INSERT: reading them costs no query
            assert (dose.strategy, dose.valid, dose.deleted, dose.lot) == \
                ("fixed", True, False, None)
            assert statements == []
        finally:
            event.remove(world.db.engine, "before_cursor_execute", count)
    with world.db.session() as s:
        stored = s.scalar(select(Vaccination).where(Vaccination.id == dose.id))
        assert stored is not None and (stored.strategy, stored.valid) == ("fixed", True)
