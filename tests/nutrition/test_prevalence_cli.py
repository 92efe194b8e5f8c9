"""`krc growth prevalence`: z-scores by our engine then the table, against R anthro_prevalence.

Reference: reference/nutrition.md §3.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from krc.cli import app

FIXTURES = Path(__file__).parent / "fixtures" / "prevalence"
runner = CliRunner()


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(v: str) -> float:
    return math.nan if v in ("", "NA") else float(v)


def _assert_matches_r(out: Path, expected_name: str) -> None:
    ours = _read(out)
    theirs = _read(FIXTURES / expected_name)
    assert [r["Group"] for r in ours] == [r["Group"] for r in theirs]
    assert list(ours[0])[: len(theirs[0])] == list(theirs[0])
    assert list(ours[0])[-1] == "HA_2_WH2_deff"
    for a, b in zip(ours, theirs, strict=True):
        for col, text in b.items():
            if col == "Group":
                continue
            x, y = _num(a[col]), _num(text)
            assert math.isnan(x) == math.isnan(y), (a["Group"], col)
            if not math.isnan(x):
                assert abs(x - y) <= 1e-6, (a["Group"], col, x, y)


@pytest.mark.parametrize(("name", "args"), [
    ("survey", ["--cluster", "cluster", "--strata", "strata", "--weight", "sw"]),
    ("simple", ["--age-in-months"]),
    ("weighted", ["--weight", "sw"]),
    ("clustered", ["--cluster", "cluster"]),
])
def test_cli_matches_r_anthro_prevalence(tmp_path: Path, name: str, args: list[str]) -> None:
    out = tmp_path / "prev.csv"
    r = runner.invoke(app, ["growth", "prevalence", str(FIXTURES / f"{name}_input.csv"),
                            "-o", str(out), *args])
    assert r.exit_code == 0, r.output
    assert "enregistrements analysés" in r.output
    _assert_matches_r(out, f"{name}_expected.csv")


def _renamed(tmp_path: Path, renames: dict[str, str], name: str = "survey") -> Path:
    rows = _read(FIXTURES / f"{name}_input.csv")
    path = tmp_path / "renamed.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow([renames.get(c, c) for c in rows[0]])
        for row in rows:
            w.writerow(row.values())
    return path


def test_cli_column_mapping(tmp_path: Path) -> None:
    src = _renamed(tmp_path, {"sex": "sexe", "age": "age_jours", "gregion": "region",
                              "cluster": "grappe", "sw": "poids"})
    out = tmp_path / "prev.csv"
    r = runner.invoke(app, ["growth", "prevalence", str(src), "-o", str(out),
                            "--map", "sex=sexe", "--map", "age_jours=age",
                            "--map", "gregion=region", "--cluster", "grappe",
                            "--strata", "strata", "--weight", "poids"])
    assert r.exit_code == 0, r.output
    _assert_matches_r(out, "survey_expected.csv")


def _small(tmp_path: Path, rows: list[str], header: str = "sex,age,weight,lenhei,sw,cl"
           ) -> Path:
    path = tmp_path / "in.csv"
    path.write_text("\n".join([header, *rows]) + "\n", "utf-8")
    return path


GOOD = ["1,400,9.1,75,1.5,1", "2,800,10.2,82,2,1", "1,1200,12.5,90,1,2", "2,300,7.5,66,1,2"]


@pytest.mark.parametrize(("rows", "args", "message"), [
    (GOOD[:2] + ["1,500,abc,80,1,2"], [], "ligne 4, colonne weight"),
    (GOOD[:3] + ["3,500,9,80,1,2"], [], "ligne 5, colonne sex"),
    (GOOD[:1] + ["1,-4,9,80,1,2"], [], "ligne 3, colonne age"),
    (GOOD[:2] + ["1,500,9,80,-1,2"], ["--weight", "sw"], "ligne 4, colonne sw"),
    (GOOD, ["--cluster", "grappe"], "--cluster grappe"),
    (GOOD, ["--map", "region=nowhere"], "region"),
    (GOOD, ["--map", "gregion=nowhere"], "nowhere"),
    ([], [], "aucune ligne"),
])
def test_cli_bad_input_one_clear_line_and_nothing_written(tmp_path: Path, rows: list[str],
                                                          args: list[str], message: str) -> None:
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["growth", "prevalence", str(_small(tmp_path, rows)), "-o", str(out),
                            *args])
    assert r.exit_code == 1, r.output
    assert message in r.output.replace("\n", " ")
    assert not out.exists()


def test_cli_small_file_with_semicolons_and_decimal_commas(tmp_path: Path) -> None:
    path = tmp_path / "fr.csv"
    path.write_text("sex;age;weight;lenhei;poids\n" + "\n".join(
        r.replace(",", ";").rsplit(";", 1)[0].replace("9.1", "9,1").replace("1.5", "1,5")
        for r in GOOD) + "\n", "utf-8")
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["growth", "prevalence", str(path), "-o", str(out),
                            "--weight", "poids"])
    assert r.exit_code == 0, r.output
    text = out.read_text("utf-8")
    assert text.startswith('"Group";"HAZ_pop";"HAZ_unwpop"')
    all_row = text.splitlines()[1].split(";")
    assert all_row[0] == '"All"' and all_row[1] == "5,5" and all_row[2] == "4"


def test_cli_help() -> None:
    r = runner.invoke(app, ["growth", "prevalence", "--help"])
    assert r.exit_code == 0
    for option in ("--cluster", "--strata", "--weight", "--map", "--age-in-months"):
        assert option in r.output
