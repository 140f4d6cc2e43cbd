"""The index at scale: a synthetic collection of N chunks through the product's own build, write,
load and query code, one JSON object of figures (``make bench-scale N=...``).

What is synthetic is what this benchmark does not time: the text and the encoder. Documents of
``CHUNKS_PER_DOCUMENT`` chunks each belong to one of N / 250 topics; a chunk's text mixes its
topic's words with common words (Zipf-distributed), and its vector, 384-d like
all-MiniLM-L6-v2's, is its topic's centre plus its document's own direction plus a draw from a
shared 32-dimensional subspace plus a little isotropic noise, normalised (sentence embeddings
have a low intrinsic dimension). A query names a document (its title word and two of its topic's
words) and the stand-in encoder puts it where that document's chunks are, so BM25 and the dense
index agree on what it is about; past its document's own chunks, a query's exact top 10 are
near-ties among its topic's 250 chunks, a hard case for an approximate index.
Everything else is the product: ``build_index``,
``SearchIndex.save``, ``SearchIndex.load``, ``SearchIndex.search``.

Figures: ``build_s`` (index and write, not generating the collection), ``index_bytes`` on disk,
and from a fresh process that loads and serves the index: ``load_s``, ``rss_mb`` (its resident
memory after serving every query), single-query latency of hybrid search (k=10, snippets
included) and of hybrid search under a filter allowing 1% of the documents (100 different
path prefixes, so the filter cache of 16 seldom helps); ``dense_recall_at_10`` is the dense
index against exact search over the same vectors, 1,000 queries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

DIM = 384
CHUNKS_PER_DOCUMENT = 4
CHUNKS_PER_TOPIC = 250
TOPIC_WORDS = 8  # words of its own each topic has
COMMON_WORDS = 5000
WORDS_PER_CHUNK = 24
SUBSPACE = 32
TOPIC_SCALE = 0.6  # per-dimension standard deviations of the parts of a vector
DOCUMENT_SCALE = 0.5
NOISE_SCALE = 0.5
DEPARTMENTS = 100  # path prefixes, each holding 1% of the documents
LATENCY_QUERIES = 200
RECALL_QUERIES = 1000
SEED = 20261127


class StandInEncoder:
    """Vectors from topics and documents, not from a model (see the module's docstring): a query
    naming a document ("d<doc>") and its topic's words ("t<topic>x<j>") lands near that
    document's chunks. Fast, deterministic, and the same in every process."""

    backend = "hashing"  # no model, no runtime

    def __init__(self, topics: int, dim: int = DIM, seed: int = SEED) -> None:
        self.model_id = f"stand-in-{dim}"
        self.dim = dim
        self.seed = seed
        identity = f"stand-in:{topics}:{dim}:{seed}".encode()
        self.fingerprint = hashlib.sha256(identity).hexdigest()[:16]
        rng = np.random.default_rng(seed)
        self.centres = rng.standard_normal((topics, dim)).astype(np.float32) * TOPIC_SCALE
        self.basis = rng.standard_normal((SUBSPACE, dim)).astype(np.float32)
        self.basis *= NOISE_SCALE / np.sqrt(SUBSPACE)

    def offsets(self, docs: np.ndarray) -> np.ndarray:
        """Each document's own direction (drawn from its number: the same in every process)."""
        out = np.empty((len(docs), self.dim), dtype=np.float32)
        for i, doc in enumerate(docs.tolist()):
            out[i] = np.random.default_rng([self.seed, doc]).standard_normal(self.dim)
        return out * DOCUMENT_SCALE

    def vectors(
        self, topics: np.ndarray, offsets: np.ndarray, rng: np.random.Generator
    ) -> np.ndarray:
        """Unit vectors: topic centre + document direction + noise in a shared subspace."""
        out = self.centres[topics] + offsets
        out += rng.standard_normal((len(topics), SUBSPACE)).astype(np.float32) @ self.basis
        out += rng.standard_normal((len(topics), self.dim)).astype(np.float32) * 0.03
        return out / np.linalg.norm(out, axis=1, keepdims=True)

    def encode(self, texts, progress=None) -> np.ndarray:
        return self.encode_queries(texts)

    def encode_queries(self, texts) -> np.ndarray:
        named = [_named(t) for t in texts]
        topics = np.array([t % len(self.centres) for t, _ in named], dtype=np.int64)
        offsets = self.offsets(np.array([d for _, d in named], dtype=np.int64))
        seed = int.from_bytes(hashlib.blake2b("\n".join(texts).encode()).digest()[:8], "little")
        return self.vectors(topics, offsets, np.random.default_rng(seed))

    def token_spans(self, text: str) -> list[tuple[int, int]]:
        return []


def _named(text: str) -> tuple[int, int]:
    """(topic, document) a query names: its first "t<topic>x<j>" and "d<doc>" words."""
    topic = doc = 0
    for word in reversed(text.split()):
        if word.startswith("t") and "x" in word:
            topic = int(word[1 : word.index("x")])
        elif word.startswith("d") and word[1:].isdigit():
            doc = int(word[1:])
    return topic, doc


def collection(n_chunks: int, seed: int = SEED):
    """(documents, chunks, vectors, encoder) of a synthetic collection of ``n_chunks`` chunks."""
    from search.chunking import Chunk
    from search.ingest import Document

    n_docs = max(1, n_chunks // CHUNKS_PER_DOCUMENT)
    encoder = StandInEncoder(_topics(n_chunks), seed=seed)
    rng = np.random.default_rng(seed + 1)
    doc_of_chunk = np.minimum(np.arange(n_chunks) // CHUNKS_PER_DOCUMENT, n_docs - 1)
    doc_topic = _doc_topics(n_chunks, seed)
    texts = _texts(doc_topic[doc_of_chunk], rng)
    vectors = np.empty((n_chunks, DIM), dtype=np.float32)
    for i in range(0, n_chunks, 100_000):
        docs = doc_of_chunk[i : i + 100_000]
        first = int(docs[0])
        offsets = encoder.offsets(np.arange(first, int(docs[-1]) + 1))[docs - first]
        vectors[i : i + len(docs)] = encoder.vectors(doc_topic[docs], offsets, rng)
    documents, chunks = [], []
    bounds = np.searchsorted(doc_of_chunk, np.arange(n_docs + 1))
    for d in range(n_docs):
        doc_id, title = f"dept-{d % DEPARTMENTS:02d}/doc-{d:07d}.txt", f"Document d{d}"
        parts = texts[bounds[d] : bounds[d + 1]]
        start = 0
        for position, text in enumerate(parts):
            end = start + len(text)
            chunks.append(Chunk(f"{doc_id}#{position}", doc_id, title, text, position, start, end))
            start = end + 1
        metadata = {
            "path": doc_id,
            "format": "txt",
            "modified": f"2026-{1 + d % 12:02d}-{1 + d % 28:02d}T00:00:00+00:00",
            "content_hash": f"{d:016x}",
        }
        documents.append(Document(doc_id, title, " ".join(parts), metadata))
    return documents, chunks, vectors, encoder


def _topics(n_chunks: int) -> int:
    return max(1, n_chunks // CHUNKS_PER_TOPIC)


def _doc_topics(n_chunks: int, seed: int) -> np.ndarray:
    """The topic of every document (the same wherever it is drawn)."""
    n_docs = max(1, n_chunks // CHUNKS_PER_DOCUMENT)
    return np.random.default_rng(seed + 2).integers(0, _topics(n_chunks), n_docs)


def _texts(chunk_topics: np.ndarray, rng: np.random.Generator) -> list[str]:
    """A text per chunk: a third its topic's words, the rest common words (Zipf)."""
    n = len(chunk_topics)
    own = WORDS_PER_CHUNK // 3
    topical = rng.integers(0, TOPIC_WORDS, (n, own))
    common = np.minimum(rng.zipf(1.3, (n, WORDS_PER_CHUNK - own)), COMMON_WORDS) - 1
    common_words = [f"w{i}" for i in range(COMMON_WORDS)]
    return [
        " ".join([f"t{topic}x{j}" for j in topical[i]] + [common_words[c] for c in common[i]])
        for i, topic in enumerate(chunk_topics.tolist())
    ]


def queries(n: int, n_chunks: int, seed: int) -> list[str]:
    """``n`` query texts, each naming a random document: two of its topic's words, its title
    word and one common word."""
    rng = np.random.default_rng(seed)
    doc_topic = _doc_topics(n_chunks, SEED)
    docs = rng.integers(0, len(doc_topic), n)
    words = rng.integers(0, TOPIC_WORDS, (2, n))
    common = rng.integers(0, 50, n)
    return [
        f"t{doc_topic[d]}x{a} t{doc_topic[d]}x{b} d{d} w{w}"
        for d, a, b, w in zip(docs.tolist(), *words.tolist(), common.tolist(), strict=True)
    ]


def build(
    n_chunks: int,
    folder: Path,
    approximate_above: int | None = None,
    backend: str = "faiss",
    milvus_uri: str = "",
) -> dict:
    """Build and write the index of a synthetic collection; the build's figures and the dense
    index's recall@10 against exact search. ``backend`` "milvus": the dense and BM25 indexes
    in collections at ``milvus_uri`` (its bytes counted in ``index_bytes`` when a Lite file)."""
    import faiss

    from search.config import IndexConfig
    from search.index import Embeddings, build_index, folder_bytes

    started = time.perf_counter()
    documents, chunks, vectors, encoder = collection(n_chunks)
    _log(f"collection of {n_chunks} chunks generated", started)
    config = IndexConfig(model=encoder.model_id)
    if backend == "milvus":
        config = config.replace(index_backend="milvus", milvus_uri=milvus_uri)
    if approximate_above is not None:
        config = config.replace(approximate_above=approximate_above)
    started = time.perf_counter()
    index = build_index(
        documents, chunks, Embeddings(vectors, 0, len(chunks), 0.0), config, encoder
    )
    index_s = _log("index built", started)
    index.save(folder)
    build_s = _log("index written", started)
    texts = queries(RECALL_QUERIES, n_chunks, SEED + 3)
    asked = encoder.encode_queries(texts)
    exact = faiss.IndexFlatIP(DIM)
    exact.add(vectors)
    _, truth = exact.search(asked, 10)
    recall = _recall(index.dense, asked, truth)
    by_ef = {}
    if hasattr(getattr(index.dense, "index", None), "hnsw"):  # other efSearch, for the record
        configured = index.dense.index.hnsw.efSearch
        for ef in (64, 256):
            index.dense.index.hnsw.efSearch = ef
            by_ef[ef] = _recall(index.dense, asked, truth)
        index.dense.index.hnsw.efSearch = configured
    return {
        "n_chunks": len(chunks),
        "n_documents": len(documents),
        "dense_index": index.dense.describe(),
        "build_s": round(build_s, 2),
        "write_s": round(build_s - index_s, 2),  # of build_s
        "index_backend": backend,
        "index_bytes": folder_bytes(folder)
        + _lite_bytes(milvus_uri if backend == "milvus" else ""),
        "dense_recall_at_10": recall,
        "dense_recall_at_10_by_ef_search": by_ef,
    }


def _lite_bytes(uri: str) -> int:
    """Bytes of a Milvus Lite file (a folder) where the collections are; 0 for a server."""
    path = Path(uri) if uri and "://" not in uri else None
    if path is None or not path.exists():
        return 0
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _release_milvus(backend: str) -> None:
    """Milvus Lite serves its file from this process: let the serving process open it."""
    if backend == "milvus":
        from search.retrieval.milvus.connection import close_all

        close_all()


def _recall(dense, asked: np.ndarray, truth: np.ndarray) -> float:
    """Recall@10 of ``dense`` against the exact top 10 ``truth`` of each query."""
    _, found = dense.search(asked, 10)
    return round(
        float(np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])), 4
    )


def _log(what: str, since: float) -> float:
    """Say on stderr how long since ``since``; that many seconds."""
    seconds = time.perf_counter() - since
    print(f"bench-scale: {what} ({seconds:.1f} s)", file=sys.stderr, flush=True)
    return seconds


def serve(folder: Path) -> dict:
    """Load the index in this (fresh) process and time single queries; its resident memory."""
    from search.index import SearchIndex, read_manifest
    from search.retrieval import Filters

    n_chunks = read_manifest(folder)["counts"]["chunks"]
    started = time.perf_counter()
    index = SearchIndex.load(folder, StandInEncoder(_topics(n_chunks)))
    load_s = time.perf_counter() - started
    texts = queries(LATENCY_QUERIES, n_chunks, SEED + 4)
    for text in texts[:5]:  # warm-up: first-touch costs are load's, not a query's
        index.search(text, k=10, method="hybrid")
    hybrid, hybrid_cpu = _latencies(lambda t, _: index.search(t, k=10, method="hybrid"), texts)
    found = []

    def filtered(text: str, i: int) -> None:
        only = Filters.of(path_prefix=f"dept-{i % DEPARTMENTS:02d}/")
        results = index.search(text, k=10, method="hybrid", filters=only)
        found.append(all(r.doc_id.startswith(only.path_prefix) for r in results))

    filtered_ms, filtered_cpu = _latencies(filtered, texts)
    assert all(found), "a filtered search returned a document outside its filter"
    return {
        "load_s": round(load_s, 2),
        "rss_mb": round(_rss_mb(), 1),
        "hybrid_p50_ms": round(float(np.percentile(hybrid, 50)), 2),
        "hybrid_p95_ms": round(float(np.percentile(hybrid, 95)), 2),
        "filtered_p95_ms": round(float(np.percentile(filtered_ms, 95)), 2),
        "cpu_ms": {  # the same searches in CPU time
            "hybrid_p50": round(float(np.percentile(hybrid_cpu, 50)), 2),
            "hybrid_p95": round(float(np.percentile(hybrid_cpu, 95)), 2),
            "filtered_p95": round(float(np.percentile(filtered_cpu, 95)), 2),
        },
    }


def _latencies(search, texts: list[str]) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each search (CPU time does not count the waits for a
    core that other processes on a busy machine cause)."""
    wall, cpu = [], []
    for i, text in enumerate(texts):
        started, started_cpu = time.perf_counter(), time.process_time()
        search(text, i)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def _rss_mb() -> float:
    """This process's resident set size (VmRSS, Linux), in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(
    n_chunks: int,
    folder: Path,
    approximate_above: int | None = None,
    backend: str = "faiss",
    milvus_uri: str = "",
) -> dict:
    """Build in this process, then load and serve in a fresh one; every figure together."""
    figures = build(n_chunks, folder, approximate_above, backend, milvus_uri)
    _release_milvus(backend)
    served = subprocess.run(
        [sys.executable, "-m", "evaluation.bench_scale", "--serve", str(folder)],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    figures.update(json.loads(served.stdout.strip().splitlines()[-1]))
    figures["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=1_000_000, help="chunks in the collection")
    parser.add_argument("--folder", type=Path, help="where to write the index (default: a temp)")
    parser.add_argument("--approximate-above", type=int, help="override the config's threshold")
    parser.add_argument("--backend", choices=["faiss", "milvus"], default="faiss")
    parser.add_argument(
        "--milvus-uri", default="", help="Milvus server or Lite file (default: a temp Lite file)"
    )
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the fresh process
    args = parser.parse_args(argv)
    if args.serve:
        print(json.dumps(serve(args.serve)))
        return 0
    if args.chunks < CHUNKS_PER_DOCUMENT:
        print(f"--chunks must be at least {CHUNKS_PER_DOCUMENT}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = args.folder or Path(tmp) / "index"
        uri = args.milvus_uri or str(Path(tmp) / "milvus.db")
        figures = run(args.chunks, folder, args.approximate_above, args.backend, uri)
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
