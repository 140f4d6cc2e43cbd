"""The document page's state as it travels in the URL: the document (``doc``), the search it
was opened from (``qid`` and ``kind``: a click to log) and the passage to open at
(``passage``, and ``at``: the characters of the result's snippet in it). Pure (no Streamlit); each value checked by ``app.url_values``, so a mangled link
gets a sentence saying what was ignored, never an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from app import url_values as check
from app.render import parse_window
from app.search_params import MAX_QUERY_ID

MAX_DOC_CHARS = 2048  # the longest document id feedback accepts
MAX_PASSAGE = 1_000_000  # passages of one document; a long book has a few thousand
LINK_KINDS = ("open", "citation")  # a result's link, or a chat answer's citation


@dataclass(frozen=True)
class DocumentParams:
    doc: str = ""
    qid: int | None = None  # the logged query the link came from (its click is logged)
    kind: str = "open"
    passage: int | None = None  # the chunk position to open at, highlighted
    at: tuple[int, int] | None = None  # the snippet's characters in that passage, marked

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> tuple[DocumentParams, list[str]]:
        """From ``st.query_params``, and a sentence for each value dropped as malformed."""
        get = lambda key: str(params.get(key, "") or "")  # noqa: E731
        checked = (
            check.text(get("doc"), "document", MAX_DOC_CHARS),
            check.whole(get("qid"), "query id", 1, MAX_QUERY_ID, "a query's id"),
            check.choice(get("kind"), "link kind", LINK_KINDS, "open"),
            check.whole(get("passage"), "passage number", 0, MAX_PASSAGE),
        )
        notes = [note for _, note in checked if note]
        at = parse_window(get("at")[:32])  # malformed: the whole passage, as before the snippet
        return cls(*(value for value, _ in checked), at=at), notes


def passage_not_found(passage: int) -> str:
    """What the page says when the link's passage is not one of the document's."""
    return f"The link's passage {passage:,} is not in this document; it is shown from its start."
