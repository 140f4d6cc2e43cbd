"""One sync of one source into its mirror: list, compare versions, fetch and parse what
changed, forget what is gone.

- The listing is complete before anything is deleted: a store that fails while being listed
  (``SourceUnavailable``) changes nothing.
- An object whose version the mirror holds is neither fetched nor parsed: an unchanged store
  costs its listing alone.
- Changed objects are fetched a batch at a time (a few downloads at once), parsed in the
  bounded parse workers, and recorded in one transaction per batch. A store that goes down
  part-way stops the sync there: what was recorded stays, nothing is deleted, and the next
  sync fetches the rest. One object that cannot be fetched or parsed is a failure with its
  reason; the sync goes on.
- Renames are a deletion and an addition; the embedding cache makes the addition cost no
  encoding (same text, same vectors).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from search.ingest import Document, ParseLimits
from search.ingest.files import EMPTY_REASON, too_big_reason
from search.ingest.folder import default_workers, parse_files
from search.ingest.workers import WorkerPool
from search.progress import ProgressFn
from search.sources.connectors import Connector
from search.sources.mirror import INDEXED, REJECTED, Mirror, hidden, path_problem
from search.sources.model import (
    Failure,
    Known,
    ObjectError,
    RemoteObject,
    SourceUnavailable,
    SyncReport,
)
from search.sources.retry import describe

FETCH_STAGE = "fetch"


@dataclass(frozen=True)
class SyncOptions:
    limits: ParseLimits = ParseLimits()
    threads: int = 8  # downloads at once
    batch: int = 256  # objects per checkpoint
    workers: int | None = None  # parse workers (default: one per CPU core)


def listing_digest(listed: Mapping[str, RemoteObject]) -> str:
    """A digest of (path, version) pairs: the source's cursor, equal for an unchanged store."""
    digest = hashlib.sha256()
    for path in sorted(listed):
        digest.update(f"{path}\0{listed[path].version}\n".encode())
    return digest.hexdigest()[:16]


def sync(
    name: str,
    connector: Connector,
    mirror: Mirror,
    options: SyncOptions = SyncOptions(),
    progress: ProgressFn | None = None,
) -> SyncReport:
    """Bring ``mirror`` in step with the store behind ``connector``; what happened, counted."""
    started = time.perf_counter()
    report = SyncReport(name)
    try:
        with mirror.syncing():
            _sync(connector, mirror, options, progress, report, started)
    except SourceUnavailable as exc:  # another sync holds the mirror
        report.error = str(exc)
    report.seconds = time.perf_counter() - started
    return report


def _sync(
    connector: Connector,
    mirror: Mirror,
    options: SyncOptions,
    progress: ProgressFn | None,
    report: SyncReport,
    started: float,
) -> None:
    known = mirror.known()
    try:
        listed = _listing(connector, known, report, options.limits)
        report.listing_seconds = time.perf_counter() - started
        todo = []
        for path, obj in listed.items():
            previous = known.get(path)
            if previous is not None and previous.version == obj.version:
                report.unchanged += 1
            else:
                todo.append(obj)
        _bring_in(todo, known, connector, mirror, options, report, progress)
    except SourceUnavailable as exc:
        report.error = str(exc)
        if report.changed:  # the mirror is part-way between two states of the store
            mirror.set_meta(incomplete="1")
    else:
        gone = sorted(set(known) - set(listed))
        mirror.forget(gone)
        report.deleted = len(gone)
        # what the mirror holds of the listing: an object that failed to download is left
        # out, so the next look at the store sees it as still to do
        held = mirror.known()
        kept = {p: o for p, o in listed.items() if p in held and held[p].version == o.version}
        mirror.set_meta(
            cursor=listing_digest(kept),
            synced_at=str(time.time()),
            incomplete="",
            complete_generation=str(mirror.generation),  # what the corpus signature follows
        )


