"""`krc stock` commands over the same services (both databases)."""

from __future__ import annotations

from typer.testing import CliRunner

from krc.cli import app
from tests.conftest import World

runner = CliRunner()


def test_reporters_status_settings_late(world: World) -> None:
    db = ["--db", world.db.url]
    r = runner.invoke(app, ["stock", "reporters", "add", "76 12 34 56", "--facility",
                            "ML0207-C01", "--name", "Moussa Keïta", "--language", "eng", *db])
    assert r.exit_code == 0, r.output
    assert "+22376123456" in r.output
    r = runner.invoke(app, ["stock", "reporters", "add", "76 12 34 56", "--facility",
                            "ML0207-C01", "--name", "Moussa", *db])
    assert r.exit_code == 1 and "déjà enregistré" in r.output
    r = runner.invoke(app, ["stock", "reporters", "add", "12", "--facility", "ML0207-C01",
                            "--name", "X", *db])
    assert r.exit_code == 1 and "Numéro de téléphone invalide" in r.output
    r = runner.invoke(app, ["stock", "reporters", "add", "66 00 00 02", "--facility", "ML0207",
                            "--name", "X", *db])
    assert r.exit_code == 1 and "n'est pas un établissement" in r.output
    r = runner.invoke(app, ["stock", "reporters", "add", "66 00 00 02", "--facility",
                            "ML0207-C01", "--name", "X", "--language", "deu", *db])
    assert r.exit_code == 1 and "language" in r.output
    r = runner.invoke(app, ["stock", "reporters", "list", "--org-unit", "ML0207", *db])
    assert r.exit_code == 0 and "Moussa Keïta" in r.output
    r = runner.invoke(app, ["stock", "settings", "--set", "supply_months.3=2", *db])
    assert r.exit_code == 0 and "niveau 3 : approvisionnement 2.0 mois" in r.output
    r = runner.invoke(app, ["stock", "settings", "--set", "report_due_day=40", *db])
    assert r.exit_code == 1
    r = runner.invoke(app, ["stock", "status", "--org-unit", "ML0207", *db])
    assert r.exit_code == 0, r.output
    assert "CSCom Kati Central" in r.output and "rapports manquants 2" in r.output
    r = runner.invoke(app, ["stock", "status", "--org-unit", "NOPE", *db])
    assert r.exit_code == 1 and "inconnue" in r.output
    r = runner.invoke(app, ["stock", "late", "--period", "202501", *db])
    assert r.exit_code == 0 and "3 établissement(s) sans rapport" in r.output
    assert "+22376123456" in r.output
