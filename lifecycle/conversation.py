"""One chat turn: the question rewritten only when it refers back, searched and logged,
answered from the passages with citations, and the answer logged. The app's chat page, the
command line and the REST API all call ``ask``."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

from lifecycle.feedback import FeedbackStore, search_and_log
from search.chat import Answer, LLMConfig, build_answer, passages_for, rewrite_question
from search.index import SearchIndex

PASSAGES_PER_ANSWER = 5


@dataclass(frozen=True)
class Turn:
    """A question, what was searched for it, the answer, and the ids the store gave them."""

    question: str
    searched_for: str  # the question as retrieved with (rewritten only for follow-ups)
    answer: Answer
    query_id: int  # the retrieval behind the answer (its results and clicks)
    answer_id: int  # the answer (its votes)


def ask(
    index: SearchIndex,
    store: FeedbackStore,
    question: str,
    *,
    session_id: str,
    version: str,
    history: Sequence[Turn] = (),
    llm: LLMConfig | None = None,
) -> Turn:
    """Answer ``question`` in a conversation whose earlier turns are ``history``."""
    started = time.perf_counter()
    searched_for = rewrite_question(question, [t.searched_for for t in history])
    query_id, results = search_and_log(
        index, store, searched_for, session_id, version, k=PASSAGES_PER_ANSWER, source="chat"
    )
    chunks = {c.id: c for r in results for c in index.chunks_of(r.doc_id)}
    passages = passages_for(results, chunks, n=PASSAGES_PER_ANSWER)
    answer = build_answer(
        question, passages, index.encoder, llm, history=[t.question for t in history]
    )
    answer_id = store.log_answer(
        session_id=session_id,
        question=question,
        rewritten_query=searched_for,
        answer=answer.text,
        cited_doc_ids=[p.doc_id for p in answer.cited()],
        index_version=version,
        mode=answer.mode,
        query_id=query_id,
        latency_ms=(time.perf_counter() - started) * 1000,
    )
    return Turn(question, searched_for, answer, query_id, answer_id)
