"""``GET /v1/index`` for everyone; ``/v1/monitoring``, ``/v1/lineage``, promote and roll back
for admins."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Path

from app.api.auth import admin, reader, services
from app.api.models import IndexChange, IndexInfo, PromoteRequest
from app.api.problems import BODY, ApiError, errors
from app.api.state import Services
from lifecycle.access import index_summary
from lifecycle.personal import traffic
from lifecycle.readers import Reader

router = APIRouter(prefix="/v1", tags=["index"])


@router.get("/index", response_model=IndexInfo, responses=errors(401, 429, 503))
def index(caller: Reader = Depends(reader), services: Services = Depends(services)) -> IndexInfo:
    """The serving index version, its counts, and the access policy it enforces."""
    current = services.current()
    return IndexInfo(**index_summary(current.served, current.index, current.policy, caller))


@router.get("/monitoring", responses=errors(401, 403, 429))
def monitoring_figures(
    caller: Reader = Depends(admin), services: Services = Depends(services)
) -> dict:
    """Queries, latency, zero-result rate, click-through and thumbs-up, overall and per index
    version (admins only: traffic is personal data)."""
    return traffic(services.store, caller)


@router.post(
    "/index/promote", response_model=IndexChange, responses=errors(*BODY, 401, 403, 409, 429)
)
def promote(
    body: PromoteRequest, caller: Reader = Depends(admin), services: Services = Depends(services)
) -> IndexChange:
    """Move the champion to a registered version if the gate passes (or ``force``)."""
    from lifecycle.registry import Registry

    try:
        decision, promoted = Registry.from_settings(services.settings).promote(
            body.version, force=body.force
        )
    except ValueError as exc:  # no such version, or it is the champion already
        raise ApiError(409, str(exc)) from None
    services.forget_serving()
    verb = "promoted" if promoted else "not promoted"
    return IndexChange(
        champion=body.version if promoted else "unchanged", detail=f"{verb}: {decision.reason}"
    )


@router.post("/index/rollback", response_model=IndexChange, responses=errors(401, 403, 409, 429))
def rollback(
    caller: Reader = Depends(admin), services: Services = Depends(services)
) -> IndexChange:
    """Point the champion back at the previous champion."""
    from lifecycle.registry import Registry

    try:
        previous = Registry.from_settings(services.settings).rollback()
    except ValueError as exc:  # no earlier champion
        raise ApiError(409, str(exc)) from None
    services.forget_serving()
    return IndexChange(champion=str(previous.version), detail=f"rolled back to v{previous.version}")


@router.get("/lineage/{query_id}", responses=errors(401, 403, 404, 429))
def lineage(
    query_id: int = Path(ge=1, le=2**53),
    caller: Reader = Depends(admin),
    services: Services = Depends(services),
) -> dict:
    """Where a logged query's results came from: the index version, the encoder and its
    training data, the MLflow and Dagster runs, the files and their content hashes (admins
    only: it names queries, files and operator tools). What `docsearch lineage` prints."""
    from lifecycle.lineage import LineageError, trace

    try:
        return trace(services.settings, query_id).as_dict()
    except LineageError:
        raise ApiError(404, f"no query {query_id}; query ids are in search answers") from None
