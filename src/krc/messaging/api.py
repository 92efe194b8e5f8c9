"""JSON routes of messaging (/api/v1)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["messaging"])
