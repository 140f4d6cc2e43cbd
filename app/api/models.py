"""The API's request and response bodies (what /openapi.json publishes)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, model_validator

from app.api.limits import MAX_MESSAGE_CHARS
from search.index import SearchResult


class Result(BaseModel):
    doc_id: str
    title: str
    score: float
    rank: int
    snippet: str
    highlights: list[tuple[int, int]] = Field(
        description="character spans of the query's terms within `snippet`"
    )
    metadata: dict

    @classmethod
    def of(cls, r: SearchResult) -> Result:
        return cls(
            doc_id=r.doc_id,
            title=r.title,
            score=r.score,
            rank=r.rank,
            snippet=r.snippet.text,
            highlights=[tuple(h) for h in r.snippet.highlights],
            metadata=r.metadata,
        )


class SearchResponse(BaseModel):
    query_id: int
    index_version: str
    took_ms: float
    results: list[Result]


class Feedback(BaseModel):
    """A click or a vote on a result this token's search returned (its query_id and doc_id),
    or a vote on a chat answer (answer_id)."""

    kind: Literal["click", "vote"]
    query_id: int | None = Field(None, ge=1)
    doc_id: str | None = Field(None, min_length=1, max_length=1000)
    answer_id: int | None = Field(None, ge=1)
    value: Literal[-1, 0, 1] | None = Field(None, description="a vote: +1, -1, or 0 to withdraw")
    click: Literal["open", "preview", "download", "citation"] = "open"
    comment: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _target(self) -> Feedback:
        if self.kind == "vote" and self.value is None:
            raise ValueError("a vote needs `value` (+1, -1 or 0)")
        if self.answer_id is not None:
            if self.kind != "vote" or self.query_id is not None:
                raise ValueError("an answer_id takes a vote alone (no query_id)")
        elif self.query_id is None or self.doc_id is None:
            raise ValueError("give query_id and doc_id of a result (or answer_id of an answer)")
        return self


class FeedbackResponse(BaseModel):
    id: int
    kind: Literal["click", "vote"]


class ChatRequest(BaseModel):
    message: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    conversation_id: str | None = Field(None, max_length=64)


class Citation(BaseModel):
    number: int
    doc_id: str
    title: str
    path: str
    text: str


class ChatResponse(BaseModel):
    answer: str
    citations: list[Citation] = Field(description="the passages the answer cites, by [n]")
    conversation_id: str
    query_id: int
    answer_id: int
    searched_for: str
    mode: str


class DocumentOut(BaseModel):
    doc_id: str
    title: str
    metadata: dict
    text: str


class SimilarResponse(BaseModel):
    doc_id: str
    results: list[Result]


class IndexInfo(BaseModel):
    index_version: str
    source: str
    label: str
    documents: int
    chunks: int
    model: str
    policy_hash: str = Field(description="the access policy this service enforces now")
    version_policy_hash: str | None = Field(
        description="the policy the serving version records (differs until the pipeline "
        "has applied a policy change)"
    )
    policy_error: str = Field("", description="why the policy file is not in force (admins)")


class PromoteRequest(BaseModel):
    version: str = Field(min_length=1, max_length=32, description="3, v3 or an alias")
    force: bool = False


class IndexChange(BaseModel):
    champion: str
    detail: str


class Health(BaseModel):
    status: str
