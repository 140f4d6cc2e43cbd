"""The search page's state as it travels in the URL: query, filters, method, page and the
logged query id, so a search can be shared or bookmarked and Back or a reload restores it.

Pure (no Streamlit): values from a URL are untrusted, so anything malformed is dropped with a
sentence saying so (``app.url_values``), never an error."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date

from app import url_values as check
from app.cli.arguments import MAX_QUERY_CHARS  # the CLI's and the API's bound too

METHODS = ("hybrid", "bm25", "dense")
ANY_FOLDER = "(any)"
MAX_FOLDER_CHARS = 1000
MAX_PAGE = 10_000  # pages of results; a search has at most a few hundred
MAX_QUERY_ID = 2**63 - 1  # the largest id a database column holds


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
    def from_url(
        cls, params: Mapping[str, str], formats: Collection[str] | None = None
    ) -> SearchParams:
        """From ``st.query_params`` (one value per key); unknown or malformed values dropped."""
        return cls.parse(params, formats)[0]

    @classmethod
    def parse(
        cls, params: Mapping[str, str], formats: Collection[str] | None = None
    ) -> tuple[SearchParams, list[str]]:
        """From ``st.query_params``, and a sentence for each value dropped because it is
        malformed (a format not in ``formats``, when given, among them)."""
        get = lambda key: str(params.get(key, "") or "")  # noqa: E731
        notes: list[str] = []

        def keep(value, note: str):
            if note:
                notes.append(note)
            return value

        wanted = [f.strip() for f in get("formats").split(",") if f.strip()]
        unknown = [f for f in wanted if formats is not None and f not in formats]
        if unknown:
            listed = check.shown(",".join(unknown))
            notes.append(f"The link's format {listed} is not one the documents have{check.IGNORED}")
        parsed = cls(
            query=keep(*check.text(get("q"), "query", MAX_QUERY_CHARS)),
            method=keep(*check.choice(get("method"), "search method", METHODS, "hybrid")),
            formats=tuple(f for f in wanted if f not in unknown),
            folder=keep(*check.text(get("folder"), "folder", MAX_FOLDER_CHARS)),
            after=keep(*check.iso_date(get("after"), "“Modified after” date")),
            before=keep(*check.iso_date(get("before"), "“Modified before” date")),
            page=keep(*check.whole(get("page"), "page number", 1, MAX_PAGE)) or 1,
            qid=keep(*check.whole(get("qid"), "query id", 1, MAX_QUERY_ID, "a query's id")),
            weaker=get("weaker").strip() == "1",  # anything else: the default, no note needed
            exact=get("exact").strip() == "1",
        )
        return parsed, notes

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


DATE_FILTERS = ("“Modified after”", "“Modified before”")  # the page's names for the dates


def date_range_problem(after: str, before: str, names: tuple[str, str] = DATE_FILTERS) -> str:
    """Why modified-on-or-after ``after`` and before ``before`` (ISO dates; ``before`` excludes
    its own day) can match nothing, in one plain sentence that calls the two dates ``names``
    ("" when they can match). The search page and the REST API both explain it so."""
    first, last = names
    if not (after and before) or after < before:
        return ""
    if after == before:
        return (
            f"{first} ({after}) is the same day as {last} ({before}), which excludes its own "
            f"day, so no document can match: move {last} to a later day or clear one of them."
        )
    return (
        f"{first} ({after}) is later than {last} ({before}), so no document can match: "
        "swap the two dates or clear one of them."
    )


def contradictions(after: str, before: str, today: date | None = None) -> list[str]:
    """Why a date range can match nothing, one plain sentence each (empty when it can)."""
    problems = [p for p in (date_range_problem(after, before),) if p]
    if after and after >= (today or date.today()).isoformat():
        problems.append(
            f"“Modified after” ({after}) is today or later: no document has been modified "
            "since. Choose an earlier date or clear it."
        )
    return problems
