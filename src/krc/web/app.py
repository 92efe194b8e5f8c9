"""The FastAPI application factory: API routes, pages, static files, error handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from importlib import resources

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles

from krc import __version__
from krc.config import Settings, get_settings
from krc.db import Database
from krc.errors import DomainError
from krc.web.i18n import pick_language
from krc.web.problems import domain_error_handler, validation_error_handler

API_DESCRIPTION = """
krc's JSON API. Every page's data is available here. Authenticate with
`Authorization: Bearer <token>` (create one with `krc tokens create --user NAME`).
Errors are RFC 9457 problem+json with field-level messages in French (default) or English
(`?lang=en` or `Accept-Language: en`).
"""


def create_app(settings: Settings | None = None, db: Database | None = None,
               clock: Callable[[], date] | None = None) -> FastAPI:
    """Return the krc web application bound to a database."""
    settings = settings or get_settings()
    app = FastAPI(title="krc", version=__version__, description=API_DESCRIPTION,
                  docs_url="/docs", openapi_url="/openapi.json", redoc_url=None)
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    app.state.clock = clock

    @app.middleware("http")
    async def language(request: Request,
                       call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.lang = pick_language(request.query_params.get("lang"),
                                           request.cookies.get("lang"),
                                           request.headers.get("accept-language"),
                                           settings.default_language)
        response = await call_next(request)
        if request.query_params.get("lang") in ("fr", "en"):
            response.set_cookie("lang", request.state.lang, max_age=365 * 86400,
                                samesite="lax")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)

    from krc.accounts.api import router as accounts_api
    from krc.geo.api import router as geo_api
    from krc.immunization.api import router as immunization_api
    from krc.web.views import router as pages

    app.include_router(accounts_api, prefix="/api/v1")
    app.include_router(geo_api, prefix="/api/v1")
    app.include_router(immunization_api, prefix="/api/v1")
    app.include_router(pages)
    static = resources.files("krc.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
