"""The FastAPI application factory: API routes, pages, static files, error handlers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from importlib import resources

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import configure_mappers
from starlette.datastructures import MutableHeaders
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

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


class LanguageMiddleware:
    """Pure ASGI middleware: choose the request's language, remember ?lang= in a cookie, and
    add security headers (cheaper than BaseHTTPMiddleware on every request)."""

    def __init__(self, app: ASGIApp, default: str = "fr") -> None:
        self.app = app
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        asked = request.query_params.get("lang")
        lang = pick_language(asked, request.cookies.get("lang"),
                             request.headers.get("accept-language"), self.default)
        scope.setdefault("state", {})["lang"] = lang

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "same-origin")
                if asked in ("fr", "en"):
                    headers.append("set-cookie", f"lang={lang}; Max-Age={365 * 86400}; "
                                   "Path=/; SameSite=lax")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _offline_docs(app: FastAPI) -> None:
    """Serve Swagger UI at /docs from the installed swagger-ui-bundle (FastAPI's default
    loads it from a CDN, which field sites cannot reach)."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse

    app.mount("/docs-static", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="docs-static")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json", title="krc API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon-32x32.png")


def create_app(settings: Settings | None = None, db: Database | None = None,
               clock: Callable[[], date] | None = None) -> FastAPI:
    """Return the krc web application bound to a database."""
    settings = settings or get_settings()
    app = FastAPI(title="krc", version=__version__, description=API_DESCRIPTION,
                  docs_url=None, openapi_url="/openapi.json", redoc_url=None)
    _offline_docs(app)
    app.state.settings = settings
    app.state.db = db or Database(settings.database_url)
    app.state.clock = clock
    # Configure the ORM mappers now rather than in the first request (about 1 s of CPU).
    import krc.models  # noqa: F401  (every table)
    configure_mappers()

    app.add_middleware(LanguageMiddleware, default=settings.default_language)
    # Users on slow links: a CSCom's defaulter list is 2.8 MB of HTML (0.39 MB gzipped),
    # the national table 1.3 MB of JSON (0.2 MB). Level 3 costs ~4 ms a megabyte (level 9
    # was 10 times slower for 8 % less); answers under 1 KB are sent as they are.
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=3)
    from krc.immunization.stock.api import WebhookFastPath
    app.add_middleware(WebhookFastPath, state=app.state)  # outermost: before the others
    app.add_exception_handler(DomainError, domain_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)

    from krc.accounts.api import router as accounts_api
    from krc.geo.api import router as geo_api
    from krc.immunization.api import router as immunization_api
    from krc.immunization.coldchain.api import router as coldchain_api
    from krc.immunization.coldchain.views import router as coldchain_pages
    from krc.immunization.outreach.api import router as outreach_api
    from krc.immunization.outreach.views import router as outreach_pages
    from krc.immunization.stock.api import router as stock_api
    from krc.immunization.stock.views import router as stock_pages
    from krc.messaging.api import router as messaging_api
    from krc.messaging.views import router as messaging_pages
    from krc.nutrition.community.api import router as community_api
    from krc.nutrition.community.views import router as community_pages
    from krc.nutrition.register.api import router as nutrition_api
    from krc.nutrition.register.views import router as nutrition_pages
    from krc.web.views import router as pages

    app.include_router(accounts_api, prefix="/api/v1")
    app.include_router(geo_api, prefix="/api/v1")
    app.include_router(immunization_api, prefix="/api/v1")
    for api in (stock_api, coldchain_api, outreach_api, messaging_api, nutrition_api,
                community_api):
        app.include_router(api, prefix="/api/v1")
    app.include_router(pages)
    for pages_of in (stock_pages, coldchain_pages, outreach_pages, messaging_pages,
                     nutrition_pages, community_pages):
        app.include_router(pages_of)
    static = resources.files("krc.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
