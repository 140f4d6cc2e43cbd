"""``GET /v1/search`` and ``POST /v1/feedback``: one call each into the lifecycle services."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, Query

from app.api.auth import reader, services
from app.api.limits import MAX_K, MAX_OFFSET, MAX_QUERY_CHARS
from app.api.models import (
    AnswerVote,
    Feedback,
    FeedbackResponse,
    Result,
    ResultClick,
    SearchResponse,
)
from app.api.problems import BODY, ApiError, errors
from app.api.state import Services
from app.search_params import date_range_problem
from lifecycle.documents import search_as
from lifecycle.personal import record_click, record_vote
from lifecycle.readers import Reader, new_session
from search.retrieval import Filters

router = APIRouter(prefix="/v1", tags=["search"])
Format = Literal["pdf", "docx", "html", "markdown", "text", "beir"]


@router.get("/search", response_model=SearchResponse, responses=errors(400, 401, 422, 429, 503))
def search(
    q: str = Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the query"),
    k: int = Query(10, ge=1, le=MAX_K),
    offset: int = Query(0, ge=0, le=MAX_OFFSET, description="results to skip (paging)"),
    method: Literal["hybrid", "bm25", "dense"] = "hybrid",
    format: list[Format] = Query(default_factory=list, description="only these formats"),
    path_prefix: str = Query("", max_length=1000, description="only documents under this folder"),
    after: date | None = Query(None, description="modified on or after this day"),
    before: date | None = Query(None, description="modified before this day"),
    weaker: bool = Query(False, description="also return the matches below the relevance floor"),
    caller: Reader = Depends(reader),
    services: Services = Depends(services),
) -> SearchResponse:
    """The documents the caller may read that best match ``q``, logged as the caller's query
    (its ``query_id`` takes clicks and votes)."""
    dates = (after.isoformat() if after else "", before.isoformat() if before else "")
    if contradiction := date_range_problem(*dates, names=("`after`", "`before`")):
        raise ApiError(400, contradiction)
    current = services.current()
    filters = Filters.of(format, path_prefix, *dates)
    page = search_as(
        current.index,
        services.store,
        caller,
        q,
        session_id=new_session(caller),
        version=current.served.version,
        k=k,
        offset=offset,
        method=method,
        filters=filters,
        source="api",
        experiment=current.experiment,
        weaker=weaker,
    )
    return SearchResponse(
        query_id=page.query_id,
        index_version=page.index_version,
        took_ms=page.took_ms,
        results=[Result.of(r) for r in page.results],
        did_you_mean=page.did_you_mean,
        corrected_query=page.corrected_query,
        found=page.found,
        held_back=page.held_back,
        floor=page.floor,
        good_match=page.good_match,
    )


@router.post(
    "/feedback",
    response_model=FeedbackResponse,
    status_code=201,
    responses=errors(*BODY, 401, 404, 429),
)
def feedback(
    body: Feedback, caller: Reader = Depends(reader), services: Services = Depends(services)
) -> FeedbackResponse:
    """A click or vote on a result the caller was shown (or a vote on the caller's chat
    answer): into the same feedback store and learning loop as the app's."""
    store = services.store
    if isinstance(body, AnswerVote):
        session = services.conversations.session_of_answer(caller, body.answer_id)
        if session is None:
            raise ApiError(404, f"no answer {body.answer_id} of yours; vote on an answer you got")
        made = store.log_vote(
            body.value, answer_id=body.answer_id, comment=body.comment, session_id=session
        )
    elif isinstance(body, ResultClick):
        made = record_click(store, caller, body.query_id, body.doc_id, kind=body.click)
    else:
        made = record_vote(store, caller, body.value, body.query_id, body.doc_id, body.comment)
    return FeedbackResponse(id=made, kind=body.kind)
