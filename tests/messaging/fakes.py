"""Local HTTP servers speaking RapidPro API v2 and WhatsApp Cloud API (interop.md §2-3)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Provider:
    """A fake provider: records every request; `script` holds forced answers, in order."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    token: str = "secret-token"
    url: str = ""

    def accepted(self, path_part: str) -> list[dict[str, Any]]:
        """Return the bodies of requests to a path that the server accepted."""
        return [r["body"] for r in self.requests if path_part in r["path"] and r["ok"]]


def _handler(p: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any],
                    headers: dict[str, str] | None = None) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            auth = self.headers.get("Authorization", "")
            entry = {"path": self.path, "body": body, "auth": auth, "ok": False}
            p.requests.append(entry)
            if p.script:
                status, headers = p.script.pop(0)
                self._answer(status, {"error": "scripted"}, headers)
                return
            if self.path == "/api/v2/broadcasts.json":
                if auth != f"Token {p.token}":
                    self._answer(403, {"detail": "Invalid token"})
                    return
                if not body.get("urns") or len(body["urns"]) > 100 or not body.get("text") \
                        or body.get("base_language") not in body["text"]:
                    self._answer(400, {"urns": ["bad"]})
                    return
                entry["ok"] = True
                self._answer(201, {"uuid": str(uuid.uuid4()), "status": "queued",
                                   "urns": body["urns"], "text": body["text"]})
                return
            if self.path == "/api/v2/flow_starts.json":
                if auth != f"Token {p.token}":
                    self._answer(403, {"detail": "Invalid token"})
                    return
                entry["ok"] = True
                self._answer(201, {"uuid": str(uuid.uuid4()), "status": "pending",
                                   "flow": {"uuid": body.get("flow")}})
                return
            if self.path.endswith("/messages"):
                if auth != f"Bearer {p.token}":
                    self._answer(401, {"error": {"message": "Invalid OAuth access token"}})
                    return
                tpl = body.get("template") or {}
                if body.get("messaging_product") != "whatsapp" or body.get("type") != \
                        "template" or not tpl.get("name") or not body.get("to", "").isdigit():
                    self._answer(400, {"error": {"message": "bad request"}})
                    return
                entry["ok"] = True
                self._answer(200, {"messaging_product": "whatsapp",
                                   "contacts": [{"input": body["to"], "wa_id": body["to"]}],
                                   "messages": [{"id": "wamid." + uuid.uuid4().hex}]})
                return
            self._answer(404, {"detail": "Not found"})

    return Handler


@contextmanager
def provider_server() -> Iterator[Provider]:
    """Run a fake provider on 127.0.0.1 (random port) for the block."""
    p = Provider()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(p))
    p.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield p
    finally:
        server.shutdown()
        server.server_close()
