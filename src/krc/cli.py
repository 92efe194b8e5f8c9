"""The `krc` command: each capability mounts its own sub-commands over its services."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from sqlalchemy import func, select

from krc.clikit import DB_OPTION, clear_errors, console, db_url, err, open_database
from krc.db import Database
from krc.immunization.coldchain import cli as coldchain_cli
from krc.immunization.outreach import cli as outreach_cli
from krc.immunization.stock import cli as stock_cli
from krc.messaging import cli as messaging_cli
from krc.nutrition import cli_prevalence, cli_zscores
from krc.nutrition.community import cli as community_cli
from krc.nutrition.register import cli as register_cli

app = typer.Typer(help="krc: registers, field reporting and results for Mali's four Key "
                       "Results for Children.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema and aggregates.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts (roles scoped to an org unit).", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for machines.", no_args_is_help=True)
geo_app = typer.Typer(help="Org units and target populations.", no_args_is_help=True)
imm_app = typer.Typer(help="Immunization settings and figures.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(geo_app, name="geo")
app.add_typer(imm_app, name="immunization")
app.add_typer(stock_cli.app, name="stock")
app.add_typer(coldchain_cli.app, name="coldchain")
app.add_typer(outreach_cli.app, name="outreach")
app.add_typer(messaging_cli.app, name="messaging")
growth_app = typer.Typer(help="WHO Child Growth Standards on files (drop-in for WHO anthro).",
                         no_args_is_help=True)
growth_app.command("zscores")(cli_zscores.zscores)
growth_app.command("prevalence")(cli_prevalence.prevalence)
app.add_typer(growth_app, name="growth")
nutrition_app = typer.Typer(help="Prevention of malnutrition: the first 1,000 days.",
                            no_args_is_help=True)
nutrition_app.add_typer(register_cli.app, name="register")
nutrition_app.add_typer(community_cli.app, name="community")
app.add_typer(nutrition_app, name="nutrition")

_url = db_url
_database = open_database


@db_app.command("upgrade")
@clear_errors
def db_upgrade(db: str | None = DB_OPTION) -> None:
    """Create or migrate the schema to the newest version."""
    from krc.migrations import upgrade
    upgrade(_url(db))
    console.print(f"Schéma à jour : {_url(db)}")


@db_app.command("rebuild-facts")
@clear_errors
def db_rebuild(db: str | None = DB_OPTION) -> None:
    """Recompute every immunization aggregate from the raw doses."""
    import time

    from krc.immunization import facts
    from krc.immunization.params import load_params
    database = _database(db)
    t0 = time.perf_counter()
    with database.session() as s:
        n = facts.rebuild(s, load_params(s).grace_days)
    console.print(f"{n} agrégats recalculés en {time.perf_counter() - t0:.1f} s")


@geo_app.command("load-seed")
@clear_errors
def geo_seed(db: str | None = DB_OPTION) -> None:
    """Load Mali's regions and health districts (shipped seed)."""
    from krc.geo.services import load_mali_seed
    with _database(db).session() as s:
        load_mali_seed(s)
    console.print("Régions et districts sanitaires chargés")


@geo_app.command("import-dhis2")
@clear_errors
def geo_import(path: Path = typer.Argument(..., help="organisationUnits JSON file"),
               db: str | None = DB_OPTION) -> None:
    """Import org units from a DHIS2 organisationUnits JSON file (all-or-nothing)."""
    from krc.geo.services import import_dhis2_org_units
    try:
        payload = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        err.print(f"[red]Erreur[/red] : fichier illisible {path} : {exc}")
        raise typer.Exit(1) from None
    with _database(db).session() as s:
        n = import_dhis2_org_units(s, payload)
    console.print(f"{n} unités importées")


@geo_app.command("load-targets")
@clear_errors
def geo_targets(path: Path = typer.Argument(..., help="CSV: org_unit,year,population[,...]"),
                db: str | None = DB_OPTION) -> None:
    """Load official target populations from a CSV file (all-or-nothing)."""
    from krc.geo.services import load_targets_csv
    with _database(db).session() as s:
        n = load_targets_csv(s, path.read_text("utf-8"))
    console.print(f"{n} lignes de populations cibles chargées")


