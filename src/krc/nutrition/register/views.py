"""HTML pages of nutrition.register."""

from __future__ import annotations

from fastapi import APIRouter

from krc.web.views import PageRoute

router = APIRouter(include_in_schema=False, route_class=PageRoute)
