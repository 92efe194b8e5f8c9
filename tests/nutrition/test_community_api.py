"""API tests of community nutrition: IYCF recalls and survey imports, support groups (GASPA),
micronutrient powders and the figures, with their refusals (both databases)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from krc.accounts.models import AuditEvent
from krc.geo.queries import unit_by_code
from krc.nutrition.community.models import IycfSurveyImport
from krc.nutrition.community.queries import community_figures
from krc.results.periods import parse_period
from tests.conftest import World, child_payload

H = "vacc_kati"
V1 = "ML0207-C01-V01"


def new_child(client: TestClient, world: World, user: str = H, **over: Any) -> str:
    r = client.post("/api/v1/children", json={**child_payload(**over), "confirm_new": True},
                    headers=world.headers(user))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def post(client: TestClient, world: World, url: str, body: Any, user: str = H) -> Any:
    return client.post(url, json=body, headers=world.headers(user))


def recall_body(child: str, **over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"child_id": child, "date": "2026-03-15", "breastfed": True,
                         "early_bf": True, "grains": True, "pulses": True, "eggs": True,
                         "vita_fv": True, "solid_feeds": 2}
    b.update(over)
    return b


# --------------------------------------------------------------------------- recalls

def test_recall_at_a_visit_is_stored_replayed_and_listed(client: TestClient,
                                                         world: World) -> None:
    child = new_child(client, world)  # born 2025-09-01: 6 months on 2026-03-15
    rid = str(uuid.uuid4())
    r = post(client, world, "/api/v1/nutrition/iycf/recalls", recall_body(child, id=rid))
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["id"] == rid and out["age_months"] == 6 and out["source"] == "visit"
    assert out["food_groups"] == 5 and out["org_unit"]["code"] == V1
    assert set(out["denominators"]) == {"EIBF", "ISSSF", "MDD", "MMF", "MAD", "EFF", "ZVF"}
    assert set(out["numerators"]) == {"EIBF", "ISSSF", "MDD", "MMF", "MAD", "EFF"}
    again = post(client, world, "/api/v1/nutrition/iycf/recalls", recall_body(child, id=rid))
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    listed = client.get(f"/api/v1/nutrition/iycf/recalls?child_id={child}",
                        headers=world.headers("kati"))
    assert listed.status_code == 200 and [x["id"] for x in listed.json()] == [rid]
    with world.db.session() as s:
        acts = s.scalars(select(AuditEvent.action).where(AuditEvent.entity == "iycf_recall",
                                                         AuditEvent.entity_id == rid)).all()
        assert acts == ["create"]


def test_recall_refusals(client: TestClient, world: World) -> None:
    child = new_child(client, world)
    url = "/api/v1/nutrition/iycf/recalls"
    assert client.post(url, json=recall_body(child)).status_code == 401
    r = post(client, world, url, recall_body(child), user="partner")
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    assert post(client, world, url, recall_body(child), user="vacc_mopti").status_code == 404
    assert post(client, world, url, recall_body(str(uuid.uuid4()))).status_code == 404
    r = post(client, world, url, recall_body(child, date="2026-03-17"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "date"
    r = post(client, world, url, recall_body(child, date="2025-08-01"))
    assert r.status_code == 422 and r.json()["code"] == "date_before_birth"
    old = new_child(client, world, given_name="Moussa", birth_date="2023-01-10")
    r = client.post(url, json=recall_body(old), headers=world.headers(H, "en"))
    assert r.status_code == 422 and "0–23 months" in r.json()["title"]
    r = post(client, world, url, recall_body(child, solid_feeds=25))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "solid_feeds"
    r = client.get(f"{url}?child_id={child}", headers=world.headers("vacc_mopti"))
    assert r.status_code == 404


# --------------------------------------------------------------------------- survey import

HEADER = ("row_id;org_unit;date;age_months;breastfed;early_bf;other_liquids;grains;pulses;"
          "dairy;flesh;eggs;vita_fv;other_fv;solid_feeds;milk_feeds")
ROWS = [
    "S1;ML0207-C01-V01;2026-02-10;3;oui;oui;non;0;0;0;0;0;0;0;0;0",  # EBF
    "S2;ML0207-C01-V02;2026-02-10;4;oui;non;oui;0;0;0;0;0;0;0;0;0",  # not EBF
    "S3;ML0207-C02-V01;2026-02-11;15;non;nsp;oui;1;1;1;1;1;0;0;2;2",  # MAD (non-breastfed)
]


def csv_post(client: TestClient, world: World, text: str, survey: str = "SMART-2026",
             user: str = "kati", **params: str) -> Any:
    return client.post(f"/api/v1/nutrition/iycf/surveys/{survey}/import", content=text,
                       params=params, headers={**world.headers(user),
                                               "Content-Type": "text/csv"})


def test_survey_import_is_all_or_nothing_and_idempotent(client: TestClient,
                                                        world: World) -> None:
    text = "\n".join([HEADER, *ROWS]) + "\n"
    r = csv_post(client, world, text)
    assert r.status_code == 200, r.text
    assert r.json() == {"survey": "SMART-2026", "rows": 3, "new": 3, "unchanged": 0}
    r = csv_post(client, world, text)
    assert r.json() == {"survey": "SMART-2026", "rows": 3, "new": 0, "unchanged": 3}
    changed = "\n".join([HEADER, ROWS[0].replace(";3;oui", ";5;oui"),
                         "S9;ML0207-C01-V01;2026-02-12;7;1;1;0;1;0;0;0;0;0;0;1;0"])
    r = csv_post(client, world, changed)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "ligne 2, row_id"
    table = client.get("/api/v1/nutrition/iycf/indicators?org_unit=ML0207&period=2026",
                       headers=world.headers("kati")).json()
    assert table["total"]["recalls"] == 3  # S9 was not imported: all or nothing
    ebf = table["total"]["indicators"]["EBF"]
    assert (ebf["numerator"], ebf["denominator"], ebf["value"]) == (1, 2, 50.0)
    assert table["total"]["indicators"]["MAD"] == {"value": 100.0, "numerator": 1,
                                                   "denominator": 1}
    units = {u["org_unit"]["code"]: u for u in table["units"]}
    assert units["ML0207-C01"]["recalls"] == 2 and units["ML0207-C02"]["recalls"] == 1
    with world.db.session() as s:
        kept = s.scalars(select(IycfSurveyImport.status).order_by(IycfSurveyImport.pk)).all()
        assert kept == ["applied", "applied", "refused"]


def test_survey_import_refusals(client: TestClient, world: World) -> None:
    text = "\n".join([HEADER, ROWS[0]])
    assert client.post("/api/v1/nutrition/iycf/surveys/X/import", content=text,
                       headers={"Content-Type": "text/csv"}).status_code == 401
    assert csv_post(client, world, text, user="partner").status_code == 403
    r = csv_post(client, world, text, user="vacc_mopti")  # a Kati village from Mopti
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "org_unit_unknown"
    r = csv_post(client, world, "row_id;date;age_months;breastfed\nA;2026-01-01;3;1\n",
                 org_unit="ML0207-C01")
    assert r.status_code == 200 and r.json()["new"] == 1
    r = csv_post(client, world, "row_id;date;age_months;breastfed\nA;2026-04-01;3;1\n",
                 survey="S2", org_unit="ML0207-C01")
    assert r.status_code == 422 and r.json()["errors"][0]["code"] == "date_future"


def test_indicators_refusals(client: TestClient, world: World) -> None:
    url = "/api/v1/nutrition/iycf/indicators"
    assert client.get(url).status_code == 401
    assert client.get(f"{url}?org_unit=ML0207", headers=world.headers("vacc_mopti")
                      ).status_code == 403
    assert client.get(f"{url}?org_unit=NOPE", headers=world.headers("kati")).status_code == 404
    assert client.get(f"{url}?period=2026W3", headers=world.headers("kati")).status_code == 422
    assert client.get(f"{url}?source=radio", headers=world.headers("kati")).status_code == 422
    r = client.get(f"{url}?source=visit", headers=world.headers("partner"))
    assert r.status_code == 200 and r.json()["total"]["indicators"]["EBF"]["value"] is None


# --------------------------------------------------------------------------- groups

def make_group(client: TestClient, world: World, village: str = V1, user: str = H,
               **over: Any) -> str:
    r = post(client, world, "/api/v1/nutrition/groups",
             {"village": village, "founded_on": "2025-06-01", **over}, user)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def add_member(client: TestClient, world: World, gid: str, **over: Any) -> Any:
    body = {"name": "Aminata Coulibaly", "role": "member", "joined_on": "2025-06-01", **over}
    return post(client, world, f"/api/v1/nutrition/groups/{gid}/members", body)


def test_group_members_sessions_and_attendance(client: TestClient, world: World) -> None:
    gid = str(uuid.uuid4())
    r = post(client, world, "/api/v1/nutrition/groups",
             {"id": gid, "village": V1, "founded_on": "2025-06-01"})
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "GASPA Kati Coro" and r.json()["facility"]["code"] == "ML0207-C01"
    again = post(client, world, "/api/v1/nutrition/groups", {"id": gid, "village": V1})
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    mother = add_member(client, world, gid, name="Kadiatou Diarra", role="role_model",
                        phone="76 12 34 56")
    assert mother.status_code == 201 and mother.json()["phone"] == "+22376123456"
    leader = add_member(client, world, gid, name="Bakary Keïta", role="leader", sex="M")
    member = add_member(client, world, gid, name="Oumou Sangaré")
    ids = [x.json()["id"] for x in (mother, leader, member)]
    sid = str(uuid.uuid4())
    body = {"id": sid, "date": "2026-03-10", "topics": ["breastfeeding", "mnp_use"],
            "other_topic": "Recettes de bouillie enrichie", "present": ids[:2]}
    r = post(client, world, f"/api/v1/nutrition/groups/{gid}/sessions", body)
    assert r.status_code == 201, r.text
    assert r.json()["attendance"] == 2
    assert post(client, world, f"/api/v1/nutrition/groups/{gid}/sessions", body
                ).status_code == 200
    r = client.put(f"/api/v1/nutrition/groups/{gid}/sessions/{sid}/attendance",
                   json={"present": ids}, headers=world.headers(H))
    assert r.status_code == 200 and r.json()["attendance"] == 3
    r = client.patch(f"/api/v1/nutrition/groups/{gid}/members/{ids[2]}",
                     json={"left_on": "2026-03-12"}, headers=world.headers(H))
    assert r.status_code == 200 and r.json()["left_on"] == "2026-03-12"
    detail = client.get(f"/api/v1/nutrition/groups/{gid}", headers=world.headers("kati"))
    assert detail.status_code == 200
    d = detail.json()
    assert (d["members"], d["women"], d["role_models"], d["sessions"]) == (2, 1, 1, 1)
    assert d["last_session"] == "2026-03-10"
    assert d["member_list"][0]["role"] == "role_model"
    assert d["member_list"][0]["sessions_attended"] == 1
    assert d["session_list"][0]["topics"] == ["breastfeeding", "mnp_use"]
    with world.db.session() as s:  # the read of members' names and phones is audited
        reads = list(s.scalars(select(AuditEvent).where(
            AuditEvent.action == "read", AuditEvent.entity == "support_group")))
    assert [(e.entity_id, e.detail) for e in reads] == [(gid, {"members": 3})]
    listed = client.get("/api/v1/nutrition/groups?org_unit=ML0207",
                        headers=world.headers("partner"))
    assert listed.status_code == 200 and [g["id"] for g in listed.json()] == [gid]
    r = client.patch(f"/api/v1/nutrition/groups/{gid}", json={"closed_on": "2026-03-14"},
                     headers=world.headers(H))
    assert r.status_code == 200 and r.json()["closed_on"] == "2026-03-14"
    r = post(client, world, f"/api/v1/nutrition/groups/{gid}/sessions",
             {"date": "2026-03-15", "topics": ["hygiene"]})
    assert r.status_code == 422 and r.json()["code"] == "group_closed"


def test_group_refusals(client: TestClient, world: World) -> None:
    url = "/api/v1/nutrition/groups"
    assert client.post(url, json={"village": V1}).status_code == 401
    assert post(client, world, url, {"village": V1}, user="partner").status_code == 403
    r = post(client, world, url, {"village": "ML0501-C01-V01"})
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = post(client, world, url, {"village": "ML0207-C01"})
    assert r.status_code == 422 and r.json()["code"] == "org_unit_wrong_level"
    r = post(client, world, url, {"village": V1, "founded_on": "2026-04-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "founded_on"
    gid = make_group(client, world)
    other = make_group(client, world, "ML0501-C01-V01", user="vacc_mopti")
    assert client.get(f"{url}/{other}", headers=world.headers("kati")).status_code == 404
    assert client.get(f"{url}/{gid}", headers=world.headers("partner")).status_code == 403
    assert add_member(client, world, other).status_code == 404
    r = add_member(client, world, gid, role="role_model", sex="M")
    assert r.status_code == 422 and r.json()["code"] == "member_not_woman"
    assert add_member(client, world, gid, role="chief").json()["code"] == "role_unknown"
    assert add_member(client, world, gid, phone="12").json()["errors"][0]["field"] == "phone"
    m = add_member(client, world, gid, joined_on="2026-03-01").json()["id"]
    sessions = f"{url}/{gid}/sessions"
    r = post(client, world, sessions, {"date": "2026-03-10", "topics": ["dance"]})
    assert r.status_code == 422 and r.json()["code"] == "topic_unknown"
    r = post(client, world, sessions, {"date": "2026-03-10"})
    assert r.status_code == 422 and r.json()["code"] == "topic_missing"
    r = post(client, world, sessions, {"date": "2026-02-10", "topics": ["hygiene"],
                                       "present": [m]})
    assert r.status_code == 422 and r.json()["code"] == "member_not_active"
    foreign = str(uuid.uuid4())
    r = post(client, world, sessions, {"date": "2026-03-10", "topics": ["hygiene"],
                                       "present": [foreign]})
    assert r.status_code == 422 and r.json()["code"] == "member_unknown"
    r = post(client, world, sessions, {"date": "2026-03-20", "topics": ["hygiene"]})
    assert r.status_code == 422 and r.json()["code"] == "date_future"
    r = client.put(f"{url}/{gid}/sessions/{uuid.uuid4()}/attendance", json={"present": []},
                   headers=world.headers(H))
    assert r.status_code == 404


# --------------------------------------------------------------------------- MNP

def receive(client: TestClient, world: World, n: int, day: str = "2026-03-01",
            facility: str = "ML0207-C01", user: str = H) -> Any:
    return post(client, world, "/api/v1/nutrition/mnp/stock",
                {"facility": facility, "kind": "receipt", "quantity": n, "date": day}, user)


def test_distribution_followup_adherence_and_stock(client: TestClient, world: World) -> None:
    child = new_child(client, world)  # 6 months on 2026-03-10
    assert receive(client, world, 100).status_code == 201
    did = str(uuid.uuid4())
    body = {"id": did, "child_id": child, "date": "2026-03-10", "sachets": 60}
    r = post(client, world, "/api/v1/nutrition/mnp/distributions", body)
    assert r.status_code == 201, r.text
    assert (r.json()["round"], r.json()["age_months"]) == (1, 6)
    assert post(client, world, "/api/v1/nutrition/mnp/distributions", body).status_code == 200
    r = post(client, world, "/api/v1/nutrition/mnp/distributions",
             {"child_id": child, "date": "2026-03-11", "sachets": 31})
    assert r.status_code == 422 and r.json()["code"] == "mnp_round_full"
    r = post(client, world, "/api/v1/nutrition/mnp/distributions",
             {"child_id": child, "date": "2026-03-11", "sachets": 30})
    assert r.status_code == 201
    r = post(client, world, "/api/v1/nutrition/mnp/followups",
             {"child_id": child, "date": "2026-03-15", "round": 1, "consumed": 45})
    assert r.status_code == 201 and r.json()["adherence"] == 50.0
    r = post(client, world, "/api/v1/nutrition/mnp/followups",
             {"child_id": child, "date": "2026-03-15", "round": 1, "consumed": 91})
    assert r.status_code == 422  # at most 90 (schema)
    r = post(client, world, "/api/v1/nutrition/mnp/followups",
             {"child_id": child, "date": "2026-03-15", "round": 2, "consumed": 5})
    assert r.status_code == 422 and r.json()["code"] == "mnp_no_distribution"
    card = client.get(f"/api/v1/nutrition/mnp/children/{child}", headers=world.headers("kati"))
    assert card.status_code == 200
    assert card.json()["rounds"] == [{"round": 1, "distributed": 90, "consumed": 45,
                                      "adherence": 50.0}]
    stock = client.get("/api/v1/nutrition/mnp/stock?org_unit=ML0207&period=202603",
                       headers=world.headers("kati")).json()
    c01 = next(x for x in stock if x["facility"]["code"] == "ML0207-C01")
    assert (c01["balance"], c01["received"], c01["distributed"]) == (10, 100, 90)
    lines = client.get("/api/v1/nutrition/mnp/stock/ML0207-C01",
                       headers=world.headers(H)).json()
    assert [(x["kind"], x["balance_after"]) for x in lines] == [
        ("receipt", 100), ("distribution", 40), ("distribution", 10)]
    with world.db.session() as s:
        fig = community_figures(s, unit_by_code(s, "ML0207"), parse_period("202603"))
    assert fig["mnp"]["children_6_23"] == 1 and fig["mnp"]["children_covered"] == 1
    assert fig["mnp"]["coverage"] == 100.0 and fig["mnp"]["adherence"] == 50.0
    assert fig["mnp"]["sachets_distributed"] == 90


def test_mnp_refusals(client: TestClient, world: World) -> None:
    child = new_child(client, world)
    young = new_child(client, world, given_name="Sira", birth_date="2025-12-01")
    url = "/api/v1/nutrition/mnp/distributions"
    body = {"child_id": child, "date": "2026-03-10", "sachets": 30}
    assert client.post(url, json=body).status_code == 401
    assert post(client, world, url, body, user="partner").status_code == 403
    assert post(client, world, url, body, user="vacc_mopti").status_code == 404
    r = post(client, world, url, body)
    assert r.status_code == 422 and r.json()["code"] == "mnp_stock_insufficient"
    receive(client, world, 500)
    r = post(client, world, url, {**body, "child_id": young})
    assert r.status_code == 422 and r.json()["code"] == "mnp_age"
    r = post(client, world, url, {**body, "facility": "ML0501-C01"})
    assert r.status_code == 403
    assert post(client, world, url, {**body, "sachets": 0}).status_code == 422
    stock = "/api/v1/nutrition/mnp/stock"
    ok = {"facility": "ML0207-C01", "kind": "loss", "quantity": 501, "date": "2026-03-10"}
    r = post(client, world, stock, ok)
    assert r.status_code == 422 and r.json()["code"] == "mnp_stock_insufficient"
    r = post(client, world, stock, {**ok, "kind": "issue"})
    assert r.status_code == 422 and r.json()["code"] == "kind_unknown"
    r = post(client, world, stock, {**ok, "kind": "receipt", "facility": "ML0501-C01"})
    assert r.status_code == 403
    assert post(client, world, stock, {**ok, "kind": "receipt"}, user="partner"
                ).status_code == 403
    assert client.get(f"{stock}/ML0501-C01", headers=world.headers(H)).status_code == 403
    assert client.get(f"{stock}/ML0207", headers=world.headers("kati")).status_code == 422
    assert client.get(f"/api/v1/nutrition/mnp/children/{child}",
                      headers=world.headers("vacc_mopti")).status_code == 404
    r = post(client, world, "/api/v1/nutrition/mnp/followups",
             {"child_id": child, "date": "2026-03-15", "round": 1, "consumed": 5},
             user="vacc_mopti")
    assert r.status_code == 404


# --------------------------------------------------------------------------- figures

def test_community_figures(client: TestClient, world: World) -> None:
    gid = make_group(client, world)
    make_group(client, world, "ML0207-C02-V01", user="kati")
    for name in ("Awa", "Fanta", "Nana"):
        add_member(client, world, gid, name=name)
    mid = add_member(client, world, gid, name="Djeneba", role="role_model").json()["id"]
    post(client, world, f"/api/v1/nutrition/groups/{gid}/sessions",
         {"date": "2026-03-02", "topics": ["hygiene"], "present": [mid]})
    child = new_child(client, world)
    post(client, world, "/api/v1/nutrition/iycf/recalls", recall_body(child))
    r = client.get("/api/v1/nutrition/community/figures?org_unit=ML0207&period=2026Q1",
                   headers=world.headers("partner"))
    assert r.status_code == 200, r.text
    f = r.json()
    assert f["groups"] == {"groups": 2, "villages_covered": 2, "villages": 4,
                           "village_coverage": 50.0, "women": 4, "role_models": 1,
                           "sessions": 1, "attendance": 1}
    assert f["iycf"]["recalls"] == 1 and f["iycf"]["visit"] == 1
    assert f["iycf"]["indicators"]["MDD"] == {"value": 100.0, "numerator": 1,
                                              "denominator": 1}
    assert f["mnp"]["children_6_23"] == 1 and f["mnp"]["coverage"] == 0.0
    assert client.get("/api/v1/nutrition/community/figures?org_unit=ML0207",
                      headers=world.headers("vacc_mopti")).status_code == 403
    assert client.get("/api/v1/nutrition/community/figures").status_code == 401
    assert client.get("/api/v1/nutrition/community/figures?period=x",
                      headers=world.headers("kati")).status_code == 422
