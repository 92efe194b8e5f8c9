"""JSON routes of stock (/api/v1)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["stock"])
