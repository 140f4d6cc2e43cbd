"""Retrieved documents that another retrieved document says it replaces.

A document that replaces an older one usually says so in its first lines: "Version 3.0,
effective date: 1 January 2025. Replaces the circular on travel and expenses of 1 March 2023";
"effective date: 1 January 2025 · replaces all earlier parking information". A chat turn does not
quote the replaced document beside the one that replaced it: its figures are out of date (the
kilometre allowance of 2023 beside the one of 2025). An older document counts as replaced when
the newer one's first lines say it "replaces" or "supersedes" something, and

- that something carries a date, and it is the older document's own date (the date its first
  lines state, as ``search.ingest.dates`` reads a document's date), or
- it is "all earlier ..." or "all previous ...", the older document's date is before the newer
  one's, and its title shares a word with what is replaced ("parking").

Nothing else is guessed: two documents on one subject with different dates are both quoted
when neither says it replaces the other.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime

from search.chat.answer import text_of
from search.chat.questions import stems
from search.chunking import Chunk
from search.ingest.dates import TEXT_HEAD_CHARS, date_in_text

_REPLACES = re.compile(r"\b(?:replaces|supersedes)\b([^.\n*]{0,160})", re.IGNORECASE)
_EVERY_EARLIER = re.compile(r"\ball\s+(?:earlier|previous|former|older)\b", re.IGNORECASE)


def replaced_documents(documents: Mapping[str, Sequence[Chunk]]) -> set[str]:
    """The ids among ``documents`` (id -> its chunks) that another of them says it replaces."""
    heads = {d: text_of(chunks)[:TEXT_HEAD_CHARS] for d, chunks in documents.items() if chunks}
    dated = {d: date_in_text(head) for d, head in heads.items()}
    titles = {d: stems(chunks[0].title) for d, chunks in documents.items() if chunks}
    out: set[str] = set()
    for newer, head in heads.items():
        for match in _REPLACES.finditer(head):
            what = match.group(1)
            for older in heads.keys() - {newer}:
                if _names(what, dated[older], dated[newer], titles[older]):
                    out.add(older)
    return out


def _names(what: str, older: datetime | None, newer: datetime | None, title: set[str]) -> bool:
    """Whether ``what`` a newer document (dated ``newer``) replaces is the older document
    (dated ``older``, its title's stems ``title``)."""
    if older is None:
        return False
    stated = date_in_text(what)
    if stated is not None:
        return stated.date() == older.date()
    if _EVERY_EARLIER.search(what) and newer is not None and older < newer:
        return bool(stems(_EVERY_EARLIER.sub(" ", what)) & title)
    return False
