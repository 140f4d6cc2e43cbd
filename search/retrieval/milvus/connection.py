"""One client per Milvus address, collection names, and what the dense and the BM25 collection
share: filters from row masks, batched searches, and the differences of Milvus Lite.

Milvus Lite (a local ``.db`` file: the default under the home; 3.2, pure Python over FAISS)
differs from a Milvus server in these ways, the first three pinned by
``tests/search/index/test_milvus.py``, the rest read in its source and measured:

- its BM25 search distances are the negated scores (a server returns the scores);
- it reads index build parameters (``bm25_k1``, ``M``, ...) only from a JSON ``params`` entry,
  while pymilvus sends them flattened: both are sent, the server reading the flattened ones;
- a collection reopened by another process answers nothing before ``load_collection``;
- the Lite server runs in a thread of the process that opened the file and locks the file:
  one process at a time (the API, a build, Dagster's workers need a Milvus server to share);
- it keeps BM25 statistics (documents, average length, document frequencies) per segment: a
  collection flushed in one segment scores exactly as one BM25 index; inserts above its memory
  budget (128 MB) make several segments, each with its own statistics. Rows not yet flushed are
  scored on statistics of the rows a filter lets through only: every insert is flushed here;
- its analyzers know the ``standard`` and ``jieba`` tokenizers only, and its filters take no
  templates (``row in {rows}``): a listed row costs about 4 us a search, a range term 0.8 ms
  (at 200,000 rows), so long runs of consecutive rows go as ranges, the rest listed;
- a BM25 search walks every row in Python (versions, deletions), a dense search of 4-d
  vectors over 200,000 rows took about 300 ms filtered or not: Lite is for one machine's
  tests and small collections.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pymilvus import MilvusClient

from search.retrieval.milvus import REFERENCE_HEAD

ROW = "row"  # the primary key: the row in the FAISS/bm25s order (chunk row, document row)
INSERT_BATCH = 2_000
SEARCH_BATCH = 64  # queries per search request
# a search sees every row inserted before it (a server's default, Bounded, may lag seconds)
CONSISTENCY = "Strong"
# consecutive rows a filter names as a range rather than one by one: on Milvus Lite a range
# term costs about 0.8 ms a search at 200,000 rows, a listed row about 4 us
RANGE_FROM = 200
QUERY_BATCH = 10_000  # rows per query request (reading vectors back)
_SERVER_SCHEMES = ("http://", "https://", "tcp://", "grpc://", "unix:")

_clients: dict[tuple[str, str], MilvusClient] = {}
_tokens: dict[str, str] = {}
_loaded: set[tuple[str, str]] = set()  # (uri, collection) loaded through the open client
_lock = threading.Lock()


def remember_token(uri: str, token: str) -> None:
    """The token to connect to ``uri`` with (from the deployment's settings); never written to
    a manifest."""
    with _lock:
        _tokens[uri] = token


def is_lite(uri: str) -> bool:
    """A local file: Milvus Lite. Anything with a scheme is a Milvus server."""
    return not uri.startswith(_SERVER_SCHEMES)


def client(uri: str) -> MilvusClient:
    """The process's client for ``uri`` (Milvus Lite runs one server per file and process)."""
    if not uri:
        raise ValueError("the milvus index backend needs a Milvus address (milvus_uri)")
    token = _tokens.get(uri, "")
    with _lock:
        found = _clients.get((uri, token))
        if found is None:
            if is_lite(uri):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
            found = _clients[(uri, token)] = MilvusClient(uri=uri, token=token)
        return found


def close_all() -> None:
    """Close every client this process opened, and stop the Milvus Lite servers it started:
    Lite serves a file from a thread of the process that opened it, holding a lock on it
    until then (no other process opens that file meanwhile)."""
    with _lock:
        for (uri, _), opened in _clients.items():
            opened.close()
            if is_lite(uri):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(uri)
        _clients.clear()
        _loaded.clear()


def new_name(prefix: str, part: str) -> str:
    """A fresh collection name: ``<prefix>_<12 hex>_<part>`` (letters, digits, underscores)."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}_{part}"


@dataclass(frozen=True)
class Collection:
    """A collection at an address, and how many rows it holds."""

    uri: str
    name: str
    rows: int

    @property
    def client(self) -> MilvusClient:
        """The open client, the collection loaded through it (a collection another process
        opened since answers nothing on Lite until loaded again)."""
        found = client(self.uri)
        if (self.uri, self.name) not in _loaded:
            found.load_collection(self.name)
            _loaded.add((self.uri, self.name))
        return found

    def open(self) -> Collection:
        """Check it exists and load it."""
        if not client(self.uri).has_collection(self.name):
            raise LookupError(f"Milvus collection {self.name!r} is missing at {self.uri}")
        _loaded.discard((self.uri, self.name))
        self.client  # noqa: B018 - loads it
        return self

    def insert(self, rows: Iterator[dict]) -> None:
        """Insert in batches, then flush: every row is searchable and, on Lite, in as few
        segments as its memory budget allows (BM25 statistics are per segment there)."""
        batch: list[dict] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= INSERT_BATCH:
                self.client.insert(self.name, batch)
                batch = []
        if batch:
            self.client.insert(self.name, batch)
        self.client.flush(self.name)

    def search(
        self,
        data: Sequence,
        field: str,
        k: int,
        allowed: np.ndarray | None,
        score: Callable[[float], float],
        search_params: dict | None = None,
        positive_only: bool = False,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k (scores, rows) per query, best first (equal scores by row), padded with row -1
        and score 0 (and in place of scores not above 0 with ``positive_only``); ``allowed`` (a boolean mask or row ids) becomes a filter on the row key."""
        scores = np.zeros((len(data), k), dtype=np.float32)
        ids = np.full((len(data), k), -1, dtype=np.int64)
        expr = row_filter(allowed, self.rows)
        if expr is None and allowed is not None:  # nothing allowed
            return scores, ids
        for start in range(0, len(data), SEARCH_BATCH):
            part = list(data[start : start + SEARCH_BATCH])
            asked = [i for i, q in enumerate(part) if _asks(q)]
            if not asked:
                continue
            found = self.client.search(
                self.name,
                data=[part[i] for i in asked],
                anns_field=field,
                limit=k,
                filter=expr or "",
                output_fields=[ROW],
                search_params=search_params or {},
            )
            for i, hits in zip(asked, found, strict=True):
                pairs = sorted((-score(h["distance"]), int(h[ROW])) for h in hits)
                pairs = [(s, r) for s, r in pairs if s < 0 or not positive_only][:k]
                for j, (negative, row) in enumerate(pairs):
                    scores[start + i, j], ids[start + i, j] = -negative, row
        return scores, ids

    def drop(self) -> None:
        """Remove the collection (an index that was never saved as a version)."""
        client(self.uri).drop_collection(self.name)
        _loaded.discard((self.uri, self.name))

    def reference(self, **extra) -> dict:
        return {"uri": self.uri, "collection": self.name, "rows": self.rows, **extra}


def _asks(query) -> bool:
    return bool(query) if isinstance(query, str) else True


def row_filter(allowed: np.ndarray | None, n: int) -> str | None:
    """A filter on the row key for ``allowed`` (a boolean mask over rows, or row ids): long runs
    of consecutive rows as ranges (a folder's documents, a large document's chunks), the rest
    listed; over the excluded rows instead when that costs less. "" when every row is allowed,
    None when none is (and for no ``allowed``)."""
    if allowed is None:
        return None
    allowed = np.asarray(allowed)
    mask = np.zeros(n, dtype=bool)
    if allowed.dtype == bool:
        mask[: len(allowed)] = allowed[:n]
    else:
        mask[allowed.astype(np.int64)] = True
    count = int(mask.sum())
    if count == 0:
        return None
    if count == n:
        return ""
    (inside, cost_in), (outside, cost_out) = _rows_expression(mask), _rows_expression(~mask)
    return inside if cost_in <= cost_out else f"not ({outside})"


def _rows_expression(mask: np.ndarray) -> tuple[str, int]:
    """``mask``'s rows as ``(row >= a and row <= b)`` terms and one ``row in [...]``, and what
    evaluating it costs in listed rows (a range costs ``RANGE_FROM`` of them)."""
    rows = np.flatnonzero(mask)
    breaks = np.flatnonzero(np.diff(rows) != 1) + 1
    starts = rows[np.r_[0, breaks]]
    ends = rows[np.r_[breaks - 1, len(rows) - 1]]
    long = ends - starts >= RANGE_FROM - 1
    pairs = zip(starts[long].tolist(), ends[long].tolist(), strict=True)
    terms = [f"({ROW} >= {a} and {ROW} <= {b})" for a, b in pairs]
    short = zip(starts[~long].tolist(), ends[~long].tolist(), strict=True)
    single = [r for a, b in short for r in range(a, b + 1)]
    if single:
        terms.append(f"{ROW} in [{','.join(map(str, single))}]")
    return " or ".join(terms), RANGE_FROM * int(long.sum()) + len(single)


def index_params(found: MilvusClient, field: str, index_type: str, metric: str, **params):
    """Index parameters sent both flattened (what a Milvus server reads) and as a JSON
    ``params`` entry (all Milvus Lite reads: without it Lite builds with its defaults)."""
    prepared = found.prepare_index_params()
    prepared.add_index(field_name=field, index_type=index_type, metric_type=metric, **params)
    if params:
        prepared[-1]._configs["params"] = dict(params)
    return prepared


def write_reference(path: Path, reference: dict) -> None:
    """The file a version keeps in place of the index: which collection, where."""
    text = json.dumps({"milvus": reference}, sort_keys=True)
    assert text.encode()[:4] == REFERENCE_HEAD
    path.write_text(text)


def read_reference(path: Path) -> dict:
    return json.loads(path.read_text())["milvus"]
