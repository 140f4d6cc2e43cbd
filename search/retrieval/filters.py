"""Metadata filters applied inside retrieval, so every path (and later, access control) uses them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Filters:
    """Which documents a search may return. Empty fields do not restrict.

    ``allow`` is a hook for per-user access control: a predicate on document metadata
    that must hold for every returned document.
    """

    formats: frozenset[str] = frozenset()
    path_prefix: str = ""
    modified_after: str = ""  # ISO-8601 date or datetime, inclusive
    modified_before: str = ""  # ISO-8601 date or datetime, exclusive
    allow: Callable[[dict], bool] | None = None

    @classmethod
    def of(
        cls,
        formats: Iterable[str] = (),
        path_prefix: str = "",
        modified_after: str = "",
        modified_before: str = "",
        allow: Callable[[dict], bool] | None = None,
    ) -> Filters:
        return cls(
            frozenset(formats), path_prefix.lstrip("/"), modified_after, modified_before, allow
        )

    def is_empty(self) -> bool:
        return not (
            self.formats
            or self.path_prefix
            or self.modified_after
            or self.modified_before
            or self.allow
        )

    def matches(self, metadata: dict) -> bool:
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
