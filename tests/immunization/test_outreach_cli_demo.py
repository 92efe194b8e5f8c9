"""`krc outreach` commands and the demo hook (both databases)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import func, select
from typer.testing import CliRunner

from krc.cli import app
from krc.immunization.models import Vaccination
from krc.immunization.outreach.demo import PLACES, add_outreach_demo
from krc.immunization.outreach.models import OutreachSession
from krc.immunization.outreach.queries import report_dict, upcoming_sessions
from krc.immunization.outreach.schemas import SessionCreate
from krc.immunization.outreach.services import create_session
from krc.immunization.params import load_params
from krc.immunization.schemas import ChildCreate, VaccinationCreate
from krc.immunization.services import record_dose, register_child
from tests.conftest import TODAY, World

runner = CliRunner()


def _child(world: World, name: str, birth: date, phone: str) -> uuid.UUID:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        return register_child(s, actor, ChildCreate(
            given_name=name, family_name="Diallo", sex="F", birth_date=birth,
            caregiver_name="Kadia Diallo", caregiver_phone=phone, facility="ML0207-C01",
            village="ML0207-C01-V01", confirm_new=True), TODAY).child.id


def _dose(world: World, child: uuid.UUID, vaccine: str, n: int, day: date,
          strategy: str = "outreach") -> None:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        record_dose(s, actor, child, VaccinationCreate(
            vaccine=vaccine, dose=n, date=day, facility="ML0207-C01", strategy=strategy), TODAY)


def test_sessions_and_report_commands(world: World) -> None:
    actor = world.actor("vacc_kati")
    with world.db.session() as s:
        sid = create_session(s, actor, SessionCreate(
            facility="ML0207-C01", date=date(2026, 3, 20), strategy="outreach",
            place_type="bus_station", place_name="Gare routière de Kati"), TODAY).session.id
    r = runner.invoke(app, ["outreach", "sessions", "--org-unit", "ML0207", "--db",
                            world.db.url])
    assert r.exit_code == 0, r.output
    assert "Gare routière de Kati" in r.output and "1 séance(s)" in r.output
    r = runner.invoke(app, ["outreach", "sessions", "--org-unit", "ML0207", "--from",
                            "2026-04-01", "--db", world.db.url])
    assert r.exit_code == 0 and "0 séance(s)" in r.output
    r = runner.invoke(app, ["outreach", "sessions", "--org-unit", "ML0207", "--from",
                            "demain", "--db", world.db.url])
    assert r.exit_code == 1 and "Date invalide" in r.output
    r = runner.invoke(app, ["outreach", "sessions", "--org-unit", "NOPE", "--db", world.db.url])
    assert r.exit_code == 1 and "NOPE" in r.output
    r = runner.invoke(app, ["outreach", "report", str(sid), "--db", world.db.url])
    assert r.exit_code == 0 and "Enfants vaccinés : 0" in r.output
    r = runner.invoke(app, ["outreach", "report", str(uuid.uuid4()), "--db", world.db.url])
    assert r.exit_code == 1 and "Séance inconnue" in r.output


def test_demo_links_outreach_doses_and_plans_sessions(world: World) -> None:
    a = _child(world, "Aïssata", date(2025, 10, 1), "76 30 00 01")
    b = _child(world, "Bintou", date(2025, 11, 3), "76 30 00 02")
    day = date(2026, 2, 10)
    _dose(world, a, "PENTA", 1, day)
    _dose(world, a, "OPV", 1, day)
    _dose(world, b, "BCG", 1, date(2025, 11, 3), strategy="fixed")
    _dose(world, b, "PENTA", 1, day)
    _dose(world, b, "PCV", 1, day, strategy="fixed")  # not an outreach dose
    _dose(world, a, "PCV", 1, date(2026, 3, 10))  # another outreach day
    codes = ["ML0207-C01", "ML0207-C02", "ML0501-C01"]
    with world.db.session() as s:
        counts = add_outreach_demo(s, 1, TODAY, codes)
    assert counts == {"held": 2, "planned": 12, "doses_linked": 4}
    with world.db.session() as s:
        held = s.scalars(select(OutreachSession).where(OutreachSession.status == "held")
                         .order_by(OutreachSession.session_date)).all()
        assert [h.session_date for h in held] == [day, date(2026, 3, 10)]
        assert all(h.place_type in PLACES and h.place_name for h in held)
        rep = report_dict(s, held[0], load_params(s))
        assert rep["children"] == 2 and rep["doses"] == 3
        assert rep["zero_dose_found"] == {"first_penta": 2, "first_vaccine": 1,
                                          "in_register": 2}
        unlinked = s.scalar(select(func.count()).select_from(Vaccination).where(
            Vaccination.session.is_(None)))
        assert unlinked == 2  # the fixed-strategy doses
        upcoming = upcoming_sessions(s, TODAY, date(2026, 6, 1))
        assert len(upcoming) == 12
        assert {u.facility_code for u in upcoming} == set(codes)
    with world.db.session() as s:  # a second run adds nothing
        assert add_outreach_demo(s, 1, TODAY, codes) == {"held": 0, "planned": 0,
                                                          "doses_linked": 0}
        assert add_outreach_demo(s, 1, TODAY, []) == {"held": 0, "planned": 0,
                                                       "doses_linked": 0}
