"""The search page's state as it travels in the URL: query, filters, method, page and the
logged query id, so a search can be shared or bookmarked and Back or a reload restores it.

Pure (no Streamlit): values from a URL are untrusted, so anything malformed is dropped, never
an error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date

METHODS = ("hybrid", "bm25", "dense")
ANY_FOLDER = "(any)"


def _date(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""


def _positive(value: str) -> int | None:
    return int(value) if value.isdigit() and 0 < int(value) < 10**12 else None


@dataclass(frozen=True)
class SearchParams:
    query: str = ""
    method: str = "hybrid"
    formats: tuple[str, ...] = ()
    folder: str = ""  # a path prefix such as "hr/"; "" for any
    after: str = ""  # ISO dates
    before: str = ""
    page: int = 1
    qid: int | None = None  # the logged query this page showed (for its votes)
    weaker: bool = False  # also the matches below the relevance floor
    exact: bool = False  # the query as typed, no spelling correction ("Search instead for")

    @classmethod
    def from_url(cls, params: Mapping[str, str]) -> SearchParams:
        """From ``st.query_params`` (one value per key); unknown or malformed values dropped."""
        get = lambda key: str(params.get(key, "") or "").strip()  # noqa: E731
        method = get("method")
        formats = tuple(f for f in get("formats").split(",") if f)
        return cls(
            query=get("q"),
            method=method if method in METHODS else "hybrid",
            formats=formats,
            folder=get("folder"),
            after=_date(get("after")),
            before=_date(get("before")),
            page=_positive(get("page")) or 1,
            qid=_positive(get("qid")),
            weaker=get("weaker") == "1",
            exact=get("exact") == "1",
        )

    def to_url(self) -> dict[str, str]:
        """The query parameters to put in the URL (defaults left out)."""
        out = {
            "q": self.query,
            "method": self.method if self.method != "hybrid" else "",
            "formats": ",".join(self.formats),
            "folder": self.folder,
            "after": self.after,
            "before": self.before,
            "page": str(self.page) if self.page > 1 else "",
            "qid": str(self.qid) if self.qid else "",
            "weaker": "1" if self.weaker else "",
            "exact": "1" if self.exact else "",
        }
        return {k: v for k, v in out.items() if v}

    def same_search(self, other: SearchParams) -> bool:
        """The same query and filters (page and query id aside)."""
        return replace(self, page=1, qid=None) == replace(other, page=1, qid=None)

    def at_page(self, page: int) -> SearchParams:
        return replace(self, page=page, qid=None)


def contradictions(after: str, before: str, today: date | None = None) -> list[str]:
    """Why a date range can match nothing, one plain sentence each (empty when it can)."""
    problems = []
    if after and before and after > before:
        problems.append(
            f"“Modified after” ({after}) is later than “Modified before” ({before}), so no "
            "document can match: swap the two dates or clear one of them."
        )
    if after and after >= (today or date.today()).isoformat():
        problems.append(
            f"“Modified after” ({after}) is today or later: no document has been modified "
            "since. Choose an earlier date or clear it."
        )
    return problems
