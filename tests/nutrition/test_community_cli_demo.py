"""The community demo hook (bounded, deterministic, idempotent, rules respected) and the
`krc nutrition community` commands (both databases)."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from typer.testing import CliRunner

from krc.cli import app
from krc.geo.queries import unit_by_code
from krc.immunization.schemas import ChildCreate
from krc.immunization.services import register_child
from krc.nutrition.community import mnp
from krc.nutrition.community.demo import add_community_demo
from krc.nutrition.community.models import (
    IycfRecall,
    IycfSurveyImport,
    MnpDistribution,
    MnpFollowup,
    MnpStockLine,
    SupportGroupAttendance,
    SupportGroupMember,
    SupportGroupSession,
)
from krc.nutrition.community.queries import community_figures
from krc.results.periods import parse_period
from tests.conftest import TODAY, World

runner = CliRunner()
FACILITIES = ["ML0207-C01", "ML0207-C02", "ML0501-C01"]


def _children(world: World, n: int = 90) -> None:
    actor = world.actor("admin")
    with world.db.session() as s:
        for i in range(n):
            fac = FACILITIES[i % 3]
            register_child(s, actor, ChildCreate(
                given_name=f"Enfant{i}", family_name="Diarra", sex="FM"[i % 2],
                birth_date=TODAY - timedelta(days=10 + (i * 7) % 700),
                caregiver_name="Mère Diarra", facility=fac, village=f"{fac}-V0{1 + i % 2}",
                confirm_new=True), TODAY)


def test_demo_is_bounded_realistic_and_idempotent(world: World) -> None:
    _children(world)
    started = time.perf_counter()
    with world.db.session() as s:
        out = add_community_demo(s, 7, TODAY, FACILITIES)
    assert time.perf_counter() - started < 20
    assert out["groups"] >= 1 and out["members"] >= 10 and out["sessions"] >= 1
    assert out["recalls"] >= 60 and out["distributions"] >= 10 and out["followups"] >= 5
    with world.db.session() as s:
        again = add_community_demo(s, 7, TODAY, FACILITIES)
    assert set(again.values()) == {0}
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(IycfRecall)) == out["recalls"]
        # rules hold by construction: ≤ 90 sachets a round, consumed ≤ given, stock ≥ 0
        per_round: dict[tuple[int, int], int] = defaultdict(int)
        for cpk, rnd, n in s.execute(select(MnpDistribution.child_pk, MnpDistribution.round,
                                            MnpDistribution.sachets)):
            per_round[(cpk, rnd)] += n
        assert max(per_round.values()) <= mnp.SACHETS_PER_ROUND
        for cpk, rnd, consumed in s.execute(select(MnpFollowup.child_pk, MnpFollowup.round,
                                                   MnpFollowup.consumed)):
            assert consumed <= per_round[(cpk, rnd)]
        lines: dict[int, list[mnp.Line]] = defaultdict(list)
        for fid, pk, on, kind, q in s.execute(select(
                MnpStockLine.facility_id, MnpStockLine.pk, MnpStockLine.occurred_on,
                MnpStockLine.kind, MnpStockLine.quantity)):
            lines[fid].append(mnp.Line(on, kind, q, pk))
        for ls in lines.values():
            assert min(b for _l, b in mnp.stock_card(ls)) >= 0
        # attendance only of members active on the day
        for held, joined, left in s.execute(
                select(SupportGroupSession.held_on, SupportGroupMember.joined_on,
                       SupportGroupMember.left_on)
                .join(SupportGroupAttendance,
                      SupportGroupAttendance.session_pk == SupportGroupSession.pk)
                .join(SupportGroupMember,
                      SupportGroupMember.pk == SupportGroupAttendance.member_pk)):
            assert joined <= held and (left is None or left >= held)
        fig = community_figures(s, unit_by_code(s, "ML"), parse_period("2026"))
    ind = fig["iycf"]["indicators"]
    assert ind["EBF"]["denominator"] > 0 and ind["MDD"]["denominator"] > 0
    assert ind["MAD"]["numerator"] <= ind["MDD"]["numerator"]
    assert fig["mnp"]["children_covered"] >= 1 and 0 < fig["mnp"]["adherence"] <= 100
    assert fig["groups"]["women"] >= 8


def test_cli_import_figures_and_stock(world: World, tmp_path: Path) -> None:
    csv = tmp_path / "enquete.csv"
    csv.write_text("row_id;org_unit;date;age_months;breastfed;other_liquids\n"
                   "A;ML0207-C01-V01;2026-02-01;2;oui;non\n", "utf-8")
    r = runner.invoke(app, ["nutrition", "community", "import-survey", str(csv), "--survey",
                            "E1", "--user", "kati", "--db", world.db.url])
    assert r.exit_code == 0, r.output
    assert "1 nouvelle" in r.output
    r = runner.invoke(app, ["nutrition", "community", "import-survey", str(csv), "--survey",
                            "E1", "--db", world.db.url])
    assert r.exit_code == 0 and "1 déjà présente" in r.output
    bad = tmp_path / "bad.csv"
    bad.write_text("row_id;org_unit;date;age_months;breastfed\nB;ML0207-C01-V01;x;2;1\n")
    r = runner.invoke(app, ["nutrition", "community", "import-survey", str(bad), "--survey",
                            "E2", "--user", "kati", "--db", world.db.url])
    assert r.exit_code == 1 and "Ligne 2, colonne date" in r.output
    with world.db.session() as s:
        assert s.scalars(select(IycfSurveyImport.status).order_by(IycfSurveyImport.pk)
                         ).all() == ["applied", "applied", "refused"]
    r = runner.invoke(app, ["nutrition", "community", "figures", "--org-unit", "ML0207",
                            "--period", "2026", "--db", world.db.url])
    assert r.exit_code == 0, r.output
    assert "EBF" in r.output and "100.0 %" in r.output
    r = runner.invoke(app, ["nutrition", "community", "stock", "--org-unit", "ML0207",
                            "--period", "2026", "--db", world.db.url])
    assert r.exit_code == 0 and "2 CSCom" in r.output
    r = runner.invoke(app, ["nutrition", "community", "figures", "--org-unit", "ML0207",
                            "--period", "nope", "--db", world.db.url])
    assert r.exit_code == 1 and "Période invalide" in r.output
