"""ASGI entry point for uvicorn: the app configured from KRC_* environment variables."""

from krc.web.app import create_app

app = create_app()
