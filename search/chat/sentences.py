"""Whole sentences of a document, with their character offsets in it.

Segmentation is pysbd's (rule-based, the "Golden Rules" of sentence boundaries: abbreviations
such as "e.g." and "Mr.", decimal numbers, "EUR 3,000.", list numbering). Before it runs, the
text is cut into blocks the way a reader sees them:

- a blank line ends a block (paragraphs, table cells on their own line in a PDF), unless a
  long line stops mid-sentence before it and the text goes on in lower case (a page break);
- a list item or table row ("- x", "1. x", "a | b") is a block of its own;
- a short line without closing punctuation followed by a capitalised line is a heading;
- any other line break is a line wrapped inside a sentence (a PDF's page width) and is read as
  a space, so "do not\\ndelete" stays one sentence instead of two halves that lose the "not".

Offsets always point into the original text, so a sentence is quoted verbatim (modulo
whitespace) from the document it came from.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

_LIST_ITEM = re.compile(r"^\s*(?:[-*•·–]\s+|\(?\d{1,2}[.)]\s+|\(?[a-z][.)]\s+)", re.M)
_TABLE_ROW = re.compile(r"\s\|\s|\t")
_CLOSING = tuple(".!?:;")
_HEADING_CHARS = 60  # a wrapped line of running text is longer than this
_HEADING_WORDS = 12
_MIN_WORDS = 4  # shorter pieces are headings or labels and answer nothing on their own
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Sentence:
    start: int  # offsets in the text it was split from
    end: int
    text: str  # the text between the offsets, whitespace collapsed


def _is_heading(line: str, following: str) -> bool:
    """A short line without closing punctuation before a capitalised one. A code on a line of
    its own (a table's label such as "E101") is read with the line after it instead."""
    stripped, after = line.strip(), following.strip()
    return (
        len(stripped) < _HEADING_CHARS
        and (" " in stripped or not any(c.isdigit() for c in stripped))
        and not stripped.endswith(_CLOSING)
        and bool(after)
        and after[0].isupper()
    )


def _stands_alone(line: str) -> bool:
    return bool(_LIST_ITEM.match(line) or _TABLE_ROW.search(line.strip()))


def _lines(text: str) -> list[tuple[int, int]]:
    spans, start = [], 0
    for line in text.split("\n"):
        spans.append((start, start + len(line)))
        start += len(line) + 1
    return spans


def _continues(block: str, text: str, lines: list[tuple[int, int]], i: int) -> bool:
    """Whether the sentence of ``block`` goes on after the blank line ``i`` (a page break in
    a PDF): the block stops mid-sentence and the next line starts in lower case."""
    following = next(
        (text[slice(*span)] for span in lines[i + 1 :] if text[slice(*span)].strip()), ""
    )
    return (
        not block.rstrip().endswith(_CLOSING)
        and following.strip()[:1].islower()
        and len(block.strip().splitlines()[-1]) >= _HEADING_CHARS
    )


def blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of the blocks of ``text``: paragraphs, list items, table rows, headings."""
    spans: list[tuple[int, int]] = []
    lines = _lines(text)
    current: tuple[int, int] | None = None
    for i, (start, end) in enumerate(lines):
        line = text[start:end]
        if not line.strip():
            if current and not _continues(text[slice(*current)], text, lines, i):
                spans.append(current)
                current = None
            continue
        if current is not None and _stands_alone(line):
            spans.append(current)
            current = None
        current = (current[0], end) if current else (start, end)
        following = text[slice(*lines[i + 1])] if i + 1 < len(lines) else ""
        if _stands_alone(line) or _stands_alone(following) or _is_heading(line, following):
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
    marker = _LIST_ITEM.match(text, start, end)
    if marker:  # "- " or "1. " opens the item; the sentence is what follows
        start = marker.end()
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
    fault"), that line; "" if none."""
    split_sentences(text, min_words)  # fills the cache
    heading, previous, out = "", "", []
    for sentence in _CACHE.get(text) or []:
        n_words = len(_WORD.findall(sentence.text))
        if n_words >= min_words:
            label = previous if previous and sentence.text.endswith(_CLOSING) else heading
            out.append((sentence, label))
        if _heading_like(sentence.text, n_words, min_words):
            heading = sentence.text
        previous = "" if sentence.text.endswith(_CLOSING) else sentence.text
    return out