def probe(connector: Connector, mirror: Mirror, limits: ParseLimits = ParseLimits()) -> str:
    """The digest of the store's listing now: the mirror's cursor when nothing changed."""
    return listing_digest(_listing(connector, mirror.known(), SyncReport(""), limits))


def _listing(
    connector: Connector, known: Mapping[str, Known], report: SyncReport, limits: ParseLimits
) -> dict[str, RemoteObject]:
    """Everything the store holds that can be mirrored; the rest are failures."""
    listed: dict[str, RemoteObject] = {}
    for obj in connector.objects(known):
        if hidden(obj.path) or obj.path in listed:
            continue
        problem = obj.problem or path_problem(obj.path)
        if not problem and obj.size is not None and obj.size > limits.max_file_bytes:
            problem = too_big_reason(obj.size, limits)
        if not problem and obj.size == 0:
            problem = EMPTY_REASON
        if problem:
            report.failed.append(Failure(obj.path, problem))
        else:
            listed[obj.path] = obj
    return listed


class _Fetcher:
    """Downloads for one sync: once the store is down, the downloads not yet started are
    skipped rather than each waiting out its own retries."""

    def __init__(self, connector: Connector) -> None:
        self.connector = connector
        self.down: SourceUnavailable | None = None
        self._lock = threading.Lock()

    def __call__(self, obj: RemoteObject) -> bytes | Exception | None:
        if self.down is not None:
            return None
        try:
            return self.connector.fetch(obj)
        except SourceUnavailable as exc:
            with self._lock:
                self.down = self.down or exc
            return None
        except ObjectError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - one object's surprise is that object's failure
            return ObjectError(describe(exc))


def _bring_in(
    todo: list[RemoteObject],
    known: Mapping[str, Known],
    connector: Connector,
    mirror: Mirror,
    options: SyncOptions,
    report: SyncReport,
    progress: ProgressFn | None,
) -> None:
    if not todo:
        return
    fetcher = _Fetcher(connector)
    threads = min(options.threads, getattr(connector, "max_threads", options.threads))
    workers = options.workers or default_workers()
    with WorkerPool(options.limits, workers) as pool, ThreadPoolExecutor(threads) as io:
        for start in range(0, len(todo), options.batch):
            batch = todo[start : start + options.batch]
            fetched: list[RemoteObject] = []
            for obj, data in zip(batch, io.map(fetcher, batch), strict=True):
                if isinstance(data, Exception):
                    report.failed.append(Failure(obj.path, str(data)))
                elif data is not None:
                    try:
                        mirror.write_file(obj.path, data, obj.modified)
                    except OSError as exc:
                        report.failed.append(Failure(obj.path, f"cannot be kept ({exc.strerror})"))
                    else:
                        fetched.append(obj)
            _record(fetched, known, mirror, pool, options.limits, report)
            if progress is not None:
                progress(FETCH_STAGE, min(start + len(batch), len(todo)), len(todo))
            if fetcher.down is not None:
                raise fetcher.down


def _record(
    fetched: list[RemoteObject],
    known: Mapping[str, Known],
    mirror: Mirror,
    pool: WorkerPool,
    limits: ParseLimits,
    report: SyncReport,
) -> None:
    """Parse a batch's files and store the batch: the checkpoint."""
    outcomes = parse_files(mirror.files, [(o.path, o.fmt) for o in fetched], pool, limits)
    rows = []
    for obj, outcome in zip(fetched, outcomes, strict=True):
        if isinstance(outcome, Document):
            status, reason, document = INDEXED, "", outcome
            if obj.path in known:
                report.updated += 1
            else:
                report.added += 1
        else:
            status, reason, document = REJECTED, outcome.reason, None
            report.failed.append(Failure(obj.path, outcome.reason))
        rows.append((obj.path, obj.version, obj.url, obj.size, obj.modified, obj.fmt,
                     obj.links, status, reason, document))  # fmt: skip
    mirror.record(rows)
