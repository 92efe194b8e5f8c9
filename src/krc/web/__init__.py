"""Web layer: FastAPI app factory, auth dependencies, templates, i18n."""
