"""Who may read each document of an index version: one bitmap per principal over document rows.

The policy (which file or rule grants what) is decided above this layer; an index version only
carries its outcome, ``{doc_id: principals that may read it}``, the hash of the policy it
came from and, opaque here, what the layer above records of that policy's ``source`` (which
file, for which documents folder, and the policy itself), so the version carries the policy
of its own documents wherever it is served. A search restricted to some principals ORs their bitmaps into one boolean mask over
document rows (a few machine words per 64 documents, no Python walk over documents), and the
retrievers apply that mask before ranking, so a user allowed 1% of the corpus still gets k
results. A document missing from ``readers`` is readable by nobody (never fail open); an index
version without an access table lets everyone read everything (versions written before access
control existed keep working).

On disk, in the version folder::

    access/principals.json   {"policy_hash", "documents", "principals": [name, ...], "source"}
    access/readers.npy       uint8 [principals, ceil(documents / 8)]: row i is principal i's
                             bitmap over document rows, little-endian bit order
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from search.access.principals import EVERYONE  # noqa: F401 - re-exported: one definition

PRINCIPALS = "principals.json"
READERS = "readers.npy"


class AccessTable:
    """Per-principal read bitmaps over an index's document rows, and the policy they came from."""

    def __init__(
        self,
        principals: Sequence[str],
        bits: np.ndarray,
        documents: int,
        policy_hash: str,
        source: Mapping | None = None,
    ) -> None:
        if bits.shape != (len(principals), (documents + 7) // 8):
            raise ValueError(
                f"access bitmaps of shape {bits.shape} do not fit {len(principals)} principals "
                f"over {documents} documents"
            )
        self.principals = tuple(principals)
        self.bits = bits
        self.documents = documents
        self.policy_hash = policy_hash
        self.source = dict(source) if source else None  # JSON: {"file", "docs", "policy", ...}
        self._row = {p: i for i, p in enumerate(self.principals)}

    @classmethod
    def build(
        cls,
        readers: Mapping[str, Iterable[str]],
        doc_ids: Sequence[str],
        policy_hash: str,
        source: Mapping | None = None,
    ) -> AccessTable:
        """The table for documents ``doc_ids`` (in index row order) from ``{doc_id: principals}``.

        Entries for documents the index does not hold are ignored; documents without an entry
        get no reader."""
        if not isinstance(policy_hash, str) or not policy_hash:
            raise ValueError("policy_hash must be a non-empty string naming the access policy")
        row_of = {d: i for i, d in enumerate(doc_ids)}
        grants: dict[str, list[int]] = {}
        for doc_id, principals in readers.items():
            row = row_of.get(doc_id)
            if row is None:
                continue
            if isinstance(principals, str):
                raise ValueError(
                    f"readers of {doc_id!r} must be a collection of principals, not the string "
                    f"{principals!r}: write [{principals!r}]"
                )
            for principal in principals:
                if not isinstance(principal, str) or not principal:
                    raise ValueError(f"readers of {doc_id!r}: {principal!r} is not a principal")
                grants.setdefault(principal, []).append(row)
        names = sorted(grants)
        dense = np.zeros((len(names), len(doc_ids)), dtype=bool)
        for i, name in enumerate(names):
            dense[i, grants[name]] = True
        bits = np.packbits(dense, axis=1, bitorder="little")
        return cls(names, bits, len(doc_ids), policy_hash, source)

    def mask(self, principals: Iterable[str]) -> np.ndarray:
        """Boolean mask over document rows: readable by at least one of ``principals``."""
        rows = sorted({self._row[p] for p in principals if p in self._row})
        if not rows:
            return np.zeros(self.documents, dtype=bool)
        packed = np.bitwise_or.reduce(self.bits[rows], axis=0)
        return np.unpackbits(packed, count=self.documents, bitorder="little").astype(bool)

    def readable(self, row: int, principals: Iterable[str]) -> bool:
        """Whether document row ``row`` is readable by at least one of ``principals``."""
        byte, bit = divmod(row, 8)
        return any(
            (int(self.bits[self._row[p], byte]) >> bit) & 1 for p in principals if p in self._row
        )

    def readers_of(self, row: int) -> frozenset[str]:
        """Every principal that may read document row ``row``."""
        byte, bit = divmod(row, 8)
        column = (self.bits[:, byte] >> bit) & 1
        return frozenset(self.principals[i] for i in np.flatnonzero(column))

    def describe(self) -> dict:
        """What a manifest records of the table: the policy's hash, how many principals, and
        the source's plain-text fields (its file and folder; the policy itself stays here)."""
        described = {"policy_hash": self.policy_hash, "principals": len(self.principals)}
        plain = {k: v for k, v in (self.source or {}).items() if isinstance(v, str)}
        return described | plain

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=False)
        info = {
            "policy_hash": self.policy_hash,
            "documents": self.documents,
            "principals": list(self.principals),
            **({"source": self.source} if self.source else {}),
        }
        (folder / PRINCIPALS).write_text(json.dumps(info, ensure_ascii=False))
        np.save(folder / READERS, np.ascontiguousarray(self.bits), allow_pickle=False)

    @classmethod
    def load(cls, folder: Path) -> AccessTable:
        """Read the table (the bitmaps memory-mapped: processes serving it share one copy)."""
        info = json.loads((folder / PRINCIPALS).read_text(encoding="utf-8"))
        bits = np.load(folder / READERS, mmap_mode="r", allow_pickle=False)
        if bits.dtype != np.uint8 or bits.ndim != 2:
            raise ValueError(f"{folder / READERS} holds {bits.dtype} of {bits.ndim} dimensions")
        return cls(
            info["principals"],
            bits,
            int(info["documents"]),
            info["policy_hash"],
            info.get("source"),
        )
