"""JSON routes of nutrition.register (/api/v1)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["nutrition"])
