"""Writes of org units: the shipped Mali seed, DHIS2 imports, target populations."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from importlib import resources
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.errors import DomainError, Message, invalid
from krc.geo.models import COUNTRY, DISTRICT, REGION, OrgUnit, TargetPopulation
from krc.geo.queries import forget_units
from krc.geo.rules import child_path, derive_targets, is_uid, uid_for


def add_unit(session: Session, code: str, name: str, level: int, parent: OrgUnit | None,
             uid: str | None = None, hierarchy: str = "health") -> OrgUnit:
    """Create (or update by code) one org unit under a parent and return it."""
    forget_units(session)
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    uid = uid or (unit.uid if unit else uid_for(code))
    path = child_path(parent.path if parent else None, uid)
    if unit is None:
        unit = OrgUnit(code=code, uid=uid, name=name, level=level, hierarchy=hierarchy,
                       parent_id=parent.id if parent else None, path=path)
        session.add(unit)
    else:
        unit.name, unit.level, unit.uid, unit.path = name, level, uid, path
        unit.parent_id = parent.id if parent else None
    session.flush()
    return unit


def seed_data() -> dict[str, Any]:
    """Return the shipped Mali health-hierarchy seed (regions and health districts)."""
    text = resources.files("krc.geo").joinpath("data/mali_health.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def load_mali_seed(session: Session) -> OrgUnit:
    """Load country, regions, health districts and admin regions; return the country."""
    forget_units(session)
    data = seed_data()
    country = add_unit(session, data["country"]["code"], data["country"]["name"], COUNTRY, None)
    admin: dict[str, OrgUnit] = {}
    for a in data["admin_regions"]:
        admin[a["code"]] = add_unit(session, a["code"], a["name"], REGION, country,
                                    hierarchy="admin")
    for r in data["regions"]:
        region = add_unit(session, r["code"], r["name"], REGION, country)
        for d in r["districts"]:
            district = add_unit(session, d["code"], d["name"], DISTRICT, region)
            district.admin_unit_id = admin[d["admin_region"]].id
    session.flush()
    return country


def import_dhis2_org_units(session: Session, payload: dict[str, Any] | list[Any]) -> int:
    """Import a DHIS2 `organisationUnits` JSON (reference/interop.md §1); return units written.

    Accepts `{"organisationUnits": [...]}` or a bare list; each unit needs `id`, `name`,
    `level` and `parent.id` (except the root); `code` defaults to the uid. Parents may come
    after children in the file. All-or-nothing: any fault raises before anything is kept.
    """
    forget_units(session)
    units = payload.get("organisationUnits", []) if isinstance(payload, dict) else payload
    by_uid: dict[str, dict[str, Any]] = {}
    for i, u in enumerate(units):
        uid = u.get("id") if isinstance(u, dict) else None
        if not isinstance(uid, str) or not is_uid(uid):
            raise invalid(f"organisationUnits[{i}].id", "uid_invalid",
                          "UID DHIS2 invalide à la ligne {i} : {uid}",
                          "Invalid DHIS2 UID at item {i}: {uid}", i=i, uid=uid)
        if not u.get("name"):
            raise invalid(f"organisationUnits[{i}].name", "name_missing",
                          "Nom manquant pour {uid}", "Missing name for {uid}", uid=uid)
        by_uid[uid] = u
    existing = {o.uid: o for o in session.scalars(select(OrgUnit))}
    written: dict[str, OrgUnit] = {}

    def place(uid: str, depth: int = 0) -> OrgUnit:
        if uid in written:
            return written[uid]
        if depth > 20:
            raise DomainError("hierarchy_cycle", Message("Cycle dans la hiérarchie à {uid}",
                                                          "Cycle in the hierarchy at {uid}",
                                                          {"uid": uid}))
        u = by_uid[uid]
        parent_uid = (u.get("parent") or {}).get("id")
        parent: OrgUnit | None = None
        if parent_uid:
            if parent_uid in by_uid:
                parent = place(parent_uid, depth + 1)
            elif parent_uid in existing:
                parent = existing[parent_uid]
            else:
                raise invalid("parent", "parent_unknown", "Parent inconnu {p} pour {uid}",
                              "Unknown parent {p} for {uid}", p=parent_uid, uid=uid)
        level = int(u.get("level") or ((parent.level + 1) if parent else 1))
        unit = add_unit(session, u.get("code") or uid, u["name"], level, parent, uid=uid)
        written[uid] = unit
        return unit

    for uid in by_uid:
        place(uid)
    return len(written)


TARGET_COLUMNS = ("org_unit", "year", "population", "live_births", "surviving_infants",
                  "cohort_12_23")


def load_targets_csv(session: Session, text: str) -> int:
    """Load official target populations from CSV (org_unit code, year, population, ...).

    Missing live_births/surviving_infants/cohort_12_23 cells are derived from the population
    (reference/immunization.md §2). Returns the rows written; refuses the whole file on a fault.
    """
    reader = csv.DictReader(io.StringIO(text))
    missing = {"org_unit", "year", "population"} - set(reader.fieldnames or [])
    if missing:
        raise invalid("file", "columns_missing", "Colonnes manquantes : {c}",
                      "Missing columns: {c}", c=", ".join(sorted(missing)))
    units = {o.code: o for o in session.scalars(select(OrgUnit))}
    rows: list[tuple[OrgUnit, int, dict[str, int]]] = []
    for n, row in enumerate(reader, start=2):
        unit = units.get((row.get("org_unit") or "").strip())
        if unit is None:
            raise invalid("org_unit", "org_unit_unknown", "Ligne {n} : unité inconnue {c}",
                          "Line {n}: unknown org unit {c}", n=n, c=row.get("org_unit"))
        try:
            year = int(row["year"])
            values = {k: int(row[k]) for k in TARGET_COLUMNS[2:] if (row.get(k) or "").strip()}
        except ValueError as exc:
            raise invalid("file", "number_invalid", "Ligne {n} : nombre invalide ({e})",
                          "Line {n}: invalid number ({e})", n=n, e=str(exc)) from exc
        if values.get("population", 0) < 0:
            raise invalid("population", "negative", "Ligne {n} : population négative",
                          "Line {n}: negative population", n=n)
        rows.append((unit, year, values))
    for unit, year, values in rows:
        d = derive_targets(values["population"])
        set_targets(session, unit, year, values["population"],
                    values.get("live_births", d.live_births),
                    values.get("surviving_infants", d.surviving_infants),
                    values.get("cohort_12_23", values.get("surviving_infants", d.cohort_12_23)),
                    source="official")
    return len(rows)


def set_targets(session: Session, unit: OrgUnit, year: int, population: int, live_births: int,
                surviving_infants: int, cohort_12_23: int, source: str = "derived") -> None:
    """Insert or replace the target populations of one org unit and year."""
    row = session.scalar(select(TargetPopulation).where(
        TargetPopulation.org_unit_id == unit.id, TargetPopulation.year == year))
    if row is None:
        row = TargetPopulation(org_unit_id=unit.id, year=year)
        session.add(row)
    row.population, row.live_births = population, live_births
    row.surviving_infants, row.cohort_12_23, row.source = surviving_infants, cohort_12_23, source


def set_derived_targets(session: Session, populations: Iterable[tuple[OrgUnit, int]],
                        year: int) -> None:
    """Set derived targets for each (unit, population) pair for a year."""
    for unit, pop in populations:
        d = derive_targets(pop)
        set_targets(session, unit, year, pop, d.live_births, d.surviving_infants, d.cohort_12_23)
