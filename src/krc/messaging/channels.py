"""Channel adapters: RapidPro API v2, WhatsApp Cloud API and the `log` channel (demo).

Each adapter sends a list of outbox messages and returns one SendResult per message; it never
touches the outbox (the sender records the outcomes). HTTP adapters use httpx with timeouts.
References: reference/interop.md §2 (RapidPro broadcasts ≤ 100 URNs, flow starts, `Token`
auth, 429 Retry-After) and §3 (WhatsApp template sends, `messages[0].id`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

import httpx
from sqlalchemy import insert

from krc.db import Database
from krc.messaging.models import LogDelivery
from krc.messaging.rules import retry_after, urn_tel, wa_recipient
from krc.messaging.settings import RapidProSettings, WhatsAppSettings

RAPIDPRO_MAX_URNS = 100


@dataclass(frozen=True)
class OutMessage:
    """One claimed outbox message handed to an adapter."""

    id: int
    phone: str
    language: str
    text: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    """What happened to one message: sent (with the provider id), or an error.

    `retry` marks a temporary failure (5xx, network, 429); `wait` is the provider's
    Retry-After when it gave one (429), else the sender's backoff applies.
    """

    id: int
    ok: bool
    provider_id: str | None = None
    error: str | None = None
    retry: bool = False
    wait: timedelta | None = None


class Adapter(Protocol):
    """A channel: sends messages, at most `batch_size` per call."""

    name: str
    batch_size: int

    def send(self, messages: Sequence[OutMessage], now: datetime) -> list[SendResult]:
        """Send the messages and return one result per message, in order."""
        ...


def _http_failure(ids: Sequence[int], resp: httpx.Response, now: datetime
                  ) -> list[SendResult]:
    """Return the results of a failed HTTP answer: 429 and 5xx retry, other 4xx fail."""
    text = resp.text[:200].replace("\n", " ")
    error = f"HTTP {resp.status_code}: {text}"
    if resp.status_code == 429:
        wait = retry_after(resp.headers.get("retry-after"), now)
        return [SendResult(i, False, error=error, retry=True, wait=wait) for i in ids]
    retry = resp.status_code >= 500 or resp.status_code == 408
    return [SendResult(i, False, error=error, retry=retry) for i in ids]


class LogChannel:
    """The demo channel: writes each message to msg_log_delivery; always succeeds."""

    name = "log"
    batch_size = 500

    def __init__(self, db: Database) -> None:
        self.db = db

    def send(self, messages: Sequence[OutMessage], now: datetime) -> list[SendResult]:
        """Record the messages in their own transaction (as a provider would) and succeed."""
        if not messages:
            return []
        with self.db.session() as s:
            s.execute(insert(LogDelivery), [
                {"outbox_id": m.id, "phone": m.phone, "text": m.text, "at": now}
                for m in messages])
        return [SendResult(m.id, True, provider_id=f"log-{m.id}") for m in messages]


class RapidProChannel:
    """RapidPro API v2 broadcasts: messages with the same text and language share one call."""

    name = "rapidpro"
    batch_size = 500

    def __init__(self, settings: RapidProSettings, client: httpx.Client | None = None) -> None:
        self.base = settings.url.rstrip("/")
        self.client = client or httpx.Client(timeout=settings.timeout)
        self.headers = {"Authorization": f"Token {settings.token}",
                        "Content-Type": "application/json"}

    def _post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.post(self.base + path, json=body, headers=self.headers)

    def send(self, messages: Sequence[OutMessage], now: datetime) -> list[SendResult]:
        """POST /api/v2/broadcasts.json per (language, text), ≤ 100 URNs a call (§2)."""
        groups: dict[tuple[str, str], list[OutMessage]] = {}
        for m in messages:
            groups.setdefault((m.language, m.text), []).append(m)
        results: dict[int, SendResult] = {}
        throttled: timedelta | None = None
        for (language, text), items in groups.items():
            for start in range(0, len(items), RAPIDPRO_MAX_URNS):
                chunk = items[start:start + RAPIDPRO_MAX_URNS]
                ids = [m.id for m in chunk]
                if throttled is not None:  # the server asked us to wait: do not hammer it
                    for i in ids:
                        results[i] = SendResult(i, False, error="HTTP 429 (throttled)",
                                                retry=True, wait=throttled)
                    continue
                body = {"urns": [urn_tel(m.phone) for m in chunk], "text": {language: text},
                        "base_language": language}
                try:
                    resp = self._post("/api/v2/broadcasts.json", body)
                except httpx.HTTPError as exc:
                    for i in ids:
                        results[i] = SendResult(i, False, error=f"network: {exc}"[:300],
                                                retry=True)
                    continue
                if resp.status_code in (200, 201):
                    uuid = str(_json(resp).get("uuid") or "")
                    for i in ids:
                        results[i] = SendResult(i, True, provider_id=uuid or None)
                else:
                    for r in _http_failure(ids, resp, now):
                        results[r.id] = r
                        if r.wait is not None:
                            throttled = r.wait
        return [results[m.id] for m in messages]

    def start_flow(self, flow: str, urns: Sequence[str], params: dict[str, Any]) -> str:
        """Start a flow for up to 100 URNs (POST /api/v2/flow_starts.json); return its uuid."""
        if not 0 < len(urns) <= RAPIDPRO_MAX_URNS:
            raise ValueError(f"between 1 and {RAPIDPRO_MAX_URNS} URNs per flow start")
        resp = self._post("/api/v2/flow_starts.json",
                          {"flow": flow, "urns": list(urns), "params": params})
        resp.raise_for_status()
        return str(_json(resp).get("uuid") or "")


class WhatsAppChannel:
    """WhatsApp Cloud API: one approved-template message per call (§3)."""

    name = "whatsapp"
    batch_size = 50

    def __init__(self, settings: WhatsAppSettings, client: httpx.Client | None = None) -> None:
        self.endpoint = (f"{settings.url.rstrip('/')}/{settings.version}/"
                         f"{settings.phone_number_id}/messages")
        self.client = client or httpx.Client(timeout=settings.timeout)
        self.headers = {"Authorization": f"Bearer {settings.token}",
                        "Content-Type": "application/json"}

    @staticmethod
    def body(m: OutMessage) -> dict[str, Any]:
        """Return the template-send body of a message (its `_wa` params: name, language,
        parameter values in the approved order)."""
        wa = m.params.get("_wa") or {}
        if not wa.get("name"):
            raise ValueError("no approved WhatsApp template for this message")
        return {
            "messaging_product": "whatsapp", "to": wa_recipient(m.phone), "type": "template",
            "template": {
                "name": wa["name"], "language": {"code": wa.get("language") or "fr"},
                "components": [{"type": "body", "parameters": [
                    {"type": "text", "text": str(v)} for v in wa.get("parameters", [])]}],
            },
        }

    def send(self, messages: Sequence[OutMessage], now: datetime) -> list[SendResult]:
        """POST /{version}/{phone_number_id}/messages per message; id = messages[0].id."""
        out: list[SendResult] = []
        throttled: timedelta | None = None
        for m in messages:
            if throttled is not None:
                out.append(SendResult(m.id, False, error="HTTP 429 (throttled)", retry=True,
                                      wait=throttled))
                continue
            try:
                body = self.body(m)
            except ValueError as exc:
                out.append(SendResult(m.id, False, error=str(exc)))
                continue
            try:
                resp = self.client.post(self.endpoint, json=body, headers=self.headers)
            except httpx.HTTPError as exc:
                out.append(SendResult(m.id, False, error=f"network: {exc}"[:300], retry=True))
                continue
            if resp.status_code in (200, 201):
                msgs = _json(resp).get("messages") or [{}]
                out.append(SendResult(m.id, True, provider_id=str(msgs[0].get("id") or "")
                                      or None))
            else:
                r = _http_failure([m.id], resp, now)[0]
                throttled = r.wait
                out.append(r)
        return out


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def configured_adapters(db: Database) -> dict[str, Adapter]:
    """Return the adapters of the channels configured in the environment (log always)."""
    adapters: dict[str, Adapter] = {"log": LogChannel(db)}
    rp = RapidProSettings()
    if rp.configured:
        adapters["rapidpro"] = RapidProChannel(rp)
    wa = WhatsAppSettings()
    if wa.configured:
        adapters["whatsapp"] = WhatsAppChannel(wa)
    return adapters
