"""Configurable schedule parameters stored as data (reference/immunization.md §1)."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.cache import TTLCache
from krc.errors import invalid
from krc.immunization.models import ScheduleSetting
from krc.immunization.schedule import Age, ScheduleParams

# key → (parser, description); values are stored as text in schedule_setting.
SETTINGS = {
    "grace_days": "days after the due date before a dose is overdue (default 28)",
    "bcg_expiry_months": "age in months after which BCG is no longer given (default 12)",
    "opv0_expiry_days": "age in days after which OPV0 is no longer given (default 14)",
    "rota_doses": "doses of the rotavirus product in use: 2 or 3 (default 3)",
    "malaria_districts": "comma-separated district codes where the malaria vaccine is given",
    "malaria_booster_interval_months": "minimum months between MALARIA 3, 4 and 5 (default 6)",
}


def params_from(values: dict[str, str]) -> ScheduleParams:
    """Return ScheduleParams from stored text values, defaults for missing keys."""
    p = ScheduleParams()
    kwargs: dict[str, object] = {}
    try:
        if "grace_days" in values:
            kwargs["grace_days"] = int(values["grace_days"])
        if "bcg_expiry_months" in values:
            kwargs["bcg_expiry"] = Age(months=int(values["bcg_expiry_months"]))
        if "opv0_expiry_days" in values:
            kwargs["opv0_expiry"] = Age(days=int(values["opv0_expiry_days"]))
        if "rota_doses" in values:
            kwargs["rota_doses"] = int(values["rota_doses"])
        if "malaria_booster_interval_months" in values:
            kwargs["malaria_booster_interval"] = Age(
                months=int(values["malaria_booster_interval_months"]))
    except ValueError as exc:
        raise invalid("value", "setting_invalid", "Valeur invalide : {e}", "Invalid value: {e}",
                      e=str(exc)) from exc
    if "malaria_districts" in values:
        kwargs["malaria_districts"] = frozenset(
            c.strip() for c in values["malaria_districts"].split(",") if c.strip())
    try:
        return replace(p, **kwargs)  # type: ignore[arg-type]
    except ValueError as exc:
        raise invalid("value", "setting_invalid", "Valeur invalide : {e}", "Invalid value: {e}",
                      e=str(exc)) from exc


# The parameters in force, per database; set_param clears this process's copy, other
# processes see a change within 10 s (krc.cache).
_PARAMS: TTLCache[str, ScheduleParams] = TTLCache(ttl=10.0)


def load_params(session: Session) -> ScheduleParams:
    """Return the schedule parameters in force (stored settings over defaults)."""
    def load() -> ScheduleParams:
        values = {k: v for k, v in session.execute(
            select(ScheduleSetting.key, ScheduleSetting.value))}
        return params_from(values)
    return _PARAMS.get(session, "schedule", load)


def set_param(session: Session, key: str, value: str) -> None:
    """Store one schedule parameter after checking it parses."""
    if key not in SETTINGS:
        raise invalid("key", "setting_unknown", "Paramètre inconnu : {k} ; valides : {v}",
                      "Unknown setting: {k}; valid: {v}", k=key, v=", ".join(SETTINGS))
    params_from({key: value})
    _PARAMS.forget(session)
    row = session.get(ScheduleSetting, key)
    if row is None:
        session.add(ScheduleSetting(key=key, value=value))
    else:
        row.value = value
