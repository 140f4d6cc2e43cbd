"""Whole sentences of a document, with their character offsets in it.

Segmentation is pysbd's (rule-based, the "Golden Rules" of sentence boundaries: abbreviations
such as "e.g." and "Mr.", decimal numbers, "EUR 3,000.", list numbering). Before it runs, the
text is cut into blocks the way a reader sees them, by the rules the parsers unwrap lines with
(``search.line_breaks``: one place decides which line breaks are wraps):

- a blank line ends a block (paragraphs, table cells on their own line in a PDF), unless the
  sentence goes on after it (``continues_after_break``: a page break);
- a list item or table row ("- x", "1. x", "a | b") is a block of its own;
- a line break that is a wrap inside a sentence (``is_wrap``) is read as a space, so
  "do not\\ndelete" stays one sentence instead of two halves that lose the "not"; so is the
  break after a code on a line of its own (a table's label such as "E101") and the break
  before a number (a table's value after its label); any other break (after a heading, after a
  sentence's end) ends the block.

Offsets always point into the original text, so a sentence is quoted verbatim (modulo
whitespace) from the document it came from.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

from search.line_breaks import (
    LIST_ITEM,
    continues_after_break,
    is_list_item,
    is_table_row,
    is_wrap,
    nearby_width,
)

_CLOSING = tuple(".!?:;")
_HEADING_WORDS = 12
_MIN_WORDS = 4  # shorter pieces are headings or labels and answer nothing on their own
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets in the text it was split from
    end: int
    text: str  # the text between the offsets, whitespace collapsed


def _is_label(line: str) -> bool:
    """A code on a line of its own (a table's label such as "E101"): one word with a digit."""
    stripped = line.strip()
    return bool(stripped) and " " not in stripped and any(c.isdigit() for c in stripped)


def _is_value(following: str) -> bool:
    """A line that starts with a number goes on from the one before it (a table's value after
    its label, "Maximum payload" / "600 kg"; a number wrapped onto the next line)."""
    return following.strip()[:1].isdigit()


def _stands_alone(line: str) -> bool:
    return is_list_item(line) or is_table_row(line)


def _lines(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _next_text(text: str, lines: list[tuple[int, int]], i: int) -> str:
    """The first line after line ``i`` that has text ("" when none has)."""
    return next((text[slice(*span)] for span in lines[i + 1 :] if text[slice(*span)].strip()), "")


def blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the blocks of ``text``: paragraphs, list items, table rows, headings."""
    spans: list[tuple[int, int]] = []
    lines = _lines(text)
    lengths = [len(text[slice(*span)].strip()) for span in lines]
    current: tuple[int, int] | None = None
    for i, (start, end) in enumerate(lines):
        line = text[start:end]
        if not line.strip():
            last = text[slice(*current)].rstrip().rsplit("\n", 1)[-1] if current else ""
            if current and not continues_after_break(last, _next_text(text, lines, i)):
                spans.append(current)
                current = None
            continue
        if current is not None and _stands_alone(line):
            spans.append(current)
            current = None
        current = (current[0], end) if current else (start, end)
        following = text[slice(*lines[i + 1])] if i + 1 < len(lines) else ""
        if not following.strip():
            continue  # a blank line or the end: decided there
        joined = (
            _is_label(line)
            or _is_value(following)
            or is_wrap(line.strip(), following.strip(), nearby_width(lengths, i))
        )
        if _stands_alone(line) or not joined:
            spans.append(current)
            current = None
    if current:
        spans.append(current)
    return spans


_local = threading.local()


def _segmenter():
    if not hasattr(_local, "segmenter"):
        import pysbd

        _local.segmenter = pysbd.Segmenter(language="en", clean=False, char_span=False)
    return _local.segmenter


def _split_block(text: str, start: int, end: int) -> list[Sentence]:
    """pysbd's sentences of one block (its line breaks read as spaces), with offsets."""
    marker = LIST_ITEM.match(text[start:end])
    if marker:  # "- " or "1. " opens the item; the sentence is what follows
        start += marker.end()
    flat = text[start:end].replace("\n", " ")  # same length: offsets stay valid
    out: list[Sentence] = []
    position = 0
    for piece in _segmenter().segment(flat):
        found = flat.find(piece.strip(), position) if piece.strip() else -1
        if found < 0:
            continue
        stop = found + len(piece.strip())
        position = stop
        out.append(Sentence(start + found, start + stop, " ".join(piece.split())))
    return out


class _Cache:
    """Segmentations of recent texts (segmenting is the slow part of answering)."""

    def __init__(self, keep: int = 256) -> None:
        self.keep, self._items, self._lock = keep, OrderedDict(), threading.Lock()

    def get(self, text: str) -> list[Sentence] | None:
        with self._lock:
            found = self._items.get(text)
            if found is not None:
                self._items.move_to_end(text)
            return found

    def put(self, text: str, sentences: list[Sentence]) -> None:
        with self._lock:
            self._items[text] = sentences
            while len(self._items) > self.keep:
                self._items.popitem(last=False)


_CACHE = _Cache()


def split_sentences(text: str, min_words: int = _MIN_WORDS) -> list[Sentence]:
    """The sentences of ``text`` with at least ``min_words`` words, in order."""
    found = _CACHE.get(text)
    if found is None:
        found = [s for start, end in blocks(text) for s in _split_block(text, start, end)]
        _CACHE.put(text, found)
    return [s for s in found if len(_WORD.findall(s.text)) >= min_words]


def collapse(text: str) -> str:
    """``text`` with every run of whitespace as one space: how quotes are compared."""
    return " ".join(text.split())


def _heading_like(text: str, n_words: int, min_words: int) -> bool:
    """A title, a FAQ's question or a lead-in ending with a colon; not a table row (a line of
    ``min_words`` or more with a number in it, such as "Maximum payload 600 kg")."""
    if text.endswith(("?", ":")):
        return n_words < _HEADING_WORDS
    if text.endswith((".", "!", ";")) or n_words >= _HEADING_WORDS:
        return False
    return n_words < min_words or not any(c.isdigit() for c in text)


def with_headings(text: str, min_words: int = _MIN_WORDS) -> list[tuple[Sentence, str]]:
    """The sentences of ``text`` (as ``split_sentences``), each with what it is read under:
    the last heading above it (a title, a FAQ's question, a lead-in ending with a colon), or
    for a sentence right after a line that is no sentence (a table's "E599 Safety controller
    fault"), that line; for a table's row ("canary | 5% of robots | 72 hours"), the heading
    and the table's first row ("Channel | Robots | Minimum soak time"); "" if none."""
    split_sentences(text, min_words)  # fills the cache
    heading, previous, header, out = "", "", "", []
    for sentence in _CACHE.get(text) or []:
        n_words = len(_WORD.findall(sentence.text))
        row = " | " in sentence.text
        if row and header:
            if n_words >= min_words:
                out.append((sentence, f"{heading}, {header}" if heading else header))
            continue
        header = sentence.text if row else ""
        if n_words >= min_words:
            label = previous if previous and sentence.text.endswith(_CLOSING) else heading
            out.append((sentence, label))
        if not row and _heading_like(sentence.text, n_words, min_words):
            heading = sentence.text
        previous = "" if sentence.text.endswith(_CLOSING) or row else sentence.text
    return out
