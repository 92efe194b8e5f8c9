"""The demo hook of the register (both databases): realistic visits on register children,
regional differences, flagged values and oedema kept, referrals consistent with the rules,
idempotent, fast; and the CLI over the same figures."""

from __future__ import annotations

import random
import time
import uuid
from datetime import timedelta
from statistics import mean

from sqlalchemy import func, insert, select
from typer.testing import CliRunner

from krc.accounts.services import utcnow
from krc.geo.queries import unit_by_code
from krc.immunization.models import Child
from krc.nutrition.register.classify import classify
from krc.nutrition.register.demo import add_nutrition_demo
from krc.nutrition.register.models import GrowthVisit, Referral, Woman
from krc.nutrition.register.services import measures_of
from tests.conftest import TODAY, World

PER_FACILITY = 120


def _children(world: World) -> None:
    rng = random.Random(3)
    now = utcnow()
    rows = []
    with world.db.session() as s:
        for code in ("ML0207-C01", "ML0501-C01"):
            fac = unit_by_code(s, code)
            for i in range(PER_FACILITY):
                rows.append({"id": uuid.uuid4(), "given_name": f"Enfant{i}",
                             "family_name": "Diallo", "sex": rng.choice("FM"),
                             "birth_date": TODAY - timedelta(days=rng.randint(10, 700)),
                             "caregiver_name": "Aminata Diallo", "caregiver_phone": None,
                             "facility_id": fac.id, "village_id": None, "family_key": "DIALO",
                             "given_key": f"ENFANT{i}", "created_at": now, "updated_at": now})
        s.execute(insert(Child), rows)


def test_demo_visits_follow_the_rules_and_regions(world: World) -> None:
    _children(world)
    started = time.perf_counter()
    with world.db.session() as s:
        counts = add_nutrition_demo(s, 1, TODAY, ["ML0207-C01", "ML0501-C01", "NOPE"])
    assert time.perf_counter() - started < 30
    # most children have visits (the newest born may not yet); "children" counts those
    assert counts["children"] >= 0.9 * 2 * PER_FACILITY and counts["visits"] > 1000
    assert counts["referrals"] > 0 and counts["women"] > 0 and counts["contacts"] > 0
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(GrowthVisit)) == counts["visits"]
        assert s.scalar(select(func.count(func.distinct(GrowthVisit.child_pk)))) == \
            counts["children"]
        visits = list(s.scalars(select(GrowthVisit)))
        for v in visits:  # stored classification = the pure rule on the stored z-scores
            assert v.status == classify(measures_of(v)).status
            assert v.weight_kg is not None and v.weight_kg > 0
            assert v.lenhei_cm is not None and 35 <= v.lenhei_cm <= 140
        flagged = [v for v in visits if v.fwei or v.fwfl or v.flen]
        assert len(flagged) == counts["flagged"] > 0  # implausible values kept and flagged
        assert sum(v.oedema for v in visits) == counts["oedema"]
        kati = unit_by_code(s, "ML0207-C01").id
        by_place = {True: [], False: []}  # type: dict[bool, list[float]]
        for v in visits:
            if v.zlen is not None and not v.flen:
                by_place[v.facility_id == kati].append(v.zlen)
        assert mean(by_place[False]) < mean(by_place[True]) - 0.2  # Mopti more stunted
        for r in s.scalars(select(Referral)):
            rv = s.scalar(select(GrowthVisit).where(GrowthVisit.pk == r.visit_pk))
            assert rv is not None and rv.child_pk == r.child_pk
            assert r.reason == rv.status or (r.reason == "faltering" and rv.faltering)
            assert r.status in ("open", "attended", "closed")
            if r.status == "closed":
                assert r.outcome is not None and r.outcome_on is not None
                assert r.outcome_on <= TODAY
        assert (s.scalar(select(func.count()).select_from(Woman).where(
            Woman.status == "breastfeeding", Woman.child_pk.is_not(None))) or 0) > 0
    with world.db.session() as s:  # a second run adds nothing
        again = add_nutrition_demo(s, 1, TODAY, ["ML0207-C01", "ML0501-C01"])
    assert again["visits"] == 0
    runner = CliRunner()
    from krc.cli import app
    result = runner.invoke(app, ["nutrition", "register", "figures", "--org-unit", "ML0207",
                                 "--period", "2026", "--db", world.db.url])
    assert result.exit_code == 0, result.output
    assert "Enfants de 0 à 23 mois suivis" in result.output


def test_cli_settings(world: World) -> None:
    from krc.cli import app
    runner = CliRunner()
    result = runner.invoke(app, ["nutrition", "register", "settings", "--set",
                                 "faltering_waz_drop=0.5", "--db", world.db.url])
    assert result.exit_code == 0, result.output
    assert "faltering_waz_drop = 0.5" in result.output
    bad = runner.invoke(app, ["nutrition", "register", "settings", "--set",
                              "woman_muac_at_risk_mm=abc", "--db", world.db.url])
    assert bad.exit_code == 1
    unknown = runner.invoke(app, ["nutrition", "register", "settings", "--set", "x=1",
                                  "--db", world.db.url])
    assert unknown.exit_code == 1
