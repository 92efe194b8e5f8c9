"""Immunization figures from the pre-aggregated facts (reference/immunization.md §2).

Coverage, dropout, zero-dose, RED/REC and timeliness for any org unit and DHIS2 period,
read from dose_fact / delay_fact (never from raw doses at request time).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.db import fetch_rows
from krc.gcpause import paused_gc
from krc.geo.models import DISTRICT, OrgUnit, TargetPopulation
from krc.immunization import indicators as ind
from krc.immunization.facts import FACILITY_BASIS
from krc.immunization.models import DelayFact, DoseFact
from krc.immunization.queries import zero_dose_register_by
from krc.immunization.schedule import ScheduleParams, batch_slots
from krc.results.periods import Period

DROPOUTS = (("PENTA1_PENTA3", ind.PENTA1, ind.PENTA3), ("PENTA1_MCV1", ind.PENTA1, ind.MCV1),
            ("MCV1_MCV2", ind.MCV1, ind.MCV2))


TARGET_KINDS = ("population", "live_births", "surviving_infants", "cohort_12_23")


@dataclass
class TargetTree:
    """Target populations of one year for every unit, summing children where a unit has none.

    The child lists are read only when a unit without its own row is asked for.
    """

    rows: dict[int, dict[str, float]]
    session: Session
    children: dict[int, list[int]] | None = None

    def _children(self) -> dict[int, list[int]]:
        if self.children is None:
            children: dict[int, list[int]] = defaultdict(list)
            for uid, parent in self.session.connection().execute(
                    select(OrgUnit.id, OrgUnit.parent_id).where(OrgUnit.hierarchy == "health")):
                if parent is not None:
                    children[parent].append(uid)
            self.children = dict(children)
        return self.children

    def get(self, unit_id: int) -> dict[str, float]:
        """Return the unit's annual targets (zeros when nothing below it has any)."""
        row = self.rows.get(unit_id)
        if row is not None:
            return dict(row)
        total = dict.fromkeys(TARGET_KINDS, 0.0)
        for c in self._children().get(unit_id, []):
            for k, v in self.get(c).items():
                total[k] += v
        return total


def target_tree(session: Session, year: int) -> TargetTree:
    """Return the target tree of a year (Core rows: thousands of units, no ORM objects)."""
    rows: dict[int, dict[str, float]] = {
        r[0]: {k: float(v) for k, v in zip(TARGET_KINDS, r[1:], strict=True)}
        for r in session.connection().execute(
        select(TargetPopulation.org_unit_id, TargetPopulation.population,
               TargetPopulation.live_births, TargetPopulation.surviving_infants,
               TargetPopulation.cohort_12_23).where(TargetPopulation.year == year))}
    return TargetTree(rows, session)


def units_for(session: Session, unit: OrgUnit, level: int | None) -> list[OrgUnit]:
    """Return the unit itself, or its descendants at `level` (health hierarchy), by name."""
    if level is None or level == unit.level:
        return [unit]
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == level, OrgUnit.hierarchy == "health",
        OrgUnit.path.startswith(unit.path + "/")).order_by(OrgUnit.name)))


def _fact_sums(session: Session, ids: list[int], lo: int, hi: int
               ) -> dict[int, dict[int, dict[tuple[str, int], tuple[int, int]]]]:
    out: dict[int, dict[int, dict[tuple[str, int], tuple[int, int]]]] = defaultdict(
        lambda: defaultdict(dict))
    for i in range(0, len(ids), 900):
        q = select(DoseFact.org_unit_id, DoseFact.period, DoseFact.vaccine, DoseFact.dose,
                   DoseFact.doses, DoseFact.timely).where(
            DoseFact.org_unit_id.in_(ids[i:i + 900]), DoseFact.basis == FACILITY_BASIS,
            DoseFact.period.between(lo, hi))
        for ou, period, vaccine, dose, n, timely in fetch_rows(session, q):
            out[ou][period][(vaccine, dose)] = (n, timely)
    return out


def _delays(session: Session, ids: list[int], lo: int, hi: int) -> dict[int, dict[int, int]]:
    out: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for i in range(0, len(ids), 900):
        q = select(DelayFact.org_unit_id, DelayFact.delay, DelayFact.doses).where(
            DelayFact.org_unit_id.in_(ids[i:i + 900]), DelayFact.period.between(lo, hi))
        for ou, delay, n in session.connection().execute(q):
            out[ou][delay] += n
    return out


