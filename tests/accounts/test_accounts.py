"""Accounts: throttled login, tokens, admin-only routes, the append-only audit log (both DBs)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from krc.accounts import services
from krc.accounts.models import ApiToken, AuditEvent, User
from krc.accounts.security import digest
from krc.errors import DomainError
from tests.conftest import PASSWORD, World


def test_authenticate_and_throttle(world: World) -> None:
    now = datetime(2026, 3, 16, 8, tzinfo=UTC)
    with world.db.session() as s:
        assert services.authenticate(s, "kati", PASSWORD, "1.2.3.4", 3, 15, now) is not None
        for _ in range(3):
            assert services.authenticate(s, "kati", "wrong", "1.2.3.4", 3, 15, now) is None
        with pytest.raises(services.LoginThrottled) as e:
            services.authenticate(s, "kati", PASSWORD, "1.2.3.4", 3, 15, now)
        assert e.value.status == 429 and "15" in e.value.text("fr")
        later = now + timedelta(minutes=16)
        assert services.authenticate(s, "kati", PASSWORD, "1.2.3.4", 3, 15, later) is not None


def test_tokens_are_stored_hashed_and_revocable(client: TestClient, world: World) -> None:
    token = world.tokens["kati"]
    with world.db.session() as s:
        stored = list(s.scalars(select(ApiToken.token_hash)))
    assert token not in stored and all(len(h) == 64 for h in stored)
    assert client.get("/api/v1/me", headers=world.headers("kati")).json()["role"] == "district"
    with world.db.session() as s:
        assert services.revoke_token(s, token)
    assert client.get("/api/v1/me", headers=world.headers("kati")).status_code == 401


def test_create_token_via_api(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/tokens", json={"name": "tablette"}, headers=world.headers("kati"))
    assert r.status_code == 201
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["org_unit"]["code"] == "ML0207"


def test_users_and_audit_are_admin_only(client: TestClient, world: World) -> None:
    body = {"username": "asc1", "password": "long-enough", "role": "vaccinator",
            "org_unit": "ML0207-C02"}
    assert client.post("/api/v1/users", json=body, headers=world.headers("kati")).status_code \
        == 403
    r = client.post("/api/v1/users", json=body, headers=world.headers("admin"))
    assert r.status_code == 201
    r = client.post("/api/v1/users", json=body, headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["code"] == "username_taken"
    bad = {**body, "username": "x2", "role": "chief"}
    r = client.post("/api/v1/users", json=bad, headers=world.headers("admin", "en"))
    assert r.json()["title"].startswith("Unknown role: chief")
    assert client.get("/api/v1/audit", headers=world.headers("kati")).status_code == 403
    events = client.get("/api/v1/audit", params={"entity": "user"},
                        headers=world.headers("admin")).json()
    assert events[0]["detail"]["username"] == "asc1"


def test_user_refusals(world: World) -> None:
    with world.db.session() as s:
        for args, code in [
            (("u1", "short", "district", "ML0207"), "password_too_short"),
            (("u1", "long-enough", "district", "NOPE"), "org_unit_unknown"),
            (("kati", "long-enough", "district", "ML0207"), "username_taken"),
        ]:
            with pytest.raises(DomainError) as e:
                services.create_user(s, *args)
            assert e.value.code == code


def test_audit_log_is_append_only(world: World) -> None:
    with world.db.session() as s:
        services.audit(s, None, "read", "child", "x")
    for stmt in (update(AuditEvent).values(action="tampered"), text("DELETE FROM audit_event")):
        with pytest.raises(DBAPIError), world.db.session() as s:
            s.execute(stmt)
    with world.db.session() as s:
        assert s.scalar(select(AuditEvent.action).where(AuditEvent.entity_id == "x")) == "read"


def test_passwords_are_argon2(world: World) -> None:
    with world.db.session() as s:
        h = s.scalar(select(User.password_hash).where(User.username == "kati"))
    assert h is not None and h.startswith("$argon2id$")


def test_token_revoked_elsewhere_stops_within_the_cache_delay(
        client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Another process (`krc tokens revoke`, another worker) cannot clear this process's
    token cache: the token keeps working for at most TOKEN_TTL seconds, then answers 401."""
    import time

    from krc import cache
    from krc.accounts.queries import TOKEN_TTL
    assert client.get("/api/v1/me", headers=world.headers("kati")).status_code == 200
    with world.db.session() as s:  # as another process would: no cache to clear here
        s.execute(update(ApiToken).where(ApiToken.token_hash == digest(world.tokens["kati"]))
                  .values(revoked=True))
    assert client.get("/api/v1/me", headers=world.headers("kati")).status_code == 200
    later = time.monotonic() + TOKEN_TTL + 0.1
    monkeypatch.setattr(cache.time, "monotonic", lambda: later)
    assert client.get("/api/v1/me", headers=world.headers("kati")).status_code == 401
