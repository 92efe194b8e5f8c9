"""Stock settings stored as data (`stock_setting`): per-level supply period and lead time,
the report due day and the extra product codes (reference/immunization.md §4, configurable).

Keys: `supply_months.<level>`, `lead_time_months.<level>` (level 1 country … 4 CSCom),
`report_due_day` (1-28, default 5), `product_codes` (comma-separated diluent and supplies
codes accepted besides the vaccine codes, default none).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.errors import invalid
from krc.immunization.stock.ledger import DEFAULT_DUE_DAY, DEFAULT_LEVELS, VACCINES, LevelParams
from krc.immunization.stock.models import StockSetting
from krc.immunization.stock.sms import KEYWORDS, REASON_WORDS

SETTINGS = {
    "supply_months.<level>": "supply period in months at a level (1-4); default 6, 3, 3, 1",
    "lead_time_months.<level>": "lead time in months at a level (1-4); default 3, 1, 1, 0.5",
    "report_due_day": "day of month M+1 by which the report of month M is on time (default 5)",
    "product_codes": "comma-separated diluent/supplies codes accepted in reports (default none)",
}
_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")


@dataclass(frozen=True)
class StockParams:
    """Stock parameters in force."""

    levels: dict[int, LevelParams] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    due_day: int = DEFAULT_DUE_DAY
    extra_codes: tuple[str, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        """Return every product code a report may name: vaccines then configured codes."""
        return VACCINES + self.extra_codes

    def level(self, level: int) -> LevelParams:
        """Return the supply parameters of an org-unit level (CSCom's below level 4)."""
        return self.levels.get(level, self.levels[4])


def _bad(key: str, value: str, why_fr: str, why_en: str) -> Exception:
    return invalid("value", "stock_setting_invalid", "Valeur invalide pour {k} : {v} ({w})",
                   "Invalid value for {k}: {v} ({w_en})", k=key, v=value, w=why_fr, w_en=why_en)


def params_from(values: dict[str, str]) -> StockParams:
    """Return StockParams from stored text values (defaults for missing keys)."""
    levels = dict(DEFAULT_LEVELS)
    due_day = DEFAULT_DUE_DAY
    extra: tuple[str, ...] = ()
    for key, value in values.items():
        name, _, lvl = key.partition(".")
        if name in ("supply_months", "lead_time_months"):
            if lvl not in ("1", "2", "3", "4"):
                raise invalid("key", "stock_setting_unknown", "Niveau inconnu : {k} (1 à 4)",
                              "Unknown level: {k} (1 to 4)", k=key)
            try:
                number = float(value)
                cur = levels[int(lvl)]
                levels[int(lvl)] = LevelParams(
                    number if name == "supply_months" else cur.supply_months,
                    number if name == "lead_time_months" else cur.lead_time_months)
            except ValueError:
                raise _bad(key, value, "nombre de mois : approvisionnement ]0, 24], délai "
                           "[0, 12]", "months: supply (0, 24], lead time [0, 12]") from None
        elif key == "report_due_day":
            if not value.strip().isdigit() or not 1 <= int(value) <= 28:
                raise _bad(key, value, "jour de 1 à 28", "day from 1 to 28")
            due_day = int(value)
        elif key == "product_codes":
            codes = tuple(c.strip().upper() for c in value.split(",") if c.strip())
            for c in codes:
                if not _CODE.match(c) or c in VACCINES or c in KEYWORDS or c in REASON_WORDS:
                    raise _bad(key, c, "code de 2 à 12 lettres ou chiffres, différent des "
                               "vaccins et mots-clés", "2-12 letters or digits, not a vaccine "
                               "code or keyword")
            if len(set(codes)) != len(codes):
                raise _bad(key, value, "code en double", "duplicate code")
            extra = codes
        else:
            raise invalid("key", "stock_setting_unknown",
                          "Paramètre inconnu : {k} ; valides : {v}",
                          "Unknown setting: {k}; valid: {v}", k=key, v=", ".join(SETTINGS))
    return StockParams(levels, due_day, extra)


def load_stock_params(session: Session) -> StockParams:
    """Return the stock parameters in force (stored settings over defaults)."""
    rows = session.execute(select(StockSetting.key, StockSetting.value))
    return params_from({k: v for k, v in rows})
