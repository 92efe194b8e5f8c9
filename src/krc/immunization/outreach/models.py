"""Tables of outreach (filled in by its migration 0008)."""

from __future__ import annotations
