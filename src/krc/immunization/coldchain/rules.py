"""Pure cold-chain rules: equipment vocabularies, functionality rate, solar target split.

Reference: reference/immunization.md §5. No I/O, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

EQUIPMENT_TYPES = ("solar_direct_drive", "ice_lined", "absorption", "freezer", "cold_room")
STATUSES = ("functional", "needs_repair", "non_functional", "decommissioned")
ENERGY_SOURCES = ("solar", "electricity", "gas", "kerosene", "other")
DEVICE_KINDS = ("30dtr", "rtm")  # 30-day temperature recorder, remote temperature monitor
SOLAR = "solar_direct_drive"
SOLAR_TARGET = 2000  # "about 2,000 solar refrigerators installed" (§5)

TYPE_LABELS = {
    "solar_direct_drive": ("Réfrigérateur solaire (SDD)", "Solar direct drive refrigerator"),
    "ice_lined": ("Réfrigérateur à accumulateurs (ILR)", "Ice-lined refrigerator"),
    "absorption": ("Réfrigérateur à absorption (gaz/pétrole)", "Absorption refrigerator"),
    "freezer": ("Congélateur", "Freezer"),
    "cold_room": ("Chambre froide", "Cold room"),
}
STATUS_LABELS = {
    "functional": ("Fonctionnel", "Functional"),
    "needs_repair": ("À réparer", "Needs repair"),
    "non_functional": ("Non fonctionnel", "Non-functional"),
    "decommissioned": ("Réformé", "Decommissioned"),
}


def counts_installed(statuses: Iterable[str]) -> tuple[int, int]:
    """Return (functional, installed): installed excludes decommissioned equipment (§5)."""
    functional = installed = 0
    for s in statuses:
        if s == "decommissioned":
            continue
        installed += 1
        functional += s == "functional"
    return functional, installed


def functionality_rate(functional: int, installed: int) -> float | None:
    """Return functional ÷ installed × 100 (None when nothing is installed), §5."""
    if installed <= 0:
        return None
    return round(100.0 * functional / installed, 1)


def split_target(total: int, weights: Mapping[str, int]) -> dict[str, int]:
    """Return `total` split across keys in proportion to their weights, summing to `total`.

    Largest-remainder (Hamilton) method, ties broken by key; equal weights when every weight
    is zero. Used for the solar target by region (weights = CSComs per region).
    """
    if total < 0:
        raise ValueError("total must be non-negative")
    keys = sorted(weights)
    if not keys:
        return {}
    w = {k: max(0, int(weights[k])) for k in keys}
    if sum(w.values()) == 0:
        w = dict.fromkeys(keys, 1)
    denominator = sum(w.values())
    base = {k: total * w[k] // denominator for k in keys}
    left = total - sum(base.values())
    order = sorted(keys, key=lambda k: (-(total * w[k] % denominator), k))
    for k in order[:left]:
        base[k] += 1
    return base
