"""Configurable parameters of the register stored as data (reference/nutrition.md §2, §5):
the weight-for-age z drop that signals growth faltering (default 0.67) and the MUAC below
which a pregnant woman is at risk (default 230 mm)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.accounts.services import audit
from krc.errors import Forbidden, Message, invalid
from krc.nutrition.register.classify import FALTERING_WAZ_DROP, WOMAN_MUAC_AT_RISK_MM
from krc.nutrition.register.models import RegisterSetting

SETTINGS = {  # key → (default, lowest, highest, description)
    "faltering_waz_drop": (FALTERING_WAZ_DROP, 0.1, 3.0,
                           "weight-for-age z drop between visits that signals growth "
                           "faltering (default 0.67)"),
    "woman_muac_at_risk_mm": (WOMAN_MUAC_AT_RISK_MM, 150.0, 300.0,
                              "MUAC (mm) below which a pregnant woman is at risk "
                              "(default 230)"),
}
MANAGE = frozenset({"admin", "national"})


@dataclass(frozen=True)
class RegisterParams:
    """The register parameters in force."""

    faltering_waz_drop: float = FALTERING_WAZ_DROP
    woman_muac_at_risk_mm: float = WOMAN_MUAC_AT_RISK_MM


def _parse(key: str, value: str) -> float:
    if key not in SETTINGS:
        raise invalid("key", "setting_unknown", "Paramètre inconnu : {k} ; connus : {v}",
                      "Unknown setting: {k}; known: {v}", k=key, v=", ".join(SETTINGS))
    _default, lo, hi, _ = SETTINGS[key]
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not lo <= number <= hi:
        raise invalid("value", "setting_invalid",
                      "Valeur invalide pour {k} : {v} (entre {lo} et {hi})",
                      "Invalid value for {k}: {v} (between {lo} and {hi})",
                      k=key, v=value, lo=lo, hi=hi)
    return number


def load_register_params(session: Session) -> RegisterParams:
    """Return the register parameters in force (stored settings over defaults)."""
    values = {k: _parse(k, v) for k, v in session.execute(
        select(RegisterSetting.key, RegisterSetting.value)) if k in SETTINGS}
    return RegisterParams(**values)


def set_register_param(session: Session, actor: Actor | None, key: str, value: str) -> None:
    """Store one register parameter after checking it (national programme or admin); audited."""
    if actor is not None and actor.role not in MANAGE:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de modifier les paramètres",
            "Your role ({role}) may not change the settings", {"role": actor.role}))
    _parse(key, value)
    row = session.get(RegisterSetting, key)
    before = row.value if row else None
    if row is None:
        session.add(RegisterSetting(key=key, value=value))
    else:
        row.value = value
    audit(session, actor, "update", "nutrition_register_setting", key,
          {"before": before, "after": value})
