"""Tables of nutrition.register (migration 0010)."""

from __future__ import annotations
