"""HTML pages of messaging: /messaging (outbox, groups, broadcast and announcement forms)."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from krc.accounts.services import utcnow
from krc.db import Database
from krc.errors import DomainError, invalid
from krc.immunization.queries import facilities_in_scope
from krc.messaging import queries, services
from krc.messaging.models import CHANNELS, STATUSES
from krc.messaging.producers import announce_session
from krc.web.deps import Caller, checked_form, get_db, today
from krc.web.i18n import translations
from krc.web.problems import language_of
from krc.web.views import N_, PageRoute, page_caller, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

STATUS_WORDS = {
    "queued": N_("en attente"), "sending": N_("en cours d'envoi"), "sent": N_("envoyé"),
    "delivered": N_("remis"), "read": N_("lu"), "failed": N_("échec"),
    "cancelled": N_("annulé"), "unknown": N_("à vérifier"),
}
PRODUCER_WORDS = {
    "due": N_("rappel de dose"), "missed": N_("dose manquée"), "session": N_("séance"),
    "stock": N_("rapport de stock"), "alarm": N_("alarme froid"), "broadcast": N_("diffusion"),
}


def _page(request: Request, caller: Caller, db: Database, notice: str | None = None,
          errors: dict[str, str] | None = None, values: dict[str, str] | None = None,
          status: int = 200) -> Response:
    actor = caller.actor
    services.manage(actor)
    tr = translations(language_of(request)).gettext
    with db.session() as s:
        counts = queries.outbox_counts(s, actor)
        recent = queries.list_outbox(s, actor, None, 20)
        groups = queries.list_groups(s, actor)
        facilities = [(f.code, f.name) for f in facilities_in_scope(s, actor)][:500]
    channels = [c for c in CHANNELS if any(c in row for row in counts.values())] or ["log"]
    table = [{"status": st, "label": tr(STATUS_WORDS[st]),
              "cells": [counts.get(st, {}).get(c, 0) for c in channels],
              "total": sum(counts.get(st, {}).values())} for st in STATUSES]
    for m in recent:
        m["status_label"] = tr(STATUS_WORDS.get(m["status"], m["status"]))
        m["producer_label"] = tr(PRODUCER_WORDS.get(m["producer"], m["producer"]))
    return render(request, "messaging_home.html", {
        "channels": channels, "table": table, "recent": recent, "groups": groups,
        "facilities": facilities, "notice": notice, "errors": errors or {},
        "values": values or {}, "min_date": today(request)}, status=status)


@router.get("/messaging", response_class=HTMLResponse)
def messaging_home(request: Request, done: str | None = None,
                   caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                   ) -> Response:
    """Show outbox counts by status and channel, recent messages, groups and the forms."""
    tr = translations(language_of(request)).gettext
    notice = tr("%(n)s message(s) mis en file d'attente") % {"n": done} \
        if done and done.isdigit() else None
    return _page(request, caller, db, notice)


def _form_error(exc: DomainError, lang: str) -> dict[str, str]:
    out = {e.field: e.message.text(lang) for e in exc.errors}
    return out or {"form": exc.text(lang)}


@router.post("/messaging/broadcast", response_class=HTMLResponse)
async def messaging_broadcast(request: Request, caller: Caller = Depends(page_caller),
                              db: Database = Depends(get_db)) -> Response:
    """Queue a text to a group through services.broadcast (same path as the API)."""
    form = await checked_form(request, caller)
    values = {k: str(form.get(k) or "").strip() for k in ("group", "text_fra", "text_bam",
                                                          "broadcast_id")}
    try:
        if not values["group"].isdigit():
            raise invalid("group", "group_required", "Choisissez un groupe", "Choose a group")
        with db.session() as s:
            import uuid
            try:
                bid = uuid.UUID(values["broadcast_id"]) if values["broadcast_id"] else None
            except ValueError:
                bid = None
            _, _, n = services.broadcast(s, caller.actor, int(values["group"]),
                                         {"fra": values["text_fra"], "bam": values["text_bam"]},
                                         bid, utcnow())
    except DomainError as exc:
        if exc.status not in (422,):
            raise
        return _page(request, caller, db, None, _form_error(exc, language_of(request)),
                     values, 422)
    return RedirectResponse(f"/messaging?done={n}", 303)


@router.post("/messaging/announce", response_class=HTMLResponse)
async def messaging_announce(request: Request, caller: Caller = Depends(page_caller),
                             db: Database = Depends(get_db)) -> Response:
    """Announce an outreach session to the women leaders of its district."""
    form = await checked_form(request, caller)
    values: dict[str, Any] = {k: str(form.get(k) or "").strip()
                              for k in ("facility", "date", "place_name", "strategy")}
    try:
        try:
            day = date.fromisoformat(values["date"])
        except ValueError:
            raise invalid("date", "date_parsing", "Date invalide (format AAAA-MM-JJ)",
                          "Invalid date (format YYYY-MM-DD)") from None
        with db.session() as s:
            n = announce_session(s, caller.actor, values["facility"], day,
                                 values["place_name"] or None, values["strategy"] or "outreach",
                                 today(request), utcnow())
    except DomainError as exc:
        if exc.status != 422:
            raise
        return _page(request, caller, db, None, _form_error(exc, language_of(request)),
                     values, 422)
    return RedirectResponse(f"/messaging?done={n}", 303)
