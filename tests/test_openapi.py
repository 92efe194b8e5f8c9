"""The OpenAPI document at /docs is complete: every JSON route, described, with refusals."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World

CONTRACT = {
    ("post", "/api/v1/children"), ("get", "/api/v1/children"),
    ("get", "/api/v1/children/{child_id}"), ("post", "/api/v1/children/{child_id}/vaccinations"),
    ("get", "/api/v1/children/{child_id}/schedule"), ("get", "/api/v1/immunization/coverage"),
    ("get", "/api/v1/immunization/defaulters"),
    ("get", "/api/v1/immunization/priority-districts"),
}


def test_openapi_lists_the_contract(client: TestClient, world: World) -> None:
    doc = client.get("/openapi.json").json()
    ops = {(m, p) for p, item in doc["paths"].items() for m in item}
    assert ops >= CONTRACT
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert op.get("summary") or op.get("description"), (method, path)
            if path.startswith("/api/v1/children") or path.startswith("/api/v1/immunization"):
                assert "401" in op["responses"] and "422" in op["responses"], (method, path)
    assert client.get("/docs").status_code == 200


def test_docs_page_needs_no_internet(client: TestClient, world: World) -> None:
    html = client.get("/docs").text
    assert "/docs-static/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
