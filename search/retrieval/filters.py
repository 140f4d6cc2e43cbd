"""Filters applied inside retrieval, before ranking: document metadata and who may read what."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return. Empty fields do not restrict.

    ``principals`` restricts to documents readable by at least one of them ("everyone",
    "user:alice", "group:hr"; matched as given, so a caller includes "everyone" for the
    documents everybody may read). None does not restrict; an empty set allows nothing. The
    index enforces it from its per-principal bitmaps (``SearchIndex.with_access``), so it is not
    part of ``matches``, which tests metadata alone. ``allow`` is a predicate on a document's
    metadata; unlike the other fields it is evaluated document by document.
    """

    formats: frozenset[str] = frozenset()
    path_prefix: str = ""
    modified_after: str = ""  # ISO-8601 date or datetime, inclusive
    modified_before: str = ""  # ISO-8601 date or datetime, exclusive
    allow: Callable[[dict], bool] | None = None
    principals: frozenset[str] | None = None

    @classmethod
    def of(
        cls,
        formats: Iterable[str] = (),
        path_prefix: str = "",
        modified_after: str = "",
        modified_before: str = "",
        allow: Callable[[dict], bool] | None = None,
        principals: Iterable[str] | None = None,
    ) -> Filters:
        return cls(
            frozenset(formats),
            path_prefix.lstrip("/"),
            modified_after,
            modified_before,
            allow,
            None if principals is None else frozenset(principals),
        )

    def is_empty(self) -> bool:
        return self.principals is None and not self.restricts_metadata()

    def restricts_metadata(self) -> bool:
        """Whether any field other than ``principals`` restricts."""
        return bool(
            self.formats
            or self.path_prefix
            or self.modified_after
            or self.modified_before
            or self.allow
        )

    def matches(self, metadata: dict) -> bool:
        """Whether a document's metadata passes (``principals`` is the index's to check)."""
        if self.formats and metadata.get("format") not in self.formats:
            return False
        if self.path_prefix and not str(metadata.get("path", "")).startswith(self.path_prefix):
            return False
        modified = str(metadata.get("modified", ""))
        if self.modified_after and modified[: len(self.modified_after)] < self.modified_after:
            return False
        if self.modified_before and modified[: len(self.modified_before)] >= self.modified_before:
            return False
        return self.allow is None or bool(self.allow(metadata))
