"""One answer from one retrieval: what the chat service (``lifecycle.conversation.ask``) and
the chat benchmark (``evaluation.bench_chat``) both run after searching."""

from __future__ import annotations

from collections.abc import Sequence

from search.chat.answer import Answer, passages_for
from search.chat.extractive import NO_ANSWER_THRESHOLD
from search.chat.llm import LLMConfig, build_answer
from search.index import SearchIndex, SearchResult

PASSAGES_PER_ANSWER = 5


def answer_from(
    index: SearchIndex,
    question: str,
    searched_for: str,
    results: Sequence[SearchResult],
    *,
    llm: LLMConfig | None = None,
    history: Sequence[str] = (),
    n: int = PASSAGES_PER_ANSWER,
    threshold: float = NO_ANSWER_THRESHOLD,
) -> Answer:
    """The answer to ``question`` from the top ``n`` of ``results`` (found for
    ``searched_for``), quoting from the whole of each result's document."""
    documents = {r.doc_id: index.chunks_of(r.doc_id) for r in results[:n]}
    chunks = {c.id: c for found in documents.values() for c in found}
    passages = passages_for(results, chunks, n=n)
    return build_answer(
        question,
        passages,
        index.encoder,
        llm,
        history,
        documents=documents,
        threshold=threshold,
        scored_as=searched_for,
    )
