"""One file into one Document: a bounded read, the parser for its suffix, the metadata.

`parse_file` runs in the calling process; `load_folder` calls the same steps in its bounded
worker processes (`search.ingest.workers`), one file at a time.
"""

from __future__ import annotations

import hashlib
import os
import stat as st
from datetime import UTC, datetime
from pathlib import Path

from search.ingest.dates import document_date
from search.ingest.formats import FORMAT_NAMES, NO_TEXT, PARSERS
from search.ingest.formats.embedded import EMBEDDED_DATES
from search.ingest.model import SUPPORTED_SUFFIXES, Document, DocumentError, ParseLimits
from search.ingest.text import first_line_title, normalise

_SPECIAL_KINDS = (
    (st.S_ISFIFO, "a named pipe (FIFO)"),
    (st.S_ISSOCK, "a socket"),
    (st.S_ISCHR, "a character device"),
    (st.S_ISBLK, "a block device"),
    (st.S_ISDIR, "a folder"),
)


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


def special_file_reason(mode: int) -> str:
    """Why a FIFO, socket or device is never read: opening one for reading can block forever."""
    kind = next((name for test, name in _SPECIAL_KINDS if test(mode)), "not a regular file")
    return f"{kind}, not a regular file; it is never opened, so move it out of the folder"


def too_big_reason(size: int, limits: ParseLimits) -> str:
    return (
        f"file is {size:,} bytes, more than the limit of {limits.max_file_bytes:,} "
        "(ParseLimits.max_file_bytes); split it or raise the limit"
    )


EMPTY_REASON = "file is empty; add content or remove it"


def read_bounded(
    path: str | Path, limits: ParseLimits, expect: tuple[int, int] | None = None
) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file, never more than the size limit, never blocking on a FIFO.

    `path` must not be a symlink (the folder walk resolves links first). `expect` is the
    (device, inode) the walk saw: a file swapped since then is refused rather than read.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise DocumentError(
            f"could not open the file ({exc.strerror}); check it exists and is readable"
        ) from exc
    try:
        info = os.fstat(fd)
        if not st.S_ISREG(info.st_mode):
            raise DocumentError(special_file_reason(info.st_mode))
        if expect is not None and (info.st_dev, info.st_ino) != expect:
            raise DocumentError("the file was replaced while the folder was read; build again")
        if info.st_size > limits.max_file_bytes:
            raise DocumentError(too_big_reason(info.st_size, limits))
        with os.fdopen(os.dup(fd), "rb") as handle:
            raw = handle.read(limits.max_file_bytes + 1)
    finally:
        os.close(fd)
    if len(raw) > limits.max_file_bytes:  # it grew since fstat()
        raise DocumentError(too_big_reason(len(raw), limits))
    if not raw:
        raise DocumentError(EMPTY_REASON)
    return raw, info


def to_document(
    raw: bytes, info: os.stat_result, rel: str, fmt: str, limits: ParseLimits
) -> tuple[Document, list[str]]:
    """Parse `raw` as `fmt`; the Document and any warnings (e.g. the text was truncated)."""
    stem = Path(rel).stem
    try:
        title, text = PARSERS[fmt](raw, stem, limits)
    except (DocumentError, MemoryError):
        raise  # a MemoryError is the worker's memory limit: reported as such, not as "corrupt"
    except Exception as exc:  # parsers raise many types on corrupt input; all mean "unreadable"
        raise DocumentError(
            f"could not read this {fmt.upper()} file ({type(exc).__name__}: {exc}); "
            "it may be corrupt, so re-export or re-save it"
        ) from exc
    warnings = []
    # Cut far beyond the limit before normalising, to bound memory; whitespace it collapses
    # rarely shrinks text fourfold, and either way the cut is reported.
    cut = len(text) > 4 * limits.max_text_chars
    text = normalise(text[: 4 * limits.max_text_chars] if cut else text)
    if not text:
        raise DocumentError(NO_TEXT.get(fmt, "no text found in the file; add content or remove it"))
    if cut or len(text) > limits.max_text_chars:
        warnings.append(
            f"text truncated to {limits.max_text_chars:,} characters (ParseLimits.max_text_chars)"
        )
        text = text[: limits.max_text_chars]
    title = " ".join(normalise(title[: 10 * 1024]).split()) or first_line_title(text, stem)
    embedded = EMBEDDED_DATES[fmt](raw, limits) if fmt in EMBEDDED_DATES else None
    modified, date_source = document_date(embedded, text, info.st_mtime)
    metadata = {
        "path": rel,
        "format": fmt,
        "size": info.st_size,
        "modified": modified,  # the document's own date (date_source says where it came from)
        "date_source": date_source,
        "file_modified": datetime.fromtimestamp(info.st_mtime, tz=UTC).isoformat(
            timespec="seconds"
        ),
        "content_hash": hashlib.sha256(raw).hexdigest(),
    }
    return Document(id=rel, title=title, text=text, metadata=metadata), warnings


def parse_file(path: Path, root: Path, limits: ParseLimits = ParseLimits()) -> Document:
    """Parse one file under `root` in this process; DocumentError with a reason if unusable.

    As in `load_folder`, a file is named by its real path (a link is never a second name) and
    a link is followed only to a file inside `root` whose real path hides nothing.
    """
    path, root = Path(path), Path(root)
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(unsupported_reason(path.suffix.lower()))
    real, real_root = os.path.realpath(path), os.path.realpath(root)
    if os.path.commonpath([real, real_root]) != real_root:
        raise DocumentError(f"it resolves to {real}, outside {real_root}; copy the file in")
    rel = Path(real).relative_to(real_root).as_posix()
    if any(part.startswith(".") for part in rel.split("/")):
        raise DocumentError(f"it resolves to {rel}, a hidden name; hidden files are never read")
    raw, info = read_bounded(real, limits)
    return to_document(raw, info, rel, fmt, limits)[0]
