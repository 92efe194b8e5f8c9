"""The webhook's fast path (stock.api.WebhookFastPath): the common call is answered without
the framework's stack; every other call reaches the route with its whole body (both DBs)."""

from __future__ import annotations

import asyncio
import json
import uuid
from types import SimpleNamespace
from typing import Any

import pytest

from krc.accounts import services as accounts
from krc.accounts.queries import TOKENS
from krc.immunization.stock import api as stock_api
from krc.immunization.stock import services
from krc.immunization.stock.schemas import ReporterCreate
from tests.conftest import PASSWORD, TODAY, World

PHONE = "+22376123456"


class Inner:
    """The rest of the app: records what reached it and answers 299."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"route"})


def call(world: World, inner: Inner, token: str | None, body: bytes,
         path: str = stock_api.WEBHOOK_PATH, method: str = "POST",
         chunk: int = 0) -> tuple[int, dict[str, str], bytes]:
    """Send one request through the middleware; return status, headers and body."""
    state = SimpleNamespace(db=world.db, clock=lambda: TODAY)
    middleware = stock_api.WebhookFastPath(inner, state)
    parts = [body[i:i + chunk] for i in range(0, len(body), chunk)] if chunk else [body]
    headers = [(b"authorization", f"Token {token}".encode())] if token else []
    scope = {"type": "http", "method": method, "path": path, "headers": headers}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        part = parts.pop(0)
        return {"type": "http.request", "body": part, "more_body": bool(parts)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(middleware(scope, receive, send))
    start, content = sent[0], sent[1]
    return (start["status"], {k.decode(): v.decode() for k, v in start["headers"]},
            content["body"])


@pytest.fixture
def token(world: World) -> str:
    TOKENS.clear()
    kati = world.actor("kati")
    with world.db.session() as s:
        user = accounts.create_user(s, "rapidpro", PASSWORD, "integration", "ML")
        key = accounts.create_token(s, user, "rapidpro")
        services.add_reporter(s, kati, ReporterCreate(
            phone=PHONE, facility="ML0207-C01", name="Moussa", language="fra"))
    return key


def report(text: str) -> bytes:
    return json.dumps({"input": {"uuid": str(uuid.uuid4()), "text": text, "urn": f"tel:{PHONE}"},
                       "contact": {"urn": f"tel:{PHONE}"}}).encode()


def test_a_cached_token_is_answered_here_and_replays_too(world: World, token: str) -> None:
    inner = Inner()
    body = report("REC PENTA 10")
    assert call(world, inner, token, body)[0] == 299      # token not yet checked: the route
    assert inner.bodies == [body]
    stock_api._webhook_actor_now(world.db, f"Token {token}")  # as the route does
    status, headers, content = call(world, inner, token, report("REC BCG 5"))
    assert status == 200 and inner.bodies == [body]
    assert json.loads(content) == {
        "status": "ok", "reply": "Enregistré pour CSCom Kati Central : réception : BCG 5. Merci."}
    assert headers["content-type"] == "application/json"
    assert headers["x-content-type-options"] == "nosniff"
    again = call(world, inner, token, body)             # the first call's key, never applied
    assert again[0] == 200 and "idempotent-replay" not in again[1]
    replay = call(world, inner, token, body)
    assert replay[1]["idempotent-replay"] == "true" and replay[2] == again[2]


def test_other_calls_reach_the_route_with_their_whole_body(world: World, token: str) -> None:
    stock_api._webhook_actor_now(world.db, f"Token {token}")
    inner = Inner()
    assert call(world, inner, None, b"{}")[0] == 299                       # no token
    assert call(world, inner, "wrong", b"{}")[0] == 299                    # unknown token
    assert call(world, inner, token, b"{}", method="GET")[0] == 299
    assert call(world, inner, token, b"{}", path="/api/v1/stock")[0] == 299
    big = b"x" * (stock_api.WEBHOOK_MAX_BODY + 10_000)
    assert call(world, inner, token, big, chunk=4096)[0] == 299            # streamed on
    assert inner.bodies == [b"{}", b"{}", b"{}", b"{}", big]


def test_a_call_failing_here_is_handed_to_the_route(world: World, token: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    stock_api._webhook_actor_now(world.db, f"Token {token}")

    def boom(*_: Any) -> Any:
        raise RuntimeError("lost connection")

    monkeypatch.setattr(services, "group_statements", boom)
    monkeypatch.setattr(stock_api, "_handle", boom)
    inner = Inner()
    body = report("REC PENTA 10")
    assert call(world, inner, token, body)[0] == 299
    assert inner.bodies == [body]
