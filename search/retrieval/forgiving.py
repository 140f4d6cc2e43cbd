"""The search that forgives misspellings: the query and its corrections (``spelling``) are each
searched, and a correction's results replace the query's only when they are clearly better, as
the calibrated relevance of their best result says (``search.retrieval.relevance``).

The corrector of an index is built lazily on a thread, once per index object
(``corrector_for``); until it is ready a search runs uncorrected.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from search.retrieval.spelling import Admissible, SpellingCorrector, common_english

T = TypeVar("T")
# How much likelier (in relevance of the best result, 0-1) a correction's results must be to
# be shown instead of the query's; a correction that does better by less is only offered.
CLEARLY_BETTER = 0.1
AUTO_SHARE = 0.5  # without relevance: the correction is searched when this share is unknown


@dataclass(frozen=True)
class Forgiven(Generic[T]):
    """Results of a query, with the spelling the corpus would have used."""

    results: list[T]
    did_you_mean: str | None = None  # the query in the corpus's spelling, when it differs
    corrected_query: str | None = None  # set when `results` are for it, not for the query


def search_forgiving(
    search: Callable[[str], T],
    corrector: SpellingCorrector | None,
    query: str,
    admissible: Admissible | None = None,
    confidence: Callable[[T], float | None] | None = None,
) -> Forgiven[T]:
    """``search(query)``, and ``search(c)`` for each correction ``c`` of its unknown words
    (only words ``admissible`` accepts). ``confidence(results)``: how good a result list is
    (the relevance of its best result). The best correction's results are returned instead
    when their confidence beats the query's by ``CLEARLY_BETTER`` (``corrected_query`` says
    so), and it is offered as ``did_you_mean`` when it beats it at all. Where confidence is
    unknown (None: no relevance model), the likeliest correction is offered, and its results
    are returned instead when most of the query's words are unknown (``AUTO_SHARE``) and it
    finds something. Without a corrector (not built yet) it is a search."""
    original = search(query)
    if corrector is None:
        return Forgiven(original)
    corrections = corrector.corrections(query, admissible)
    if not corrections:
        return Forgiven(original)
    judge = confidence or (lambda results: None)
    mine = judge(original)
    if mine is None:
        return _by_unknown_share(search, corrector, query, corrections[0], original, admissible)
    tried = [(judge(search(text)) or 0.0, -i, text) for i, text in enumerate(corrections)]
    best_score, _, best_text = max(tried)
    if best_score >= mine + CLEARLY_BETTER:
        return Forgiven(search(best_text), best_text, best_text)
    if best_score > mine:
        return Forgiven(original, best_text)
    return Forgiven(original)


def _by_unknown_share(
    search, corrector, query: str, correction: str, original, admissible=None
) -> Forgiven:
    if corrector.unknown_share(query, admissible) >= AUTO_SHARE:
        corrected = search(correction)
        if getattr(corrected, "results", corrected):  # a page of results, or a list
            return Forgiven(corrected, correction, correction)
    return Forgiven(original, correction)


# How long a search waits for its index's corrector on first use: a small corpus's is ready in
# time; a large one's (SciFact, 5,000 abstracts: about 10 s) goes on building in the background
# and searches run uncorrected until it is done.
WAIT_SECONDS = 2.0


class _Build:
    """One corrector being built on a thread of its own."""

    def __init__(self, index) -> None:
        self.done = threading.Event()
        self.corrector: SpellingCorrector | None = None
        threading.Thread(target=self._run, args=(index,), daemon=True).start()

    def _run(self, index) -> None:
        try:
            self.corrector = _build(index)
        finally:
            self.done.set()


_BUILDS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def corrector_for(index, wait: float | None = WAIT_SECONDS) -> SpellingCorrector | None:
    """The corrector of a ``SearchIndex``, built from its chunk texts on first use (on a thread,
    kept for as long as the index object lives); None while it is still being built after
    ``wait`` seconds (None: wait until it is ready)."""
    with _LOCK:
        build = _BUILDS.get(index)
        if build is None:
            build = _BUILDS[index] = _Build(index)
    build.done.wait(wait)
    return build.corrector


def _build(index) -> SpellingCorrector:
    """A corrector over the index's chunk texts; its BM25 vocabulary of stems, and for an
    English index common English words, say what else is known."""
    sparse = index.sparse
    vocabulary = getattr(sparse.retriever, "vocab_dict", None) or {}
    stem = sparse._stemmer.stemWord if sparse._stemmer else (lambda word: word)
    english = common_english() if sparse.stopwords in ("en", "english") else frozenset()
    return SpellingCorrector.from_texts(
        (chunk.text for chunk in index.chunks),
        known=lambda word: stem(word) in vocabulary,
        stopwords=_stopwords(sparse.stopwords),
        common=english,
    )


def readable_words(index, allowed_docs) -> Admissible:
    """Words some document in ``allowed_docs`` (a mask over the index's document rows, None
    for all) matches in BM25: what may be suggested to a reader restricted to them."""
    if allowed_docs is None:
        return lambda word: True

    def admissible(word: str) -> bool:
        _, rows = index.sparse.search([word], 1, allowed_docs)
        return bool(rows.size) and int(rows[0, 0]) >= 0

    return admissible


def _stopwords(name: str) -> frozenset[str]:
    if not name:
        return frozenset()
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    # the longer English list: a typo is never "corrected" into "many" or "would", which
    # retrieval ignores or which carry no topic
    return frozenset(STOPWORDS_EN_PLUS) if name in ("en", "english") else frozenset()
