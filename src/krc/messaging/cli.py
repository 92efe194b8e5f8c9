"""`krc messaging` sub-commands: send-due, outbox, templates, recover, import-contacts."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from sqlalchemy import select

from krc.clikit import DB_OPTION, clear_errors, console, err, open_database
from krc.messaging.models import STATUSES, Outbox

app = typer.Typer(help="Messaging: contacts, reminders, outbox.", no_args_is_help=True)


def _day(text: str | None) -> date:
    if not text:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]Erreur[/red] : date invalide {text} (format AAAA-MM-JJ)")
        raise typer.Exit(2) from None


@app.command("send-due")
@clear_errors
def send_due(on: str | None = typer.Option(None, "--on", help="day to run for (AAAA-MM-JJ; "
                                                              "default today)"),
             dry_run: bool = typer.Option(False, "--dry-run", help="count only: queue and "
                                                                   "send nothing"),
             limit: int = typer.Option(100_000, help="most messages to send in this run"),
             db: str | None = DB_OPTION) -> None:
    """Queue every reminder and notice due, then send pending messages through the channels."""
    from krc.messaging.channels import configured_adapters
    from krc.messaging.jobs import send_due as run
    database = open_database(db)
    day = _day(on)
    now = datetime.now(UTC) if not on else datetime.combine(day, datetime.now(UTC).time(), UTC)
    counts, report = run(database, day, now, configured_adapters(database), dry_run=dry_run,
                         limit=limit, note=lambda m: console.print(f"[yellow]{m}[/yellow]"))
    label = "à mettre en file (essai)" if dry_run else "mis en file"
    console.print(f"Enfants examinés : {counts.get('children', 0)}")
    for key, name in (("due", "rappels de dose"), ("missed", "doses manquées"),
                      ("session", "annonces de séance"), ("stock", "rappels de stock"),
                      ("alarm", "alarmes chaîne du froid")):
        if key in counts:
            console.print(f"{name} {label} : {counts[key]}")
    if report is not None:
        for key, value in report.as_dict().items():
            if key != "by_channel":
                console.print(f"{key} : {value}")
        for channel, n in report.by_channel.items():
            console.print(f"envoyés par {channel} : {n}")
    database.dispose()


@app.command("outbox")
@clear_errors
def outbox(status: str | None = typer.Option(None, help="only this status: "
                                                        + ", ".join(STATUSES)),
           limit: int = typer.Option(50, help="most messages to list"),
           db: str | None = DB_OPTION) -> None:
    """List the latest outbox messages (newest first) and the counts by status."""
    from sqlalchemy import func

    from krc.errors import invalid
    if status is not None and status not in STATUSES:
        raise invalid("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                      "Unknown status: {s}; valid: {v}", s=status, v=", ".join(STATUSES))
    database = open_database(db)
    with database.session(write=False) as s:
        q = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
        if status:
            q = q.where(Outbox.status == status)
        for m in s.scalars(q):
            console.print(f"{m.id}\t{m.status}\t{m.channel}\t{m.producer}\t{m.phone}\t"
                          f"{m.language}\t{m.text[:60]}" + (f"\t({m.last_error})"
                                                            if m.last_error else ""),
                          markup=False)
        counts = s.execute(select(Outbox.status, func.count()).group_by(Outbox.status)).all()
    console.print(" · ".join(f"{st} {n}" for st, n in counts) or "file vide")
    database.dispose()


@app.command("templates")
@clear_errors
def templates(install: bool = typer.Option(False, "--install", help="store the shipped "
                                                                    "defaults that are missing"),
              db: str | None = DB_OPTION) -> None:
    """List the message templates per key and language (fra, bam, eng)."""
    from krc.messaging.queries import list_templates
    from krc.messaging.services import ensure_default_templates
    database = open_database(db)
    with database.session() as s:
        if install:
            console.print(f"{ensure_default_templates(s, datetime.now(UTC))} modèles ajoutés")
        for t in list_templates(s):
            wa = f" [WhatsApp {t['wa_name']}/{t['wa_language']}]" if t["wa_name"] else ""
            console.print(f"{t['key']}\t{t['language']}{wa}\t{t['text']}", markup=False)
    database.dispose()


@app.command("recover")
@clear_errors
def recover(minutes: int = typer.Option(15, help="claims older than this are reviewed"),
            db: str | None = DB_OPTION) -> None:
    """Mark messages stuck in `sending` (crash) as `unknown`: reviewed, never resent blindly."""
    from krc.messaging.services import recover_stuck
    database = open_database(db)
    n = recover_stuck(database, datetime.now(UTC), minutes)
    console.print(f"{n} message(s) marqué(s) « à vérifier » (unknown)")
    database.dispose()


@app.command("import-contacts")
@clear_errors
def import_contacts(path: Path = typer.Argument(..., help="CSV: kind,name,phone,org_unit,"
                                                          "language[,whatsapp]"),
                    user: str = typer.Option("admin", "--user", help="username acting (scope "
                                                                     "and audit)"),
                    db: str | None = DB_OPTION) -> None:
    """Import contacts from a CSV file (all-or-nothing; existing phones are kept)."""
    from krc.accounts.models import User
    from krc.accounts.queries import actor_for
    from krc.errors import invalid
    from krc.messaging.services import ContactInput, create_contact
    database = open_database(db)
    try:
        rows = list(csv.DictReader(path.read_text("utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        err.print(f"[red]Erreur[/red] : fichier illisible {path} : {exc}")
        raise typer.Exit(1) from None
    created = 0
    with database.session() as s:
        row_user = s.scalar(select(User).where(User.username == user))
        if row_user is None:
            raise invalid("user", "user_unknown", "Utilisateur inconnu : {u}",
                          "Unknown user: {u}", u=user)
        actor = actor_for(s, row_user)
        now = datetime.now(UTC)
        for line, r in enumerate(rows, 2):
            try:
                _, new = create_contact(s, actor, ContactInput(
                    kind=(r.get("kind") or "").strip(), name=(r.get("name") or "").strip(),
                    phone=(r.get("phone") or "").strip(),
                    org_unit=(r.get("org_unit") or "").strip() or None,
                    language=(r.get("language") or "fra").strip(),
                    whatsapp=(r.get("whatsapp") or "").strip().lower() in ("1", "true", "oui")),
                    now)
            except Exception as exc:
                err.print(f"[red]Erreur[/red] ligne {line} : {exc}")
                raise
            created += int(new)
    console.print(f"{created} contact(s) créé(s), {len(rows) - created} déjà connu(s)")
    database.dispose()
