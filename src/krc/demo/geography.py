"""Synthetic geography of the demo: CSComs and villages per district, populations, coverage."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from krc.demo import names
from krc.demo.generate import AREAS
from krc.matching import fold

CENSUS_YEAR, CENSUS_POPULATION, GROWTH = 2022, 22_395_485, 0.033
# Share of the population under five: births (CBR 0.041) over five cohorts, thinned by the
# growth of births and by mortality (reference/geography.md "Population and rates").
_SURVIVAL = (0.97, 0.935, 0.925, 0.915, 0.905)
UNDER_FIVE_SHARE = 0.041 * sum(s / (1 + GROWTH) ** a for a, s in enumerate(_SURVIVAL))
PEOPLE_PER_CSCOM = 18_500

# (PENTA3 coverage, PENTA1→PENTA3 dropout) by old region (reference/geography.md: 75–80 %
# nationally, far lower in the north and centre).
REGION_COVERAGE: dict[str, tuple[float, float]] = {
    "ML01": (0.80, 0.08), "ML02": (0.84, 0.07), "ML03": (0.87, 0.06), "ML04": (0.80, 0.08),
    "ML05": (0.66, 0.13), "ML06": (0.45, 0.18), "ML07": (0.55, 0.15), "ML08": (0.22, 0.30),
    "ML09": (0.88, 0.05), "ML10": (0.28, 0.28), "ML11": (0.22, 0.30),
}
# Parts of Mopti hit hardest by insecurity.
LOW_COVERAGE_DISTRICTS = frozenset({"Bandiagara", "Douentza", "Koro", "Bankass", "Ténenkou",
                                    "Youwarou"})
# Relative district populations inside a region (1.0 when not listed; regional capital 1.4).
DISTRICT_WEIGHTS: dict[str, float] = {
    "Kalaban Coro": 1.6, "Kati": 0.75, "Kangaba": 0.6, "Ouéléssébougou": 0.8,
    "Commune I": 1.2, "Commune II": 0.6, "Commune III": 0.5, "Commune IV": 1.0,
    "Commune V": 1.4, "Commune VI": 1.8, "Koutiala": 1.4, "Bougouni": 1.3, "Niono": 1.2,
    "San": 1.2, "Sagabari": 0.5, "Séféto": 0.5, "Oussoubidiagna": 0.6, "Kignan": 0.7,
}


def slug(name: str) -> str:
    """Return a login-friendly slug of a place name ("Commune I" → "commune-i")."""
    return "-".join(fold(name).split())


def population(year: int) -> int:
    """Return Mali's population for a year from the 2022 census and 3.3 % growth."""
    return round(CENSUS_POPULATION * (1 + GROWTH) ** (year - CENSUS_YEAR))


