"""What people and the pipeline do with sources: add, list, remove, sync, and what the sources
sensor and the freshness check ask. Every interface (``docsearch sources``, the Dagster
partitions and sensor) calls these.

A sync brings each source's mirror in step (``search.sources.sync``), records its cursor in
the catalog, and then publishes one new index version over the corpus when a mirror changed
(``lifecycle.sources.publish``). A source that stopped part-way after changing its mirror
holds the publication back: what serves stays as it was until a sync completes. The
environment (``environ``) is the interface's, for the variables sources name secrets in.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from lifecycle.sources.catalog import Source, SourceCatalog, now
from lifecycle.sources.publish import Published, mark_unpublished, publish, unpublished
from search.progress import ProgressFn
from search.settings import Settings
from search.sources import (
    Mirror,
    OpenSettings,
    RetryPolicy,
    SourceError,
    SourceSpec,
    SourceUnavailable,
    SyncOptions,
    SyncReport,
    check_source,
    incomplete_sources,
    interval_of,
    open_connector,
    sync,
)
from search.sources.connectors.web import CrawlLimits
from search.sources.sync import probe


def _catalog(settings: Settings) -> SourceCatalog:
    return SourceCatalog(settings.database_url)


def open_settings(settings: Settings) -> OpenSettings:
    """How connectors retry, time out and crawl, from the settings."""
    retry = RetryPolicy(
        attempts=settings.source_retries,
        backoff=settings.source_backoff_seconds,
        timeout=settings.source_timeout_seconds,
    )
    crawl = CrawlLimits(
        settings.crawl_max_pages,
        settings.crawl_max_depth,
        settings.crawl_delay_seconds,
        settings.crawl_user_agent,
    )
    return OpenSettings(retry=retry, crawl=crawl)


def add_source(settings: Settings, name: str, url: str, options: Mapping[str, str]) -> Source:
    """Store a new source after checking it could be synced (nothing is fetched yet)."""
    spec = SourceSpec(name, url, dict(options))
    check_source(spec)
    if (settings.docs / name).exists():
        raise SourceError(
            f"the documents folder {settings.docs} has {name!r} in it already; document ids of "
            f"a source start with its name, so pick another name"
        )
    with _catalog(settings) as catalog:
        return catalog.add(spec)


def list_sources(settings: Settings) -> list[Source]:
    with _catalog(settings) as catalog:
        return catalog.all()


def remove_source(settings: Settings, name: str) -> None:
    """Forget a source and its mirror; its documents leave the next index version."""
    with _catalog(settings) as catalog:
        catalog.remove(name)
    shutil.rmtree(settings.sources_dir / name, ignore_errors=True)
    mark_unpublished(settings)


def sync_one(
    settings: Settings,
    name: str,
    environ: Mapping[str, str],
    progress: ProgressFn | None = None,
) -> SyncReport:
    """Bring one source's mirror in step with its store and record the outcome (no publish)."""
    with _catalog(settings) as catalog:
        source = catalog.get(name)
        mirror = Mirror(settings.sources_dir / name)
        try:
            connector = open_connector(source.spec, environ, open_settings(settings))
        except SourceError as exc:  # a secret's variable unset, a file unreadable
            report = SyncReport(name, error=str(exc))
        else:
            options = SyncOptions(
                threads=settings.source_fetch_threads, batch=settings.source_batch_size
            )
            try:
                report = sync(name, connector, mirror, options, progress)
            finally:
                connector.close()
        if report.changed:
            mark_unpublished(settings)
        cursor = None if report.error else mirror.meta("cursor")
        mirror.close()
        catalog.record_sync(name, report.as_dict(), cursor)
    return report


@dataclass
class SyncOutcome:
    """Every source's report, the totals, and the index version published (if one was)."""

    reports: list[SyncReport]
    published: Published | None = None
    held_back: list[str] = field(default_factory=list)  # sources a sync left part-way

    @property
    def ok(self) -> bool:
        return not any(r.error for r in self.reports)

    def as_dict(self) -> dict:
        failures = [
            {"source": r.source, "path": f.path, "reason": f.reason}
            for r in self.reports
            for f in r.failed
        ]
        return {
            "added": sum(r.added for r in self.reports),
            "updated": sum(r.updated for r in self.reports),
            "deleted": sum(r.deleted for r in self.reports),
            "unchanged": sum(r.unchanged for r in self.reports),
            "failed": len(failures),
            "failures": failures,
            "errors": [{"source": r.source, "error": r.error} for r in self.reports if r.error],
            "sources": [r.as_dict() for r in self.reports],
            "index": self.published.as_dict() if self.published else None,
            "held_back_by": self.held_back,
        }


def sync_sources(
    settings: Settings,
    environ: Mapping[str, str],
    name: str | None = None,
    progress: ProgressFn | None = None,
) -> SyncOutcome:
    """Sync one source (``name``) or all, then publish the corpus when a mirror changed and no
    mirror is part-way (a sync that stopped after changing some of its objects, this time or
    before, and has not completed since)."""
    names = [name] if name else [s.name for s in list_sources(settings)]
    outcome = SyncOutcome([sync_one(settings, n, environ, progress) for n in names])
    outcome.held_back = incomplete_sources(settings.sources_dir)
    if unpublished(settings) and not outcome.held_back:
        outcome.published = publish(settings, progress)
    return outcome


def due_sources(settings: Settings, at: datetime | None = None) -> list[Source]:
    """Sources whose interval has passed since they were last known to be in step."""
    at = at or now()
    due = []
    for source in list_sources(settings):
        interval = interval_of(source.spec, settings.source_interval_seconds)
        if source.checked_at is None or (at - source.checked_at).total_seconds() >= interval:
            due.append(source)
    return due


def stale_sources(settings: Settings, at: datetime | None = None) -> list[dict]:
    """Sources not known to be in step within their interval: what the freshness check fails
    on (name, URL, interval, when last in step, seconds overdue)."""
    at = at or now()
    stale = []
    for source in due_sources(settings, at):
        interval = interval_of(source.spec, settings.source_interval_seconds)
        last = source.checked_at
        stale.append({
            "source": source.name,
            "url": source.url,
            "interval_seconds": interval,
            "in_step_at": last.isoformat() if last else None,
            "overdue_seconds": round((at - last).total_seconds() - interval) if last else None,
            "last_error": (source.report or {}).get("error", ""),
        })  # fmt: skip
    return stale


def changed_since_sync(settings: Settings, name: str, environ: Mapping[str, str]) -> str | None:
    """Look at the store: the digest of its listing when it differs from the last complete
    sync's (a sync is due), None when it holds nothing new (recorded: it is in step).
    ``SourceUnavailable`` when the store cannot be listed."""
    with _catalog(settings) as catalog:
        source = catalog.get(name)
        connector = open_connector(source.spec, environ, open_settings(settings))
        try:
            with Mirror(settings.sources_dir / name) as mirror:
                digest = probe(connector, mirror)
                last = mirror.meta("cursor")
        finally:
            connector.close()
        if digest == last:
            catalog.record_check(name)
            return None
        return digest


__all__ = [
    "SourceUnavailable",
    "SyncOutcome",
    "add_source",
    "changed_since_sync",
    "due_sources",
    "list_sources",
    "remove_source",
    "stale_sources",
    "sync_one",
    "sync_sources",
]
