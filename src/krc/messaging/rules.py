"""Pure rules of messaging: templates, dedupe keys, reminder selection, retries, statuses.

No I/O and no clock: callers pass `now`/`today`. References: reference/interop.md §2
(RapidPro URNs, languages fra/bam/eng, 429 Retry-After) and §3 (WhatsApp template sends,
status webhooks signed with X-Hub-Signature-256); reference/immunization.md §1 (due dates).
"""

from __future__ import annotations

import hashlib
import hmac
import string
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime

import numpy as np
import numpy.typing as npt

from krc.immunization.schedule import STATUSES

# Placeholders each template key may use (checked when a template is saved).
PLACEHOLDERS: dict[str, frozenset[str]] = {
    "dose_reminder": frozenset({"caregiver", "child", "vaccines", "date", "facility"}),
    "missed_dose": frozenset({"caregiver", "child", "vaccines", "date", "facility"}),
    "session_announcement": frozenset({"date", "facility", "place", "strategy"}),
    "stock_report_late": frozenset({"name", "facility", "period"}),
    "coldchain_alarm": frozenset({"facility", "device", "type", "start", "duration",
                                  "temperature"}),
    "broadcast": frozenset(),
}
# Short vaccine names for SMS, per language (French names used in Mali's PEV cards).
VACCINE_SHORT: dict[str, dict[str, str]] = {
    "fra": {"OPV": "VPO", "IPV": "VPI", "MCV": "RR", "YF": "VAA", "MENA": "MenA",
            "MALARIA": "Palu"},
    "bam": {"OPV": "VPO", "IPV": "VPI", "MCV": "RR", "YF": "VAA", "MENA": "MenA",
            "MALARIA": "Palu"},
    "eng": {"MENA": "MenA", "MALARIA": "Malaria"},
}
_COMMON_SHORT = {"PENTA": "Penta", "ROTA": "Rota", "MALARIA": "Malaria"}
# Delivery statuses in the order a message moves through them (WhatsApp §3 statuses).
_RANK = {"queued": 0, "sending": 1, "unknown": 1, "sent": 2, "delivered": 3, "read": 4}
_UPCOMING = STATUSES.index("upcoming")
_DUE = STATUSES.index("due")
_OVERDUE = STATUSES.index("overdue")


class TemplateError(ValueError):
    """A template text is malformed or uses placeholders its key does not provide."""


def placeholders(text: str) -> set[str]:
    """Return the named placeholders of a str.format template; raise TemplateError if bad."""
    names: set[str] = set()
    try:
        for _, field, _, _ in string.Formatter().parse(text):
            if field is None:
                continue
            if not field or not field.isidentifier():
                raise TemplateError(f"invalid placeholder {{{field}}}")
            names.add(field)
    except ValueError as exc:
        raise TemplateError(str(exc)) from None
    return names


def check_template(key: str, text: str) -> None:
    """Raise TemplateError when `text` uses placeholders the key does not provide."""
    allowed = PLACEHOLDERS.get(key)
    if allowed is None:
        raise TemplateError(f"unknown template key {key}")
    extra = placeholders(text) - allowed
    if extra:
        raise TemplateError("unknown placeholders: " + ", ".join(sorted(extra)))