def split(total: int, weights: list[float]) -> list[int]:
    """Return integers proportional to weights summing exactly to total (largest remainder)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    out = [math.floor(r) for r in raw]
    order = sorted(range(len(raw)), key=lambda i: (out[i] - raw[i], i))
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


@dataclass
class VillageSpec:
    """A village to create."""

    code: str
    name: str
    weight: float
    zero_dose: bool


@dataclass
class FacilitySpec:
    """A CSCom (health area) to create, with its villages."""

    code: str
    name: str
    weight: float
    villages: list[VillageSpec] = field(default_factory=list)


@dataclass
class DistrictSpec:
    """A health district of the seed, with its share and planned CSComs."""

    code: str
    name: str
    region_code: str
    region_name: str
    share: float  # of the national population
    facilities: list[FacilitySpec] = field(default_factory=list)
    children: int = 0

    @property
    def area(self) -> str:
        """Return the name-pool area of the district."""
        return names.REGION_AREA.get(self.region_code, names.SOUTH)

    @property
    def coverage(self) -> tuple[float, float]:
        """Return (PENTA3 coverage, PENTA1→3 dropout) planned for the district."""
        p3, drop = REGION_COVERAGE.get(self.region_code, (0.75, 0.1))
        if self.name in LOW_COVERAGE_DISTRICTS:
            p3, drop = p3 * 0.72, drop + 0.06
        return p3, drop


def districts_from_seed(seed: dict[str, Any]) -> list[DistrictSpec]:
    """Return every seed district with its share of the national population."""
    regions = seed["regions"]
    listed = sum(float(r.get("population_share") or 0) for r in regions)
    extra = max(0.0, 1.0 - listed) / len(regions)  # the remainder, spread evenly
    out: list[DistrictSpec] = []
    for r in regions:
        share = float(r.get("population_share") or 0) + extra
        weights = [DISTRICT_WEIGHTS.get(d["name"], 1.4 if d["name"] == r["name"] else 1.0)
                   for d in r["districts"]]
        total = sum(weights)
        for d, w in zip(r["districts"], weights, strict=True):
            out.append(DistrictSpec(d["code"], d["name"], r["code"], r["name"],
                                    share * w / total))
    return out


def plan_facilities(rng: random.Random, district: DistrictSpec, n_facilities: int,
                    villages_per_facility: int | None) -> None:
    """Create the CSCom and village specs of a district (names unique within the district)."""
    used: set[str] = set()
    quartiers = list(names.BAMAKO_QUARTIERS.get(district.name, []))
    area = district.area

    def new_name() -> str:
        while quartiers:
            q = quartiers.pop(0)
            if q not in used:
                used.add(q)
                return q
        for _ in range(200):
            name = names.village_name(rng, area)
            if name not in used and name != district.name:
                used.add(name)
                return name
        name = f"{names.village_name(rng, area)} {len(used)}"
        used.add(name)
        return name

    pocket_rate = 0.03 if area in (names.SOUTH, names.KAYES) else 0.10
    for f in range(n_facilities):
        code = f"{district.code}-C{f + 1:02d}"
        n_vil = villages_per_facility or (4 + min(14, int(rng.expovariate(1 / 6))))
        if quartiers:
            n_vil = min(n_vil, 6)
        first = district.name if f == 0 and not quartiers else new_name()
        if f == 0 and not quartiers:
            used.add(first)
        fac = FacilitySpec(code, f"CSCom {'Central ' if f == 0 else ''}{first}",
                           (1.8 if f == 0 else 1.0) * rng.lognormvariate(0, 0.35))
        for v in range(n_vil):
            vname = first if v == 0 else new_name()
            fac.villages.append(VillageSpec(f"{code}-V{v + 1:02d}", vname,
                                            (2.0 if v == 0 else 1.0) * rng.lognormvariate(0, 0.6),
                                            v > 0 and rng.random() < pocket_rate))
        district.facilities.append(fac)


def village_rates(rng: np.random.Generator, district: DistrictSpec, n: int,
                  pockets: list[bool]) -> dict[str, np.ndarray]:
    """Return per-village access, keep, measles, outreach and phone rates for a district."""
    p3, drop = district.coverage
    keep_d = math.sqrt(1 - drop)
    access_d = min(0.985, p3 / (keep_d**2 * 0.99))
    logit = math.log(access_d / (1 - access_d))
    access = 1 / (1 + np.exp(-(logit + rng.normal(0, 0.55, n))))
    access = np.where(np.asarray(pockets, bool), access * 0.12, access)
    keep = np.clip(keep_d + rng.normal(0, 0.025, n), 0.5, 0.995)
    area = AREAS.index(district.area)
    measles = {0: 0.9, 1: 0.86, 2: 0.8, 3: 0.72}[area] * np.ones(n)
    urban = district.region_code == "ML09"
    outreach = np.full(n, 0.05 if urban else 0.3)
    phone = np.full(n, 0.92 if urban else {0: 0.72, 1: 0.68, 2: 0.6, 3: 0.5}[area])
    return {"access": access, "keep": keep, "measles": measles, "outreach": outreach,
            "phone": phone}
