"""A document's date from the document itself, and which source it came from.

In order (the first that gives a plausible date wins):
1. what the file format embeds: the PDF info dictionary (``pdf-info``) or its XMP packet
   (``xmp``), a Word file's core properties (``docx-core``), an HTML page's ``<meta>``
   (``html-meta``), a Markdown file's front matter (``front-matter``);
2. a date stated in the first lines of the text (``text``): "Effective date: 3 March 2025",
   "Last updated 2025-01-14", "Version 3, 9 January 2025"; a date after a word such as
   *updated*, *effective* or *approved* wins over one without;
3. the file's modification time (``file-time``), which a copy or a `git clone` resets.

Dates that tools write when nobody set one (reportlab's invariant 2000-01-01, python-docx's
template date), dates before 1980 and dates in the future are not plausible and are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

PDF_INFO, XMP, DOCX_CORE = "pdf-info", "xmp", "docx-core"
HTML_META, FRONT_MATTER, TEXT, FILE_TIME = "html-meta", "front-matter", "text", "file-time"
SOURCES = (PDF_INFO, XMP, DOCX_CORE, HTML_META, FRONT_MATTER, TEXT, FILE_TIME)

# Dates generators write when the author set none: not the document's date.
_PLACEHOLDERS = frozenset({
    datetime(2000, 1, 1, tzinfo=UTC),  # reportlab with invariant=1
    datetime(2013, 12, 23, 23, 15, tzinfo=UTC),  # python-docx's default template
})  # fmt: skip
_EARLIEST = datetime(1980, 1, 1, tzinfo=UTC)

TEXT_HEAD_CHARS = 600  # how far into the text a stated date is looked for
_MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_YEAR = r"(?:19[89]\d|2\d{3})"
_DATE = re.compile(
    rf"\b(?:{_YEAR}-[01]\d-[0-3]\d"  # 2025-01-14
    rf"|[0-3]?\d(?:st|nd|rd|th)?\s+{_MONTHS}\s+{_YEAR}"  # 3 March 2025
    rf"|{_MONTHS}\s+[0-3]?\d(?:st|nd|rd|th)?,?\s+{_YEAR}"  # March 3, 2025
    rf"|{_MONTHS}\s+{_YEAR})\b",  # August 2025
    re.IGNORECASE,
)
_LABEL = re.compile(
    r"\b(?:updated|effective|revised|modified|approved|released|published|issued|reviewed|"
    r"prepared|dated?|version|edition|revision)\b[^.\n]{0,40}$",
    re.IGNORECASE,
)


def as_utc(value: datetime) -> datetime:
    """`value` in UTC; a naive datetime is taken to be UTC already."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def plausible(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """`value` in UTC when it can be a document's date, else None."""
    if value is None:
        return None
    value = as_utc(value)
    latest = (now or datetime.now(UTC)) + timedelta(days=1)
    if value in _PLACEHOLDERS or not _EARLIEST <= value <= latest:
        return None
    return value


def parse_date(text: str) -> datetime | None:
    """A date or datetime written in almost any common form, else None (never raises)."""
    from dateutil import parser

    text = str(text).strip()
    if not text or len(text) > 100:
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))  # ISO-8601 as written
    except ValueError:
        pass
    try:  # day before month where ambiguous (European), as the sample's documents write
        return parser.parse(text, dayfirst=True, default=datetime(2000, 1, 1))
    except (ValueError, OverflowError, TypeError):
        return None


def date_in_text(text: str) -> datetime | None:
    """The date stated in the first lines of `text`: the first one after a label such as
    "updated" or "effective", else the first one; None when there is none."""
    head = text[:TEXT_HEAD_CHARS]
    first = None
    for match in _DATE.finditer(head):
        value = plausible(parse_date(match.group(0)))
        if value is None:
            continue
        if _LABEL.search(head[max(0, match.start() - 60) : match.start()]):
            return value
        first = first or value
    return first


def first_plausible(candidates: Iterable[tuple[object, str]]) -> tuple[datetime, str] | None:
    """The first (date, source) whose value parses to a plausible date."""
    for value, source in candidates:
        if value is None or value == "":
            continue
        parsed = value if isinstance(value, datetime) else parse_date(str(value))
        checked = plausible(parsed)
        if checked is not None:
            return checked, source
    return None


def document_date(
    embedded: tuple[datetime, str] | None, text: str, mtime: float
) -> tuple[str, str]:
    """(ISO-8601 date in UTC, source) of a document, per the order in the module docstring."""
    if embedded is None:
        stated = date_in_text(text)
        embedded = (stated, TEXT) if stated else None
    if embedded is None:
        embedded = (datetime.fromtimestamp(mtime, tz=UTC), FILE_TIME)
    value, source = embedded
    return as_utc(value).isoformat(timespec="seconds"), source
