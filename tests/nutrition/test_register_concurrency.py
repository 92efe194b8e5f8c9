"""Concurrent creates of the nutrition registers: retries of one id make one record, and
two contacts of one woman on one day (different ids) make one contact and one refusal.

On PostgreSQL the racers pass the existence checks together and meet at the unique
indexes, the conflict path of `db.insert_or_find`; on SQLite the write lock taken at BEGIN
orders them, so the checks answer. Both must give the same outcome.
"""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select

from krc.errors import DomainError
from krc.nutrition.community import services as community
from krc.nutrition.community.models import SupportGroup
from krc.nutrition.community.schemas import GroupCreate
from krc.nutrition.register import services
from krc.nutrition.register.models import Woman, WomanContact
from krc.nutrition.register.schemas import ContactCreate, WomanCreate
from tests.conftest import RACERS, TODAY, World, race


def _woman(world: World, wid: uuid.UUID | None = None) -> WomanCreate:
    return WomanCreate(id=wid, given_name="Mariam", family_name="Diarra", age_years=24,
                       facility="ML0207-C01", village="ML0207-C01-V02", status="pregnant",
                       expected_delivery=date(2026, 6, 20))


def test_concurrent_woman_retries_make_one_record(world: World) -> None:
    actor = world.actor("vacc_kati")
    wid = uuid.uuid4()
    body = _woman(world, wid)

    def work() -> tuple[bool, uuid.UUID]:
        with world.db.session() as s:
            r = services.register_woman(s, actor, body, TODAY)
            return r.created, r.woman.id

    results = race(work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sorted(r[0] for r in results) == [False] * (RACERS - 1) + [True]
    assert {r[1] for r in results} == {wid}
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Woman).where(Woman.id == wid)) == 1


def test_concurrent_contacts_on_one_day_make_one_and_refuse_the_others(world: World) -> None:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        wid = services.register_woman(s, actor, _woman(world), TODAY).woman.id

    def work() -> bool:
        body = ContactCreate(id=uuid.uuid4(), date=date(2026, 3, 1), muac_mm=232)
        with world.db.session() as s:
            return services.record_contact(s, actor, wid, body, TODAY).created

    results = race(work)
    refused = [r for r in results if isinstance(r, DomainError)]
    assert results.count(True) == 1 and len(refused) == RACERS - 1, results
    assert {e.code for e in refused} == {"contact_already_recorded"}
    assert {e.status for e in refused} == {422}
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(WomanContact)) == 1


def test_concurrent_support_group_retries_make_one_group(world: World) -> None:
    actor = world.actor("vacc_kati")
    gid = uuid.uuid4()
    body = GroupCreate(id=gid, village="ML0207-C01-V01", founded_on=date(2025, 6, 1))

    def work() -> bool:
        with world.db.session() as s:
            return community.create_group(s, actor, body, TODAY).created

    results = race(work)
    assert not [r for r in results if isinstance(r, Exception)], results
    assert results.count(True) == 1
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SupportGroup)) == 1