@users_app.command("create")
@clear_errors
def users_create(username: str = typer.Argument(..., help="login name"),
                 role: str = typer.Option(..., help="admin, national, regional, district, "
                                                    "facility, vaccinator or partner"),
                 org_unit: str = typer.Option(..., "--org-unit", help="org unit code of the "
                                                                      "user's scope"),
                 password: str = typer.Option(..., prompt=True, hide_input=True,
                                              confirmation_prompt=True, help="password"),
                 full_name: str = typer.Option("", help="full name"),
                 language: str = typer.Option("fr", help="fr or en"),
                 db: str | None = DB_OPTION) -> None:
    """Create a user with a role scoped to an org unit."""
    from krc.accounts.services import create_user
    with _database(db).session() as s:
        create_user(s, username, password, role, org_unit, full_name, language)
    console.print(f"Utilisateur créé : {username} ({role}, {org_unit})")


@users_app.command("list")
@clear_errors
def users_list(db: str | None = DB_OPTION) -> None:
    """List users with their role and org unit."""
    from krc.accounts.models import User
    from krc.geo.models import OrgUnit
    with _database(db).session() as s:
        for u, code in s.execute(select(User, OrgUnit.code).join(
                OrgUnit, OrgUnit.id == User.org_unit_id).order_by(User.username)):
            console.print(f"{u.username}\t{u.role}\t{code}\t{'actif' if u.active else 'inactif'}")


@tokens_app.command("create")
@clear_errors
def tokens_create(user: str = typer.Option(..., "--user", help="username owning the token"),
                  name: str = typer.Option("", help="what the token is for"),
                  db: str | None = DB_OPTION) -> None:
    """Create an API token for a user and print it (shown once)."""
    from krc.accounts.models import User
    from krc.accounts.services import create_token
    from krc.errors import invalid
    with _database(db).session() as s:
        row = s.scalar(select(User).where(User.username == user))
        if row is None:
            raise invalid("user", "user_unknown", "Utilisateur inconnu : {u}",
                          "Unknown user: {u}", u=user)
        token = create_token(s, row, name)
    sys.stdout.write(token + "\n")


@tokens_app.command("revoke")
@clear_errors
def tokens_revoke(token: str = typer.Argument(..., help="the token to revoke"),
                  db: str | None = DB_OPTION) -> None:
    """Revoke an API token."""
    from krc.accounts.services import revoke_token
    with _database(db).session() as s:
        found = revoke_token(s, token)
    if not found:
        err.print("[red]Erreur[/red] : jeton inconnu")
        raise typer.Exit(1)
    console.print("Jeton révoqué")


@imm_app.command("settings")
@clear_errors
def imm_settings(set_: list[str] = typer.Option([], "--set", help="KEY=VALUE, repeatable"),
                 db: str | None = DB_OPTION) -> None:
    """Show or change the configurable schedule parameters (stored as data)."""
    from krc.immunization.params import SETTINGS, load_params, set_param
    with _database(db).session() as s:
        for item in set_:
            key, _, value = item.partition("=")
            set_param(s, key.strip(), value.strip())
        params = load_params(s)
    for key, help_text in SETTINGS.items():
        console.print(f"{key}: {help_text}")
    console.print(params)


@imm_app.command("coverage")
@clear_errors
def imm_coverage(org_unit: str = typer.Option("ML", help="org unit code"),
                 period: str = typer.Option(..., help="DHIS2 period: 2025, 2025Q1, 202501"),
                 level: int | None = typer.Option(None, help="rows for descendants at level"),
                 db: str | None = DB_OPTION) -> None:
    """Print PENTA1/PENTA3/MCV1 coverage, dropout and zero-dose for a unit and period."""
    from krc.geo.queries import unit_by_code
    from krc.immunization.figures import coverage
    from krc.immunization.params import load_params
    from krc.results.periods import parse_period
    p = parse_period(period)
    with _database(db).session() as s:
        rows = coverage(s, unit_by_code(s, org_unit), p, level, load_params(s))
    for r in rows:
        cov = {f"{d['vaccine']}{d['dose']}": d["coverage"] for d in r["doses"]}
        console.print(f"{r['org_unit']['name']}: PENTA1 {cov['PENTA1']} % PENTA3 "
                      f"{cov['PENTA3']} % MCV1 {cov['MCV1']} % | abandon PENTA1→3 "
                      f"{r['dropout']['PENTA1_PENTA3']['percent']} % | zéro dose "
                      f"{r['zero_dose']['aggregate']} | RED/REC {r['red_rec']['category']}")


