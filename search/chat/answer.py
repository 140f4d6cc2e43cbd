"""What an answer is made of: numbered passages, the answer's text citing them, and whether the
documents answered at all."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from search.chunking import Chunk
from search.index import SearchResult

EXTRACTIVE = "extractive"
GENERATIVE = "generative"
CITATION = re.compile(r"\[(\d+)\]")


@dataclass(frozen=True)
class Passage:
    """A retrieved passage as the answer cites it: ``[number]``."""

    number: int
    doc_id: str
    chunk_id: str
    title: str
    path: str
    text: str
    relevance: float | None = None  # the result's calibrated relevance, when search gave one


@dataclass(frozen=True)
class Answer:
    text: str  # sentences with [n] citations
    sources: tuple[Passage, ...]
    mode: str  # EXTRACTIVE or GENERATIVE
    note: str = ""  # e.g. why the generative answer fell back to the extractive one
    answered: bool = True  # False: the documents do not say (the text says so)
    score: float = 0.0  # the best sentence's match with the question (extractive scoring)
    evidence: Mapping[str, float] | None = None  # ``search.chat.evidence``: why it answered

    def cited(self) -> list[Passage]:
        """The sources the text actually cites, in citation order."""
        numbers = dict.fromkeys(int(n) for n in CITATION.findall(self.text))
        by_number = {p.number: p for p in self.sources}
        return [by_number[n] for n in numbers if n in by_number]


def passages_for(
    results: Sequence[SearchResult], chunks: Mapping[str, Chunk], n: int = 5
) -> list[Passage]:
    """The best-matching passage of each of the top ``n`` results, numbered from 1."""
    passages = []
    for result in results[:n]:
        chunk = chunks.get(result.chunk_id)
        text = chunk.text if chunk else result.snippet.text
        passages.append(
            Passage(
                number=len(passages) + 1,
                doc_id=result.doc_id,
                chunk_id=result.chunk_id,
                title=result.title,
                path=str(result.metadata.get("path", result.doc_id)),
                text=text,
                relevance=result.relevance,
            )
        )
    return passages


def text_of(chunks: Sequence[Chunk]) -> str:
    """A document's text from its chunks, each at its own offsets (a gap, which chunking never
    leaves, would read as spaces): sentence offsets are offsets into the document."""
    if not chunks:
        return ""
    size = max(c.end for c in chunks)
    buffer = [" "] * size
    for chunk in chunks:
        buffer[chunk.start : chunk.start + len(chunk.text)] = chunk.text
    return "".join(buffer)


def span_passage(chunks: Sequence[Chunk], text: str, start: int, end: int) -> tuple[str, str]:
    """(chunk id, text) of the passage that holds ``text[start:end]``: the chunks that overlap
    it, joined; what a citation of that sentence shows."""
    overlapping = [c for c in chunks if c.start < end and c.end > start]
    if not overlapping:
        return "", text[start:end]
    first = min(overlapping, key=lambda c: c.start)
    last = max(c.end for c in overlapping)
    return first.id, text[first.start : last]
