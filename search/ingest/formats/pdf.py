"""PDF: the text layer of every page (pypdf), with decompression and page-count bounds; lines
wrapped at the margin are joined into their sentences again (`search.line_breaks.unwrap`). A
table drawn with ruling lines is read row by row (pdfplumber), its cells separated by " | " as
a Word or HTML table's are; a text layer alone lists every cell on a line of its own, so "E102"
and "Rear lidar obstructed or dirty" never met in one sentence."""

from __future__ import annotations

import io
import re
from collections import Counter
from contextlib import AbstractContextManager, nullcontext

from search.ingest.formats.tables import table_text
from search.ingest.model import DocumentError, ParseLimits
from search.line_breaks import unwrap

# Placeholder titles that PDF producers write when the author set none (reportlab: "untitled").
_PLACEHOLDER_TITLES = frozenset({"untitled", "untitled document", "(anonymous)", "(unspecified)"})

NO_TEXT = "no extractable text (scanned image?); run OCR first"
_ENCRYPTED = "PDF is encrypted; decrypt it or remove the password"
_LEADING_CID = re.compile(r"^[ \t]*\(cid:\d+\)[ \t]*", re.MULTILINE)
_CID = re.compile(r"\(cid:\d+\)")
# A ruled table's edges are path operators in the page's content stream: "x y l" draws a line
# segment, "x y w h re" a rectangle. A grid of two rows and two columns takes at least six.
_PATH_OPERATOR = re.compile(rb"[\d.]\s+(?:l|re)\s")
MIN_RULES = 6
MAX_TABLE_PAGES = 100  # pages per file read again for tables (about 15 s of pdfplumber here)
KEPT_WORDS = 0.98  # share of pypdf's words a page read with its tables must hold to replace it
_WORD = re.compile(r"\w+")


def pdf_configuration(limit: int) -> AbstractContextManager:
    """Bound pypdf's decompression; pypdf>=6 has `apply_configuration`, older 5.x module constants."""
    import pypdf

    if hasattr(pypdf, "apply_configuration"):
        return pypdf.apply_configuration(
            zlib_maximum_output_length=limit,
            lzw_maximum_output_length=limit,
            run_length_maximum_output_length=limit,
            maximum_declared_stream_length=limit,
        )
    from pypdf import filters

    for name in ("ZLIB_MAX_OUTPUT_LENGTH", "LZW_MAX_OUTPUT_LENGTH", "MAX_DECLARED_STREAM_LENGTH"):
        if hasattr(filters, name):
            setattr(filters, name, limit)
    return nullcontext()


