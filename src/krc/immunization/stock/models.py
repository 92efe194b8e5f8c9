"""Tables of stock (filled in by its migration 0006)."""

from __future__ import annotations
