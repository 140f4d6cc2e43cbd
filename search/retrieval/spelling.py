"""Spelling correction from the corpus's own words and word pairs: "did you mean", and the
corrected query searched instead when it retrieves clearly better (``search_forgiving``).

The dictionary is every word of the indexed text with its frequency (SymSpell, Wolf Garbe's
symmetric-delete algorithm, through ``symspellpy``): a correction is always a word some
document uses, so it can match something. A word is left alone when the corpus knows it as
written, when its stem is in the BM25 vocabulary ("passwords" where the text only says
"password"), when it is a common English word the corpus happens not to use (``common_english``),
a stopword, a number or shorter than ``MIN_WORD``: a known word is never replaced by another. An unknown word's candidates are the corpus words within one edit (two for
words longer than ``SHORT_WORD`` letters; a transposition is one edit), never a stopword, and only
words the reader may read (``admissible``). Of the candidates, the sequence that the corpus makes
most likely wins (a noisy channel: each edit costs ``EDIT_COST``, each word adds the log of its
frequency, and each pair of neighbouring words the log of how often the corpus writes them side
by side), so "hotl in londn" becomes "hotel in london" rather than "hotel in load", and "how much
mony" becomes "how much money" (the corpus says "much money", never "much many"). Equal
candidates are ordered by the word itself, so every reader who may read the same documents gets
the same correction.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache

MIN_WORD = 3  # shorter words are never corrected (ids, units, "vpn")
SHORT_WORD = 5  # words up to this length get one edit, longer ones two
MAX_EDIT = 2
EDIT_COST = 3.0  # log-frequency units an edit costs: "londn" is "london" (1 edit), not "load" (2)
PAIR_WEIGHT = 1.0  # weight of a word pair's log-frequency against a word's own
BEAM = 8  # partial corrections kept while reading the query left to right
ALTERNATIVES = 3  # whole corrections offered to the search (``search_forgiving``)
# The dictionary keeps the most frequent words (SymSpell's memory grows with words x deletes); a
# rarer word still counts as known through the BM25 stem vocabulary, so it is never "corrected".
MAX_WORDS = 100_000
MAX_PAIRS = 500_000
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)

Admissible = Callable[[str], bool]  # whether a word may be suggested (to this reader)


@dataclass(frozen=True)
class _Path:
    """A partial correction: the words chosen so far and its score."""

    words: tuple[str, ...]
    score: float


class SpellingCorrector:
    """Corrects query words to the corpus's words, choosing among them by the corpus's pairs."""

    def __init__(
        self,
        counts: Mapping[str, int],
        known: Callable[[str], bool] | None = None,
        stopwords: Iterable[str] = (),
        pairs: Mapping[tuple[str, str], int] | None = None,
        common: Iterable[str] = (),
    ) -> None:
        from symspellpy import SymSpell

        self.counts = dict(counts)
        self.pairs = dict(pairs or {})
        self._known = known or (lambda word: False)
        self._stopwords = frozenset(w.lower() for w in stopwords)
        self._common = frozenset(common)  # words of the language, known whatever the corpus says
        self._symspell = SymSpell(max_dictionary_edit_distance=MAX_EDIT, prefix_length=7)
        for word, count in self.counts.items():
            self._symspell.create_dictionary_entry(word, count)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        known: Callable[[str], bool] | None = None,
        stopwords: Iterable[str] = (),
        common: Iterable[str] = (),
    ) -> SpellingCorrector:
        counts: Counter[str] = Counter()
        pairs: Counter[tuple[str, str]] = Counter()
        for text in texts:
            words = _WORD.findall(text.lower())
            counts.update(w for w in words if len(w) >= MIN_WORD)
            pairs.update(zip(words, words[1:], strict=False))
        return cls(
            dict(counts.most_common(MAX_WORDS)),
            known,
            stopwords,
            dict(pairs.most_common(MAX_PAIRS)),
            common,
        )

    def is_known(self, word: str, admissible: Admissible | None = None) -> bool:
        """Whether ``word`` is left alone for a reader who may read what ``admissible`` accepts:
        a word only documents they may not read use is as unknown to them as a word nobody
        uses, or leaving it uncorrected would tell them that some document uses it."""
        lower = word.lower()
        if len(lower) < MIN_WORD or lower in self._stopwords or lower in self._common:
            return True
        if lower not in self.counts and not self._known(lower):
            return False
        return admissible is None or admissible(lower)

    def candidates(self, word: str, admissible: Admissible | None = None) -> list[tuple[str, int]]:
        """(corpus word, edits) near an unknown ``word`` that ``admissible`` accepts, nearest
        and most frequent first; [] for a known word or when nothing is near."""
        from symspellpy import Verbosity

        if self.is_known(word, admissible):
            return []
        lower = word.lower()
        distance = 1 if len(lower) <= SHORT_WORD else MAX_EDIT
        found = self._symspell.lookup(lower, Verbosity.ALL, max_edit_distance=distance)
        return [
            (s.term, s.distance)
            for s in sorted(found, key=lambda s: (s.distance, -s.count, s.term))
            if s.term not in self._stopwords and (admissible is None or admissible(s.term))
        ]

    def suggest(self, word: str, admissible: Admissible | None = None) -> str | None:
        """The corpus's spelling of one unknown ``word`` on its own (no neighbours), in the
        user's capitalisation; None when ``word`` is known or nothing is near."""
        found = self.corrections(word, admissible, 1)
        return found[0] if found else None

    def corrections(
        self, query: str, admissible: Admissible | None = None, alternatives: int = ALTERNATIVES
    ) -> list[str]:
        """Up to ``alternatives`` corrections of ``query``, the likeliest first (each unknown
        word replaced, everything else as typed); [] when no word is unknown or none has a
        candidate."""
        spans = [m.span() for m in _WORD.finditer(query)]
        words = [query[a:b] for a, b in spans]
        options = [self._options(w, admissible) for w in words]
        if all(len(o) == 1 and o[0][0] == w.lower() for o, w in zip(options, words, strict=True)):
            return []
        beam = [_Path((), 0.0)]
        for choices in options:
            grown = [
                _Path((*path.words, word), path.score + self._step(path.words, word, edits))
                for path in beam
                for word, edits in choices
            ]
            beam = sorted(grown, key=lambda p: (-p.score, p.words))[:BEAM]
        out = []
        for path in beam[:alternatives]:
            text = _rebuild(query, spans, words, path.words)
            if text != query and text not in out:
                out.append(text)
        return out

    def unknown_share(self, query: str, admissible: Admissible | None = None) -> float:
        """The share of the query's content words unknown to the reader (``is_known``)."""
        content = self._content_words(query)
        unknown = sum(not self.is_known(w, admissible) for w in content)
        return unknown / len(content) if content else 0.0

    def unused_share(self, query: str) -> float:
        """The share of the query's content words no document uses (common English included:
        "kayak" is a word, and still one the documents lack); what drift monitoring counts."""
        content = self._content_words(query)
        unused = sum(w.lower() not in self.counts and not self._known(w.lower()) for w in content)
        return unused / len(content) if content else 0.0

    def _content_words(self, query: str) -> list[str]:
        return [
            w
            for w in _WORD.findall(query)
            if w.lower() not in self._stopwords and len(w) >= MIN_WORD
        ]

    def _options(self, word: str, admissible: Admissible | None) -> list[tuple[str, int]]:
        if self.is_known(word, admissible):
            return [(word.lower(), 0)]
        return self.candidates(word, admissible) or [(word.lower(), 0)]

    def _step(self, before: tuple[str, ...], word: str, edits: int) -> float:
        score = math.log1p(self.counts.get(word, 0)) - EDIT_COST * edits
        if before:
            score += PAIR_WEIGHT * math.log1p(self.pairs.get((before[-1], word), 0))
        return score


# A word at least this frequent in symspellpy's English frequency list (counts from a large web
# corpus; "bread" 13.6 million, "calender" 1.3 million, "mony" absent) is a word, not a typo,
# even where the corpus never uses it: "recipe for banana bread" is never "receive for banana
# tread".
COMMON_WORD = 2_000_000


@cache
def common_english() -> frozenset[str]:
    """Common English words (``COMMON_WORD``), from the dictionary symspellpy ships."""
    from importlib.resources import files

    listed = files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").read_text()
    words = (line.split() for line in listed.splitlines())
    return frozenset(w[0] for w in words if len(w) == 2 and int(w[1]) >= COMMON_WORD)


def _rebuild(query: str, spans, typed: list[str], chosen: tuple[str, ...]) -> str:
    """``query`` with each word that changed replaced, in the typed word's capitalisation."""
    out, last = [], 0
    for (start, end), was, now in zip(spans, typed, chosen, strict=True):
        out.append(query[last:start])
        out.append(was if was.lower() == now else _cased_like(was, now))
        last = end
    out.append(query[last:])
    return "".join(out)


def _cased_like(typed: str, word: str) -> str:
    if typed.isupper() and len(typed) > 1:
        return word.upper()
    return word.capitalize() if typed[:1].isupper() else word