def _open(raw: bytes):
    """A PdfReader, decrypted with the empty password when only an owner password is set."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(raw))
    if reader.is_encrypted:
        try:
            decrypted = reader.decrypt("")
        except Exception:
            decrypted = 0
        if not decrypted:
            raise DocumentError(_ENCRYPTED)
    return reader


def _title(reader) -> str:
    try:
        title = str((reader.metadata or {}).get("/Title") or "").strip()
    except Exception:
        return ""  # broken metadata should not cost us the text
    return "" if title.lower() in _PLACEHOLDER_TITLES else title


def parse_pdf(raw: bytes, stem: str, limits: ParseLimits) -> tuple[str, str]:
    """(title, text) of a PDF; raise DocumentError when it is encrypted, too long or image-only."""
    try:
        from pypdf.errors import LimitReachedError
    except ImportError:  # pypdf 5.x has no such class; its limits raise plain errors
        LimitReachedError = ()  # noqa: N806
    try:
        return _parse(raw, limits)
    except LimitReachedError as exc:
        if "decompress" in str(exc) or "stream length" in str(exc):
            raise DocumentError(
                f"a PDF stream expands to more than {limits.max_pdf_stream_bytes:,} bytes "
                "(ParseLimits.max_pdf_stream_bytes); it may be a decompression bomb, so check "
                "where it came from"
            ) from exc
        raise DocumentError(
            f"the PDF is too complex for pypdf's own limits ({exc}); it may be hostile, so "
            "check where it came from, or re-save it"
        ) from exc


def _parse(raw: bytes, limits: ParseLimits) -> tuple[str, str]:
    from pypdf.errors import FileNotDecryptedError

    with pdf_configuration(limits.max_pdf_stream_bytes):
        reader = _open(raw)
        try:
            pages = reader.pages
            n_pages = len(pages)
        except FileNotDecryptedError as exc:
            raise DocumentError(_ENCRYPTED) from exc
        if n_pages > limits.max_pdf_pages:
            raise DocumentError(
                f"PDF has {n_pages} pages, more than the limit of {limits.max_pdf_pages}; "
                "split it or raise ParseLimits.max_pdf_pages"
            )
        parts: list[str] = []
        size = 0
        for page in pages:
            page_text = unwrap(page.extract_text() or "")
            parts.append(page_text)
            size += len(page_text)
            if size > limits.max_text_chars:
                break  # the rest would be truncated anyway
        text = "\n\n".join(_with_tables(raw, parts, _ruled_pages(pages[: len(parts)])))
        title = _title(reader)
    if not text.strip():
        raise DocumentError(NO_TEXT)
    return title, text


def _ruled_pages(pages) -> list[int]:
    """The pages (numbers, read ones only) whose content stream draws at least
    ``MIN_RULES`` lines or rectangles: the pages a ruled table can be on, at most
    ``MAX_TABLE_PAGES`` of them. Reading a page's layout costs pdfplumber about 0.1 s, so
    pages of running text are never handed to it, and a long file of tables stays well inside
    the parse timeout (the pages past the cap keep pypdf's text)."""
    ruled = []
    for number, page in enumerate(pages):
        try:
            stream = page.get_contents()
            data = stream.get_data() if stream is not None else b""
        except Exception:  # noqa: BLE001 - an unreadable stream: no table to find there
            continue
        if len(_PATH_OPERATOR.findall(data)) >= MIN_RULES:
            ruled.append(number)
            if len(ruled) == MAX_TABLE_PAGES:
                break
    return ruled


def _with_tables(raw: bytes, pages: list[str], ruled: list[int]) -> list[str]:
    """``pages`` (pypdf's text of each page read) with every ``ruled`` page that holds a table
    read again by pdfplumber: its text around the tables as before, each table row by row.
    Runs only on a file pypdf has read within its bounds; where pdfplumber fails, on the file
    or on a page, or where its page holds fewer of pypdf's words (``_keeps_words``), those
    pages keep pypdf's text (a table read as lines loses no words)."""
    if not ruled:
        return pages
    try:
        import pdfplumber

        with pdfplumber.open(io.BytesIO(raw)) as pdf:
            for number in ruled:
                page = pdf.pages[number]
                try:
                    tables = page.find_tables()
                    if tables:
                        read = _page_with_tables(page, tables)
                        if _keeps_words(pages[number], read):
                            pages[number] = read
                except Exception:  # noqa: BLE001 - this page keeps pypdf's text
                    continue
                finally:
                    page.close()  # its parsed objects, before the next page's
    except Exception:  # noqa: BLE001 - a file pdfplumber cannot open keeps pypdf's text
        pass
    return pages


def _page_with_tables(page, tables) -> str:
    """The page top to bottom: the text between tables (wraps joined), each table's rows.
    Coordinates are the page's own (``page.bbox``; a table's bbox is in the same space)."""
    x0, top, x1, bottom = page.bbox
    blocks = []
    for table in sorted(tables, key=lambda t: t.bbox[1]):
        _, table_top, _, table_bottom = table.bbox
        if table_top > top:
            blocks.append(_text_in(page, (x0, top, x1, table_top)))
        blocks.append(table_text(table.extract()))
        top = max(top, table_bottom)
    if bottom > top:
        blocks.append(_text_in(page, (x0, top, x1, bottom)))
    return "\n\n".join(block for block in blocks if block.strip())


def _text_in(page, region: tuple[float, float, float, float]) -> str:
    return unwrap(_known_glyphs(page.crop(region, strict=False).extract_text() or ""))


def _keeps_words(before: str, after: str, share: float = KEPT_WORDS) -> bool:
    """Whether ``after`` (a page read with its tables) holds at least ``share`` of the words of
    ``before`` (pypdf's text of it), counted with repeats: a table reader that lost text in a
    page it misread must not replace words with nothing."""
    wanted = Counter(_WORD.findall(before))
    found = Counter(_WORD.findall(after))
    total = sum(wanted.values())
    return not total or sum((wanted & found).values()) >= share * total


def _known_glyphs(text: str) -> str:
    """pdfminer writes a glyph its font does not map to text as "(cid:N)": at a line's start
    that is a list bullet (reportlab's and Word's dingbats), kept as "•"; elsewhere dropped."""
    text = _LEADING_CID.sub("• ", text)
    return _CID.sub("", text)
