"""The sweep that chose the dense index's settings at scale: ``bench_scale``'s vectors (synthetic,
with the real corpus's mixed in) through the product's ``DenseIndex.build`` at each setting;
recall@10 against exact search on the synthetic queries and on the real ones, the recall the
build measures on its own chunks, single-query p95 of the dense search alone, build seconds
and bytes (JSON lines).

``python -m evaluation.dense_sweep --chunks 1000000 --lists-of 256,128 --probes 16,64,128``
(see the README's "The index at scale").
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from evaluation import bench_scale, real_vectors


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def sweep(
    n_chunks: int,
    lists_of: list[int],
    train_per_list: list[int],
    probes: list[int],
    real: tuple[np.ndarray, np.ndarray] | None,
):
    """One JSON-able dict per (list size, k-means sample, probes)."""
    import faiss

    from search.retrieval import DenseIndex

    _, _, vectors, encoder = bench_scale.collection(n_chunks, real=real[0] if real else None)
    asked = encoder.encode_queries(bench_scale.queries(1000, n_chunks, bench_scale.SEED + 3))
    _, truth = faiss.knn(asked, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    if real is not None:
        _, real_truth = faiss.knn(real[1], vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
    for size in lists_of:
        for per_list in train_per_list:
            started = time.perf_counter()
            dense = DenseIndex.build(
                vectors, 0, compress=True, vectors_per_list=size, train_per_list=per_list
            )
            build_s = time.perf_counter() - started
            with tempfile.TemporaryDirectory() as tmp:
                dense.save(Path(tmp) / "dense.faiss")
                size_bytes = (Path(tmp) / "dense.faiss").stat().st_size
            for p in probes:
                dense.index.nprobe = min(p, dense.index.nlist)
                row = {
                    "chunks": n_chunks,
                    "lists": int(dense.index.nlist),
                    "train_per_list": per_list,
                    "probes": int(dense.index.nprobe),
                    "recall_at_10": bench_scale._recall(dense, asked, truth),
                    "real_vectors_recall_at_10": None,
                    "recall_at_10_at_build": dense.measure_recall(vectors),
                    "dense_p95_ms": _p95_ms(dense, asked[:200]),
                    "build_s": round(build_s, 1),
                    "bytes": size_bytes,
                }
                if real is not None:
                    row["real_vectors_recall_at_10"] = bench_scale._recall(
                        dense, real[1], real_truth
                    )
                yield row


def _p95_ms(dense, queries: np.ndarray) -> float:
    """p95 of single-query dense searches, milliseconds (one thread, as a served query)."""
    import faiss

    threads = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    times = []
    for q in queries:
        started = time.perf_counter()
        dense.search(q[None], 10)
        times.append((time.perf_counter() - started) * 1000)
    faiss.omp_set_num_threads(threads)
    return round(float(np.percentile(times, 95)), 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=200_000)
    parser.add_argument("--lists-of", type=_ints, default=[128], help="vectors a list: 256,128")
    parser.add_argument("--train-per-list", type=_ints, default=[24], help="k-means sample a list")
    parser.add_argument("--probes", type=_ints, default=[16, 32, 64, 128])
    parser.add_argument("--real-dataset", type=Path, default=real_vectors.DEFAULT_DATASET)
    parser.add_argument("--no-real", action="store_true", help="synthetic vectors only")
    args = parser.parse_args(argv)
    real = None if args.no_real else real_vectors.load(args.real_dataset)
    for row in sweep(args.chunks, args.lists_of, args.train_per_list, args.probes, real):
        print(json.dumps(row), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
