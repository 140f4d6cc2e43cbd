"""Token-aware chunking on sentence boundaries, with overlap and character offsets."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from search.ingest import Document

# A sentence ends at . ! ? (optionally followed by a closing quote/bracket) before whitespace,
# or at a blank line / line break (headings, list items).
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+|\n+")


class Tokenizer(Protocol):
    """Gives the character span of every token of a text (the encoder's own tokenizer)."""

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class Chunk:
    """A passage of a document: the unit that is embedded, indexed and returned as evidence."""

    id: str  # "<doc_id>#<position>"
    doc_id: str
    title: str
    text: str
    position: int  # 0-based order within the document
    start: int  # character offsets of text within the document text
    end: int
    metadata: dict = field(default_factory=dict, compare=False, hash=False)

    def embedding_text(self, with_title: bool) -> str:
        """The text given to the encoder and to BM25."""
        if with_title and self.title and not self.text.startswith(self.title):
            return f"{self.title}\n{self.text}"
        return self.text

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "doc_id": self.doc_id,
            "title": self.title,
            "text": self.text,
            "position": self.position,
            "start": self.start,
            "end": self.end,
        }


def sentence_starts(text: str) -> list[int]:
    """Character offsets where sentences begin (always includes 0)."""
    starts = [0]
    for match in _SENTENCE_END.finditer(text):
        if match.end() < len(text):
            starts.append(match.end())
    return starts


def _sentence_tokens(text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Token index at which each sentence starts (the first token starting at or after the
    sentence's offset), ending with the number of tokens."""
    n = len(spans)
    boundaries: list[int] = []
    token_i = 0
    for char_start in sentence_starts(text):
        while token_i < n and spans[token_i][0] < char_start:
            token_i += 1
        if token_i < n and (not boundaries or boundaries[-1] != token_i):
            boundaries.append(token_i)
    boundaries.append(n)
    return boundaries


def chunk_document(
    doc: Document, tokenizer: Tokenizer, max_tokens: int = 256, overlap: int = 48
) -> list[Chunk]:
    """Split one document into chunks of at most ``max_tokens`` tokens.

    Chunks end on sentence boundaries where a sentence fits; a sentence longer than the budget is
    split between tokens. Consecutive chunks share up to ``overlap`` tokens, starting on a sentence
    boundary when one falls inside the overlap window.

    A document with no body text but a title (public collections have many title-only records)
    is chunked from its title, so it is found by its title in every method: its chunks' offsets
    are then within the title, and they start with it (``embedding_text`` adds it once).
    """
    if max_tokens < 8:
        raise ValueError(f"max_tokens must be at least 8, got {max_tokens}")
    overlap = max(0, min(overlap, max_tokens // 2))
    text = doc.text
    spans = tokenizer.token_spans(text)
    if not spans:
        text = doc.title.strip()
        spans = tokenizer.token_spans(text)
    if not spans:
        return []
    n = len(spans)
    boundaries = _sentence_tokens(text, spans)
    boundary_set = set(boundaries)

    chunks: list[Chunk] = []
    start = 0
    while start < n:
        limit = start + max_tokens
        fitting = [b for b in boundaries if start < b <= limit]
        end = fitting[-1] if fitting else min(limit, n)
        # extend to the next token so trailing punctuation stays with its sentence
        char_start = spans[start][0]
        char_end = spans[end][0] if end < n else len(text)
        while char_end > char_start and text[char_end - 1].isspace():
            char_end -= 1
        chunks.append(
            Chunk(
                id=f"{doc.id}#{len(chunks)}",
                doc_id=doc.id,
                title=doc.title,
                text=text[char_start:char_end],
                position=len(chunks),
                start=char_start,
                end=char_end,
                metadata=doc.metadata,
            )
        )
        if end >= n:
            break
        window = [b for b in boundaries if end - overlap <= b < end and b > start]
        if window:
            start = window[0]
        elif end in boundary_set or overlap == 0:
            start = end
        else:
            start = max(end - overlap, start + 1)
    return chunks


def chunk_documents(
    docs: Iterable[Document], tokenizer: Tokenizer, max_tokens: int = 256, overlap: int = 48
) -> list[Chunk]:
    """Chunk many documents, keeping document order."""
    return [c for d in docs for c in chunk_document(d, tokenizer, max_tokens, overlap)]
