"""`krc nutrition community` sub-commands over the same services and queries as the API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import typer

from krc.clikit import DB_OPTION, USER_OPTION, clear_errors, cli_actor, console, err, open_database
from krc.errors import DomainError
from krc.geo.queries import unit_by_code
from krc.nutrition.community import queries, services
from krc.results.periods import parse_period

app = typer.Typer(help="IYCF recalls, support groups (GASPA), micronutrient powders.",
                  no_args_is_help=True)

@app.command("import-survey")
@clear_errors
def import_survey(path: Path = typer.Argument(..., help="survey CSV file (see README)"),
                  survey: str = typer.Option(..., "--survey", help="survey code, e.g. SMART-2026"),
                  org_unit: str | None = typer.Option(None, "--org-unit",
                                                      help="unit of rows without one"),
                  user: str | None = USER_OPTION, db: str | None = DB_OPTION) -> None:
    """Import the IYCF recalls of a survey file, all or nothing (re-importing changes
    nothing); every bad cell is listed."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", "replace")
    database = open_database(db)
    today = datetime.now(UTC).date()
    try:
        with database.session() as s:
            actor = cli_actor(s, user)
            result = services.import_survey(s, actor, survey, text, today, org_unit, path.name)
    except DomainError as exc:
        if exc.status == 422:
            with database.session() as s:
                services.keep_refused_import(s, cli_actor(s, user), survey, text, exc, path.name)
            for e in exc.errors:
                err.print(e.message.text("fr"), markup=False)
        raise
    console.print(f"{result.survey} : {result.rows} ligne(s), {result.new} nouvelle(s), "
                  f"{result.unchanged} déjà présente(s)")


@app.command("figures")
@clear_errors
def figures(org_unit: str = typer.Option(..., "--org-unit", help="org unit code (subtree)"),
            period: str = typer.Option(..., "--period", help="DHIS2 period: 2026, 2026Q1…"),
            db: str | None = DB_OPTION) -> None:
    """Print IYCF indicators, MNP coverage and adherence, and support-group figures."""
    p = parse_period(period)
    with open_database(db).session(write=False) as s:
        f = queries.community_figures(s, unit_by_code(s, org_unit), p)
    console.print(f"{f['org_unit']['name']} — {p.code}", markup=False)
    iy = f["iycf"]
    console.print(f"ANJE : {iy['recalls']} rappel(s) ({iy['visit']} visites, "
                  f"{iy['survey']} enquêtes)")
    for code, v in iy["indicators"].items():
        value = "—" if v["value"] is None else f"{v['value']:.1f} %"
        console.print(f"  {code:<6} {value:>8}  ({v['numerator']}/{v['denominator']})")
    m, g = f["mnp"], f["groups"]
    console.print(f"Poudres : couverture {m['coverage']} % ({m['children_covered']}/"
                  f"{m['children_6_23']}), observance {m['adherence']} %, "
                  f"{m['sachets_distributed']} sachets")
    console.print(f"GASPA : {g['groups']} groupe(s), {g['women']} femme(s), villages "
                  f"couverts {g['villages_covered']}/{g['villages']}, {g['sessions']} séance(s)")


@app.command("stock")
@clear_errors
def stock(org_unit: str = typer.Option(..., "--org-unit", help="org unit code (subtree)"),
          period: str = typer.Option(..., "--period", help="DHIS2 period: 2026, 202603…"),
          db: str | None = DB_OPTION) -> None:
    """Print the MNP sachet balance of each CSCom and the period's movements."""
    p = parse_period(period)
    with open_database(db).session(write=False) as s:
        rows = queries.facility_stock(s, unit_by_code(s, org_unit), p)
    for r in rows:
        console.print(f"{r['facility']['name']}: solde {r['balance']}, reçus {r['received']}, "
                      f"distribués {r['distributed']}, pertes {r['lost']}", markup=False)
    console.print(f"{len(rows)} CSCom")
