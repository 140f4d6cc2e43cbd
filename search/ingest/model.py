"""The data model of ingestion: what a file becomes (a Document or a Rejection) and the limits."""

from __future__ import annotations

from dataclasses import dataclass

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
}


@dataclass(frozen=True)
class Document:
    """One parsed document; `id` is its POSIX path relative to the root (or its BEIR _id)."""

    id: str
    title: str
    text: str
    metadata: dict


@dataclass(frozen=True)
class Rejection:
    """A file that was seen but not indexed, with a sentence naming the problem and the fix."""

    path: str
    reason: str


@dataclass(frozen=True)
class ParseLimits:
    """Resource bounds applied to every file; a file over one is rejected with the field's name.

    `timeout_seconds` is wall-clock time per file, enforced by the parent, which kills the
    worker; the worker also holds a CPU-time limit a second above it, so it stops on its own
    if the parent is stopped. `max_memory_bytes` is the address space of each parse worker
    (RLIMIT_AS): the file's bytes, the parser's structures and the text must fit in it.
    """

    max_file_bytes: int = 50 * 1024 * 1024
    max_text_chars: int = 5_000_000
    max_pdf_pages: int = 2000
    max_pdf_stream_bytes: int = 75_000_000
    max_docx_uncompressed_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: float = 100.0
    timeout_seconds: float = 60.0
    max_memory_bytes: int = 2 * 1024**3


@dataclass(frozen=True)
class LoadReport:
    """What `load_folder` found: every file seen is in exactly one of the two lists."""

    documents: list[Document]
    rejected: list[Rejection]
    seen: int


class DocumentError(Exception):
    """A file could not be turned into a Document; the message is the human-readable reason."""
