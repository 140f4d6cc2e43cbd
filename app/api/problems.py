"""Errors as RFC 9457 problem details (``application/problem+json``), one shape for every route.

The lifecycle layer's refusals map here once: ``NotFound`` -> 404 (a document the caller may
not read is answered exactly like a missing one), ``Changed`` -> 409 (an original file that is
not the one indexed), ``Forbidden`` -> 403, ``ValueError`` -> 400
(its message names the fix). The OpenAPI document says so for every operation, so clients and
schemathesis know each error's shape.
"""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from lifecycle.originals import Changed
from lifecycle.readers import Forbidden, NotFound

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger(__name__)


class Problem(BaseModel):
    """What went wrong (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""


class ApiError(Exception):
    """A refusal with its status, the sentence a client sees, and any headers it needs."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.headers = status, detail, headers or {}


def problem_of(status: int, detail: str) -> Problem:
    return Problem(title=HTTPStatus(status).phrase, status=status, detail=detail)


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = problem_of(status, detail).model_dump()
    return JSONResponse(body, status, headers=headers, media_type=PROBLEM_JSON)


def install(app: FastAPI) -> None:
    """Every error the app can raise, answered as a problem."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError):
        return problem(exc.status, exc.detail, exc.headers)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound):
        return problem(404, str(exc))

    @app.exception_handler(Changed)  # a NotFound: the more specific handler answers
    async def _changed(_request: Request, exc: Changed):
        return problem(409, str(exc))

    @app.exception_handler(Forbidden)
    async def _forbidden(_request: Request, exc: Forbidden):
        return problem(403, str(exc))

    @app.exception_handler(ValueError)
    async def _bad_value(_request: Request, exc: ValueError):
        return problem(400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError):
        details = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'][1:]) or e['loc'][0]}: {e['msg']}"
            for e in exc.errors()
        )
        return problem(422, details or "the request is not valid")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException):
        return problem(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception):
        logger.exception("unhandled error", exc_info=exc)
        return problem(500, "internal error; the server log has the details")


BODY = (400, 413, 422)  # what any operation with a JSON body may answer about the body


def errors(*statuses: int) -> dict[int | str, dict]:
    """The ``responses=`` of an operation that may answer these error statuses."""
    return {status: {"description": HTTPStatus(status).phrase} for status in sorted(statuses)}


def document_problems(schema: dict) -> dict:
    """The OpenAPI document with every 4xx/5xx response as ``application/problem+json``."""
    ref = {"$ref": "#/components/schemas/Problem"}
    schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = (
        Problem.model_json_schema()
    )
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                if str(status)[0] in "45":
                    response["content"] = {PROBLEM_JSON: {"schema": ref}}
    schema["components"]["schemas"].pop("HTTPValidationError", None)
    schema["components"]["schemas"].pop("ValidationError", None)
    return schema
