"""The configured sources, in the product's SQL store (table ``sources``, migration 0004).

One row per source: its name, URL and options (never a secret: options name where secrets
are), and its cursor: when it was last synced, how that went, the digest of its last complete
listing, and when it was last known to be in step with its store (``checked_at``: a complete
sync, or a look at the store that found nothing new), which the freshness check reads.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from lifecycle.database import metadata, open_database
from search.sources import SourceError, SourceSpec

NEVER, OK, PARTIAL, FAILED = "never", "ok", "partial", "failed"  # how the last sync went

sources = Table(
    "sources",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("url", String(2048), nullable=False),
    Column("options", Text, nullable=False),  # JSON object of strings
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("synced_at", DateTime(timezone=True), nullable=True),
    Column("checked_at", DateTime(timezone=True), nullable=True),
    Column("status", String(16), nullable=False, server_default=NEVER),
    Column("cursor", String(64), nullable=False, server_default=""),
    Column("report", Text, nullable=True),  # JSON of the last sync's report
)


@dataclass(frozen=True)
class Source:
    """A configured source and how its last sync went."""

    name: str
    url: str
    options: Mapping[str, str]
    created_at: datetime
    synced_at: datetime | None = None
    checked_at: datetime | None = None
    status: str = NEVER
    cursor: str = ""
    report: Mapping | None = None

    @property
    def spec(self) -> SourceSpec:
        return SourceSpec(self.name, self.url, dict(self.options))


def now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time here is UTC."""
    return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value


def _source(row) -> Source:
    m = row._mapping
    return Source(
        name=m["name"],
        url=m["url"],
        options=json.loads(m["options"]),
        created_at=_aware(m["created_at"]),
        synced_at=_aware(m["synced_at"]),
        checked_at=_aware(m["checked_at"]),
        status=m["status"],
        cursor=m["cursor"],
        report=json.loads(m["report"]) if m["report"] else None,
    )


class SourceCatalog:
    """The sources table of the store at ``url`` (or on an open engine)."""

    def __init__(self, url: str | Engine) -> None:
        self.engine = open_database(url)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> SourceCatalog:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def add(self, spec: SourceSpec) -> Source:
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(sources).values(
                        name=spec.name,
                        url=spec.url,
                        options=json.dumps(dict(spec.options), sort_keys=True),
                        created_at=now(),
                    )
                )
        except IntegrityError:
            raise SourceError(
                f"a source named {spec.name!r} exists already; `docsearch sources remove "
                f"{spec.name}` first, or pick another name"
            ) from None
        return self.get(spec.name)

    def get(self, name: str) -> Source:
        with self.engine.connect() as conn:
            row = conn.execute(select(sources).where(sources.c.name == name)).first()
        if row is None:
            raise SourceError(f"no source named {name!r}; `docsearch sources list` shows them")
        return _source(row)

    def all(self) -> list[Source]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(sources).order_by(sources.c.name)).all()
        return [_source(r) for r in rows]

    def remove(self, name: str) -> None:
        with self.engine.begin() as conn:
            gone = conn.execute(delete(sources).where(sources.c.name == name)).rowcount
        if not gone:
            raise SourceError(f"no source named {name!r}; `docsearch sources list` shows them")

    def record_sync(self, name: str, report: Mapping, cursor: str | None) -> None:
        """A sync's outcome: complete (``cursor`` given: in step now) or stopped part-way."""
        values = {"synced_at": now(), "report": json.dumps(dict(report))}
        if cursor is None:
            values["status"] = FAILED
        else:
            values |= {"cursor": cursor, "checked_at": values["synced_at"]}
            values["status"] = PARTIAL if report.get("failed") else OK
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.name == name).values(**values))

    def record_check(self, name: str) -> None:
        """The store was looked at and holds nothing the mirror lacks: it is in step."""
        with self.engine.begin() as conn:
            conn.execute(update(sources).where(sources.c.name == name).values(checked_at=now()))
