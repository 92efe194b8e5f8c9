"""HTML pages over the same services and queries as the JSON API."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(include_in_schema=False)
