"""``/healthz`` (the process answers) and ``/readyz`` (an index serves): no token needed."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from app.api.auth import services
from app.api.models import Health
from app.api.problems import errors
from app.api.state import Services

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=errors(503))
def readyz(services: Services = Depends(services)) -> Health:
    """Ready when an index serves and loads under the policy in force."""
    services.current()
    return Health(status="ready")
