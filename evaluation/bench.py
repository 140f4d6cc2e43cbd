"""``make bench``: SciFact quality per method, encode throughput and query latency, and every
labeled set's TUNE and REPORT parts per method beside the anchors of the same run, as JSON."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

from evaluation.beir import load_labeled_set
from evaluation.bench_quality import quality
from evaluation.datasets import index_for_labeled_set
from evaluation.latency import filtered_query_latency, query_latency
from evaluation.runner import evaluate_index
from search.config import Method
from search.progress import ProgressPrinter
from search.settings import Settings


def machine() -> dict:
    import torch

    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def run_bench(dataset: Path, split: str, anchors: Path | None, latency_queries: int) -> dict:
    settings = Settings.from_env()
    config = settings.index_config()
    labeled = load_labeled_set(dataset, split, with_documents=False)
    started = time.perf_counter()
    built = index_for_labeled_set(dataset, settings, config, progress=ProgressPrinter())
    build_seconds = time.perf_counter() - started
    index = built.index
    out: dict = {
        "dataset": labeled.name,
        "split": split,
        "n_queries": len(labeled.queries),
        "documents": len(index.documents),
        "chunks": len(index.chunks),
        "index_reused": built.reused,
        "index_seconds": round(build_seconds, 1),
        "machine": machine(),
        "methods": _methods(index, labeled),
    }
    out["default_method"] = f"{Method.HYBRID.value} ({config.fusion.value})"
    out["encoder_backend"] = index.config.encoder_backend
    out["ndcg_at_10"] = out["methods"][Method.HYBRID.value]["ndcg_at_10"]
    out["recall_at_100"] = out["methods"][Method.HYBRID.value]["recall_at_100"]
    out.update(_fp32_quality(dataset, settings, config, labeled))
    out.update(_encode_speed(index, config))
    # one query at a time, as the app does
    latency = query_latency(index, labeled.queries.values(), k=10, limit=latency_queries)
    latency |= filtered_query_latency(index, labeled.queries.values(), k=10, limit=latency_queries)
    out.update({key: round(ms, 1) for key, ms in latency.items()})
    out["latency_queries"] = min(latency_queries, len(labeled.queries))
    if anchors and anchors.is_file():
        out["anchor_baselines"] = _anchors(anchors, dataset)
    out["labeled_sets"] = quality(labeled_sets(dataset, settings), settings)
    return out


def labeled_sets(dataset: Path, settings: Settings) -> dict[str, Path]:
    """Every labeled set measured part by part: ``dataset`` (SciFact), the sample and its
    independent questions when present, and the public collections of data/collections."""
    from evaluation.collections import COLLECTIONS, beir_collection

    found = {Path(dataset).resolve().name: Path(dataset), "sample": settings.sample_set}
    independent = settings.sample_set / "independent"
    if (independent / "queries.jsonl").is_file():
        found["sample-independent"] = independent
    municipality = settings.sample_set.parent / "municipality"
    if (municipality / "queries.jsonl").is_file():
        found["municipality"] = municipality
    for name in COLLECTIONS:
        found[name] = beir_collection(name, settings)
    return found


def _methods(index, labeled) -> dict:
    return {
        method.value: {
            m: round(v, 4) for m, v in evaluate_index(index, labeled, method).mean.items()
        }
        for method in Method
    }


def _fp32_quality(dataset: Path, settings: Settings, config, labeled) -> dict:
    """The default method with plain fp32 PyTorch vectors, on the same data: what the product's
    faster encoder must stay within 0.005 of (nDCG@10)."""
    if config.encoder_backend == "torch":
        return {}
    fp32 = config.replace(encoder_backend="torch")
    index = index_for_labeled_set(dataset, settings, fp32, progress=ProgressPrinter()).index
    mean = evaluate_index(index, labeled, Method.HYBRID).mean
    return {
        "ndcg_at_10_fp32": round(mean["ndcg_at_10"], 4),
        "recall_at_100_fp32": round(mean["recall_at_100"], 4),
    }


def _encode_speed(index, config, passages: int = 400) -> dict:
    """Passages/s of the product's encoder and of plain sentence-transformers (fp32 PyTorch,
    same batch size), timed alternately in one run on the same passages, and their ratio."""
    from evaluation.encoding_speed import measure

    texts = [c.embedding_text(config.title_in_chunks) for c in index.chunks[:passages]]
    speed = measure(texts, {index.config.encoder_backend: index.encoder}, config.batch_size)
    keys = ("encode_passages_per_s", "plain_st_passages_per_s", "encode_speedup")
    return {**{k: speed[k] for k in keys}, "encode_passages": speed["passages"]}


def _anchors(anchors: Path, dataset: Path) -> list[dict]:
    proc = subprocess.run(
        [sys.executable, str(anchors), str(dataset)], capture_output=True, text=True, check=False
    )
    return [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--anchors", type=Path, help="also run ../shared/tools/anchor_baselines.py side by side"
    )
    parser.add_argument("--latency-queries", type=int, default=200)
    args = parser.parse_args()
    if not args.dataset.is_dir():
        sys.exit(
            f"error: no dataset at {args.dataset}; pass --dataset or SCIFACT=... to make bench"
        )
    print(
        json.dumps(
            run_bench(args.dataset, args.split, args.anchors, args.latency_queries), indent=2
        )
    )


if __name__ == "__main__":
    main()
