"""The index at scale: a synthetic collection of N chunks through the product's own build, write,
load and query code, one JSON object of figures (``make bench-scale N=...``).

What is synthetic is what this benchmark does not time, the text and the encoder
(``evaluation.synthetic_collection``: topics of 250 chunks, a stand-in encoder that puts a query
where its document's chunks are). Real sentence embeddings crowd together differently: the
chunks of a real corpus (SciFact's, 9,180 chunks, encoded once by the product's encoder and
cached outside the repository, see ``evaluation.real_vectors``) replace as many synthetic
vectors, evenly spaced, and the corpus's queries measure recall on their own. Everything else is the product: ``build_index``,
``SearchIndex.save``, ``SearchIndex.load``, ``SearchIndex.search``.

Figures: ``build_s`` (index and write, not generating the collection), ``index_bytes`` on disk,
and from a fresh process that loads and serves the index: ``load_s``, ``rss_mb`` (its resident
memory after serving every query), single-query latency of hybrid search (k=10, snippets
included) and of hybrid search under a filter allowing 1% of the documents (100 different
path prefixes, so the filter cache of 16 seldom helps); ``dense_recall_at_10`` is the dense
index against exact search over the same vectors, 1,000 queries, ``real_vectors_recall_at_10``
the same for the real corpus's queries (1,109 for SciFact), and ``dense_recall_at_10_at_build``
what the build measured on a sample of its own vectors (the manifest's and the gate's figure).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from evaluation import real_vectors
from evaluation.synthetic_collection import (  # noqa: F401 - DIM: the collection's, for callers
    CHUNKS_PER_DOCUMENT,
    DEPARTMENTS,
    DIM,
    SEED,
    StandInEncoder,
    collection,
    queries,
    topic_count,
)

LATENCY_QUERIES = 200
RECALL_QUERIES = 1000


def build(
    n_chunks: int,
    folder: Path,
    approximate_above: int | None = None,
    backend: str = "faiss",
    milvus_uri: str = "",
    real: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict:
    """Build and write the index of a synthetic collection (with ``real`` chunk vectors mixed
    in: (chunks, queries)); the build's figures and the dense index's recall@10 against exact
    search, on the synthetic queries and on the real ones. ``backend`` "milvus": the dense and
    BM25 indexes in collections at ``milvus_uri`` (its bytes counted in ``index_bytes`` when a
    Lite file)."""
    import faiss

    from search.config import IndexConfig
    from search.index import Embeddings, build_index, folder_bytes

    started = time.perf_counter()
    documents, chunks, vectors, encoder = collection(n_chunks, real=real[0] if real else None)
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
    _, truth = faiss.knn(asked, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    recall = _recall(index.dense, asked, truth)
    real_recall = None
    if real is not None:
        _, real_truth = faiss.knn(real[1], vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
        real_recall = _recall(index.dense, real[1], real_truth)
    by_probes = {}
    faiss_index = getattr(index.dense, "index", None)
    if hasattr(faiss_index, "nprobe"):  # the same at other probes, for the record
        configured = faiss_index.nprobe
        for probes in (16, 32, 128):
            faiss_index.nprobe = probes
            by_probes[probes] = _recall(index.dense, asked, truth)
        faiss_index.nprobe = configured
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
        "real_vectors_recall_at_10": real_recall,
        "real_vectors": 0 if real is None else len(real[0]),
        "dense_recall_at_10_at_build": getattr(index.dense, "recall_at_10", None),
        "dense_recall_at_10_by_probes": by_probes,
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
    index = SearchIndex.load(folder, StandInEncoder(topic_count(n_chunks)))
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


def run(n_chunks: int, folder: Path, **options) -> dict:
    """Build in this process (``build``'s ``options``), then load and serve in a fresh one;
    every figure together."""
    figures = build(n_chunks, folder, **options)
    _release_milvus(options.get("backend", "faiss"))
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
    parser.add_argument(
        "--real-dataset",
        type=Path,
        default=real_vectors.DEFAULT_DATASET,
        help="a BEIR corpus whose real vectors are mixed in (default: SciFact beside the repo)",
    )
    parser.add_argument("--no-real", action="store_true", help="synthetic vectors only")
    parser.add_argument("--real-cache", type=Path, help="where the real vectors are cached")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the fresh process
    args = parser.parse_args(argv)
    if args.serve:
        print(json.dumps(serve(args.serve)))
        return 0
    if args.chunks < CHUNKS_PER_DOCUMENT:
        print(f"--chunks must be at least {CHUNKS_PER_DOCUMENT}", file=sys.stderr)
        return 2
    real = None
    if not args.no_real:
        if not (args.real_dataset / "corpus.jsonl").is_file():
            print(
                f"no corpus at {args.real_dataset}; give --real-dataset or --no-real",
                file=sys.stderr,
            )
            return 2
        real = real_vectors.load(args.real_dataset, args.real_cache)
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        folder = args.folder or Path(tmp) / "index"
        uri = args.milvus_uri or str(Path(tmp) / "milvus.db")
        figures = run(
            args.chunks, folder, approximate_above=args.approximate_above,
            backend=args.backend, milvus_uri=uri, real=real,
        )  # fmt: skip
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
