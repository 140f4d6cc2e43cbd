"""Snippets: the best window of a passage, with the query's terms marked."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN_PLUS

_WORD = re.compile(r"\w+")
# never highlighted, whatever the index's own stopword setting: bm25s's longer English list
# ("does", "from", "what" ...), for the marks only; retrieval keeps the index's tokenisation
HIGHLIGHT_STOPWORDS = frozenset(STOPWORDS_EN_PLUS)


@dataclass(frozen=True)
class Snippet:
    text: str
    highlights: tuple[tuple[int, int], ...]  # character spans within text
    # where the snippet's window lies in the passage it came from (character offsets; the
    # document page marks exactly this span); None: the whole passage
    window: tuple[int, int] | None = None

    def render(
        self, open_mark: str = "**", close_mark: str = "**", escape: Callable[[str], str] = str
    ) -> str:
        """The snippet with each highlight wrapped; every piece of text goes through ``escape``."""
        out, last = [], 0
        for start, end in self.highlights:
            out.append(escape(self.text[last:start]))
            out.append(open_mark + escape(self.text[start:end]) + close_mark)
            last = end
        out.append(escape(self.text[last:]))
        return "".join(out)

    def html(self) -> str:
        """Safe HTML: document text escaped, matches in <mark>."""
        return self.render("<mark>", "</mark>", html.escape)


def make_snippet(
    text: str, query_terms: set[str], normalise: Callable[[str], str], width: int = 300
) -> Snippet:
    """Pick the ``width``-character window with the most query-term matches and mark them.

    ``normalise`` maps a surface word to the form the query terms are in (e.g. a stemmer),
    so "policies" in the text matches "policy" in the query. Stopwords are never marked.
    """
    matches = [
        m.span()
        for m in _WORD.finditer(text)
        if (word := m.group().lower()) not in HIGHLIGHT_STOPWORDS and normalise(word) in query_terms
    ]
    if len(text) <= width:
        return Snippet(text, tuple(matches), (0, len(text)))
    best_start, best_count = 0, -1
    for start, _ in matches or [(0, 0)]:
        begin = max(0, start - width // 4)
        count = sum(1 for s, e in matches if begin <= s and e <= begin + width)
        if count > best_count:
            best_start, best_count = begin, count
    # snap to a word boundary
    if best_start > 0:
        space = text.find(" ", best_start)
        best_start = space + 1 if 0 <= space < best_start + 30 else best_start
    end = min(len(text), best_start + width)
    if end < len(text):
        space = text.rfind(" ", best_start, end)
        end = space if space > best_start + width // 2 else end
    prefix = "…" if best_start > 0 else ""
    suffix = "…" if end < len(text) else ""
    window = text[best_start:end]
    shift = len(prefix) - best_start
    spans = tuple((s + shift, e + shift) for s, e in matches if best_start <= s and e <= end)
    return Snippet(prefix + window + suffix, spans, (best_start, end))
