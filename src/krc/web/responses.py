"""Fast JSON answers: large read-only payloads (tables of thousands of cells) and the
register's hot calls (a child's card, a registration, a dose).

FastAPI validates and re-encodes a returned dict through pydantic and `json`; for the
national tables that costs more than computing them, and for a card about a quarter of a
worker's CPU. Such routes build this response themselves: orjson writes dates, UUIDs and
numpy numbers natively. Their `response_model` still documents them in OpenAPI, and tests
check that the payloads follow it field for field.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import JSONResponse


class FastJSONResponse(JSONResponse):
    """A JSON response serialised with orjson (dates as ISO 8601, UUIDs as strings); a
    JSONResponse, so that OpenAPI documents a route's response_model with it."""

    def render(self, content: Any) -> bytes:
        """Return the JSON bytes of the content."""
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY)
