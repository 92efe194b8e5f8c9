"""`krc nutrition register` sub-commands over the same services and figures as the API."""

from __future__ import annotations

from datetime import UTC, datetime

import typer

from krc.clikit import DB_OPTION, clear_errors, console, open_database
from krc.errors import invalid
from krc.geo.queries import unit_by_code
from krc.nutrition.register.figures import nutrition_figures
from krc.nutrition.register.settings import SETTINGS, load_register_params, set_register_param
from krc.results.periods import parse_period

app = typer.Typer(help="First 1,000 days register: women, children, growth visits, referrals.",
                  no_args_is_help=True)


@app.command("settings")
@clear_errors
def settings(set_: list[str] = typer.Option([], "--set", help="KEY=VALUE to store "
                                             "(faltering_waz_drop, woman_muac_at_risk_mm)"),
             db: str | None = DB_OPTION) -> None:
    """Show (or set) the register parameters: growth-faltering WAZ drop, women's MUAC risk."""
    database = open_database(db)
    for item in set_:
        key, sep, value = item.partition("=")
        if not sep:
            raise invalid("set", "setting_format", "Format attendu : CLÉ=VALEUR ({t})",
                          "Expected format: KEY=VALUE ({t})", t=item)
        with database.session() as s:
            set_register_param(s, None, key.strip(), value.strip())
    with database.session(write=False) as s:
        params = load_register_params(s)
    for key, (_default, _lo, _hi, text) in SETTINGS.items():
        console.print(f"{key} = {getattr(params, key)}  ({text})", markup=False)


@app.command("figures")
@clear_errors
def figures(org_unit: str = typer.Option(..., "--org-unit", help="org unit code"),
            period: str = typer.Option(..., "--period", help="DHIS2 period: 2026, 2026Q1, "
                                       "202603"),
            db: str | None = DB_OPTION) -> None:
    """Print the growth-monitoring figures of an org unit for a period."""
    p = parse_period(period)
    with open_database(db).session(write=False) as s:
        unit = unit_by_code(s, org_unit)
        t = nutrition_figures(s, unit, p, datetime.now(UTC).date())[0]
    console.print(f"{unit.name} — {p.code}", markup=False)
    console.print(f"Enfants de 0 à 23 mois suivis : {t['children_monitored']} "
                  f"(visites : {t['visits']} ; suivis chaque mois : "
                  f"{t['monitored_monthly']['percent']} %)")
    for key, label in (("stunting", "Retard de croissance"), ("wasting", "Émaciation"),
                       ("underweight", "Insuffisance pondérale"), ("overweight", "Surpoids")):
        f = t[key]
        console.print(f"{label} : {f['cases']}/{f['measured']} ({f['percent']} %)")
    console.print(f"MAS dépistées : {t['sam']['detected']} (référées {t['sam']['referred']}) ; "
                  f"MAM : {t['mam']['detected']} (référées {t['mam']['referred']})")
    r = t["referrals"]
    console.print(f"Références : {r['made']} ; honorées : {r['attended']} "
                  f"({r['completion_percent']} %) ; issues : {r['outcomes']}", markup=False)
