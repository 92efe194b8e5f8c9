"""Nutritional classification of a growth-monitoring visit, referral destination, discharge
and growth faltering (reference/nutrition.md §2), and the checks that refuse impossible
measurements at entry. Pure functions: no I/O, no clock.

Flagged z-scores (WHO flags, reference §1) are kept on the visit but never used here: a
z-score whose flag is set counts as absent, exactly as prevalence excludes it (§3). MUAC and
oedema are read as measured, so a child with an implausible weight-for-length z-score but a
MUAC of 110 mm is still SAM.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from krc.errors import DomainError, FieldError, Message

# Cut-offs of reference §2 (z-scores) and the CMAM MUAC cut-offs in millimetres.
Z_MODERATE, Z_SEVERE, Z_OVERWEIGHT = -2.0, -3.0, 2.0
MUAC_SAM_MM, MUAC_MAM_MM = 115.0, 125.0
# MUAC cut-offs are defined from 6 months (reference §2 "6–59 months", §5 "MUAC from 6
# months"): 6 months × 30.4375 days = 182.6 days, so from day 183.
MUAC_FROM_DAYS = 183
# Growth faltering (§2): a fall of weight-for-age z by more than this between visits
# (configurable), or no weight gain over two monthly visits.
FALTERING_WAZ_DROP = 0.67
MONTHLY_MIN_DAYS, MONTHLY_MAX_DAYS = 21, 45  # two visits this far apart are "monthly"
# Discharge (§2): the admission criterion recovered and no oedema for 2 weeks.
DISCHARGE_OEDEMA_FREE_DAYS = 14
# Pregnant women (§5): MUAC below 230 mm = at risk (configurable).
WOMAN_MUAC_AT_RISK_MM = 230.0

# Impossible values refused at entry (reference issue 4 §8): weight ≤ 0; length/height
# outside 35–140 cm; MUAC outside what a tape can read on a living child or woman.
LENHEI_MIN_CM, LENHEI_MAX_CM = 35.0, 140.0
WEIGHT_MAX_KG = 50.0  # no child under 5 weighs this much: a unit error (grams? pounds?)
CHILD_MUAC_MIN_MM, CHILD_MUAC_MAX_MM = 50.0, 300.0
WOMAN_MUAC_MIN_MM, WOMAN_MUAC_MAX_MM = 100.0, 600.0
MAX_AGE_DAYS = 1826  # z-scores exist below 60 months only (reference §1)

STATUSES = ("sam", "mam", "normal", "unknown")
DESTINATIONS = ("stabilisation", "otp", "tsfp", "assessment")
REASONS = ("sam", "mam", "faltering")
SEVERITY = {"faltering": 1, "mam": 2, "sam": 3}


@dataclass(frozen=True)
class Measures:
    """The z-scores and flags of one visit (WHO anthro names), MUAC in mm and oedema."""

    age_days: int
    zlen: float | None = None
    flen: bool = False
    zwei: float | None = None
    fwei: bool = False
    zwfl: float | None = None
    fwfl: bool = False
    muac_mm: float | None = None
    oedema: bool = False


@dataclass(frozen=True)
class Classification:
    """The states of reference §2 for one visit; `status` is sam, mam, normal or unknown."""

    status: str
    stunting: bool | None
    severe_stunting: bool | None
    wasting: bool | None
    severe_wasting: bool | None
    underweight: bool | None
    severe_underweight: bool | None
    overweight: bool | None
    criteria: tuple[str, ...] = ()  # what made it SAM or MAM: zwfl, muac, oedema

    def as_dict(self) -> dict[str, object]:
        """Return the JSON shape of the classification."""
        return {"status": self.status, "stunting": self.stunting,
                "severe_stunting": self.severe_stunting, "wasting": self.wasting,
                "severe_wasting": self.severe_wasting, "underweight": self.underweight,
                "severe_underweight": self.severe_underweight, "overweight": self.overweight,
                "criteria": list(self.criteria)}


def usable(z: float | None, flagged: bool | None) -> float | None:
    """Return a z-score usable for classification: None when absent, NaN or flagged (§1)."""
    if z is None or flagged or (isinstance(z, float) and math.isnan(z)):
        return None
    return float(z)


def _below(z: float | None, cut: float) -> bool | None:
    return None if z is None else z < cut


def classify(m: Measures) -> Classification:
    """Return the classification of one visit (reference/nutrition.md §2).

    SAM: zwfl < −3, or MUAC < 115 mm, or bilateral pitting oedema. MAM: −3 ≤ zwfl < −2 or
    115 ≤ MUAC < 125 mm, and no oedema. MUAC cut-offs apply from 6 months (day 183).
    Flagged z-scores count as absent. With oedema the weight-based z-scores are missing
    (§1) and the child is SAM. `unknown`: nothing usable to decide (no zwfl, no MUAC).
    """
    zlen = usable(m.zlen, m.flen)
    zwei = usable(m.zwei, m.fwei)
    zwfl = usable(m.zwfl, m.fwfl)
    muac = m.muac_mm if (m.muac_mm is not None and m.age_days >= MUAC_FROM_DAYS) else None
    sam: list[str] = []
    mam: list[str] = []
    if zwfl is not None:
        if zwfl < Z_SEVERE:
            sam.append("zwfl")
        elif zwfl < Z_MODERATE:
            mam.append("zwfl")
    if muac is not None:
        if muac < MUAC_SAM_MM:
            sam.append("muac")
        elif muac < MUAC_MAM_MM:
            mam.append("muac")
    if m.oedema:
        sam.append("oedema")
    if sam:
        status, criteria = "sam", tuple(sam)
    elif mam:
        status, criteria = "mam", tuple(mam)
    elif zwfl is None and muac is None:
        status, criteria = "unknown", ()
    else:
        status, criteria = "normal", ()
    # With oedema weight-based indicators count as severe (−3.1, reference §3).
    oedema_z = -3.1 if m.oedema else None
    wz = zwfl if zwfl is not None else oedema_z
    uz = zwei if zwei is not None else oedema_z
    return Classification(
        status=status,
        stunting=_below(zlen, Z_MODERATE), severe_stunting=_below(zlen, Z_SEVERE),
        wasting=_below(wz, Z_MODERATE), severe_wasting=_below(wz, Z_SEVERE),
        underweight=_below(uz, Z_MODERATE), severe_underweight=_below(uz, Z_SEVERE),
        overweight=None if zwfl is None else zwfl > Z_OVERWEIGHT,
        criteria=criteria)


def referral_destination(status: str, complications: bool | None = None,
                         appetite_test: str | None = None) -> str | None:
    """Return where a child is referred (reference §2, CMAM), or None when not referred.

    SAM with medical complications or a failed appetite test → inpatient stabilisation
    centre; uncomplicated SAM (complications not found, appetite test passed or not yet
    done — it is done at the OTP) → outpatient therapeutic programme (otp); MAM →
    supplementary feeding (tsfp). Growth faltering alone → assessment and counselling at
    the health facility (assessment).
    """
    if status == "sam":
        return "stabilisation" if complications or appetite_test == "failed" else "otp"
    if status == "mam":
        return "tsfp"
    if status == "faltering":
        return "assessment"
    return None


@dataclass(frozen=True)
class WeightPoint:
    """A past visit as growth faltering reads it."""

    on: date
    weight_kg: float | None
    zwei: float | None  # usable (unflagged) weight-for-age z, None otherwise


def growth_faltering(history: Sequence[WeightPoint], current: WeightPoint,
                     waz_drop: float = FALTERING_WAZ_DROP) -> list[str]:
    """Return why the current visit shows growth faltering (empty: none), reference §2.

    `waz_drop`: weight-for-age z fell by more than `waz_drop` since the previous visit with
    a usable z. `no_gain`: the weight is not above the weight two visits earlier, the three
    visits being monthly (21–45 days apart) — no weight gain over two monthly visits.
    `history` holds the earlier visits, oldest first.
    """
    reasons: list[str] = []
    before = [h for h in history if h.on < current.on]
    if current.zwei is not None:
        prev_z = next((h for h in reversed(before) if h.zwei is not None), None)
        if prev_z is not None and prev_z.zwei is not None \
                and prev_z.zwei - current.zwei > waz_drop:
            reasons.append("waz_drop")
    weighed = [h for h in before if h.weight_kg is not None]
    if current.weight_kg is not None and len(weighed) >= 2:
        first, middle = weighed[-2], weighed[-1]
        gaps = ((middle.on - first.on).days, (current.on - middle.on).days)
        monthly = all(MONTHLY_MIN_DAYS <= g <= MONTHLY_MAX_DAYS for g in gaps)
        if monthly and first.weight_kg is not None and current.weight_kg <= first.weight_kg:
            reasons.append("no_gain")
    return reasons


def discharge_ready(criteria: Sequence[str], muac_mm: float | None, zwfl: float | None,
                    oedema: bool, last_oedema_on: date | None, on: date) -> bool:
    """Return True when a referred child meets the discharge criterion (reference §2).

    Discharge on the admission criterion: admitted on MUAC → MUAC ≥ 125 mm; on zwfl →
    zwfl ≥ −2 (usable z only); on oedema alone → either of them; and in every case no
    oedema for 2 weeks (no oedema now, and the last visit with oedema 14 days or more ago).
    """
    if oedema or (last_oedema_on is not None
                  and (on - last_oedema_on).days < DISCHARGE_OEDEMA_FREE_DAYS):
        return False
    muac_ok = muac_mm is not None and muac_mm >= MUAC_MAM_MM
    zwfl_ok = zwfl is not None and zwfl >= Z_MODERATE
    used = [c for c in criteria if c in ("muac", "zwfl")]
    if not used:  # oedema alone (or unknown): the anthropometry must be normal
        return muac_ok or zwfl_ok
    return all(muac_ok if c == "muac" else zwfl_ok for c in used)


def woman_at_risk(muac_mm: float | None, threshold: float = WOMAN_MUAC_AT_RISK_MM
                  ) -> bool | None:
    """Return whether a pregnant woman's MUAC is below the at-risk threshold (§5)."""
    return None if muac_mm is None else muac_mm < threshold


