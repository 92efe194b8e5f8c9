"""Tables of nutrition.community (migration 0011)."""

from __future__ import annotations
