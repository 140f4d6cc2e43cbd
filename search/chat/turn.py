"""One answer from one retrieval: what the chat service (``lifecycle.conversation.ask``) and
the chat benchmark (``evaluation.bench_chat``) both run after searching."""

from __future__ import annotations

from collections.abc import Sequence

from search.chat.answer import Answer, passages_for
from search.chat.extractive import embedded_texts
from search.chat.llm import LLMConfig, build_answer
from search.chat.superseded import replaced_among
from search.chat.vectors import SENTENCE_VECTORS
from search.config import Method
from search.index import SearchIndex, SearchResult
from search.index.query import model_for

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
    threshold: float | None = None,
) -> Answer:
    """The answer to ``question`` from the top ``n`` of ``results`` (found for
    ``searched_for``) that reach the relevance floor, quoting from the whole of each result's
    document; none reaching it: "no documents matched" (a result the search page would hold
    back as a weak match is no evidence for an answer either). A document another of them says
    it replaces is not quoted (``superseded.replaced_among``)."""
    results = above_floor(index, results)
    replaced = replaced_among(index, [r.doc_id for r in results[:n]])  # out of date beside
    results = [r for r in results if r.doc_id not in replaced]  # the one that replaced it
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


def above_floor(index: SearchIndex, results: Sequence[SearchResult]) -> list[SearchResult]:
    """``results`` at or above the relevance floor of the index's hybrid ranking (all of them
    where no relevance model applies: no probability, no floor)."""
    model = model_for(index, Method.HYBRID)
    if model is None:
        return list(results)
    return [r for r in results if r.relevance is None or r.relevance >= model.floor]


WARM_UP_TEXTS = 20_000  # sentences (each alone and under its heading) encoded before questions


def warm_up(index: SearchIndex, limit: int = WARM_UP_TEXTS) -> int:
    """Embed the sentences answers quote from, document by document in index order, up to
    ``limit`` texts (the sample's 31 documents are 1,828), so the first questions answer at
    full speed; vectors found in the kept embedding cache cost no encoding. Returns how many."""
    texts: list[str] = []
    for doc_id in index.doc_ids:
        if len(texts) >= limit:
            break
        texts += embedded_texts(index.documents[doc_id]["title"], index.chunks_of(doc_id))
    return SENTENCE_VECTORS.warm(index.encoder, texts[:limit])
