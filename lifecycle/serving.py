"""Which index version serves, and that index loaded once per process.

The MLflow ``champion`` serves when the registry answers; otherwise the local store's CURRENT
(or newest) version. Every interface (the app, the CLI, the REST API, the Dagster sensors)
asks here, so they answer from the same version.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from lifecycle.housekeeping import open_store
from search.access import Policy
from search.index import VERSIONS, IndexLoadError, SearchIndex, version_created
from search.settings import Settings

logger = logging.getLogger(__name__)

FROM_REGISTRY = "MLflow champion"  # where the served version came from
FROM_LOCAL_STORE = "newest local index"


@dataclass(frozen=True)
class Serving:
    """Which index version answers, where it is, and how it was chosen."""

    version: str  # the index version folder: what feedback rows and monitoring name
    path: str
    source: str  # FROM_REGISTRY or FROM_LOCAL_STORE
    label: str = ""  # e.g. "docsearch-index v3" for a registered champion
    note: str = ""  # why the registry was not used, when it was not
    since: str = ""  # when a registered champion became champion (ISO 8601), when known


def resolve_serving(settings: Settings) -> Serving | None:
    """The registry's champion when it answers, else the local CURRENT (or newest) version;
    None when no index has been built. An unreachable registry never stops search."""
    store = open_store(settings)  # cleaned the first time this process opens it
    note = ""
    try:
        from lifecycle.registry import resolve_champion

        champion = resolve_champion(settings)
        if champion:
            path = Path(champion.path)
            # the index folder's own id (as the builder named it, also in a fetched copy),
            # so feedback logged under it lines up with the same index wherever it serves
            version = champion.index_version or (
                path.name if path.parent.name == VERSIONS else str(champion.label)
            )
            label, note = str(champion.label), champion.note
            return Serving(version, str(path), FROM_REGISTRY, label, note, champion.since)
        note = "no MLflow champion yet"
    except IndexLoadError as exc:  # the champion's manifest is not the one registered
        logger.warning("champion refused: %s", exc)
        note = f"the MLflow champion was refused: {exc}"
    except Exception as exc:  # noqa: BLE001 - the local store still serves
        logger.warning("champion lookup failed: %s", exc)
        note = f"the MLflow registry could not be read ({type(exc).__name__})"
    try:
        version, refused = store.pick()  # CURRENT, or the version before a corrupt one
    except IndexLoadError as exc:  # nothing checks: loading it says why
        version, refused = store.current(), str(exc)
    if version is None:
        return None
    note = "; ".join(n for n in (note, refused) if n)
    return Serving(version, str(store.path(version)), FROM_LOCAL_STORE, note=note)


def version_name(served: Serving, today: date | None = None) -> str:
    """The served version as people read it: "v3, champion since 4 Dec" for a registered
    champion (the registry's number), "built 4 Dec, not registered" for a local build; never
    the folder's timestamped id (``served.version``, for admins and the logs)."""
    if served.source == FROM_REGISTRY:
        number = served.label.rpartition(" ")[2] or served.version
        since = _day(served.since, today)
        return f"{number}, champion since {since}" if since else f"{number}, champion"
    built = version_created(served.version)
    return f"built {_day(built.isoformat(), today)}, not registered" if built else "not registered"


def _day(moment: str, today: date | None = None) -> str:
    """ "4 Dec" (this year), "4 Dec 2024" (another); "" for no or a malformed moment."""
    try:
        day = datetime.fromisoformat(moment).date()
    except ValueError:
        return ""
    this_year = (today or date.today()).year == day.year
    return f"{day.day} {day:%b}" + ("" if this_year else f" {day.year}")


class ServingFollower:
    """The served version for a long-running process (an API worker, a serving machine):
    looked up again at most every ``settings.serve_poll_seconds``, so a moved champion alias
    is followed without a restart. The switch is one assignment under a lock (a request sees
    the old version or the new one, never a mix), and a lookup that fails keeps serving what
    served before."""

    def __init__(self, settings: Settings, clock=time.monotonic) -> None:
        self.settings = settings
        self._clock = clock
        self._lock = threading.Lock()
        self._serving: Serving | None = None
        self._checked: float | None = None

    def current(self) -> Serving | None:
        now = self._clock()
        with self._lock:
            due = self._checked is None or now - self._checked >= self.settings.serve_poll_seconds
            if not due:
                return self._serving
            self._checked = now
        found = resolve_serving(self.settings)
        with self._lock:
            if found is not None and (found.source == FROM_REGISTRY or self._serving is None):
                if self._serving is None or found.path != self._serving.path:
                    logger.info("serving %s (%s)", found.label or found.version, found.path)
                self._serving = found
            return self._serving


class LoadedIndexes:
    """Indexes loaded once per process and shared by every request, the newest few kept, each
    with the encoder its manifest names. Thread-safe: web servers answer from several threads.

    Asked with a policy, the index carries that policy's readers (``lifecycle.access.enforce``:
    a version built before the policy changed answers under the new one at once)."""

    def __init__(self, keep: int = 3) -> None:
        self.keep = keep
        self._indexes: OrderedDict[tuple, SearchIndex] = OrderedDict()
        self._lock = threading.Lock()

    def index(self, serving: Serving, policy: Policy | None = None) -> SearchIndex:
        key = (serving.path, policy.hash if policy is not None else None)
        with self._lock:
            if key in self._indexes:
                self._indexes.move_to_end(key)
                return self._indexes[key]
        # the encoder the manifest names, with its backend and the export the version carries
        index = SearchIndex.load(serving.path)
        if policy is not None:
            from lifecycle.access import enforce

            index = enforce(index, policy)
        with self._lock:
            self._indexes[key] = index
            while len(self._indexes) > self.keep:
                self._indexes.popitem(last=False)
        return index


# ------------------------------------------------------------------ pagination
PAGE_SIZE = 10  # results per page
MAX_RESULTS = 100  # the deepest a person can page; the total is "100+" beyond it


@dataclass(frozen=True)
class Pages:
    """Where one page sits among a query's results (pages count from 1)."""

    page: int
    total: int  # results found, at most MAX_RESULTS
    capped: bool  # more than ``total`` exist
    per_page: int = PAGE_SIZE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    @property
    def last(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.last

    def label(self) -> str:
        """E.g. "Results 11–20 of 57" ("of 100+" when there are more than can be paged)."""
        if self.total == 0:
            return "No results"
        end = min(self.total, self.offset + self.per_page)
        of = f"{self.total}+" if self.capped else str(self.total)
        return f"Results {self.offset + 1}–{end} of {of}"


def paginate(total: int, page: int, capped: bool = False, per_page: int = PAGE_SIZE) -> Pages:
    """The page asked for, brought inside 1 .. the last page (a bookmarked page 9 of a
    query that now finds 12 results opens the last page)."""
    last = max(1, -(-max(0, total) // per_page))
    return Pages(min(max(1, int(page)), last), max(0, total), capped, per_page)


def shown_again(
    index: SearchIndex, shown: list[tuple[int, str]], query: str, method=None, filters=None
) -> list:
    """A logged page's results again, for a Back or a reload: ``shown`` is that query's
    (rank, doc_id) pairs as the store recorded them; each comes back at its recorded rank,
    with a fresh snippet (a document no longer found is left out)."""
    import dataclasses

    depth = max((rank for rank, _ in shown), default=0)
    found = {r.doc_id: r for r in index.search(query, k=depth, method=method, filters=filters)}
    return [
        dataclasses.replace(found[doc_id], rank=rank)
        for rank, doc_id in sorted(shown)
        if doc_id in found
    ]


def filter_counts(index: SearchIndex, filters) -> dict[str, int]:
    """How many documents each part of ``filters`` matches alone ("format", "folder", "dates")
    and all together ("all"), among those its principals may read: why a filtered search found
    nothing. Pass filters already restricted to the reader."""
    import dataclasses

    def count(part) -> int:
        return int(index.selections.documents(part).sum())

    bare = dataclasses.replace(
        filters, formats=frozenset(), path_prefix="", modified_after="", modified_before=""
    )
    parts = {
        "format": dataclasses.replace(bare, formats=filters.formats),
        "folder": dataclasses.replace(bare, path_prefix=filters.path_prefix),
        "dates": dataclasses.replace(
            bare, modified_after=filters.modified_after, modified_before=filters.modified_before
        ),
    }
    used = {
        "format": bool(filters.formats),
        "folder": bool(filters.path_prefix),
        "dates": bool(filters.modified_after or filters.modified_before),
    }
    counts = {name: count(part) for name, part in parts.items() if used[name]}
    return counts | {"all": count(filters)}
