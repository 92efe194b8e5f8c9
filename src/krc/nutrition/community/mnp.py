"""Home fortification with micronutrient powders (MNP) as pure rules
(reference/nutrition.md §5, WHO 2016 guideline): 90 sachets over each 6-month round for
children 6–23 months; adherence = sachets consumed ÷ 90; a small sachet ledger per facility.

Choices where the reference is silent (also in the report to the lead):
- Rounds follow the child's age at the distribution: round 1 from 6 to 11 months, round 2
  from 12 to 17, round 3 from 18 to 23 (`round_for_age`). A round may be given in several
  distributions; together they may not exceed 90 sachets.
- A follow-up reports the sachets consumed so far in the round (cumulative); the latest
  follow-up of a round gives its adherence, which cannot exceed the sachets distributed.
- Adherence over many rounds = Σ consumed ÷ (90 × rounds followed up), i.e. the mean of the
  rounds' adherence.
- Ledger: receipts add, distributions and losses subtract, a physical count sets the
  balance; one day's lines apply in recording order. A distribution or loss larger than the
  balance is refused (record the receipt first).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

SACHETS_PER_ROUND = 90  # WHO 2016: 90 sachets over 6 months
ROUND_MONTHS = 6
MIN_AGE_MONTHS, MAX_AGE_MONTHS = 6, 24  # 6 ≤ age < 24
ROUNDS = (1, 2, 3)
STOCK_KINDS = ("receipt", "distribution", "loss", "count")
MANUAL_KINDS = ("receipt", "loss", "count")  # distributions come from children's records


def eligible(age_months: int) -> bool:
    """Return True when a child of this age (completed months) may receive MNP (6–23)."""
    return MIN_AGE_MONTHS <= age_months < MAX_AGE_MONTHS


def round_for_age(age_months: int) -> int | None:
    """Return the round (1–3) a distribution at this age belongs to, None when ineligible."""
    if not eligible(age_months):
        return None
    return (age_months - MIN_AGE_MONTHS) // ROUND_MONTHS + 1


def adherence(consumed: int, sachets: int = SACHETS_PER_ROUND) -> float:
    """Return the adherence (%) of a round: sachets consumed ÷ 90 × 100 (§5)."""
    return 100.0 * consumed / sachets


@dataclass(frozen=True)
class RoundStatus:
    """One child's round: sachets distributed, consumed at the latest follow-up, adherence."""

    round: int
    distributed: int
    consumed: int | None
    adherence: float | None


def round_status(round_no: int, distributed: Iterable[int],
                 followups: Iterable[tuple[date, int, int]]) -> RoundStatus:
    """Return a round's status from its distributions (sachets) and follow-ups
    (day, recording order, cumulative consumed); the latest follow-up counts."""
    given = sum(distributed)
    latest = max(followups, default=None)
    consumed = latest[2] if latest is not None else None
    return RoundStatus(round_no, given, consumed,
                       adherence(consumed) if consumed is not None else None)


def overall_adherence(consumed_per_round: Iterable[int]) -> tuple[int, int, float | None]:
    """Return (Σ consumed, rounds, adherence %) over the rounds followed up."""
    values = list(consumed_per_round)
    if not values:
        return 0, 0, None
    total = sum(values)
    return total, len(values), 100.0 * total / (SACHETS_PER_ROUND * len(values))


@dataclass(frozen=True)
class Line:
    """One line of the sachet ledger: day, kind, quantity, recording order."""

    on: date
    kind: str
    quantity: int
    seq: int = 0


def apply(balance: int, line: Line) -> int:
    """Return the balance after one ledger line (a count sets it)."""
    if line.kind == "count":
        return line.quantity
    if line.kind == "receipt":
        return balance + line.quantity
    return balance - line.quantity


def balance(lines: Iterable[Line]) -> int:
    """Return the balance after every line, applied by day then recording order."""
    bal = 0
    for line in sorted(lines, key=lambda x: (x.on, x.seq)):
        bal = apply(bal, line)
    return bal


def balance_on(lines: Iterable[Line], on: date) -> int:
    """Return the balance at the end of a day."""
    return balance(x for x in lines if x.on <= on)


def stock_card(lines: Iterable[Line]) -> list[tuple[Line, int]]:
    """Return the lines in ledger order, each with the balance after it."""
    out: list[tuple[Line, int]] = []
    bal = 0
    for line in sorted(lines, key=lambda x: (x.on, x.seq)):
        bal = apply(bal, line)
        out.append((line, bal))
    return out


def shortfall(lines: Iterable[Line], new: Line) -> int | None:
    """Return by how many sachets an outgoing line (distribution, loss) would take the
    balance below zero, on its day or any later day; None when it fits."""
    if new.kind not in ("distribution", "loss"):
        return None
    card = stock_card([*lines, new])
    # a later physical count resets the balance: only lines before the next count matter
    worst = 0
    for line, bal in card:
        if (line.on, line.seq) < (new.on, new.seq):
            continue
        if line.kind == "count" and line is not new:
            break
        worst = min(worst, bal)
    return -worst if worst < 0 else None
