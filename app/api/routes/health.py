"""``/healthz`` (the process answers) and ``/readyz`` (an index serves, warmed up): no token
needed."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.auth import services
from app.api.models import Health
from app.api.problems import ApiError, errors
from app.api.state import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=errors(503))
def readyz(services: Services = Depends(services)) -> Health:
    """Ready when an index serves, loads under the policy in force and is warmed up: its
    spelling corrector built, the sentences chat answers quote embedded, one answer composed
    (``lifecycle.warmup``; the first call starts it, 503 with Retry-After until it is done)."""
    services.current()
    if services.warmed() is None:
        raise ApiError(503, "warming up: the index is loaded; chat answers are being prepared",
                       {"Retry-After": "1"})  # fmt: skip
    return Health(status="ready")