# --------------------------------------------------------------------------- entry checks

@dataclass
class Problems:
    """Faults found in an input, each naming its field; raise them all at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, name: str, code: str, fr: str, en: str, **params: object) -> None:
        """Record one fault."""
        self.errors.append(FieldError(name, code, Message(fr, en, params)))

    def raise_any(self) -> None:
        """Raise a 422 DomainError with every fault (the first one as the title)."""
        if not self.errors:
            return
        first = self.errors[0]
        if len(self.errors) == 1:
            raise DomainError(first.code, first.message, field=first.field)
        raise DomainError(first.code, first.message, errors=self.errors)


def _finite(x: float | None) -> bool:
    return x is None or math.isfinite(x)


def check_visit(birth: date, on: date, today: date, weight_kg: float | None,
                lenhei_cm: float | None, measure: str | None, muac_mm: float | None
                ) -> None:
    """Refuse impossible measurements of a growth-monitoring visit with the reason (fr/en).

    Impossible: a date before birth or in the future, age of 60 months or more (no WHO
    z-scores), weight ≤ 0 or above 50 kg, length/height outside 35–140 cm, MUAC outside
    50–300 mm, an unknown measure, or no measurement at all. Implausible but possible values
    pass: the WHO flags mark them on the visit.
    """
    p = Problems()
    if on > today:
        p.add("date", "date_future", "La date {d} est dans le futur",
              "The date {d} is in the future", d=on.isoformat())
    if on < birth:
        p.add("date", "date_before_birth", "La date {d} précède la naissance ({b})",
              "The date {d} is before the birth ({b})", d=on.isoformat(), b=birth.isoformat())
    elif (on - birth).days > MAX_AGE_DAYS:
        p.add("date", "age_over_59_months",
              "L'enfant a 60 mois ou plus le {d} : pas de suivi de croissance (normes OMS "
              "jusqu'à 59 mois)",
              "The child is 60 months or older on {d}: no growth monitoring (WHO standards "
              "stop at 59 months)", d=on.isoformat())
    if not all(_finite(x) for x in (weight_kg, lenhei_cm, muac_mm)):
        p.add("weight", "not_a_number", "Mesure non numérique", "Measurement is not a number")
    if weight_kg is not None and weight_kg <= 0:
        p.add("weight", "weight_not_positive",
              "Le poids doit être supérieur à 0 kg (saisi : {w})",
              "The weight must be above 0 kg (entered: {w})", w=weight_kg)
    elif weight_kg is not None and weight_kg > WEIGHT_MAX_KG:
        p.add("weight", "weight_impossible",
              "Poids impossible pour un enfant de moins de 5 ans : {w} kg (kilogrammes "
              "attendus, maximum {m})",
              "Impossible weight for a child under 5: {w} kg (kilograms expected, maximum "
              "{m})", w=weight_kg, m=WEIGHT_MAX_KG)
    if lenhei_cm is not None and not LENHEI_MIN_CM <= lenhei_cm <= LENHEI_MAX_CM:
        p.add("lenhei", "lenhei_out_of_range",
              "La taille doit être comprise entre {lo} et {hi} cm (saisie : {v})",
              "The length/height must be between {lo} and {hi} cm (entered: {v})",
              lo=int(LENHEI_MIN_CM), hi=int(LENHEI_MAX_CM), v=lenhei_cm)
    if measure is not None and measure not in ("l", "h"):
        p.add("measure", "measure_invalid",
              "Mode de mesure : l (couché) ou h (debout)",
              "Measure: l (recumbent length) or h (standing height)")
    if muac_mm is not None and not CHILD_MUAC_MIN_MM <= muac_mm <= CHILD_MUAC_MAX_MM:
        p.add("muac", "muac_impossible",
              "PB impossible : {v} mm (entre {lo} et {hi} mm ; le PB se saisit en mm)",
              "Impossible MUAC: {v} mm (between {lo} and {hi} mm; MUAC is entered in mm)",
              v=muac_mm, lo=int(CHILD_MUAC_MIN_MM), hi=int(CHILD_MUAC_MAX_MM))
    if weight_kg is None and lenhei_cm is None and muac_mm is None:
        p.add("weight", "no_measurement", "Saisissez au moins le poids, la taille ou le PB",
              "Enter at least the weight, the length/height or the MUAC")
    p.raise_any()


def check_woman_muac(muac_mm: float | None) -> None:
    """Refuse an impossible MUAC of a woman (outside 100–600 mm) with the reason."""
    if muac_mm is not None and (not math.isfinite(muac_mm)
                                or not WOMAN_MUAC_MIN_MM <= muac_mm <= WOMAN_MUAC_MAX_MM):
        p = Problems()
        p.add("muac", "muac_impossible",
              "PB impossible : {v} mm (entre {lo} et {hi} mm ; le PB se saisit en mm)",
              "Impossible MUAC: {v} mm (between {lo} and {hi} mm; MUAC is entered in mm)",
              v=muac_mm, lo=int(WOMAN_MUAC_MIN_MM), hi=int(WOMAN_MUAC_MAX_MM))
        p.raise_any()