@app.command("serve")
def serve(host: str = typer.Option("127.0.0.1", help="address to listen on"),
          port: int = typer.Option(8000, help="port"),
          workers: int = typer.Option(1, help="worker processes"),
          db: str | None = DB_OPTION) -> None:
    """Serve the web application and the JSON API."""
    import os

    import uvicorn

    from krc.migrations import is_current
    if db:
        os.environ["KRC_DATABASE_URL"] = db
    if not is_current(_url(db)):
        err.print(f"[red]Erreur[/red] : le schéma de {_url(db)} n'est pas à jour ; "
                  "lancez `krc db upgrade`")
        raise typer.Exit(1)
    console.print(f"krc : http://{host}:{port}  (API : http://{host}:{port}/docs)")
    uvicorn.run("krc.web.asgi:app", host=host, port=port, workers=workers, log_level="warning")


@app.command("demo")
@clear_errors
def demo(scale: str = typer.Option("small", help="small (seconds), district or national"),
         db: str | None = DB_OPTION,
         seed: int = typer.Option(1, help="random seed (same seed, same data)"),
         no_serve: bool = typer.Option(False, "--no-serve", help="build only, do not serve"),
         fresh: bool = typer.Option(False, "--fresh", help="rebuild even if demo data exists"),
         host: str = typer.Option("127.0.0.1", help="address to serve on"),
         port: int = typer.Option(8000, help="port to serve on")) -> None:
    """Build a synthetic but realistic Mali (demo data) and serve it."""
    from rich.progress import Progress

    from krc.db import reset
    from krc.demo import build_demo
    from krc.immunization.models import Child
    from krc.migrations import upgrade
    if scale not in ("small", "district", "national"):
        err.print("[red]Erreur[/red] : --scale vaut small, district ou national")
        raise typer.Exit(2)
    url = _url(db)
    if fresh:
        reset(url)
    upgrade(url)
    database = Database(url)
    with database.session() as s:
        existing = s.scalar(select(func.count()).select_from(Child)) or 0
    if existing:
        from krc.accounts.models import User
        from krc.demo import DEMO_PASSWORD
        console.print(f"Base de démonstration existante ({existing} enfants) : {url} "
                      "(--fresh pour la reconstruire)")
        console.print("Identifiants de démonstration (mot de passe commun) :")
        with database.session(write=False) as s:
            for username, role in s.execute(select(User.username, User.role)
                                             .order_by(User.id)):
                console.print(f"  {username:<24} {DEMO_PASSWORD}  {role}")
    else:
        with Progress(console=console, transient=True) as progress:
            tasks: dict[str, Any] = {}

            def report(stage: str, done: int, total: int) -> None:
                if stage not in tasks:
                    tasks[stage] = progress.add_task(stage, total=total)
                progress.update(tasks[stage], completed=done, total=total)

            summary = build_demo(database, scale=scale, seed=seed, progress=report)
        console.print(f"Démo construite : {summary.children} enfants, {summary.doses} doses, "
                      f"{summary.facilities} CSCom, {summary.villages} villages en "
                      f"{summary.seconds:.1f} s")
        by_part: dict[str, list[str]] = {}
        for key, value in summary.operations.items():
            part, _, what = key.partition(": ")
            by_part.setdefault(part, []).append(f"{what} {value}")
        for part, items in by_part.items():
            console.print(f"  {part} : " + ", ".join(items), soft_wrap=True)
        console.print("Identifiants de démonstration (mot de passe commun) :")
        for login in summary.logins:
            console.print(f"  {login.username:<24} {login.password}  {login.role:<10} "
                          f"{login.org_unit_name}")
    database.dispose()
    if not no_serve:
        serve(host=host, port=port, workers=1, db=url)


def main() -> None:
    """Run the CLI."""
    app()
