"""Tables of messaging (filled in by its migration 0009)."""

from __future__ import annotations
