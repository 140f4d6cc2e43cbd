"""Filters applied inside retrieval, before ranking: document metadata and who may read what;
and the metadata columns a saved index answers them from."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np


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


class MetadataColumns:
    """The metadata ``Filters`` test, as columns over document rows: a filter becomes a mask
    from a few binary searches and array operations instead of a walk over every document.

    ``format`` is a code per document (-1: none given); ``path`` and ``modified`` are sorted
    once, with the row of each sorted value, so a path prefix or a date range is one slice of
    the sorted values. Strings compare as UTF-8 bytes, which orders them as ``str`` does, so a
    mask equals what ``Filters.matches`` says document by document (``allow``, a predicate, is
    still asked per document, only for the rows the columns let through)."""

    def __init__(self, arrays: dict[str, np.ndarray], formats: list[str]) -> None:
        self.arrays = arrays
        self.formats = formats

    @classmethod
    def build(cls, metadata: Iterable[dict]) -> MetadataColumns:
        formats: dict[str, int] = {}
        codes, paths, modified = [], [], []
        for meta in metadata:
            value = meta.get("format")
            codes.append(formats.setdefault(value, len(formats)) if isinstance(value, str) else -1)
            paths.append(str(meta.get("path", "")).encode("utf-8"))
            modified.append(str(meta.get("modified", "")).encode("utf-8"))
        arrays = {"format_codes": np.array(codes, dtype=np.int32)}
        for name, values in (("path", paths), ("modified", modified)):
            width = max([1, *map(len, values)])
            column = np.array(values, dtype=f"S{width}")
            order = np.argsort(column, kind="stable")
            arrays[f"{name}_sorted"], arrays[f"{name}_rows"] = column[order], order.astype(np.int32)
        return cls(arrays, list(formats))

    def __len__(self) -> int:
        return len(self.arrays["format_codes"])

    def mask(self, filters: Filters, metadata_at: Callable[[int], dict]) -> np.ndarray:
        """Boolean mask over document rows whose metadata ``filters`` matches."""
        allowed = np.ones(len(self), dtype=bool)
        if filters.formats:
            wanted = [i for i, name in enumerate(self.formats) if name in filters.formats]
            allowed &= np.isin(self.arrays["format_codes"], wanted)
        if filters.path_prefix:
            prefix = filters.path_prefix.encode("utf-8")
            allowed &= self._between("path", prefix, prefix + b"\xff")
        if filters.modified_after or filters.modified_before:
            # m[:len(a)] < a exactly when m < a (and likewise for >=): whole strings compare
            after = filters.modified_after.encode("utf-8")
            before = filters.modified_before.encode("utf-8") or None
            allowed &= self._between("modified", after, before)
        if filters.allow is not None:
            for row in np.flatnonzero(allowed):
                allowed[row] = bool(filters.allow(metadata_at(int(row))))
        return allowed

    def _between(self, name: str, low: bytes, high: bytes | None) -> np.ndarray:
        """Rows whose value is >= ``low`` and < ``high`` (None: no upper bound)."""
        values = self.arrays[f"{name}_sorted"]
        lo = bisect.bisect_left(values, low)
        hi = len(values) if high is None else max(lo, bisect.bisect_left(values, high))
        out = np.zeros(len(self), dtype=bool)
        out[self.arrays[f"{name}_rows"][lo:hi]] = True
        return out

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True)
        (folder / "formats.json").write_text(json.dumps(self.formats, ensure_ascii=False))
        for name, array in self.arrays.items():
            np.save(folder / f"{name}.npy", np.ascontiguousarray(array), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> MetadataColumns:
        names = ("format_codes", "path_sorted", "path_rows", "modified_sorted", "modified_rows")
        arrays = {n: np.load(folder / f"{n}.npy", mmap_mode="r", allow_pickle=False) for n in names}
        return cls(arrays, json.loads((folder / "formats.json").read_text(encoding="utf-8")))
