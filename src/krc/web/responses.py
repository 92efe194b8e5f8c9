"""Fast JSON answers for large read-only payloads (tables of thousands of cells).

FastAPI validates and re-encodes a returned dict through pydantic and `json`; for the
national tables that costs more than computing them. Routes that return such payloads
build this response themselves: orjson writes dates, UUIDs and numpy numbers natively.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import Response


class FastJSONResponse(Response):
    """A JSON response serialised with orjson (dates as ISO 8601, UUIDs as strings)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        """Return the JSON bytes of the content."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
