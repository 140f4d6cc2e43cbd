"""Spelling correction from the corpus's own vocabulary: "did you mean", and the corrected query
searched instead when the original's words are mostly unknown to the corpus.

The dictionary is every word of the indexed text with its frequency (SymSpell, Wolf Garbe's
symmetric-delete algorithm, through ``symspellpy``): a correction is always a word some
document uses, so it can match something, and the most frequent of the nearest spellings wins.
A query word is left alone when the corpus knows it as written, when its stem is in the BM25
vocabulary ("passwords" where the text only says "password"), when it is a stopword, a number
or shorter than ``MIN_WORD``. The corrector is built lazily on a thread, once per index object (``corrector_for``).
"""

from __future__ import annotations

import re
import threading
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

MIN_WORD = 3  # shorter words are never corrected (ids, units, "vpn")
MAX_EDIT = 2  # edits to a word of more than SHORT_WORD letters; 1 up to it
SHORT_WORD = 4
AUTO_SHARE = 0.5  # search the correction instead when this share of content words is unknown
# The dictionary keeps the most frequent words (SymSpell's memory grows with words x deletes); a
# rarer word still counts as known through the BM25 stem vocabulary, so it is never "corrected".
MAX_WORDS = 100_000
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

T = TypeVar("T")
Admissible = Callable[[str], bool]  # whether a word may be suggested (to this reader)


class SpellingCorrector:
    """Corrects query words to the nearest, most frequent words of a vocabulary."""

    def __init__(
        self,
        counts: Mapping[str, int],
        known: Callable[[str], bool] | None = None,
        stopwords: Iterable[str] = (),
    ) -> None:
        from symspellpy import SymSpell

        self.counts = dict(counts)
        self._known = known or (lambda word: False)
        self._stopwords = frozenset(w.lower() for w in stopwords)
        self._symspell = SymSpell(max_dictionary_edit_distance=MAX_EDIT, prefix_length=7)
        for word, count in self.counts.items():
            self._symspell.create_dictionary_entry(word, count)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        known: Callable[[str], bool] | None = None,
        stopwords: Iterable[str] = (),
    ) -> SpellingCorrector:
        counts: Counter[str] = Counter()
        for text in texts:
            counts.update(w for w in _WORD.findall(text.lower()) if len(w) >= MIN_WORD)
        return cls(dict(counts.most_common(MAX_WORDS)), known, stopwords)

    def is_known(self, word: str) -> bool:
        lower = word.lower()
        return (
            len(lower) < MIN_WORD
            or lower in self.counts
            or lower in self._stopwords
            or self._known(lower)
        )

    def is_known_to(self, word: str, admissible: Admissible | None = None) -> bool:
        """Whether `word` is known in what a reader may read (``admissible``): a word only
        documents they may not read use is as unknown to them as a word nobody uses, or
        leaving it uncorrected would tell them that some document uses it."""
        if not self.is_known(word):
            return False
        lower = word.lower()
        if admissible is None or len(lower) < MIN_WORD or lower in self._stopwords:
            return True
        return admissible(lower)

    def suggest(self, word: str, admissible: Admissible | None = None) -> str | None:
        """The corpus's spelling of an unknown `word`: of the nearest words, the most frequent
        that ``admissible`` accepts (a reader may only be told words of documents they may
        read); None when `word` is known or nothing is near."""
        from symspellpy import Verbosity

        if self.is_known_to(word, admissible):
            return None
        lower = word.lower()
        distance = MAX_EDIT if len(lower) > SHORT_WORD else 1
        found = self._symspell.lookup(lower, Verbosity.ALL, max_edit_distance=distance)
        for candidate in sorted(found, key=lambda s: (s.distance, -s.count, s.term)):
            if admissible is None or admissible(candidate.term):
                term = candidate.term
                return term.capitalize() if word[:1].isupper() and word[1:].islower() else term
        return None

    def correct(self, query: str, admissible: Admissible | None = None) -> tuple[str | None, float]:
        """(the query with unknown words corrected or None when nothing changes, the share of
        its content words the corpus does not know)."""
        words = [w for w in _WORD.findall(query) if w.lower() not in self._stopwords]
        content = [w for w in words if len(w) >= MIN_WORD]
        unknown = [w for w in content if not self.is_known_to(w, admissible)]
        share = len(unknown) / len(content) if content else 0.0
        if not unknown:
            return None, share
        corrected = _WORD.sub(lambda m: self.suggest(m.group(0), admissible) or m.group(0), query)
        return (corrected if corrected != query else None), share


@dataclass(frozen=True)
class Forgiven(Generic[T]):
    """Results of a query, with the spelling the corpus would have used."""

    results: list[T]
    did_you_mean: str | None = None  # the query in the corpus's spelling, when it differs
    corrected_query: str | None = None  # set when `results` are for it, not for the query


def search_forgiving(
    search: Callable[[str], list[T]],
    corrector: SpellingCorrector | None,
    query: str,
    admissible: Admissible | None = None,
) -> Forgiven[T]:
    """``search(query)``; when most of the query's words are unknown to the corpus (they find
    nothing) and a correction exists, ``search(correction)`` instead, saying so. Only words
    ``admissible`` accepts are suggested; without a corrector (not built yet) it is a search."""
    if corrector is None:
        return Forgiven(search(query))
    suggestion, unknown_share = corrector.correct(query, admissible)
    if suggestion is None:
        return Forgiven(search(query))
    if unknown_share >= AUTO_SHARE:
        corrected = search(suggestion)
        if corrected:
            return Forgiven(corrected, suggestion, suggestion)
    return Forgiven(search(query), suggestion)


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
    """A corrector over the index's chunk texts; its BM25 vocabulary of stems says what else
    is known."""
    sparse = index.sparse
    vocabulary = getattr(sparse.retriever, "vocab_dict", None) or {}
    stem = sparse._stemmer.stemWord if sparse._stemmer else (lambda word: word)
    return SpellingCorrector.from_texts(
        (chunk.text for chunk in index.chunks),
        known=lambda word: stem(word) in vocabulary,
        stopwords=_stopwords(sparse.stopwords),
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
    from bm25s.stopwords import STOPWORDS_EN

    return frozenset(STOPWORDS_EN) if name in ("en", "english") else frozenset()
