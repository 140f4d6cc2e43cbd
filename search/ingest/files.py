"""One file into one Document: checks the size, picks the parser by suffix, adds metadata."""

from __future__ import annotations

import hashlib
import logging
from datetime import UTC, datetime
from pathlib import Path

from search.ingest.formats import FORMAT_NAMES, NO_TEXT, PARSERS
from search.ingest.model import SUPPORTED_SUFFIXES, Document, DocumentError, ParseLimits
from search.ingest.text import first_line_title, normalise

logger = logging.getLogger(__name__)


def unsupported_reason(suffix: str) -> str:
    """Why a suffix is not read, listing every supported format with its suffixes."""
    kinds = [
        f"{FORMAT_NAMES.get(fmt, fmt)} ({', '.join(s for s, f in SUPPORTED_SUFFIXES.items() if f == fmt)})"
        for fmt in dict.fromkeys(SUPPORTED_SUFFIXES.values())
    ]
    shown = f"'{suffix}'" if suffix else "(no suffix)"
    return (
        f"unsupported file type {shown}; convert it to {', '.join(kinds[:-1])} or {kinds[-1]}, "
        "or move it out of the folder"
    )


def parse_file(path: Path, root: Path, limits: ParseLimits = ParseLimits()) -> Document:
    """Parse one file under `root`; raise DocumentError with a readable reason if it is unusable."""
    path, root = Path(path), Path(root)
    rel = path.relative_to(root).as_posix()
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(unsupported_reason(path.suffix.lower()))
    if not path.is_file():
        raise DocumentError("not a regular file; replace it with the file it stands for")
    stat = path.stat()
    if stat.st_size > limits.max_file_bytes:
        raise DocumentError(
            f"file is {stat.st_size:,} bytes, more than the limit of {limits.max_file_bytes:,}; "
            "split it or raise ParseLimits.max_file_bytes"
        )
    if stat.st_size == 0:
        raise DocumentError("file is empty; add content or remove it")
    raw = path.read_bytes()[: limits.max_file_bytes]  # it may have grown since stat()
    try:
        title, text = PARSERS[fmt](raw, path.stem, limits)
    except DocumentError:
        raise
    except Exception as exc:  # parsers raise many types on corrupt input; all mean "unreadable"
        raise DocumentError(
            f"could not read this {fmt.upper()} file ({type(exc).__name__}: {exc}); "
            "it may be corrupt, so re-export or re-save it"
        ) from exc
    text = normalise(text)
    if not text:
        raise DocumentError(NO_TEXT.get(fmt, "no text found in the file; add content or remove it"))
    if len(text) > limits.max_text_chars:
        logger.warning("%s: text truncated to %d characters", rel, limits.max_text_chars)
        text = text[: limits.max_text_chars]
    title = " ".join(title.split()) or first_line_title(text, path.stem)
    metadata = {
        "path": rel,
        "format": fmt,
        "size": stat.st_size,
        "modified": datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat(timespec="seconds"),
        "content_hash": hashlib.sha256(raw).hexdigest(),
    }
    return Document(id=rel, title=title, text=text, metadata=metadata)