def _sum(months: dict[int, dict[tuple[str, int], tuple[int, int]]], lo: int, hi: int
         ) -> dict[tuple[str, int], tuple[int, int]]:
    total: dict[tuple[str, int], list[int]] = defaultdict(lambda: [0, 0])
    for period, by_key in months.items():
        if lo <= period <= hi:
            for key, (n, t) in by_key.items():
                total[key][0] += n
                total[key][1] += t
    return {k: (v[0], v[1]) for k, v in total.items()}


def _pct(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def unit_figures(unit: OrgUnit, period: Period, months: dict[int, dict[tuple[str, int],
                 tuple[int, int]]], delays: dict[int, int], targets: dict[str, float],
                 params: ScheduleParams, thresholds: ind.RedRecThresholds,
                 register: dict[str, int] | None, monthly: bool) -> dict[str, Any]:
    """Return the figures of one unit for a period from its monthly fact sums (pure)."""
    lo, hi = period.fact_range
    clo, chi = period.cumulative_range
    in_period = _sum(months, lo, hi)
    cumulative = _sum(months, clo, chi)
    doses = []
    for vaccine, dose in batch_slots(params):
        key = (vaccine, dose)
        annual = targets[ind.target_kind(vaccine, dose)]
        target = ind.prorated_target(annual, period.last)
        cov = ind.coverage(cumulative.get(key, (0, 0))[0], target)
        doses.append({"vaccine": vaccine, "dose": dose, "doses": in_period.get(key, (0, 0))[0],
                      "cumulative_doses": cov.doses, "target": round(target, 1),
                      "coverage": _pct(cov.percent), "over_100": cov.over_100})
    cum = {k: v[0] for k, v in cumulative.items()}
    dropouts = {}
    for name, a, b in DROPOUTS:
        d = ind.dropout(ind.doses_of(cum, a), ind.doses_of(cum, b))
        dropouts[name] = {"first": d.first, "last": d.last, "percent": _pct(d.percent),
                          "negative": d.negative}
    surviving = ind.prorated_target(targets["surviving_infants"], period.last)
    penta1_cov = ind.coverage(ind.doses_of(cum, ind.PENTA1), surviving).percent
    all_n = sum(v[0] for v in in_period.values())
    all_t = sum(v[1] for v in in_period.values())
    out: dict[str, Any] = {
        "org_unit": {"code": unit.code, "name": unit.name, "level": unit.level},
        "period": period.code,
        "targets": {k: round(v) for k, v in targets.items()},
        "prorated_months": period.last,
        "doses": doses,
        "dropout": dropouts,
        "zero_dose": {
            "aggregate": round(ind.zero_dose_aggregate(surviving, ind.doses_of(cum, ind.PENTA1))),
            "under_immunized": round(ind.under_immunized_aggregate(
                surviving, ind.doses_of(cum, ind.PENTA3))),
            "register": register,
        },
        "red_rec": {"category": ind.red_rec_category(penta1_cov, dropouts["PENTA1_PENTA3"][
            "percent"], thresholds), "penta1_coverage": _pct(penta1_cov)},
        "timeliness": {"doses": all_n, "timely": all_t,
                       "timely_percent": _pct(ind.timeliness(all_t, all_n)),
                       "median_delay_days": ind.median_delay(delays)},
    }
    if monthly:
        series = []
        for m in range(1, 13):
            running = _sum(months, clo, period.yyyymm(m))
            row: dict[str, Any] = {"period": f"{period.year}{m:02d}"}
            for key in (ind.PENTA1, ind.PENTA3, ind.MCV1):
                t = ind.prorated_target(targets[ind.target_kind(*key)], m)
                row[f"{key[0]}{key[1]}"] = _pct(ind.coverage(running.get(key, (0, 0))[0],
                                                             t).percent)
            row["target"] = ind.COVERAGE_GOAL
            series.append(row)
        out["monthly"] = series
    return out


def coverage(session: Session, unit: OrgUnit, period: Period, level: int | None,
             params: ScheduleParams, thresholds: ind.RedRecThresholds = ind.RedRecThresholds(),
             on: date | None = None, with_register: bool = True, monthly: bool = False
             ) -> list[dict[str, Any]]:
    """Return the figures of the unit (or of its descendants at `level`) for a period."""
    units = units_for(session, unit, level)
    ids = [u.id for u in units]
    clo, chi = period.cumulative_range
    sums = _fact_sums(session, ids, clo, period.yyyymm(12) if monthly else chi)
    delays = _delays(session, ids, *period.fact_range)
    tree = target_tree(session, period.year)
    register: dict[int, dict[str, int]] = {}
    if with_register:
        register = zero_dose_register_by(session, units[0].level if units else unit.level,
                                         unit, on or period.end)
    return [unit_figures(u, period, sums.get(u.id, {}), delays.get(u.id, {}), tree.get(u.id),
                         params, thresholds,
                         register.get(u.id, {"zero_dose": 0, "no_vaccine": 0})
                         if with_register else None, monthly) for u in units]


def priority_districts(session: Session, root: OrgUnit, period: Period, params: ScheduleParams,
                       limit: int = 11, basis: str = "aggregate", unranked: bool = False
                       ) -> list[dict[str, Any]]:
    """Return districts ranked by number of zero-dose children, then under-immunized (§2).

    Only a district with zero-dose children counted on that basis is ranked: a district
    with no target population and no dose recorded (one not yet using krc, in a rollout)
    counts none, and ranking such ties would name districts "priority" for lack of data.
    With `unranked` (the national page, which lists every district) they follow the ranked
    ones with `rank` None; otherwise only ranked districts are returned."""
    rows = coverage(session, root, period, DISTRICT, params, with_register=True)

    def key(r: dict[str, Any]) -> tuple[float, float]:
        z = r["zero_dose"]
        if basis == "register":
            return (z["register"]["zero_dose"], z["register"]["no_vaccine"])
        return (z["aggregate"], z["under_immunized"])

    rows.sort(key=key, reverse=True)
    ranked = [r for r in rows if key(r)[0] > 0][:limit]
    rest = [r for r in rows if key(r)[0] <= 0] if unranked else []
    return [{"rank": i + 1 if i < len(ranked) else None, "org_unit": r["org_unit"],
             "zero_dose": r["zero_dose"],
             "penta1_coverage": r["red_rec"]["penta1_coverage"],
             "penta3_coverage": next(d["coverage"] for d in r["doses"]
                                     if (d["vaccine"], d["dose"]) == ind.PENTA3),
             "red_rec": r["red_rec"]["category"]}
            for i, r in enumerate(ranked + rest)]


def monthly_table(session: Session, unit: OrgUnit, year: int, level: int | None,
                  params: ScheduleParams) -> list[dict[str, Any]]:
    """Return, per unit × month, every vaccine-dose's doses and cumulative coverage, the
    three dropouts and the aggregate zero-dose/under-immunized counts, from facts only.

    One fact query for all units and months; this is what a national analyst exports.
    Built with the cyclic garbage collector paused (`krc.gcpause`): ~25,000 small dicts.
    """
    with paused_gc():
        return _monthly_table(session, unit, year, level, params)


def _monthly_table(session: Session, unit: OrgUnit, year: int, level: int | None,
                   params: ScheduleParams) -> list[dict[str, Any]]:
    units = units_for(session, unit, level)
    ids = [u.id for u in units]
    sums = _fact_sums(session, ids, year * 100 + 1, year * 100 + 12)
    tree = target_tree(session, year)
    slots = [(v, d, f"{v}{d}", ind.target_kind(v, d)) for v, d in batch_slots(params)]
    out: list[dict[str, Any]] = []
    no_month: dict[tuple[str, int], tuple[int, int]] = {}
    for u in units:
        months = sums.get(u.id, {})
        targets = tree.get(u.id)
        running: dict[tuple[str, int], int] = defaultdict(int)
        for m in range(1, 13):
            month = months.get(year * 100 + m, no_month)
            for key, (n, _t) in month.items():
                running[key] += n
            cov: dict[str, Any] = {}
            for vaccine, dose, name, kind in slots:
                # ind.coverage over ind.prorated_target, inlined: 21,000 cells per call.
                t = targets[kind] / 12 * m
                cum = running.get((vaccine, dose), 0)
                cov[name] = {"doses": month.get((vaccine, dose), (0, 0))[0], "cumulative": cum,
                             "coverage": round(cum / t * 100, 1) if t > 0 else None}
            surviving = ind.prorated_target(targets["surviving_infants"], m)
            out.append({
                "org_unit": u.code, "period": f"{year}{m:02d}", "doses": cov,
                "dropout": {name: _pct(ind.dropout(running.get(a, 0), running.get(b, 0)).percent)
                            for name, a, b in DROPOUTS},
                "zero_dose": round(ind.zero_dose_aggregate(surviving, running.get(ind.PENTA1, 0))),
                "under_immunized": round(ind.under_immunized_aggregate(
                    surviving, running.get(ind.PENTA3, 0))),
            })
    return out
