"""`krc growth zscores` and the CSV helpers, against files written by R anthro."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from krc.cli import app
from krc.errors import DomainError
from krc.nutrition import csvio

FIXTURES = Path(__file__).parent / "fixtures"
runner = CliRunner()


@pytest.mark.parametrize(("input_name", "r_name", "extra"), [
    ("zscores_input.csv", "zscores_r.csv", []),
    ("zscores_months_input.csv", "zscores_months_r.csv", ["--age-in-months"]),
])
def test_output_is_byte_identical_to_r_write_csv(tmp_path: Path, input_name: str, r_name: str,
                                                  extra: list[str]) -> None:
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["growth", "zscores", str(FIXTURES / input_name), "-o", str(out),
                            *extra])
    assert r.exit_code == 0, r.output
    assert out.read_bytes() == (FIXTURES / r_name).read_bytes()


def _renamed(tmp_path: Path, renames: dict[str, str]) -> Path:
    text = (FIXTURES / "zscores_input.csv").read_text("utf-8")
    header, rest = text.split("\n", 1)
    names = [h.strip('"') for h in header.split(",")]
    path = tmp_path / "renamed.csv"
    path.write_text(",".join(f'"{renames.get(n, n)}"' for n in names) + "\n" + rest, "utf-8")
    return path


def test_column_mapping_both_ways(tmp_path: Path) -> None:
    src = _renamed(tmp_path, {"age": "age_days", "lenhei": "height", "sex": "sexe"})
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["growth", "zscores", str(src), "-o", str(out), "--map",
                            "age=age_days", "--map", "height=lenhei", "--map", "sex=sexe"])
    assert r.exit_code == 0, r.output
    expected = (FIXTURES / "zscores_r.csv").read_text("utf-8").split("\n", 1)[1]
    got_header, got = out.read_text("utf-8").split("\n", 1)
    assert got == expected
    assert got_header.startswith('"id","sexe","age_days","weight","height"')


@pytest.mark.parametrize(("cells", "args", "message"), [
    ({"weight": "abc"}, [], "ligne 4, colonne weight : « abc » n'est pas un nombre"),
    ({"sex": "x"}, [], "ligne 4, colonne sex : « x » : code de sexe invalide"),
    ({"measure": "standing"}, [], "ligne 4, colonne measure : « standing » : mesure invalide"),
    ({"oedema": "maybe"}, [], "ligne 4, colonne oedema : « maybe » : œdème invalide"),
    ({"age": "-3"}, [], "ligne 4, colonne age : « -3 » : l'âge ne peut pas être négatif"),
    ({}, ["--map", "age=jours"], "la colonne jours (pour age) n'existe pas"),
    ({}, ["--map", "foo=bar"], "aucun des deux noms n'est connu"),
    ({}, ["--map", "age"], "écrivez --map NOTRE_NOM=COLONNE"),
])
def test_bad_values_named_by_line_and_column(tmp_path: Path, cells: dict[str, str],
                                             args: list[str], message: str) -> None:
    rows = [{"sex": "1", "age": "100", "weight": "5.5", "lenhei": "60", "measure": "l",
             "oedema": "n"} for _ in range(4)]
    rows[2].update(cells)
    src = tmp_path / "in.csv"
    with src.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["growth", "zscores", str(src), "-o", str(out), *args])
    assert r.exit_code == 1
    assert message in " ".join(r.output.split()), r.output
    assert not out.exists()  # nothing written on error
    assert list(tmp_path.iterdir()) == [src]


def test_missing_sex_column_and_empty_file(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("age,weight\n100,5\n")
    r = runner.invoke(app, ["growth", "zscores", str(src), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 1 and "colonne sex absente" in r.output
    src.write_text("")
    r = runner.invoke(app, ["growth", "zscores", str(src), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 1 and "est vide" in r.output
    src.write_text("sex,age\n1,100,7\n")
    r = runner.invoke(app, ["growth", "zscores", str(src), "-o", str(tmp_path / "o.csv")])
    assert r.exit_code == 1 and "ligne 2 : 3 cellules au lieu de 2" in r.output


def test_minimal_columns_semicolon_decimal_comma_and_na_option(tmp_path: Path) -> None:
    src = tmp_path / "in.csv"
    src.write_text("nom;sex;age;weight\nAwa;F;400;8,5\nMoussa;M;;9,25\n", encoding="utf-8")
    out = tmp_path / "out.csv"
    r = runner.invoke(app, ["growth", "zscores", str(src), "-o", str(out), "--na", ""])
    assert r.exit_code == 0, r.output
    lines = out.read_text("utf-8").splitlines()
    assert lines[0].startswith('"nom";"sex";"age";"weight";"clenhei";"cmeasure"')
    first = lines[1].split(";")
    assert first[:4] == ['"Awa"', '"F"', "400", "8,5"]
    header = [h.strip('"') for h in lines[0].split(";")]
    assert first[header.index("zwei")] == "-0,65"  # R anthro: -0.65
    assert first[header.index("csex")] == "2"
    second = lines[2].split(";")
    assert second[header.index("zwei")] == "" and second[2] == ""


def test_render_numbers_like_r() -> None:
    rows = list(csv.DictReader((FIXTURES / "r_numbers.csv").open(encoding="utf-8")))
    x = np.array([float("nan") if r["x"] in ("NA", "NaN") else float(r["x"]) for r in rows])
    assert csvio.render_numbers(x) == [r["r"] for r in rows]
    assert [csvio.format_r_number(float(v)) for v in x] == [r["r"] for r in rows]
    assert csvio.render_numbers(np.array([-0.001 * 0, 12.5, np.nan]), ",", "") == ["0", "12,5",
                                                                                  ""]


@pytest.mark.parametrize(("cells", "rendered"), [
    (["1", "2", ""], ["1", "2", "NA"]),
    (["TRUE", "F", "NA"], ["TRUE", "FALSE", "NA"]),
    (["1.50", "2", "1e5"], ["1.5", "2", "1e+05"]),
    (["a", "", "b\"c"], ['"a"', "NA", '"b""c"']),
    (["", "NA"], ["NA", "NA"]),
    (["007", "+3"], ["7", "3"]),
])
def test_passthrough_columns_typed_like_read_csv(cells: list[str], rendered: list[str]) -> None:
    assert csvio.render_passthrough(cells) == rendered


def test_read_numeric_reports_line(tmp_path: Path) -> None:
    src = tmp_path / "x.csv"
    src.write_text("a,b\n1,2\n\n3,x\n")
    table = csvio.read_csv(src)
    assert table.numeric("a").tolist() == [1.0, 3.0]
    with pytest.raises(DomainError) as info:
        table.numeric("b")
    assert info.value.text("en") == "line 4, column b: “x” is not a number"
    assert info.value.errors[0].field == "b"


def test_parse_mapping() -> None:
    known = ("sex", "age")
    assert csvio.parse_mapping(["age=jours", "SEXE=sex"], known) == {"age": "jours",
                                                                     "sex": "SEXE"}
    with pytest.raises(DomainError):
        csvio.parse_mapping(["a=b"], known)
