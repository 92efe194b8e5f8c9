"""`krc outreach` sub-commands over the same queries as the API."""

from __future__ import annotations

import uuid
from datetime import date

import typer
from sqlalchemy import select

from krc.clikit import DB_OPTION, clear_errors, console, open_database
from krc.errors import invalid
from krc.geo.queries import unit_by_code
from krc.immunization.outreach import queries
from krc.immunization.outreach.models import OutreachSession
from krc.immunization.params import load_params

app = typer.Typer(help="Outreach sessions and micro-plans.", no_args_is_help=True)


def _day(text: str | None, name: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid(name, "date_parsing", "Date invalide (format AAAA-MM-JJ) : {t}",
                      "Invalid date (format YYYY-MM-DD): {t}", t=text) from None


@app.command("sessions")
@clear_errors
def sessions(org_unit: str = typer.Option(..., "--org-unit", help="org unit code (subtree)"),
             start: str | None = typer.Option(None, "--from", help="first date (YYYY-MM-DD)"),
             end: str | None = typer.Option(None, "--to", help="last date (YYYY-MM-DD)"),
             status: str | None = typer.Option(None, "--status",
                                               help="planned, held or cancelled"),
             db: str | None = DB_OPTION) -> None:
    """List the sessions of an org unit's health areas, by date."""
    first, last = _day(start, "from"), _day(end, "to")
    with open_database(db).session(write=False) as s:
        unit = unit_by_code(s, org_unit)
        rows = queries.session_dicts(s, queries.list_sessions(s, unit, first, last, status,
                                                              limit=100_000))
    console.print(f"Séances — {unit.name}", markup=False)
    for r in rows:
        place = " · ".join(x for x in (r["place_type"], r["place_name"]) if x) or "-"
        console.print("  ".join((r["date"].isoformat(), r["facility"]["name"], r["strategy"],
                                 place, r["status"], f"{r['doses']} dose(s)", str(r["id"]))),
                      markup=False, soft_wrap=True)
    console.print(f"{len(rows)} séance(s)")


@app.command("report")
@clear_errors
def report(session_id: str = typer.Argument(..., help="session id (UUID)"),
           db: str | None = DB_OPTION) -> None:
    """Print a session's report: children, doses by antigen, zero-dose found."""
    missing = invalid("session", "session_unknown", "Séance inconnue : {s}",
                      "Unknown session: {s}", s=session_id)
    try:
        sid = uuid.UUID(session_id)
    except ValueError:
        raise missing from None
    with open_database(db).session(write=False) as s:
        sess = s.scalar(select(OutreachSession).where(OutreachSession.id == sid))
        if sess is None:
            raise missing
        rep = queries.report_dict(s, sess, load_params(s))
    info = rep["session"]
    console.print(f"Séance du {info['date'].isoformat()} — {info['facility']['name']} "
                  f"({info['strategy']}, {info['place_name'] or '-'}, {info['status']})")
    console.print(f"Enfants vaccinés : {rep['children']} ; doses : {rep['doses']} "
                  f"(valides : {rep['valid_doses']})")
    z = rep["zero_dose_found"]
    console.print(f"Zéro dose trouvés : premier Penta {z['first_penta']} (dont de 10 semaines "
                  f"à 5 ans : {z['in_register']}) ; premier vaccin {z['first_vaccine']}")
    for a in rep["by_antigen"]:
        console.print(f"  {a['vaccine']}{a['dose']} : {a['doses']} (valides {a['valid']})")
