"""JSON routes of nutrition.community (/api/v1)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["nutrition"])
