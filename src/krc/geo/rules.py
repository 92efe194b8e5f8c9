"""Pure rules for org units and target populations (reference/geography.md, immunization.md §2)."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass

_ALNUM = string.ascii_letters + string.digits

# reference/immunization.md §2: defaults for derived denominators.
CRUDE_BIRTH_RATE = 0.041
INFANT_MORTALITY_RATE = 0.054


def uid_for(code: str) -> str:
    """Return a stable DHIS2-shaped UID (11 chars, first a letter) derived from a code."""
    h = hashlib.sha256(code.encode()).digest()
    chars = [string.ascii_letters[h[0] % 52]] + [_ALNUM[b % 62] for b in h[1:11]]
    return "".join(chars)


def is_uid(text: str) -> bool:
    """Return True when text has the DHIS2 UID shape."""
    return len(text) == 11 and text[0] in string.ascii_letters and all(c in _ALNUM for c in text)


def child_path(parent_path: str | None, uid: str) -> str:
    """Return the materialised path of a unit under a parent path."""
    return f"{parent_path or ''}/{uid}"


def ancestors_uids(path: str) -> list[str]:
    """Return the uids of a path from the root to the unit itself."""
    return [p for p in path.split("/") if p]


@dataclass(frozen=True)
class Targets:
    """Target populations for one org unit and year."""

    population: int
    live_births: int
    surviving_infants: int
    cohort_12_23: int


def derive_targets(population: int, birth_rate: float = CRUDE_BIRTH_RATE,
                   infant_mortality: float = INFANT_MORTALITY_RATE) -> Targets:
    """Return live births, surviving infants and the 12–23-month cohort from a population.

    reference/immunization.md §2: live births = population × CBR; surviving infants = live
    births × (1 − IMR); MCV2 cohort defaults to surviving infants.
    """
    births = round(population * birth_rate)
    surviving = round(births * (1 - infant_mortality))
    return Targets(population, births, surviving, surviving)
