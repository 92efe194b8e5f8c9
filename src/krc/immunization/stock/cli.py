"""`krc stock` sub-commands (over the same services and queries as the API)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer

from krc.accounts.roles import Actor
from krc.clikit import DB_OPTION, clear_errors, console, open_database

app = typer.Typer(help="Vaccine stock: ledger, SMS reports, alerts.", no_args_is_help=True)
reporters_app = typer.Typer(help="Phones allowed to send stock reports by SMS.",
                            no_args_is_help=True)
app.add_typer(reporters_app, name="reporters")

# The command line acts as a national administrator (it already holds the database URL).
CLI_ACTOR = Actor(None, "cli", "admin", 0, "")

STATUS_FR = {"stock_out": "rupture", "below_reorder": "sous le seuil de commande",
             "above_max": "au-dessus du maximum", "ok": "normal"}


def _today() -> date:
    return datetime.now(UTC).date()


@reporters_app.command("add")
@clear_errors
def reporters_add(phone: str = typer.Argument(..., help="phone number (+223 and 8 digits)"),
                  facility: str = typer.Option(..., help="org unit code of the CSCom"),
                  name: str = typer.Option(..., help="reporter's name"),
                  language: str = typer.Option("fra", help="reply language: fra, bam or eng"),
                  db: str | None = DB_OPTION) -> None:
    """Register a phone as the SMS stock reporter of a health facility."""
    from krc.immunization.stock.schemas import ReporterCreate
    from krc.immunization.stock.services import add_reporter
    from krc.web.problems import pydantic_message
    try:
        data = ReporterCreate(phone=phone, facility=facility, name=name, language=language)
    except ValueError as exc:
        from pydantic import ValidationError
        assert isinstance(exc, ValidationError)
        first = exc.errors()[0]
        console.print(f"[red]Erreur[/red] : {first['loc'][0]} : "
                      f"{pydantic_message(first).text('fr')}")
        raise typer.Exit(1) from None
    with open_database(db).session() as s:
        rep = add_reporter(s, CLI_ACTOR, data)
        console.print(f"Rapporteur enregistré : {rep.phone} ({name}, {facility}, {language})")


@reporters_app.command("list")
@clear_errors
def reporters_list(org_unit: str = typer.Option("ML", "--org-unit", help="org unit code"),
                   db: str | None = DB_OPTION) -> None:
    """List the SMS stock reporters under an org unit."""
    from krc.geo.queries import unit_by_code
    from krc.immunization.stock.queries import reporters
    with open_database(db).session(write=False) as s:
        for r in reporters(s, CLI_ACTOR, unit_by_code(s, org_unit)):
            console.print(f"{r['phone']}\t{r['name']}\t{r['facility']}\t{r['language']}\t"
                          f"{'actif' if r['active'] else 'inactif'}")


@app.command("status")
@clear_errors
def status(org_unit: str = typer.Option(..., "--org-unit", help="org unit code"),
           on: str | None = typer.Option(None, help="day YYYY-MM-DD (default today)"),
           db: str | None = DB_OPTION) -> None:
    """Print the stock status and alerts of every facility under an org unit."""
    from krc.errors import invalid
    from krc.geo.queries import unit_by_code
    from krc.immunization.stock.params import load_stock_params
    from krc.immunization.stock.queries import status_table
    today = _today()
    try:
        day = date.fromisoformat(on) if on else today
    except ValueError:
        raise invalid("on", "date_parsing", "Date invalide (format AAAA-MM-JJ)",
                      "Invalid date (format YYYY-MM-DD)") from None
    with open_database(db).session(write=False) as s:
        out = status_table(s, CLI_ACTOR, unit_by_code(s, org_unit), day, today,
                           load_stock_params(s))
    for f in out["facilities"]:
        flag = "  [rapport manquant]" if f["report_missing"] else ""
        console.print(f"[bold]{f['name']}[/bold] ({f['code']}){flag}")
        for ln in f["lines"]:
            mos = "—" if ln["months_of_stock"] is None else f"{ln['months_of_stock']:.1f}"
            console.print(f"  {ln['vaccine']:<8} solde {ln['balance']!s:>7}  CMM "
                          f"{ln['amc'] if ln['amc'] is not None else '—'!s:>7}  mois {mos:>5}"
                          f"  {STATUS_FR[ln['status']]}")
    s_ = out["summary"]
    console.print(f"Ruptures {s_['stock_out']} · sous le seuil {s_['below_reorder']} · "
                  f"au-dessus du max {s_['above_max']} · rapports manquants "
                  f"{s_['report_missing']} (mois {out['report_period']})")


@app.command("settings")
@clear_errors
def settings(set_: list[str] = typer.Option([], "--set", help="KEY=VALUE, repeatable "
                                                               "(e.g. supply_months.3=2)"),
             db: str | None = DB_OPTION) -> None:
    """Show or change the stock settings (per-level supply period and lead time, due day)."""
    from krc.immunization.stock.params import SETTINGS, load_stock_params
    from krc.immunization.stock.services import set_setting
    with open_database(db).session() as s:
        for item in set_:
            key, _, value = item.partition("=")
            set_setting(s, None, key.strip(), value.strip())
        params = load_stock_params(s)
    for key, help_text in SETTINGS.items():
        console.print(f"{key}: {help_text}")
    for level, lp in sorted(params.levels.items()):
        console.print(f"niveau {level} : approvisionnement {lp.supply_months} mois, "
                      f"délai {lp.lead_time_months} mois")
    console.print(f"jour limite du rapport : {params.due_day} ; codes : "
                  f"{', '.join(params.codes)}")


@app.command("late")
@clear_errors
def late(period: str = typer.Option(..., help="month YYYYMM"),
         db: str | None = DB_OPTION) -> None:
    """List facilities that have not sent their stock report for a month."""
    from krc.immunization.stock.queries import late_facilities
    with open_database(db).session(write=False) as s:
        rows = late_facilities(s, period, _today())
    for f in rows:
        phones = ", ".join(p for _, p, _ in f.reporters) or "aucun rapporteur"
        console.print(f"{f.facility_code}\t{f.facility_name}\t{phones}")
    console.print(f"{len(rows)} établissement(s) sans rapport pour {period}")
