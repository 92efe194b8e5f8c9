"""Vectorised generation of synthetic children and their doses (pure: numpy in, numpy out).

One call of `generate_chunk` draws the children of a run of villages, simulates their visits
(birth, 6, 10 and 14 weeks, 9 and 15 months) with region- and village-dependent access,
dropout, delays, stock-outs and early (invalid) doses, adds duplicate registrations with
misspelt names, then assesses every dose with the rules of krc.immunization.schedule
(vectorised here, checked against `assess_doses` by the tests and by `build_demo`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

import numpy as np
import numpy.typing as npt

from krc.demo import names
from krc.immunization import dose_days
from krc.immunization.schedule import (
    Age,
    ScheduleParams,
    batch_slots,
    evaluate_batch,
    rule_for,
    to_epoch_day,
)

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]

AREAS = (names.SOUTH, names.KAYES, names.CENTRE, names.NORTH)
STRATEGIES = ("fixed", "outreach", "mobile")
# Reason codes of invalid doses, in the words of assess_doses (index 0 = valid).
REASONS = ("", "before_minimum_age", "previous_dose_missing", "interval_too_short",
           "product_two_doses", "unknown_dose")
_BEFORE_MIN, _PREV_MISSING, _TOO_SHORT, _TWO_DOSES, _UNKNOWN = 1, 2, 3, 4, 5
MAX_AGE_DAYS = 5 * 365  # children under five


@dataclass
class Plan:
    """Where children live and how well each village is served (one entry per village)."""

    village_id: I64
    facility_id: I64
    district: I64  # index into district arrays
    area: I64  # index into AREAS
    access: F64  # probability of a first infant visit (PENTA1)
    keep: F64  # probability of coming back for the next infant visit
    measles: F64  # probability of the 9-month visit after the third infant visit
    outreach: F64  # share of doses given in outreach
    phone: F64  # share of caregivers with a phone
    children: I64  # children to draw in the village
    district_malaria: B  # per district: MALARIA offered
    district_fac_start: I64  # per district: slice of district_facilities
    district_fac_count: I64
    district_facilities: I64


@dataclass
class Chunk:
    """Children and doses of one chunk, as arrays ready for loading."""

    pk: I64
    uuid: npt.NDArray[np.uint8]  # (n, 16)
    given_name: list[str]
    family_name: list[str]
    sex: list[str]
    birth: I64  # epoch days
    caregiver: list[str]
    phone: list[str | None]
    facility_id: I64
    village_id: I64
    created: I64  # epoch seconds
    first_dose: I64  # epoch day or -1
    penta1: I64
    penta3: I64
    mcv1: I64
    dose_days: list[str]  # krc.immunization.dose_days of the valid doses
    duplicate_of: I64  # pk of the original record, or -1
    # doses (one entry per recorded dose)
    d_child: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_slot: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_day: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_facility: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_strategy: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_reason: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_delay: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    d_uuid: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 16), np.uint8))

    @property
    def children(self) -> int:
        """Return the number of children in the chunk."""
        return int(self.pk.shape[0])

    @property
    def doses(self) -> int:
        """Return the number of doses in the chunk."""
        return int(self.d_child.shape[0])


def add_months_days(days: I64, months: int) -> I64:
    """Return epoch days plus calendar months, clamped to the month end (like add_months)."""
    as_dates = days.astype("datetime64[D]")
    month = as_dates.astype("datetime64[M]")
    day_index = (as_dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.timedelta64(months, "M")
    start = target.astype("datetime64[D]").astype(np.int64)
    length = (target + np.timedelta64(1, "M")).astype("datetime64[D]").astype(np.int64) - start
    return start + np.minimum(day_index, length - 1)


def after(days: I64, age: Age) -> I64:
    """Vectorised Age.after on epoch days."""
    out = add_months_days(days, age.months) if age.months else days.copy()
    return out + age.days


def random_uuids(rng: np.random.Generator, n: int) -> npt.NDArray[np.uint8]:
    """Return n version-4-shaped UUIDs (as (n, 16) bytes) drawn from the generator."""
    raw = rng.integers(0, 256, size=(n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    return raw


def _zipf_choice(rng: np.random.Generator, size: int, n: int) -> I64:
    weights = 1.0 / (np.arange(size) + 2.0) ** 0.7
    return rng.choice(size, n, p=weights / weights.sum())


def _pick_names(rng: np.random.Generator, area: I64, pools: dict[str, list[str]]) -> list[str]:
    out: list[str] = [""] * len(area)
    for a, key in enumerate(AREAS):
        idx = np.flatnonzero(area == a)
        if idx.size == 0:
            continue
        pool = pools[key]
        picks = _zipf_choice(rng, len(pool), idx.size)
        for i, p in zip(idx.tolist(), picks.tolist(), strict=True):
            out[i] = pool[p]
    return out


def _delays(rng: np.random.Generator, n: int, slow: F64) -> I64:
    """Days after the scheduled visit: mostly on time, a tail of late and very late visits."""
    u = rng.random(n)
    d = np.where(u < 0.55, rng.exponential(4.0, n),
                 np.where(u < 0.88, rng.exponential(20.0, n), 30 + rng.exponential(90.0, n)))
    return (d * slow).astype(np.int64)


def generate_chunk(rng: np.random.Generator, plan: Plan, v0: int, v1: int, pk0: int,
                   today: date, params: ScheduleParams, dup_rate: float = 0.012) -> Chunk:
    """Draw the children of villages [v0, v1) (pks from pk0) and their doses."""
    pyrng = random.Random(int(rng.integers(2**62)))
    counts = plan.children[v0:v1]
    vi = np.repeat(np.arange(v0, v1), counts)
    n = int(vi.shape[0])
    today_d = to_epoch_day(today)
    district = plan.district[vi]
    area = plan.area[vi]
    facility = plan.facility_id[vi]

    # ---- who: birth dates (slightly more young children: growth), sex, names, caregiver
    u = rng.random(n)
    k = 0.06 / 365  # births grow ~3 %/year and mortality thins older cohorts
    age = (-np.log(1 - u * (1 - np.exp(-k * MAX_AGE_DAYS))) / k).astype(np.int64)
    birth = today_d - np.minimum(age, MAX_AGE_DAYS - 1)
    is_girl = rng.random(n) < 0.494
    boys, girls = _pick_names(rng, area, names.BOYS), _pick_names(rng, area, names.GIRLS)
    given = [g if f else b for b, g, f in zip(boys, girls, is_girl.tolist(), strict=True)]
    family = _pick_names(rng, area, names.FAMILY_NAMES)
    mother_given = _pick_names(rng, area, names.GIRLS)
    mother_family = _pick_names(rng, area, names.FAMILY_NAMES)
    caregiver = [f"{g} {f}" for g, f in zip(mother_given, mother_family, strict=True)]
    for i in np.flatnonzero(rng.random(n) < 0.08).tolist():  # spellings vary on forms
        family[i] = names.variant(pyrng, family[i], names.FAMILY_VARIANTS)
    has_phone = rng.random(n) < plan.phone[vi]
    prefix = np.asarray(names.PHONE_PREFIXES)[rng.integers(0, len(names.PHONE_PREFIXES), n)]
    number = prefix * 1_000_000 + rng.integers(0, 1_000_000, n)
    phone: list[str | None] = [f"+223{x:08d}" if h else None
                               for x, h in zip(number.tolist(), has_phone.tolist(), strict=True)]

    # ---- visits
    slots = batch_slots(params)
    col = {s: j for j, s in enumerate(slots)}
    n_slots = len(slots)
    given_day = np.full((n, n_slots), -1, np.int64)
    dose_fac = np.zeros((n, n_slots), np.int64)
    dose_strat = np.zeros((n, n_slots), np.int64)
    contact = np.full((n, n_slots), -1, np.int64)
    access, keep, measles = plan.access[vi], plan.keep[vi], plan.measles[vi]
    slow = np.where(area == 3, 1.6, np.where(area == 2, 1.3, 1.0))
    fac_start = plan.district_fac_start[district]
    fac_count = plan.district_fac_count[district]

    def visit_place(mask: B) -> tuple[I64, I64]:
        other = plan.district_facilities[fac_start + rng.integers(0, 1 << 30, n) % fac_count]
        fac = np.where(rng.random(n) < 0.06, other, facility)
        strat = np.where(rng.random(n) < plan.outreach[vi], 1, 0)
        strat = np.where((area == 3) & (rng.random(n) < 0.15), 2, strat)
        return np.where(mask, fac, facility), strat

    def give(slot: tuple[str, int], mask: B, day: I64, fac: I64, strat: I64, k_: int) -> None:
        j = col[slot]
        m = mask & (given_day[:, j] < 0)
        given_day[m, j] = day[m]
        dose_fac[m, j] = fac[m]
        dose_strat[m, j] = strat[m]
        contact[m, j] = k_

    series = {"OPV": 3, "PENTA": 3, "PCV": 3, "ROTA": params.rota_doses}
    miss = {"OPV": 0.02, "PENTA": 0.01, "PCV": 0.04, "ROTA": 0.06}
    expiry = {"ROTA": add_months_days(birth, 24)}
    count = {s: np.zeros(n, np.int64) for s in series}

    def give_series(name: str, mask: B, day: I64, fac: I64, strat: I64, k_: int,
                    p_miss: float) -> None:
        m = mask & (rng.random(n) >= p_miss) & (count[name] < series[name])
        if name in expiry:
            m &= day < expiry[name]
        for dose in range(1, series[name] + 1):
            give((name, dose), m & (count[name] == dose - 1), day, fac, strat, k_)
        count[name] += m

    # birth visit: BCG and OPV0 (OPV0 only within its 14 days)
    attend0 = rng.random(n) < np.minimum(0.97, access * 0.85 + 0.05)
    delay0 = _delays(rng, n, slow) // 2
    day0 = birth + delay0
    attend0 &= day0 <= today_d
    fac0, strat0 = visit_place(attend0)
    give(("BCG", 1), attend0, day0, fac0, strat0 * 0, 0)
    give(("OPV", 0), attend0 & (delay0 < 14), day0, fac0, strat0 * 0, 0)

    # infant visits at 6, 10, 14 weeks (each at least 4 weeks after the previous one)
    last = np.full(n, -1, np.int64)
    attend = rng.random(n) < access
    bcg_end = add_months_days(birth, 12)
    for k_, weeks in ((1, 6), (2, 10), (3, 14)):
        if k_ > 1:
            attend &= rng.random(n) < keep
        sched = np.maximum(birth + 7 * weeks, np.where(last >= 0, last + 28, 0))
        day = sched + _delays(rng, n, slow)
        if k_ == 1:  # a few first visits before 6 weeks: doses invalid (before_minimum_age)
            early = rng.random(n) < 0.005
            day = np.where(early, birth + 42 - rng.integers(3, 11, n), day)
        if k_ == 3:  # a few third visits too soon after the second (interval_too_short)
            early = (rng.random(n) < 0.012) & (last >= 0)
            day = np.where(early, last + rng.integers(20, 28, n), day)
        attend &= day <= today_d
        fac, strat = visit_place(attend)
        if k_ == 1:
            give(("BCG", 1), attend & (rng.random(n) < 0.9) & (day < bcg_end), day, fac, strat,
                 k_)
        for name in series:
            give_series(name, attend, day, fac, strat, k_, miss[name])
        if k_ == 2:  # IPV given at 10 weeks by mistake (before_minimum_age)
            give(("IPV", 1), attend & (rng.random(n) < 0.02), day, fac, strat, k_)
        if k_ == 3:
            give(("IPV", 1), attend & (rng.random(n) >= 0.06), day, fac, strat, k_)
        last = np.where(attend, day, last)
    reached3 = count["PENTA"] >= 3
    any_infant = last >= 0

    # 9-month visit: MCV1, YF, MENA, catch-up of missing infant doses
    p9 = np.where(reached3, measles, np.where(any_infant, 0.35 * measles, 0.06 * access))
    attend9 = rng.random(n) < p9
    nine = add_months_days(birth, 9)
    sched = np.maximum(nine, np.where(last >= 0, last + 28, 0))
    day9 = sched + _delays(rng, n, slow)
    early9 = rng.random(n) < 0.02  # measles visit before 9 months: all three invalid
    day9 = np.where(early9, nine - rng.integers(5, 31, n), day9)
    attend9 &= day9 <= today_d
    fac9, strat9 = visit_place(attend9)
    give(("MCV", 1), attend9, day9, fac9, strat9, 4)
    give(("YF", 1), attend9 & (rng.random(n) >= 0.04), day9, fac9, strat9, 4)
    give(("MENA", 1), attend9 & (rng.random(n) >= 0.05), day9, fac9, strat9, 4)
    catch_up = attend9 & (rng.random(n) < 0.6)
    for name in series:
        give_series(name, catch_up, day9, fac9, strat9, 4, 0.0)
    give(("IPV", 1), catch_up, day9, fac9, strat9, 4)

    # 15-month visit: MCV2
    attend15 = attend9 & (given_day[:, col[("MCV", 1)]] >= 0) & (rng.random(n) < 0.72)
    day15 = np.maximum(add_months_days(birth, 15), day9 + 28) + _delays(rng, n, slow)
    attend15 &= day15 <= today_d
    fac15, strat15 = visit_place(attend15)
    give(("MCV", 2), attend15, day15, fac15, strat15, 5)

    # MALARIA 1-3 (R21) at 5, 6, 7 months, only in eligible districts
    if (("MALARIA", 1) in col) and plan.district_malaria.any():
        eligible = plan.district_malaria[district]
        m_last = np.full(n, -1, np.int64)
        m_attend = eligible & (rng.random(n) < access)
        for dose, months in ((1, 5), (2, 6), (3, 7)):
            if dose > 1:
                m_attend &= rng.random(n) < keep
            sched = np.maximum(add_months_days(birth, months),
                               np.where(m_last >= 0, m_last + 28, 0))
            mday = sched + _delays(rng, n, slow)
            m_attend &= mday <= today_d
            mfac, mstrat = visit_place(m_attend)
            give(("MALARIA", dose), m_attend, mday, mfac, mstrat, 10 + dose)
            m_last = np.where(m_attend, mday, m_last)

    # registration: at the first visit, or on a community census for children never seen
    first_seen = np.where(given_day >= 0, given_day, np.iinfo(np.int64).max).min(axis=1)
    census = birth + rng.integers(0, 120, n)
    reg_day = np.where(first_seen < np.iinfo(np.int64).max, first_seen,
                       np.minimum(census, today_d))
    reg_day = np.maximum(reg_day, birth)

    # ---- duplicate registrations: the same child registered again, history split
    dup_src = np.flatnonzero(rng.random(n) < dup_rate)
    m = dup_src.size
    split = rng.integers(1, 6, m)
    moved = contact[dup_src] >= split[:, None]
    dup_given = np.where(moved, given_day[dup_src], -1)
    dup_fac = dose_fac[dup_src]
    dup_strat = dose_strat[dup_src]
    given_day[dup_src] = np.where(moved, -1, given_day[dup_src])
    shift = np.where(rng.random(m) < 0.6, 0, rng.integers(-12, 13, m))
    dup_birth = np.minimum(birth[dup_src] + shift, today_d)
    first_moved = np.where(dup_given >= 0, dup_given, np.iinfo(np.int64).max).min(axis=1)
    dup_reg = np.where(first_moved < np.iinfo(np.int64).max, first_moved,
                       np.minimum(reg_day[dup_src] + rng.integers(30, 200, m), today_d))
    dup_reg = np.maximum(dup_reg, dup_birth)
    dup_given_names: list[str] = []
    dup_family: list[str] = []
    dup_caregiver: list[str] = []
    for i in dup_src.tolist():
        g = given[i]
        f = family[i]
        if pyrng.random() < 0.4:
            g = names.variant(pyrng, g, names.GIVEN_VARIANTS)
        if pyrng.random() < 0.7:
            f = names.variant(pyrng, _standard(f), names.FAMILY_VARIANTS)
        dup_given_names.append(g)
        dup_family.append(f)
        c = caregiver[i]
        if pyrng.random() < 0.3:
            cg, _, cf = c.partition(" ")
            c = f"{names.variant(pyrng, cg, names.GIVEN_VARIANTS)} {cf}"
        dup_caregiver.append(c)

    # ---- assemble children (originals then duplicates)
    total = n + m
    pk = pk0 + np.arange(total, dtype=np.int64)
    all_birth = np.concatenate([birth, dup_birth])
    all_given = np.concatenate([given_day, dup_given])
    all_fac = np.concatenate([dose_fac, dup_fac])
    all_strat = np.concatenate([dose_strat, dup_strat])
    malaria_ok = plan.district_malaria[np.concatenate([district, district[dup_src]])]
    reg = np.concatenate([reg_day, dup_reg])
    created = reg * 86400 + rng.integers(7 * 3600, 17 * 3600, total)

    reason = assess(all_birth, all_given, params)
    valid = (all_given >= 0) & (reason == 0)
    valid_days = np.where(valid, all_given, -1)
    _, _, due = evaluate_batch(all_birth, valid_days, today, malaria_ok, params)
    delay = np.where(valid, all_given - due, 0)

    def first_valid(cols: list[int]) -> I64:
        days = np.where(valid[:, cols], all_given[:, cols], np.iinfo(np.int64).max).min(axis=1)
        return np.where(days == np.iinfo(np.int64).max, -1, days)

    penta_cols = [col[s] for s in slots if s[0] == "PENTA"]
    chunk = Chunk(
        pk=pk,
        uuid=random_uuids(rng, total),
        given_name=given + dup_given_names,
        family_name=family + dup_family,
        sex=["F" if g else "M" for g in np.concatenate([is_girl, is_girl[dup_src]]).tolist()],
        birth=all_birth,
        caregiver=caregiver + dup_caregiver,
        phone=phone + [phone[i] for i in dup_src.tolist()],
        facility_id=np.concatenate([facility, facility[dup_src]]),
        village_id=np.concatenate([plan.village_id[vi], plan.village_id[vi][dup_src]]),
        created=created,
        first_dose=first_valid(list(range(n_slots))),
        penta1=first_valid(penta_cols),
        penta3=first_valid([col[("PENTA", 3)]]),
        mcv1=first_valid([col[("MCV", 1)]]),
        dose_days=dose_days.encode(valid_days),
        duplicate_of=np.concatenate([np.full(n, -1, np.int64), pk0 + dup_src]),
    )
    child_idx, slot_idx = np.nonzero(all_given >= 0)
    chunk.d_child = pk[child_idx]
    chunk.d_slot = slot_idx.astype(np.int64)
    chunk.d_day = all_given[child_idx, slot_idx]
    chunk.d_facility = all_fac[child_idx, slot_idx]
    chunk.d_strategy = all_strat[child_idx, slot_idx]
    chunk.d_reason = reason[child_idx, slot_idx]
    chunk.d_delay = delay[child_idx, slot_idx]
    chunk.d_uuid = random_uuids(rng, int(child_idx.shape[0]))
    return chunk


def _standard(name: str) -> str:
    """Return the standard spelling of a family name written as one of its variants."""
    for std, forms in names.FAMILY_VARIANTS.items():
        if name in forms:
            return std
    return name


def assess(birth: I64, given: I64, params: ScheduleParams) -> I64:
    """Return the reason code (REASONS; 0 = valid) of each recorded dose, -1 where none.

    Vectorised assess_doses for records holding at most one dose per slot (batch_slots
    columns), which is what the register's live-dose uniqueness guarantees.
    """
    slots = batch_slots(params)
    col = {s: j for j, s in enumerate(slots)}
    has = given >= 0
    reason = np.where(has, 0, -1).astype(np.int64)
    valid = np.zeros(given.shape, bool)
    for j, (vaccine, dose) in enumerate(slots):
        g = given[:, j]
        h = has[:, j]
        rule = rule_for(vaccine, dose, params)
        if rule is None:
            code = _TWO_DOSES if vaccine == "ROTA" and dose == 3 else _UNKNOWN
            reason[h, j] = code
            continue
        early = h & (g < after(birth, rule.minimum))
        r = np.where(early, _BEFORE_MIN, 0)
        if rule.min_interval is not None:
            p = col[(vaccine, dose - 1)]
            pg = given[:, p]
            prev_ok = valid[:, p] & (pg <= g)
            missing = h & ~early & ~prev_ok
            short = h & ~early & prev_ok & (g < after(np.maximum(pg, 0), rule.min_interval))
            r = np.where(missing, _PREV_MISSING, np.where(short, _TOO_SHORT, r))
        reason[:, j] = np.where(h, r, -1)
        valid[:, j] = h & (r == 0)
    return reason
