"""What a serving process does before it calls itself ready: the served index loaded with its
encoder, its spelling corrector built, the sentences chat answers quote embedded (and kept in
the home's embedding cache), which documents say they replace others worked out, and one
answer composed, so that the first person's search and chat turn are as fast as the hundredth.
The REST API's ``/readyz`` answers 200 only after it; ``make run`` prints its addresses only
after that and the app's first search page rendered.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from search.chat import PASSAGES_PER_ANSWER, SENTENCE_VECTORS, answer_from, warm_up
from search.chat.superseded import corpus_replacements
from search.index import SearchIndex
from search.settings import Settings


@dataclass(frozen=True)
class Warmed:
    """How long each step took (seconds) and how many sentence texts are embedded."""

    sentences: int
    seconds: dict[str, float] = field(default_factory=dict)


def keep_sentence_vectors(settings: Settings) -> None:
    """Chat answers' sentence vectors in the home's embedding cache as well as in memory, for
    every process of this home (a serving process or a command run here; once per process)."""
    from search.encoding import EmbeddingCache

    kept = SENTENCE_VECTORS.disk
    if kept is None or kept.path != settings.cache_path:
        SENTENCE_VECTORS.keep_on_disk(EmbeddingCache(settings.cache_path))


def warm(index: SearchIndex) -> Warmed:
    """Build, embed and answer once, as ``index`` will be searched and asked (no query is
    logged: nobody asked)."""
    from search.retrieval.forgiving import corrector_for

    seconds, started = {}, time.perf_counter()
    corrector_for(index, wait=None)
    seconds["spelling"] = time.perf_counter() - started
    started = time.perf_counter()
    sentences = warm_up(index)
    seconds["sentences"] = time.perf_counter() - started
    started = time.perf_counter()
    corpus_replacements(index)  # which documents say they replace others: once per index
    seconds["replacements"] = time.perf_counter() - started
    started = time.perf_counter()
    question = index.documents[index.doc_ids[0]]["title"] if index.doc_ids else "help"
    found = index.search(question, k=PASSAGES_PER_ANSWER)
    answer_from(index, question, question, found)
    seconds["answer"] = time.perf_counter() - started
    return Warmed(sentences, {k: round(v, 2) for k, v in seconds.items()})
