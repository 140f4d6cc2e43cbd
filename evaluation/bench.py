"""``make bench``: SciFact quality per method, encode throughput and query latency, as JSON."""

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
from evaluation.datasets import index_for_labeled_set
from evaluation.latency import query_latency
from evaluation.runner import evaluate_index
from search.config import IndexConfig, Method
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
    config = IndexConfig(model=settings.model)
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
        "methods": {},
    }
    for method in Method:
        ev = evaluate_index(index, labeled, method)
        out["methods"][method.value] = {m: round(v, 4) for m, v in ev.mean.items()}
    out["default_method"] = f"{Method.HYBRID.value} ({config.fusion.value})"

    # encode throughput on fresh text (bypasses the cache): first 512 chunks
    sample = [c.embedding_text(config.title_in_chunks) for c in index.chunks[:512]]
    t0 = time.perf_counter()
    index.encoder.encode(sample)
    out["encode_passages_per_s"] = round(len(sample) / (time.perf_counter() - t0), 1)

    # one query at a time, as the app does
    latency = query_latency(index, labeled.queries.values(), k=10, limit=latency_queries)
    out.update({key: round(ms, 1) for key, ms in latency.items()})
    out["latency_queries"] = min(latency_queries, len(labeled.queries))
    if anchors and anchors.is_file():
        proc = subprocess.run(
            [sys.executable, str(anchors), str(dataset)],
            capture_output=True,
            text=True,
            check=False,
        )
        out["anchor_baselines"] = [
            json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")
        ]
    return out


def main() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the packaged encoder; never the hub
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
