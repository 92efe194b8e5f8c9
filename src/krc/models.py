"""Imports every capability's tables so that Base.metadata is complete."""

import krc.immunization.coldchain.models
import krc.immunization.outreach.models
import krc.immunization.stock.models
import krc.messaging.models
import krc.nutrition.community.models
import krc.nutrition.register.models  # noqa: F401
from krc.accounts.models import ApiToken, AuditEvent, LoginFailure, User, WebSession
from krc.geo.models import OrgUnit, TargetPopulation
from krc.immunization.models import Child, DelayFact, DoseFact, ScheduleSetting, Vaccination

__all__ = [
    "ApiToken", "AuditEvent", "Child", "DelayFact", "DoseFact", "LoginFailure", "OrgUnit",
    "ScheduleSetting", "TargetPopulation", "User", "Vaccination", "WebSession",
]