def render(text: str, params: dict[str, str]) -> str:
    """Return the template text with its named placeholders filled (missing ones left blank)."""
    class _Blank(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return ""
    return text.format_map(_Blank(params))


def fmt_day(d: date) -> str:
    """Return a date as written in messages (dd/mm/yyyy)."""
    return d.strftime("%d/%m/%Y")


def vaccines_text(slots: list[tuple[str, int]], language: str) -> str:
    """Return 'Penta 1, PCV 1'-style text of doses in a language (short names, §1 codes)."""
    names = VACCINE_SHORT.get(language, {})
    parts = []
    for vaccine, dose in slots:
        name = names.get(vaccine) or _COMMON_SHORT.get(vaccine, vaccine)
        parts.append(f"{name} {dose}")
    return ", ".join(parts)


def due_key(kind: str, child_pk: int, due: date) -> str:
    """Return the outbox dedupe key of a child's reminder for one due date (one per visit)."""
    return f"{kind}:{child_pk}:{due.isoformat()}"


def urn_tel(phone: str) -> str:
    """Return the RapidPro tel URN of an E.164 phone (reference/interop.md §2)."""
    return "tel:" + phone


def wa_recipient(phone: str) -> str:
    """Return the WhatsApp Cloud API `to` of an E.164 phone: digits only (§3)."""
    return phone.lstrip("+")


def choose_channel(whatsapp_capable: bool, has_wa_template: bool, configured: frozenset[str],
                   default: str) -> str:
    """Return the channel for a recipient: WhatsApp when capable, templated and configured."""
    if whatsapp_capable and has_wa_template and "whatsapp" in configured:
        return "whatsapp"
    return default


def backoff(attempts: int, base_seconds: int, cap_seconds: int) -> timedelta:
    """Return the wait before the next attempt after `attempts` failures (exponential)."""
    n = max(attempts, 1) - 1
    return timedelta(seconds=min(cap_seconds, base_seconds * (2 ** min(n, 30))))


def retry_after(value: str | None, now: datetime, default_seconds: int = 60) -> timedelta:
    """Return the wait a 429 answer asks for: Retry-After in seconds or as an HTTP date."""
    if value:
        text = value.strip()
        if text.isdigit():
            return timedelta(seconds=int(text))
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            return max(timedelta(0), when - now)
    return timedelta(seconds=default_seconds)


def next_status(current: str, incoming: str) -> str | None:
    """Return the status after a provider report, or None when it changes nothing.

    Reports may arrive twice or out of order: a message only moves forward
    (sent → delivered → read); `failed` applies only before delivery.
    """
    if incoming == "failed":
        return "failed" if _RANK.get(current, 9) <= _RANK["sent"] else None
    if incoming not in _RANK or current in ("failed", "cancelled"):
        return None
    return incoming if _RANK[incoming] > _RANK.get(current, 0) else None


def signature_ok(secret: str, body: bytes, header: str | None) -> bool:
    """Return True when X-Hub-Signature-256 is `sha256=` + HMAC-SHA256(body, secret) (§3)."""
    if not secret or not header or not header.startswith("sha256="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, header[len("sha256="):].strip().lower())


@dataclass(frozen=True)
class Picked:
    """Children picked for one reminder kind: row index, due day, slot mask (vectorised)."""

    rows: npt.NDArray[np.int64]
    days: npt.NDArray[np.int64]  # epoch day of the reminded visit
    slots: npt.NDArray[np.bool_]  # (len(rows), slots) doses of that visit


def pick_reminders(status: npt.NDArray[np.int8], due: npt.NDArray[np.int64], today: int,
                   days_before: int, days_after: int, catch_up: int) -> tuple[Picked, Picked]:
    """Return (dose reminders, missed-dose reminders) from evaluate_batch's outputs.

    A dose reminder goes for the earliest visit with a not-yet-given dose due in
    (today, today + days_before]; a missed-dose reminder for the earliest visit whose dose
    is still not given `days_after` days after its due date, within `catch_up` days of that
    day (a run missed for a few days still sends, a first run does not remind years-old
    doses). Due dates are reference/immunization.md §1 (schedule.evaluate_batch).
    """
    big = np.iinfo(np.int64).max
    known = due >= 0
    upcoming = known & (status == _UPCOMING) & (due > today) & (due <= today + days_before)
    late_by = today - due
    missed = known & ((status == _DUE) | (status == _OVERDUE)) & \
        (late_by >= days_after) & (late_by <= days_after + catch_up)
    out = []
    for mask in (upcoming, missed):
        day = np.where(mask, due, big).min(axis=1) if mask.shape[1] else \
            np.full(mask.shape[0], big)
        rows = np.nonzero(day < big)[0]
        chosen = day[rows]
        slots = mask[rows] & (due[rows] == chosen[:, None])
        out.append(Picked(rows.astype(np.int64), chosen.astype(np.int64), slots))
    return out[0], out[1]
