"""Read a folder of PDF, DOCX, HTML, Markdown and text files (or a BEIR corpus) into Documents."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "SUPPORTED_SUFFIXES",
    "Document",
    "DocumentError",
    "LoadReport",
    "ParseLimits",
    "Rejection",
    "load_beir_corpus",
    "load_folder",
    "parse_file",
]

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES: dict[str, str] = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".html": "html",
    ".htm": "html",
    ".md": "markdown",
    ".markdown": "markdown",
    ".txt": "text",
}

# Formats whose parsers are complex enough that a hostile file could hang or bloat them;
# these run in a worker process that is killed on timeout.
_ISOLATED_FORMATS = frozenset({"pdf", "docx"})

# Per-stream cap on decompressed PDF data, so one stream cannot exhaust memory.
_PDF_STREAM_LIMIT = 75_000_000

_TITLE_MAX_CHARS = 120

# Placeholder titles that PDF producers write when the author set none (reportlab: "untitled").
_PLACEHOLDER_TITLES = frozenset({"untitled", "untitled document", "(anonymous)", "(unspecified)"})


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
    """Resource bounds applied to every file."""

    max_file_bytes: int = 50 * 1024 * 1024
    max_text_chars: int = 5_000_000
    max_pdf_pages: int = 2000
    max_docx_uncompressed_bytes: int = 200 * 1024 * 1024
    max_zip_ratio: float = 100.0
    timeout_seconds: float = 60.0


@dataclass(frozen=True)
class LoadReport:
    """What `load_folder` found: every file seen is in exactly one of the two lists."""

    documents: list[Document]
    rejected: list[Rejection]
    seen: int


class DocumentError(Exception):
    """A file could not be turned into a Document; the message is the human-readable reason."""


# --------------------------------------------------------------------------- text helpers

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_INLINE_SPACE = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r"\n{2,}")


def _normalise(text: str) -> str:
    """Collapse runs of spaces, strip lines, and keep paragraph breaks as a single blank line."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    text = _CONTROL_CHARS.sub(" ", text)
    lines = [_INLINE_SPACE.sub(" ", line).strip() for line in text.split("\n")]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _first_line_title(text: str, fallback: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line:
            return line if len(line) < _TITLE_MAX_CHARS else fallback
    return fallback


def _decode_text(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1", errors="replace")


# --------------------------------------------------------------------------- format parsers


def _pdf_configuration() -> AbstractContextManager:
    """Bound pypdf's decompression; pypdf>=6 has `apply_configuration`, older 5.x module constants."""
    import pypdf

    if hasattr(pypdf, "apply_configuration"):
        return pypdf.apply_configuration(
            zlib_maximum_output_length=_PDF_STREAM_LIMIT,
            lzw_maximum_output_length=_PDF_STREAM_LIMIT,
            run_length_maximum_output_length=_PDF_STREAM_LIMIT,
            maximum_declared_stream_length=_PDF_STREAM_LIMIT,
        )
    from pypdf import filters

    for name in ("ZLIB_MAX_OUTPUT_LENGTH", "LZW_MAX_OUTPUT_LENGTH", "MAX_DECLARED_STREAM_LENGTH"):
        if hasattr(filters, name):
            setattr(filters, name, _PDF_STREAM_LIMIT)
    return nullcontext()


def _parse_pdf(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    from pypdf import PdfReader
    from pypdf.errors import FileNotDecryptedError

    with _pdf_configuration():
        reader = PdfReader(io.BytesIO(raw))
        if reader.is_encrypted:
            # An owner-password-only PDF opens with the empty user password.
            try:
                decrypted = reader.decrypt("")
            except Exception:
                decrypted = 0
            if not decrypted:
                raise DocumentError("PDF is encrypted; decrypt it or remove the password")
        try:
            pages = reader.pages
            n_pages = len(pages)
        except FileNotDecryptedError as exc:
            raise DocumentError("PDF is encrypted; decrypt it or remove the password") from exc
        if n_pages > limits.max_pdf_pages:
            raise DocumentError(
                f"PDF has {n_pages} pages, more than the limit of {limits.max_pdf_pages}; "
                "split it or raise ParseLimits.max_pdf_pages"
            )
        parts: list[str] = []
        size = 0
        for page in pages:
            page_text = page.extract_text() or ""
            parts.append(page_text)
            size += len(page_text)
            if size > limits.max_text_chars:
                break  # the rest would be truncated anyway
        text = "\n\n".join(parts)
        title = ""
        try:
            title = str((reader.metadata or {}).get("/Title") or "").strip()
        except Exception:
            title = ""  # broken metadata should not cost us the text
        if title.lower() in _PLACEHOLDER_TITLES:
            title = ""
    if not text.strip():
        raise DocumentError("no extractable text (scanned image?); run OCR first")
    return title, text


def _check_docx_zip(raw: bytes, limits: ParseLimits) -> None:
    """Reject non-zips and zip bombs before python-docx inflates anything."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            infos = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise DocumentError(
            "not a valid DOCX (not a zip archive); re-save it from Word as .docx"
        ) from exc
    # zipfile never inflates a member past its declared size, so the declared sizes bound memory.
    uncompressed = sum(info.file_size for info in infos)
    compressed = sum(info.compress_size for info in infos)
    if uncompressed > limits.max_docx_uncompressed_bytes:
        raise DocumentError(
            f"DOCX would expand to {uncompressed:,} bytes, more than the limit of "
            f"{limits.max_docx_uncompressed_bytes:,}; it may be a zip bomb, so check where it came from"
        )
    ratio = uncompressed / max(compressed, 1)
    if ratio > limits.max_zip_ratio:
        raise DocumentError(
            f"DOCX compression ratio is {ratio:.0f}:1, above the limit of {limits.max_zip_ratio:g}:1; "
            "it may be a zip bomb, so check where it came from"
        )


def _docx_table_text(table) -> str:
    rows = []
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:  # a merged cell is repeated for every grid column it spans
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        rows.append(" | ".join(c for c in cells if c))
    return "\n".join(r for r in rows if r)


def _parse_docx(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    import docx
    from docx.table import Table

    _check_docx_zip(raw, limits)
    try:
        document = docx.Document(io.BytesIO(raw))
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise DocumentError(
            "not a valid DOCX (no Word document inside the zip); re-save it from Word as .docx"
        ) from exc
    blocks: list[str] = []
    heading = ""
    for item in document.iter_inner_content():
        if isinstance(item, Table):
            blocks.append(_docx_table_text(item))
            continue
        text = item.text.strip()
        if not text:
            continue
        style = (item.style.name if item.style is not None else "") or ""
        if not heading and (style.startswith("Heading") or style == "Title"):
            heading = text
        blocks.append(text)
    text = "\n\n".join(b for b in blocks if b)
    title = (document.core_properties.title or "").strip() or heading
    return title, text


_HTML_NOISE = ("script", "style", "noscript", "template", "head", "nav", "footer", "iframe", "svg")
_HTML_BLOCKS = (
    "p", "div", "section", "article", "main", "header", "aside", "h1", "h2", "h3", "h4", "h5",
    "h6", "li", "ul", "ol", "dl", "dt", "dd", "table", "tr", "blockquote", "pre", "figure",
    "figcaption", "hr", "form", "fieldset", "details", "summary", "address",
)  # fmt: skip
# Private-use sentinels survive get_text() and whitespace collapsing, then become line breaks.
_PARA, _LINE = "\ue000", "\ue001"


def _parse_html(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(raw, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    if not title and (h1 := soup.find("h1")) is not None:
        title = h1.get_text(" ", strip=True)
    for tag in soup.find_all(_HTML_NOISE):
        tag.decompose()
    for tag in soup.find_all("br"):
        tag.replace_with(_LINE)
    for tag in soup.find_all(("td", "th")):
        tag.insert_after(" ")
    for tag in soup.find_all(_HTML_BLOCKS):
        tag.insert_before(_PARA)
        tag.insert_after(_PARA)
    text = re.sub(r"\s+", " ", soup.get_text())
    text = text.replace(_LINE, "\n").replace(_PARA, "\n\n")
    return title, text


_MD_FRONT_MATTER = re.compile(r"\A---\n.*?\n---\n", re.DOTALL)
_MD_H1 = re.compile(r"^#[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
_MD_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^[ \t]*(```|~~~).*$", re.MULTILINE), ""),  # code fence lines
    (re.compile(r"^[ \t]*\[[^\]]+\]:[ \t]*\S+.*$", re.MULTILINE), ""),  # reference definitions
    (
        re.compile(
            r"^[ \t]*\|?[ \t]*:?-{3,}:?[ \t]*(\|[ \t]*:?-{3,}:?[ \t]*)*\|?[ \t]*$", re.MULTILINE
        ),
        "",
    ),  # table rules
    (re.compile(r"^[ \t]*([-*_][ \t]*){3,}$", re.MULTILINE), ""),  # horizontal rules
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images -> alt text
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),  # inline links -> link text
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # reference links -> link text
    (re.compile(r"<(https?://[^>\s]+)>"), r"\1"),  # autolinks
    (re.compile(r"</?[A-Za-z][^>\n]*>"), ""),  # inline HTML tags
    (re.compile(r"^[ \t]*#{1,6}[ \t]+", re.MULTILINE), ""),  # heading markers
    (re.compile(r"^[ \t]*>[ \t]?", re.MULTILINE), ""),  # blockquotes
    (re.compile(r"^([ \t]*)[-*+][ \t]+", re.MULTILINE), r"\1"),  # bullets
    (re.compile(r"`+([^`\n]*)`+"), r"\1"),  # inline code
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # bold
    (re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])"), r"\1"),  # italic *x*
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),  # italic _x_, not snake_case
    (re.compile(r"~~(.+?)~~"), r"\1"),  # strikethrough
]


def _parse_markdown(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    text = _MD_FRONT_MATTER.sub("", _decode_text(raw).replace("\r\n", "\n"))
    match = _MD_H1.search(text)
    title = _strip_markdown(match.group(1)) if match else ""
    return title, _strip_markdown(text)


def _strip_markdown(text: str) -> str:
    for pattern, replacement in _MD_RULES:
        text = pattern.sub(replacement, text)
    return text


def _parse_text(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    text = _decode_text(raw)
    return _first_line_title(text, stem), text


_PARSERS: dict[str, Callable[[bytes, str, ParseLimits], tuple[str, str]]] = {
    "pdf": _parse_pdf,
    "docx": _parse_docx,
    "html": _parse_html,
    "markdown": _parse_markdown,
    "text": _parse_text,
}

_NO_TEXT = {
    "pdf": "no extractable text (scanned image?); run OCR first",
    "docx": "DOCX contains no text; add content or remove the file",
}


_FORMAT_NAMES = {
    "pdf": "PDF",
    "docx": "Word",
    "html": "HTML",
    "markdown": "Markdown",
    "text": "plain text",
}


def _unsupported_reason(suffix: str) -> str:
    kinds = [
        f"{_FORMAT_NAMES.get(fmt, fmt)} ({', '.join(s for s, f in SUPPORTED_SUFFIXES.items() if f == fmt)})"
        for fmt in dict.fromkeys(SUPPORTED_SUFFIXES.values())
    ]
    shown = f"'{suffix}'" if suffix else "(no suffix)"
    return (
        f"unsupported file type {shown}; convert it to {', '.join(kinds[:-1])} or {kinds[-1]}, "
        "or move it out of the folder"
    )


# --------------------------------------------------------------------------- public API


def parse_file(path: Path, root: Path, limits: ParseLimits = ParseLimits()) -> Document:
    """Parse one file under `root`; raise DocumentError with a readable reason if it is unusable."""
    path, root = Path(path), Path(root)
    rel = path.relative_to(root).as_posix()
    fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise DocumentError(_unsupported_reason(path.suffix.lower()))
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
        title, text = _PARSERS[fmt](raw, path.stem, limits)
    except DocumentError:
        raise
    except Exception as exc:  # parsers raise many types on corrupt input; all mean "unreadable"
        raise DocumentError(
            f"could not read this {fmt.upper()} file ({type(exc).__name__}: {exc}); "
            "it may be corrupt, so re-export or re-save it"
        ) from exc
    text = _normalise(text)
    if not text:
        raise DocumentError(
            _NO_TEXT.get(fmt, "no text found in the file; add content or remove it")
        )
    if len(text) > limits.max_text_chars:
        logger.warning("%s: text truncated to %d characters", rel, limits.max_text_chars)
        text = text[: limits.max_text_chars]
    title = " ".join(title.split()) or _first_line_title(text, path.stem)
    metadata = {
        "path": rel,
        "format": fmt,
        "size": stat.st_size,
        "modified": datetime.fromtimestamp(stat.st_mtime, tz=UTC).isoformat(timespec="seconds"),
        "content_hash": hashlib.sha256(raw).hexdigest(),
    }
    return Document(id=rel, title=title, text=text, metadata=metadata)


class _IsolatedParser:
    """One reusable worker process for risky formats, killed and restarted when a file hangs it."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None

    def parse(self, path: Path, root: Path, limits: ParseLimits) -> Document:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(max_workers=1)
        future = self._pool.submit(parse_file, path, root, limits)
        try:
            return future.result(timeout=limits.timeout_seconds)
        except TimeoutError as exc:
            self.close(kill=True)
            raise DocumentError(
                f"parsing took longer than {limits.timeout_seconds:g}s; the file may be malformed"
            ) from exc
        except BrokenProcessPool as exc:
            self.close(kill=True)
            raise DocumentError(
                "the parser crashed on this file (out of memory?); the file may be malformed"
            ) from exc

    def close(self, kill: bool = False) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            # ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14.
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.kill()
        pool.shutdown(wait=True, cancel_futures=True)  # joins the workers: no zombies left


def _walk(root: Path) -> list[Path]:
    """All non-hidden files under root, in a sorted, deterministic order."""
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found.extend(Path(dirpath, f) for f in sorted(filenames) if not f.startswith("."))
    return found


def load_folder(
    root: str | Path,
    limits: ParseLimits = ParseLimits(),
    progress: Callable[[int, int, str], None] | None = None,
) -> LoadReport:
    """Parse every non-hidden file under `root`; each one ends up a Document or a Rejection.

    PDF and DOCX files are parsed in a worker process bounded by `limits.timeout_seconds`,
    so a hostile file cannot hang the load; text formats are parsed in-process.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder")
    paths = _walk(root)
    documents: list[Document] = []
    rejected: list[Rejection] = []
    isolated = _IsolatedParser()
    try:
        for done, path in enumerate(paths, start=1):
            rel = path.relative_to(root).as_posix()
            fmt = SUPPORTED_SUFFIXES.get(path.suffix.lower())
            try:
                if fmt in _ISOLATED_FORMATS:
                    documents.append(isolated.parse(path, root, limits))
                else:
                    documents.append(parse_file(path, root, limits))
            except DocumentError as exc:
                rejected.append(Rejection(path=rel, reason=str(exc)))
            except Exception as exc:  # e.g. permission denied; still reported, never dropped
                rejected.append(
                    Rejection(
                        path=rel,
                        reason=f"could not read the file ({exc}); check it exists and is readable",
                    )
                )
            if progress is not None:
                progress(done, len(paths), rel)
    except BaseException:
        isolated.close(kill=True)  # e.g. Ctrl-C while the worker is busy: do not wait for it
        raise
    isolated.close()
    return LoadReport(documents=documents, rejected=rejected, seen=len(paths))


def load_beir_corpus(path: str | Path) -> list[Document]:
    """Read a BEIR `corpus.jsonl` (or a folder holding one) into Documents keyed by `_id`."""
    path = Path(path)
    if path.is_dir():
        path = path / "corpus.jsonl"
    modified = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC).isoformat(timespec="seconds")
    documents: list[Document] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                doc_id = str(record["_id"])
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise DocumentError(
                    f"{path.name} line {line_no} is not a BEIR record with an _id; fix or remove it"
                ) from exc
            if doc_id in seen:
                raise DocumentError(
                    f"{path.name} line {line_no} repeats _id {doc_id!r}; ids must be unique"
                )
            seen.add(doc_id)
            title = str(record.get("title") or "")
            text = str(record.get("text") or "")
            # Separator so that ("ab", "c") and ("a", "bc") hash differently.
            body = f"{title}\n{text}".encode()
            metadata = {
                "path": doc_id,
                "format": "beir",
                "size": len(body),
                "modified": modified,
                "content_hash": hashlib.sha256(body).hexdigest(),
            }
            documents.append(Document(id=doc_id, title=title, text=text, metadata=metadata))
    return documents
