"""`krc coldchain` sub-commands, over the same services as the API and pages."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.table import Table

from krc.clikit import DB_OPTION, USER_OPTION, clear_errors, cli_actor, console, open_database
from krc.errors import invalid
from krc.geo.queries import unit_in_scope
from krc.immunization.coldchain import queries, services
from krc.immunization.coldchain.csvformat import parse_csv
from krc.immunization.coldchain.params import SETTINGS, load_params, params_dict, set_param

app = typer.Typer(help="Cold chain: equipment, temperature readings, alarms.", no_args_is_help=True)

@app.command("import-csv")
@clear_errors
def import_csv(path: Path = typer.Argument(..., help="CSV file exported by a 30-day recorder"),
               device: str = typer.Option(..., "--device", help="serial of the device"),
               user: str | None = USER_OPTION, db: str | None = DB_OPTION) -> None:
    """Import a recorder's CSV file for a device (re-imports change nothing)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", "replace")
    times, celsius = parse_csv(text)
    database = open_database(db)
    with database.session() as s:
        result = services.upload_readings(s, cli_actor(s, user), device, times, celsius,
                                          datetime.now(UTC), "csv", text)
        opened = [(a.type, a.start, a.duration_minutes) for a in result.open_alarms]
    console.print(f"{result.received} lectures reçues, {result.new} nouvelles, "
                  f"{result.duplicates} déjà connues ({result.conflicts} en conflit)")
    for kind, start, minutes in opened:
        console.print(f"[red]Alarme en cours[/red] : {kind} depuis {start:%d/%m/%Y %H:%M} "
                      f"({minutes} min)")


@app.command("alarms")
@clear_errors
def list_alarms(org_unit: str = typer.Option("ML", "--org-unit", help="org unit code"),
                open_only: bool = typer.Option(False, "--open", help="only alarms still open"),
                user: str | None = USER_OPTION, db: str | None = DB_OPTION) -> None:
    """List the alarms and notices of an org unit's subtree, newest first."""
    database = open_database(db)
    with database.session(write=False) as s:
        actor = cli_actor(s, user)
        unit = unit_in_scope(s, actor, org_unit)
        rows = queries.alarms(s, actor, datetime.now(UTC), load_params(s), unit=unit,
                              open_only=open_only)
    table = Table("type", "appareil", "établissement", "début (UTC)", "fin (UTC)", "minutes",
                  "min °C", "max °C")
    for a in rows:
        table.add_row(a["type"], a["device"], a["facility"], f"{a['start']:%Y-%m-%d %H:%M}",
                      f"{a['end']:%Y-%m-%d %H:%M}" if a["end"] else "en cours",
                      str(a["duration_minutes"]),
                      "" if a["min_celsius"] is None else f"{a['min_celsius']:.1f}",
                      "" if a["max_celsius"] is None else f"{a['max_celsius']:.1f}")
    console.print(table)
    console.print(f"{len(rows)} alarme(s)")


@app.command("scan")
@clear_errors
def scan(db: str | None = DB_OPTION) -> None:
    """Store no_data notices of silent devices (run periodically, before notifications)."""
    database = open_database(db)
    with database.session() as s:
        n = services.scan_no_data(s, datetime.now(UTC))
    console.print(f"{n} nouvel(s) avis « aucune donnée »")


@app.command("settings")
@clear_errors
def settings(set_: list[str] = typer.Option([], "--set", help="KEY=VALUE, repeatable"),
             redetect: bool = typer.Option(True, help="recompute every alarm after a change"),
             db: str | None = DB_OPTION) -> None:
    """Show or change the alarm thresholds (stored as data)."""
    database = open_database(db)
    with database.session() as s:
        for item in set_:
            key, sep, value = item.partition("=")
            if not sep:
                raise invalid("set", "setting_format", "Format attendu : CLÉ=VALEUR",
                              "Expected format: KEY=VALUE")
            set_param(s, key.strip(), value.strip())
        if set_ and redetect:
            services.redetect_all(s, datetime.now(UTC))
        values = params_dict(load_params(s))
    for key, value in values.items():
        console.print(f"{key} = {value}  [dim]{SETTINGS[key]}[/dim]")


@app.command("load-targets")
@clear_errors
def load_targets(path: Path | None = typer.Argument(None, help="CSV region_code,target "
                                                               "(default: 2,000 by CSComs)"),
                 total: int = typer.Option(2000, help="national target for the default split"),
                 db: str | None = DB_OPTION) -> None:
    """Store solar refrigerator targets by region (a file, or the default split)."""
    database = open_database(db)
    with database.session() as s:
        if path is None:
            targets = services.load_default_targets(s, None, total)
        else:
            targets = {}
            with path.open(encoding="utf-8-sig") as fh:
                for i, row in enumerate(csv.reader(fh), 1):
                    if not row or row[0].strip().lower() in ("region", "region_code", "code"):
                        continue
                    try:
                        targets[row[0].strip()] = int(row[1])
                    except (IndexError, ValueError):
                        raise invalid("file", "target_row", "Ligne {i} : code,cible attendu",
                                      "Line {i}: code,target expected", i=i) from None
            services.set_solar_targets(s, None, targets)
    console.print(f"Cibles enregistrées pour {len(targets)} région(s), total "
                  f"{sum(targets.values())}")
