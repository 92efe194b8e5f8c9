"""Alarm thresholds stored as data in `cc_setting` (reference/immunization.md §5)."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.errors import invalid
from krc.immunization.coldchain.alarms import AlarmParams
from krc.immunization.coldchain.models import ColdChainSetting

SETTINGS = {
    "heat_above": "heat limit in °C, strictly above (default 8.0)",
    "heat_minutes": "minutes above the heat limit for a heat alarm (default 600 = 10 h)",
    "freeze_at": "freeze limit in °C (default -0.5)",
    "freeze_inclusive": "whether the freeze limit itself counts as freezing (default true)",
    "freeze_minutes": "minutes at/below the freeze limit for a freeze alarm (default 60)",
    "max_gap_minutes": "longest interval between readings before a data_gap (default 60)",
    "no_data_hours": "hours without readings before a no_data notice (default 24)",
}
_TRUE, _FALSE = {"true", "1", "yes", "oui", "vrai"}, {"false", "0", "no", "non", "faux"}


def params_from(values: dict[str, str]) -> AlarmParams:
    """Return AlarmParams from stored text values, defaults for the missing keys."""
    kwargs: dict[str, Any] = {}
    for key, text in values.items():
        if key not in SETTINGS:
            continue
        try:
            if key in ("heat_above", "freeze_at"):
                kwargs[key] = float(text.replace(",", "."))
            elif key == "freeze_inclusive":
                low = text.strip().lower()
                if low not in _TRUE | _FALSE:
                    raise ValueError(f"{text!r} is not true/false")
                kwargs[key] = low in _TRUE
            else:
                kwargs[key] = int(text)
        except ValueError as exc:
            raise invalid("value", "setting_invalid", "Valeur invalide pour {k} : {e}",
                          "Invalid value for {k}: {e}", k=key, e=str(exc)) from exc
    try:
        return replace(AlarmParams(), **kwargs)
    except ValueError as exc:
        raise invalid("value", "setting_invalid", "Valeur invalide : {e}", "Invalid value: {e}",
                      e=str(exc)) from exc


def load_params(session: Session) -> AlarmParams:
    """Return the alarm thresholds in force (stored settings over defaults)."""
    rows = session.execute(select(ColdChainSetting.key, ColdChainSetting.value))
    return params_from({k: v for k, v in rows})


def params_dict(params: AlarmParams) -> dict[str, Any]:
    """Return the thresholds as a plain dict (API and CLI display)."""
    return asdict(params)


def set_param(session: Session, key: str, value: str) -> None:
    """Store one threshold after checking it parses (and keeps the set consistent)."""
    if key not in SETTINGS:
        raise invalid("key", "setting_unknown", "Paramètre inconnu : {k} ; valides : {v}",
                      "Unknown setting: {k}; valid: {v}", k=key, v=", ".join(SETTINGS))
    current = {k: v for k, v in session.execute(
        select(ColdChainSetting.key, ColdChainSetting.value))}
    params_from({**current, key: value})
    row = session.get(ColdChainSetting, key)
    if row is None:
        session.add(ColdChainSetting(key=key, value=value))
    else:
        row.value = value
