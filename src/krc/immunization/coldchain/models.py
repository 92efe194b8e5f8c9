"""Tables of coldchain (filled in by its migration 0007)."""

from __future__ import annotations
