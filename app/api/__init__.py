"""docsearch's REST API (FastAPI): an interface beside the app and the CLI, over the same
lifecycle services. ``create_app(settings)`` builds it; ``docsearch api`` and ``make run`` serve
it on 127.0.0.1 (DOCSEARCH_API_PORT, 8000). OpenAPI at /openapi.json, docs at /docs."""

from __future__ import annotations

from fastapi import FastAPI

from app.api import problems
from app.api.limits import RequestLimits
from app.api.routes import chat, documents, health, index, search
from app.api.state import Services
from search.settings import Settings

__all__ = ["create_app"]


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    """The API over ``settings`` (the environment's when None)."""
    services = services or Services.from_settings(settings or Settings.from_env())
    app = FastAPI(
        title="docsearch",
        version="1",
        description="Search, chat and read the documents you may read. Every /v1 route takes "
        "`Authorization: Bearer TOKEN` (from `docsearch users add`, or an access token of the "
        "organisation's OpenID Connect provider). Errors are application/problem+json.",
    )
    app.state.services = services
    problems.install(app)
    for module in (health, search, chat, documents, index):
        app.include_router(module.router)
    app.add_middleware(RequestLimits)

    def openapi() -> dict:
        if app.openapi_schema is None:
            app.openapi_schema = problems.document_problems(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi
    return app
