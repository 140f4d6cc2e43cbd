"""The date a file format embeds (search/ingest/dates.py says the order and the sources).

Each reader takes the raw bytes the parser already accepted (after its own bounds and zip-bomb
checks) and returns (date, source) or None; broken metadata is never an error: the document
then gets its date from its text or the file time.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import datetime

from search.ingest.dates import (
    DOCX_CORE,
    FRONT_MATTER,
    HTML_META,
    PDF_INFO,
    XMP,
    first_plausible,
)
from search.ingest.formats.pdf import pdf_configuration
from search.ingest.model import ParseLimits

Found = tuple[datetime, str] | None

# <meta> names (name=, property=, itemprop=, http-equiv=) that date a page, modified first.
HTML_DATE_NAMES = (
    "article:modified_time", "og:updated_time", "dcterms.modified", "dc.date.modified",
    "last-modified", "lastmod", "datemodified", "revised", "date", "dcterms.date", "dc.date",
    "article:published_time", "datepublished", "dcterms.created", "dc.date.created",
)  # fmt: skip
# Front-matter keys that date a Markdown file (Jekyll, Hugo, MkDocs, Docusaurus), modified first.
FRONT_MATTER_KEYS = (
    "last_modified", "last_modified_at", "lastmod", "modified", "updated", "last_updated",
    "date", "published", "created",
)  # fmt: skip
_HEAD_BYTES = 64 * 1024  # <meta> tags are in the page's head
_FRONT_MATTER_BYTES = 16 * 1024
_CORE_XML_BYTES = 1024 * 1024
_META = re.compile(rb"<meta\b[^>]{0,2000}>", re.IGNORECASE)
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def pdf_date(raw: bytes, limits: ParseLimits) -> Found:
    """The info dictionary's ModDate, else XMP's modify/create/metadata date or dc:date, else
    the info dictionary's CreationDate; under the same decompression bounds as the text."""
    from pypdf import PdfReader

    with pdf_configuration(limits.max_pdf_stream_bytes):
        try:
            reader = PdfReader(io.BytesIO(raw))
            if reader.is_encrypted and not reader.decrypt(""):
                return None
            info = reader.metadata
            modified = info.modification_date if info else None
            created = info.creation_date if info else None
            xmp = _xmp_dates(reader)
        except Exception:
            return None
    return first_plausible([(modified, PDF_INFO), *xmp, (created, PDF_INFO)])


def _xmp_dates(reader) -> list[tuple[object, str]]:
    try:
        xmp = reader.xmp_metadata
        if xmp is None:
            return []
        dc_dates = xmp.dc_date or []
        values = [xmp.xmp_modify_date, xmp.xmp_create_date, xmp.xmp_metadata_date, *dc_dates]
    except Exception:
        return []
    return [(value, XMP) for value in values]


def docx_date(raw: bytes, limits: ParseLimits) -> Found:
    """dcterms:modified, else dcterms:created, of docProps/core.xml (read without python-docx)."""
    from lxml import etree

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            info = archive.getinfo("docProps/core.xml")
            if info.file_size > _CORE_XML_BYTES:
                return None
            core = archive.read(info)
        parser = etree.XMLParser(resolve_entities=False, no_network=True)
        root = etree.fromstring(core, parser)
    except (KeyError, zipfile.BadZipFile, etree.XMLSyntaxError, ValueError):
        return None
    terms = "{http://purl.org/dc/terms/}"
    return first_plausible([
        (root.findtext(f"{terms}modified"), DOCX_CORE),
        (root.findtext(f"{terms}created"), DOCX_CORE),
    ])  # fmt: skip


def html_date(raw: bytes, limits: ParseLimits) -> Found:
    """The first of HTML_DATE_NAMES that a <meta> tag in the page's head gives."""
    found: dict[str, str] = {}
    for tag in _META.finditer(raw[:_HEAD_BYTES]):
        attributes = {
            m.group(1).lower(): (m.group(2) or m.group(3) or m.group(4) or b"")
            for m in _ATTRIBUTE.finditer(tag.group(0))
        }
        content = attributes.get(b"content")
        for key in (b"name", b"property", b"itemprop", b"http-equiv"):
            if key in attributes and content:
                name = attributes[key].decode("utf-8", "replace").strip().lower()
                found.setdefault(name, content.decode("utf-8", "replace"))
    return first_plausible((found.get(name), HTML_META) for name in HTML_DATE_NAMES)


def markdown_date(raw: bytes, limits: ParseLimits) -> Found:
    """The first of FRONT_MATTER_KEYS in a leading YAML block between two `---` lines."""
    import yaml

    head = raw[:_FRONT_MATTER_BYTES].decode("utf-8", "replace").replace("\r\n", "\n")
    head = head.removeprefix("\ufeff")
    if not head.startswith("---\n"):
        return None
    end = head.find("\n---", 3)
    if end < 0:
        return None
    try:
        fields = yaml.safe_load(head[4:end])
    except yaml.YAMLError:
        return None
    if not isinstance(fields, dict):
        return None
    fields = {str(k).lower(): v for k, v in fields.items()}
    return first_plausible(
        (_as_datetime(fields.get(key)), FRONT_MATTER) for key in FRONT_MATTER_KEYS
    )


def _as_datetime(value: object) -> object:
    """YAML reads `date: 2025-01-14` as a date; make it a datetime (midnight) for the checks."""
    if hasattr(value, "year") and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value


EMBEDDED_DATES: dict[str, Callable[[bytes, ParseLimits], Found]] = {
    "pdf": pdf_date,
    "docx": docx_date,
    "html": html_date,
    "webpage": html_date,  # a crawled page dates itself as any HTML page does
    "markdown": markdown_date,
}
