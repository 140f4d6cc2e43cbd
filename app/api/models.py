"""The API's request and response bodies (what /openapi.json publishes)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.api.limits import MAX_MESSAGE_CHARS
from search.index import SearchResult

STRICT = ConfigDict(extra="forbid")  # request bodies: an unknown field is a mistake, said so


def _not_a_bool(value):
    if isinstance(value, bool):  # JSON `false` is not the number 0
        raise ValueError("a number is needed, not true or false")
    return value


MAX_ID = 2**53  # ids beyond this are no JSON client's exact integers (and no row of ours)
Whole = Annotated[int, BeforeValidator(_not_a_bool)]  # 3 or 3.0, never false


class Replacement(BaseModel):
    doc_id: str
    title: str


class Result(BaseModel):
    doc_id: str
    title: str
    score: float = Field(
        description="the probability that the result is relevant (0-1; the same scale for "
        "every query; never higher than the result above it)"
    )
    rank: int
    snippet: str
    highlights: list[tuple[int, int]] = Field(
        description="character spans of the query's terms within `snippet`"
    )
    metadata: dict
    chunk_id: str | None = Field(None, description="the passage the snippet comes from")
    bm25_score: float | None = Field(None, description="BM25's score (None: BM25 missed it)")
    dense_score: float | None = Field(
        None, description="the passage's cosine with the query (None: dense retrieval missed it)"
    )
    replaced_by: list[Replacement] = Field(
        default_factory=list,
        description="documents you may open that say they replace this one (it is out of date)",
    )

    @classmethod
    def of(cls, r: SearchResult) -> Result:
        return cls(
            doc_id=r.doc_id,
            title=r.title,
            score=r.shown_score,
            rank=r.rank,
            snippet=r.snippet.text,
            highlights=[tuple(h) for h in r.snippet.highlights],
            metadata=r.metadata,
            chunk_id=r.chunk_id,
            bm25_score=r.bm25_score,
            dense_score=r.dense_score,
            replaced_by=[Replacement(doc_id=d, title=t) for d, t in r.replaced_by],
        )


class SearchResponse(BaseModel):
    query_id: int
    index_version: str
    took_ms: float
    results: list[Result]
    did_you_mean: str | None = None  # the query in the corpus's spelling, when it differs
    corrected_query: str | None = None  # set when the results are for it, not for q
    found: int = Field(0, description="results that can be paged through")
    held_back: int = Field(
        0,
        description="weaker matches below the relevance floor, not returned (weaker=true shows them)",
    )
    floor: float | None = Field(None, description="the relevance below which results are held back")
    good_match: bool = Field(
        True, description="false when even the best result is below the floor: no good match"
    )


class ResultClick(BaseModel):
    """A click on a result this token's search returned."""

    model_config = STRICT

    kind: Literal["click"]
    query_id: Whole = Field(ge=1, le=MAX_ID)
    doc_id: str = Field(min_length=1, max_length=1000)
    click: Literal["open", "preview", "download", "citation"] = "open"


class ResultVote(BaseModel):
    """A thumbs-up (+1), thumbs-down (-1) or withdrawn vote (0) on a result this token's
    search returned."""

    model_config = STRICT

    kind: Literal["vote"]
    query_id: Whole = Field(ge=1, le=MAX_ID)
    doc_id: str = Field(min_length=1, max_length=1000)
    value: Whole = Field(ge=-1, le=1, description="+1, -1, or 0 to withdraw")
    comment: str | None = Field(None, max_length=2000)


class AnswerVote(BaseModel):
    """A vote on a chat answer this token got (its ``answer_id``)."""

    model_config = STRICT

    kind: Literal["answer_vote"]
    answer_id: Whole = Field(ge=1, le=MAX_ID)
    value: Whole = Field(ge=-1, le=1, description="+1, -1, or 0 to withdraw")
    comment: str | None = Field(None, max_length=2000)


Feedback = Annotated[ResultClick | ResultVote | AnswerVote, Field(discriminator="kind")]


class FeedbackResponse(BaseModel):
    id: int
    kind: Literal["click", "vote", "answer_vote"]


class ChatRequest(BaseModel):
    model_config = STRICT
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
    answered: bool = Field(description="false when the documents do not say (the answer says so)")
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
    model_config = STRICT
    version: str = Field(min_length=1, max_length=32, description="3, v3 or an alias")
    force: bool = Field(False, strict=True)


class IndexChange(BaseModel):
    champion: str
    detail: str


class Health(BaseModel):
    status: str
