"""API tests of the first 1,000 days register on SQLite and PostgreSQL: growth-monitoring
visits (z-scores, flags, classification, referrals), referral follow-up, women and their
contacts, figures; every refusal (401, 403 role, 404/403 scope, 422 bad input)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.accounts.models import AuditEvent
from krc.nutrition.growth import r_round, zscores_one
from krc.nutrition.register.models import GrowthVisit, Referral
from tests.conftest import World, child_payload

H = "vacc_kati"


def new_child(client: TestClient, world: World, user: str = H, **over: Any) -> str:
    r = client.post("/api/v1/children", json=child_payload(confirm_new=True, **over),
                    headers=world.headers(user))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def visit(client: TestClient, world: World, cid: str, day: str, user: str = H,
          lang: str = "fr", **over: Any) -> Any:
    body = {"date": day, "weight": 7.5, "lenhei": 66.0, "measure": "l", "muac": 135,
            **over}
    return client.post(f"/api/v1/children/{cid}/growth-visits", json=body,
                       headers=world.headers(user, lang))


def audits(world: World, action: str, entity: str) -> int:
    with world.db.session() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.entity == entity)) or 0)


# --------------------------------------------------------------------------- visits

def test_visit_detecting_sam_creates_a_referral(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01", sex="F")
    vid = str(uuid.uuid4())
    r = visit(client, world, cid, "2026-03-10", id=vid, weight=6.0, lenhei=70.0, muac=118)
    assert r.status_code == 201, r.text
    body = r.json()
    want = zscores_one(2, 282, weight=6.0, lenhei=70.0, measure="l", armc=11.8)
    for key in ("zlen", "zwei", "zwfl", "zbmi", "zac"):
        assert body["zscores"][key] == float(r_round(want[key], 2)), key  # type: ignore[arg-type]
    assert body["flags"]["fwfl"] is False and body["age_days"] == 282
    assert body["classification"]["status"] == "sam"
    assert body["classification"]["criteria"] == ["zwfl"]
    assert body["classification"]["severe_wasting"] is True
    ref = body["referral"]
    assert ref["created"] is True and ref["reason"] == "sam"
    assert ref["destination"] == "otp" and ref["status"] == "open"
    assert ref["visit"] == vid and ref["referred_on"] == "2026-03-10"
    with world.db.session() as s:  # full precision is stored
        stored = s.scalar(select(GrowthVisit.zwfl).where(GrowthVisit.id == uuid.UUID(vid)))
        assert stored == want["zwfl"]
    # A replay answers the same visit and referral, and creates nothing.
    again = visit(client, world, cid, "2026-03-10", id=vid, weight=6.0, lenhei=70.0, muac=118)
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json()["referral"]["id"] == ref["id"]
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(Referral)) == 1
        assert s.scalar(select(func.count()).select_from(GrowthVisit)) == 1
    listed = client.get("/api/v1/nutrition/referrals", headers=world.headers(H)).json()
    assert [x["id"] for x in listed] == [ref["id"]]
    assert listed[0]["child_name"] == "Awa Traoré"
    assert audits(world, "create", "nutrition_referral") == 1


def test_complications_send_sam_to_stabilisation(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    r = visit(client, world, cid, "2026-03-10", muac=110, complications=True)
    assert r.json()["referral"]["destination"] == "stabilisation"
    cid2 = new_child(client, world, birth_date="2025-06-02", given_name="Bintou")
    r = visit(client, world, cid2, "2026-03-10", muac=110, appetite_test="failed")
    assert r.json()["referral"]["destination"] == "stabilisation"


def test_oedema_is_sam_and_weight_zscores_are_missing(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    body = visit(client, world, cid, "2026-03-10", oedema=True).json()
    assert body["zscores"]["zwei"] is None and body["zscores"]["zwfl"] is None
    assert body["zscores"]["zlen"] is not None
    assert body["classification"]["status"] == "sam"
    assert body["classification"]["criteria"] == ["oedema"]
    assert body["referral"]["reason"] == "sam"


def test_mam_goes_to_supplementary_feeding_then_sam_transfers(client: TestClient,
                                                              world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    mam = visit(client, world, cid, "2026-02-01", muac=120).json()
    assert mam["classification"]["status"] == "mam"
    assert mam["referral"]["destination"] == "tsfp"
    # Still MAM a month later: the open referral covers it, no second one.
    again = visit(client, world, cid, "2026-03-01", muac=121).json()
    assert again["referral"]["id"] == mam["referral"]["id"]
    assert again["referral"]["created"] is False
    sam = visit(client, world, cid, "2026-03-12", muac=112).json()
    assert sam["referral"]["reason"] == "sam" and sam["referral"]["created"] is True
    old = client.get(f"/api/v1/nutrition/referrals/{mam['referral']['id']}",
                     headers=world.headers(H)).json()
    assert old["status"] == "closed" and old["outcome"] == "transferred"
    assert old["outcome_on"] == "2026-03-12"


def test_growth_faltering_raises_a_referral(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    assert visit(client, world, cid, "2026-02-01", weight=8.0).json()["referral"] is None
    r = visit(client, world, cid, "2026-03-01", weight=7.0).json()  # WAZ falls ≈ 1
    assert r["faltering"] == ["waz_drop"]
    assert r["classification"]["status"] == "normal"
    assert r["referral"]["reason"] == "faltering"
    assert r["referral"]["destination"] == "assessment"
    assert r["referral"]["criteria"] == ["waz_drop"]


def test_implausible_values_are_kept_and_flagged(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    r = visit(client, world, cid, "2026-03-10", weight=25.0, lenhei=66.0, muac=140)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["flags"]["fwei"] is True and body["flags"]["fwfl"] is True
    assert body["zscores"]["zwei"] is not None and body["zscores"]["zwei"] > 5
    # Flagged z-scores are not used: MUAC 140 alone says normal, no overweight claim.
    assert body["classification"]["status"] == "normal"
    assert body["classification"]["overweight"] is None
    listed = client.get(f"/api/v1/children/{cid}/growth-visits",
                        headers=world.headers(H)).json()
    assert listed[0]["flags"]["fwei"] is True


def test_impossible_measurements_are_refused_with_the_reason(client: TestClient,
                                                              world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    cases: list[tuple[dict[str, Any], str]] = [
             ({"weight": -3}, "weight_not_positive"), ({"weight": 0}, "weight_not_positive"),
             ({"lenhei": 20}, "lenhei_out_of_range"), ({"lenhei": 150}, "lenhei_out_of_range"),
             ({"muac": 12.5}, "muac_impossible"), ({"measure": "s"}, "measure_invalid"),
             ({"date": "2025-05-30"}, "date_before_birth"),
             ({"date": "2026-03-17"}, "date_future")]
    for over, code in cases:
        body: dict[str, Any] = {"date": "2026-03-10", **over}
        day = body.pop("date")
        r = visit(client, world, cid, day, **body)
        assert r.status_code == 422, (over, r.text)
        assert r.json()["code"] == code, r.json()
        assert r.json()["errors"][0]["field"]
    en = visit(client, world, cid, "2026-03-10", lang="en", weight=-3)
    assert en.json()["title"].startswith("The weight must be above 0 kg")
    fr = visit(client, world, cid, "2026-03-10", weight=-3)
    assert fr.json()["title"].startswith("Le poids doit être supérieur à 0 kg")
    r = client.post(f"/api/v1/children/{cid}/growth-visits", headers=world.headers(H),
                    json={"date": "2026-03-10", "weight": "lourd"})
    assert r.status_code == 422
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(GrowthVisit)) == 0
    assert visit(client, world, cid, "2026-03-10").status_code == 201
    dup = visit(client, world, cid, "2026-03-10", weight=7.6)
    assert dup.status_code == 422 and dup.json()["code"] == "visit_already_recorded"


def test_visit_refusals_auth_role_scope(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    url = f"/api/v1/children/{cid}/growth-visits"
    body = {"date": "2026-03-10", "weight": 7.5}
    assert client.post(url, json=body).status_code == 401
    assert client.get(url).status_code == 401
    assert client.post(url, json=body, headers=world.headers("partner")).status_code == 403
    assert client.get(url, headers=world.headers("partner")).status_code == 403
    assert client.post(url, json=body, headers=world.headers("vacc_mopti")).status_code == 404
    assert client.get(url, headers=world.headers("vacc_mopti")).status_code == 404
    r = client.post(url, json={**body, "facility": "ML0501-C01"}, headers=world.headers("kati"))
    assert r.status_code == 403  # a facility outside the caller's area
    r = client.post(url, json={**body, "facility": "ML0207"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "org_unit_wrong_level"
    missing = f"/api/v1/children/{uuid.uuid4()}/growth-visits"
    assert client.post(missing, json=body, headers=world.headers(H)).status_code == 404
    # the id of a visit of another child is refused
    vid = str(uuid.uuid4())
    assert visit(client, world, cid, "2026-03-01", id=vid).status_code == 201
    other = new_child(client, world, birth_date="2025-06-02", given_name="Bintou")
    r = visit(client, world, other, "2026-03-01", id=vid)
    assert r.status_code == 409 and r.json()["code"] == "id_taken"


def test_reading_a_childs_visits_is_audited(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    visit(client, world, cid, "2026-03-01", muac=110)
    before = audits(world, "read", "child_nutrition")
    rows = client.get(f"/api/v1/children/{cid}/growth-visits",
                      headers=world.headers("national")).json()
    assert len(rows) == 1 and rows[0]["referral"]["reason"] == "sam"
    assert audits(world, "read", "child_nutrition") == before + 1


# --------------------------------------------------------------------------- referrals

def test_referral_followed_to_outcome(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    ref = visit(client, world, cid, "2026-02-01", muac=110).json()["referral"]
    url = f"/api/v1/nutrition/referrals/{ref['id']}"
    r = client.patch(url, json={"outcome": "recovered"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "referral_not_attended"
    assert "l'issue « guéri » est impossible" in r.json()["title"]
    r = client.patch(url, json={"status": "attended", "attended_on": "2026-01-30"},
                     headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "date_before_referral"
    r = client.patch(url, json={"status": "attended", "attended_on": "2026-02-03"},
                     headers=world.headers(H))
    assert r.status_code == 200 and r.json()["status"] == "attended"
    # Discharge criterion (admitted on MUAC): MUAC ≥ 125 mm, no oedema.
    later = visit(client, world, cid, "2026-03-05", muac=127).json()
    assert later["classification"]["status"] == "normal"
    got = client.get(url, headers=world.headers(H)).json()
    assert got["discharge_met_on"] == "2026-03-05"
    r = client.patch(url, json={"outcome": "recovered", "outcome_on": "2026-03-06",
                                "notes": "Guéri, sortie du PTA"}, headers=world.headers(H))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "closed" and r.json()["outcome"] == "recovered"
    r = client.patch(url, json={"outcome": "died"}, headers=world.headers(H))
    assert r.status_code == 409 and r.json()["code"] == "referral_closed"
    assert audits(world, "update", "nutrition_referral") == 2
    closed = client.get("/api/v1/nutrition/referrals", params={"status": "closed"},
                        headers=world.headers(H)).json()
    assert [x["id"] for x in closed] == [ref["id"]]
    assert client.get("/api/v1/nutrition/referrals", params={"status": "active"},
                      headers=world.headers(H)).json() == []


def test_referral_destination_after_assessment_and_default(client: TestClient,
                                                           world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    ref = visit(client, world, cid, "2026-03-01", muac=110).json()["referral"]
    url = f"/api/v1/nutrition/referrals/{ref['id']}"
    r = client.patch(url, json={"appetite_test": "failed"}, headers=world.headers(H))
    assert r.json()["destination"] == "stabilisation"
    r = client.patch(url, json={"outcome": "defaulted", "outcome_on": "2026-03-15"},
                     headers=world.headers(H))
    assert r.json()["outcome"] == "defaulted"
    r = client.patch(url, json={"outcome": "cured"}, headers=world.headers(H))
    assert r.status_code == 422
    mam = new_child(client, world, birth_date="2025-06-02", given_name="Bintou")
    mref = visit(client, world, mam, "2026-03-01", muac=120).json()["referral"]
    r = client.patch(f"/api/v1/nutrition/referrals/{mref['id']}",
                     json={"complications": True}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "not_sam"


def test_referral_refusals(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    ref = visit(client, world, cid, "2026-03-01", muac=110).json()["referral"]
    url = f"/api/v1/nutrition/referrals/{ref['id']}"
    assert client.get(url).status_code == 401
    assert client.patch(url, json={"status": "attended"}).status_code == 401
    assert client.get(url, headers=world.headers("partner")).status_code == 403
    assert client.patch(url, json={"status": "attended"},
                        headers=world.headers("partner")).status_code == 403
    assert client.get(url, headers=world.headers("vacc_mopti")).status_code == 404
    assert client.patch(url, json={"status": "attended"},
                        headers=world.headers("vacc_mopti")).status_code == 404
    assert client.get("/api/v1/nutrition/referrals",
                      headers=world.headers("vacc_mopti")).json() == []
    r = client.get("/api/v1/nutrition/referrals", params={"org_unit": "ML0207"},
                   headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    r = client.get("/api/v1/nutrition/referrals", params={"status": "lost"},
                   headers=world.headers(H))
    assert r.status_code == 422
    assert client.get("/api/v1/nutrition/referrals", headers=world.headers("partner")
                      ).status_code == 403
    r = client.patch(url, json={"status": "attended", "attended_on": "2026-03-20"},
                     headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "date_future"
    r = client.patch(url, json={"status": "closed"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "outcome_missing"
    r = client.patch(f"/api/v1/nutrition/referrals/{uuid.uuid4()}", json={"notes": "x"},
                     headers=world.headers(H))
    assert r.status_code == 404


# --------------------------------------------------------------------------- women

def woman_body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"given_name": "Mariam", "family_name": "Diarra", "age_years": 24,
                            "phone": "76 11 22 33", "facility": "ML0207-C01",
                            "village": "ML0207-C01-V02", "status": "pregnant",
                            "expected_delivery": "2026-06-20"}
    body.update(over)
    return body


def test_pregnant_woman_contacts_outcome_and_newborn(client: TestClient, world: World) -> None:
    wid = str(uuid.uuid4())
    r = client.post("/api/v1/nutrition/women", json=woman_body(id=wid),
                    headers=world.headers(H))
    assert r.status_code == 201, r.text
    assert r.json()["phone"] == "+22376112233" and r.json()["village"]["name"] == "Sébénikoro"
    again = client.post("/api/v1/nutrition/women", json=woman_body(id=wid),
                        headers=world.headers(H))
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    url = f"/api/v1/nutrition/women/{wid}/contacts"
    c1 = client.post(url, json={"date": "2026-01-10", "iron_folic_acid": True,
                                "ifa_tablets": 90, "muac_mm": 225, "counselling": True},
                     headers=world.headers(H))
    assert c1.status_code == 201, c1.text
    assert c1.json()["muac_at_risk"] is True and c1.json()["kind"] == "antenatal"
    assert c1.json()["number"] == 1
    c2 = client.post(url, json={"date": "2026-02-10", "muac_mm": 232},
                     headers=world.headers(H)).json()
    assert c2["muac_at_risk"] is False and c2["number"] == 2
    dup = client.post(url, json={"date": "2026-02-10"}, headers=world.headers(H))
    assert dup.status_code == 422 and dup.json()["code"] == "contact_already_recorded"
    bad = client.post(url, json={"date": "2026-02-11", "muac_mm": 23},
                      headers=world.headers(H))
    assert bad.status_code == 422 and bad.json()["code"] == "muac_impossible"
    card = client.get(f"/api/v1/nutrition/women/{wid}", headers=world.headers(H)).json()
    assert card["contacts"] == 2 and card["last_muac_at_risk"] is False
    assert [c["date"] for c in card["contact_list"]] == ["2026-01-10", "2026-02-10"]
    assert audits(world, "read", "nutrition_woman") == 1
    # Birth: the outcome and the newborn, a child of the immunization register.
    baby = new_child(client, world, birth_date="2026-03-02", given_name="Fanta",
                     family_name="Diarra", caregiver_name="Mariam Diarra")
    r = client.patch(f"/api/v1/nutrition/women/{wid}",
                     json={"outcome": "live_birth", "outcome_on": "2026-03-02", "child": baby},
                     headers=world.headers(H))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "breastfeeding" and r.json()["child"] == baby
    r = client.patch(f"/api/v1/nutrition/women/{wid}", json={"outcome": "stillbirth"},
                     headers=world.headers(H))
    assert r.status_code == 409
    c3 = client.post(url, json={"date": "2026-03-10"}, headers=world.headers(H)).json()
    assert c3["kind"] == "postnatal"
    listed = client.get("/api/v1/nutrition/women", params={"status": "breastfeeding"},
                        headers=world.headers("kati")).json()
    assert [w["id"] for w in listed] == [wid]


def test_woman_refusals(client: TestClient, world: World) -> None:
    r = client.post("/api/v1/nutrition/women", json=woman_body())
    assert r.status_code == 401
    r = client.post("/api/v1/nutrition/women", json=woman_body(),
                    headers=world.headers("partner"))
    assert r.status_code == 403
    r = client.post("/api/v1/nutrition/women", json=woman_body(facility="ML0501-C01",
                                                               village=None),
                    headers=world.headers(H))
    assert r.status_code == 403
    cases = [(woman_body(age_years=None), "age_missing"),
             (woman_body(expected_delivery=None), "expected_delivery_missing"),
             (woman_body(expected_delivery="2027-06-01"), "expected_delivery_implausible"),
             (woman_body(village="ML0207-C02-V01"), "village_not_in_facility"),
             (woman_body(status="breastfeeding", expected_delivery=None,
                         child=str(uuid.uuid4())), "child_not_found")]
    for body, code in cases:
        r = client.post("/api/v1/nutrition/women", json=body, headers=world.headers(H))
        assert r.status_code == 422 and r.json()["code"] == code, (code, r.text)
    r = client.post("/api/v1/nutrition/women", json=woman_body(), headers=world.headers(H))
    wid = r.json()["id"]
    for user in ("vacc_mopti",):
        assert client.get(f"/api/v1/nutrition/women/{wid}",
                          headers=world.headers(user)).status_code == 404
        assert client.post(f"/api/v1/nutrition/women/{wid}/contacts", json={
            "date": "2026-03-01"}, headers=world.headers(user)).status_code == 404
        assert client.patch(f"/api/v1/nutrition/women/{wid}", json={"status": "closed"},
                            headers=world.headers(user)).status_code == 404
    assert client.get(f"/api/v1/nutrition/women/{wid}/contacts",
                      headers=world.headers("partner")).status_code == 403
    assert client.get("/api/v1/nutrition/women", params={"org_unit": "ML0207"},
                      headers=world.headers("vacc_mopti")).status_code == 403
    assert client.get("/api/v1/nutrition/women", params={"status": "x"},
                      headers=world.headers(H)).status_code == 422
    r = client.post(f"/api/v1/nutrition/women/{wid}/contacts", json={"date": "2026-04-01"},
                    headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "date_future"
    # A child of another district cannot be linked as the newborn.
    mopti_child = new_child(client, world, user="vacc_mopti", facility="ML0501-C01",
                            village=None)
    r = client.patch(f"/api/v1/nutrition/women/{wid}", json={"child": mopti_child},
                     headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "child_not_found"


# --------------------------------------------------------------------------- figures

def test_figures_per_unit_and_period(client: TestClient, world: World) -> None:
    a = new_child(client, world, birth_date="2025-06-01")
    b = new_child(client, world, birth_date="2025-07-01", given_name="Bintou")
    c = new_child(client, world, user="kati", birth_date="2025-05-01", given_name="Oumou",
                  facility="ML0207-C02", village=None)
    assert visit(client, world, a, "2026-02-02", muac=110).status_code == 201  # SAM
    assert visit(client, world, a, "2026-03-02", muac=130).status_code == 201
    assert visit(client, world, b, "2026-03-03", weight=6.0, lenhei=70.0).status_code == 201
    assert visit(client, world, c, "2026-03-04", muac=120, user="kati").status_code == 201
    assert visit(client, world, c, "2026-03-05", weight=25.0, user="kati").status_code == 201
    ref = client.get("/api/v1/nutrition/referrals", params={"status": "active"},
                     headers=world.headers("kati")).json()
    first = next(x for x in ref if x["child"] == a)
    client.patch(f"/api/v1/nutrition/referrals/{first['id']}",
                 json={"status": "attended", "attended_on": "2026-02-05"},
                 headers=world.headers("kati"))
    r = client.get("/api/v1/nutrition/figures", params={"org_unit": "ML0207",
                                                        "period": "2026Q1", "level": 4},
                   headers=world.headers("partner"))
    assert r.status_code == 200, r.text
    data = r.json()
    t = data["totals"]
    assert t["children_monitored"] == 3 and t["visits"] == 5
    assert t["sam"] == {"detected": 2, "referred": 2, "percent_referred": 100.0}
    assert t["mam"]["detected"] == 1 and t["mam"]["referred"] == 1
    assert t["referrals"]["made"] == 3 and t["referrals"]["attended"] == 1
    assert t["referrals"]["completion_percent"] == 33.3
    # Latest visits: a not wasted, b severely wasted, c flagged (weight 25 kg) → excluded.
    assert t["wasting"]["measured"] == 2 and t["wasting"]["cases"] == 1
    assert t["wasting"]["severe"] == 1 and t["wasting"]["percent"] == 50.0
    assert t["flagged_excluded"] == 1
    assert t["monitored_monthly"]["months"][2]["monitored"] == 3
    assert t["monitored_monthly"]["months"][2]["children_0_23"] == 3
    rows = {x["org_unit"]["code"]: x for x in data["rows"]}
    assert rows["ML0207-C01"]["children_monitored"] == 2
    assert rows["ML0207-C02"]["children_monitored"] == 1
    assert "community" in data
    # Scope, role-free aggregate read, bad input.
    assert client.get("/api/v1/nutrition/figures", params={"period": "2026"}
                      ).status_code == 401
    r = client.get("/api/v1/nutrition/figures", params={"org_unit": "ML0207", "period": "2026"},
                   headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    r = client.get("/api/v1/nutrition/figures", params={"org_unit": "ML0207",
                                                        "period": "2026W3"},
                   headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "period_invalid"
    mopti = client.get("/api/v1/nutrition/figures", params={"period": "2026"},
                       headers=world.headers("vacc_mopti")).json()
    assert mopti["totals"]["children_monitored"] == 0


# --------------------------------------------------------------------------- voiding a visit

def void(client: TestClient, world: World, cid: str, vid: str, reason: str | None = "typo",
         user: str | None = H, lang: str = "fr", body: bool = False) -> Any:
    url = f"/api/v1/children/{cid}/growth-visits/{vid}"
    headers = world.headers(user, lang) if user else {}
    if body:
        return client.request("DELETE", url, json={"reason": reason}, headers=headers)
    params = {"reason": reason} if reason is not None else {}
    return client.delete(url, params=params, headers=headers)


def test_voiding_a_visit_closes_its_referral_and_is_audited(client: TestClient,
                                                           world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    sam = visit(client, world, cid, "2026-03-10", muac=110).json()  # a typo: 110 for 130
    assert sam["referral"]["status"] == "open"
    r = void(client, world, cid, sam["id"], reason="PB 130 saisi 110", body=True)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["voided"] is True and out["void_reason"] == "PB 130 saisi 110"
    assert out["referral"]["status"] == "closed"
    assert out["referral"]["outcome"] == "entered_in_error"
    assert audits(world, "void", "growth_visit") == 1
    assert audits(world, "update", "nutrition_referral") == 1
    with world.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.action == "void"))
        assert event is not None and event.detail["values"]["muac"] == 110  # type: ignore[index]
    # Idempotent: the same answer, no second audit.
    again = void(client, world, cid, sam["id"], reason="autre raison")
    assert again.status_code == 200 and again.json()["void_reason"] == "PB 130 saisi 110"
    assert audits(world, "void", "growth_visit") == 1
    # Listed, flagged; the corrected visit can be entered the same day.
    rows = client.get(f"/api/v1/children/{cid}/growth-visits", headers=world.headers(H)).json()
    assert [x["voided"] for x in rows] == [True]
    fixed = visit(client, world, cid, "2026-03-10", muac=130)
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["referral"] is None
    # The referral list shows the closed referral with its outcome.
    listed = client.get("/api/v1/nutrition/referrals", headers=world.headers(H)).json()
    assert [x["outcome"] for x in listed] == ["entered_in_error"]


def test_an_attended_referral_stays_open_when_its_visit_is_voided(client: TestClient,
                                                                  world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    sam = visit(client, world, cid, "2026-03-01", muac=110).json()
    client.patch(f"/api/v1/nutrition/referrals/{sam['referral']['id']}",
                 json={"status": "attended", "attended_on": "2026-03-02"},
                 headers=world.headers(H))
    out = void(client, world, cid, sam["id"]).json()
    assert out["voided"] is True and out["referral"]["status"] == "attended"


def test_a_voided_visit_no_longer_counts_in_faltering_nor_figures(client: TestClient,
                                                                  world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    assert visit(client, world, cid, "2026-01-05", weight=7.6).status_code == 201
    typo = visit(client, world, cid, "2026-02-02", weight=9.0, muac=110).json()  # 9.0 for 7.9
    assert typo["classification"]["status"] == "sam"
    params = {"org_unit": "ML0207", "period": "2026Q1"}
    before = client.get("/api/v1/nutrition/figures", params=params,
                        headers=world.headers("kati")).json()["totals"]
    assert before["visits"] == 2 and before["sam"]["detected"] == 1
    assert before["referrals"]["made"] == 1
    assert void(client, world, cid, typo["id"]).status_code == 200
    # Compared with the voided 9.0 kg the next weight would be a WAZ drop; with 7.6 it is not.
    nxt = visit(client, world, cid, "2026-03-02", weight=8.1).json()
    assert nxt["faltering"] == [] and nxt["referral"] is None
    after = client.get("/api/v1/nutrition/figures", params=params,
                       headers=world.headers("kati")).json()["totals"]
    assert after["visits"] == 2 and after["sam"]["detected"] == 0
    assert after["referrals"]["made"] == 0 and after["faltering"] == 0


def test_void_refusals(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    vid = visit(client, world, cid, "2026-03-10").json()["id"]
    assert void(client, world, cid, vid, user=None).status_code == 401
    assert void(client, world, cid, vid, user="partner").status_code == 403
    assert void(client, world, cid, vid, user="vacc_mopti").status_code == 404  # other area
    assert void(client, world, cid, str(uuid.uuid4())).status_code == 404
    other = new_child(client, world, birth_date="2025-06-02", given_name="Bintou")
    assert void(client, world, other, vid).status_code == 404  # not this child's visit
    r = void(client, world, cid, vid, reason="  ")
    assert r.status_code == 422 and r.json()["code"] == "reason_missing"
    assert "raison" in r.text
    r = void(client, world, cid, vid, reason=None, lang="en")
    assert r.status_code == 422 and "reason" in r.text
    r = void(client, world, cid, vid, reason="", body=True, lang="en")
    assert r.status_code == 422 and "Give the reason" in r.text
    assert audits(world, "void", "growth_visit") == 0


def test_correcting_a_contact_is_audited_and_rederives_the_risk(client: TestClient,
                                                               world: World) -> None:
    wid = client.post("/api/v1/nutrition/women", json=woman_body(),
                      headers=world.headers(H)).json()["id"]
    url = f"/api/v1/nutrition/women/{wid}/contacts"
    first = client.post(url, json={"date": "2026-01-10", "muac_mm": 232},
                        headers=world.headers(H)).json()
    second = client.post(url, json={"date": "2026-02-10", "ifa_tablets": 30},
                         headers=world.headers(H)).json()
    assert first["muac_at_risk"] is False
    # 232 mm was mistyped for 223 mm: below the 230 mm threshold, so the woman is at risk.
    r = client.patch(f"{url}/{first['id']}", json={"muac_mm": 223, "ifa_tablets": 60,
                                                  "reason": "PB mal saisi"},
                     headers=world.headers(H))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["muac_mm"] == 223 and body["muac_at_risk"] is True
    assert body["ifa_tablets"] == 60 and body["iron_folic_acid"] is True
    assert body["date"] == "2026-01-10" and body["number"] == 1
    with world.db.session() as s:
        event = s.scalars(select(AuditEvent).where(
            AuditEvent.action == "update", AuditEvent.entity == "nutrition_woman_contact",
            AuditEvent.entity_id == first["id"])).one()
    assert event.detail["reason"] == "PB mal saisi"
    assert event.detail["before"]["muac_mm"] == 232
    assert event.detail["before"]["ifa_tablets"] is None
    # Moved to its right day: it becomes the later contact; fields not sent are kept.
    r = client.patch(f"{url}/{first['id']}", json={"date": "2026-02-20", "reason": "jour"},
                     headers=world.headers(H))
    assert r.status_code == 200 and r.json()["number"] == 2
    assert r.json()["muac_mm"] == 223 and r.json()["ifa_tablets"] == 60
    card = client.get(f"/api/v1/nutrition/women/{wid}", headers=world.headers(H)).json()
    assert [c["date"] for c in card["contact_list"]] == ["2026-02-10", "2026-02-20"]
    assert card["last_muac_at_risk"] is True
    # Clearing a value sent as null is a correction too.
    r = client.patch(f"{url}/{second['id']}", json={"ifa_tablets": None,
                                                   "iron_folic_acid": False,
                                                   "reason": "pas de comprimés"},
                     headers=world.headers(H, "en"))
    assert r.status_code == 200 and r.json()["ifa_tablets"] is None
    assert r.json()["iron_folic_acid"] is False


def test_contact_correction_refusals(client: TestClient, world: World) -> None:
    wid = client.post("/api/v1/nutrition/women", json=woman_body(),
                      headers=world.headers(H)).json()["id"]
    url = f"/api/v1/nutrition/women/{wid}/contacts"
    cid = client.post(url, json={"date": "2026-01-10"}, headers=world.headers(H)).json()["id"]
    client.post(url, json={"date": "2026-02-10"}, headers=world.headers(H))
    before = audits(world, "update", "nutrition_woman_contact")
    cases = [
        ({"muac_mm": 220}, "reason_missing"),
        ({"muac_mm": 220, "reason": "  "}, "reason_missing"),
        ({"date": "2026-02-10", "reason": "jour"}, "contact_already_recorded"),
        ({"date": "2026-04-01", "reason": "jour"}, "date_future"),
        ({"muac_mm": 23, "reason": "PB"}, "muac_impossible"),
        ({"facility": "NOPE", "reason": "lieu"}, "org_unit_unknown"),
        ({"facility": "ML0207-C01-V02", "reason": "lieu"}, "org_unit_wrong_level"),
    ]
    for body, code in cases:
        r = client.patch(f"{url}/{cid}", json=body, headers=world.headers(H, "en"))
        assert r.status_code == 422 and r.json()["code"] == code, (code, r.text)
    r = client.patch(f"{url}/{cid}", json={"muac_mm": 220, "reason": "x", "extra": 1},
                     headers=world.headers(H))
    assert r.status_code == 422
    r = client.patch(f"{url}/{cid}", json={"facility": "ML0501-C01", "reason": "lieu"},
                     headers=world.headers(H))
    assert r.status_code == 403  # a facility outside the caller's area
    assert client.patch(f"{url}/{cid}", json={"reason": "x"}).status_code == 401
    assert client.patch(f"{url}/{cid}", json={"reason": "x"},
                        headers=world.headers("partner")).status_code == 403
    assert client.patch(f"{url}/{cid}", json={"reason": "x"},
                        headers=world.headers("vacc_mopti")).status_code == 404
    assert client.patch(f"{url}/{uuid.uuid4()}", json={"reason": "x"},
                        headers=world.headers(H)).status_code == 404
    other = client.post("/api/v1/nutrition/women", json=woman_body(given_name="Awa"),
                        headers=world.headers(H)).json()["id"]
    # A contact id under another woman's address is not found either.
    assert client.patch(f"/api/v1/nutrition/women/{other}/contacts/{cid}", json={
        "reason": "x"}, headers=world.headers(H)).status_code == 404
    assert audits(world, "update", "nutrition_woman_contact") == before
