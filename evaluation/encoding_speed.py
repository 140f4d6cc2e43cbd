"""Encoding speed of the product's backends beside plain sentence-transformers, and their quality.

``measure`` times each backend and plain sentence-transformers (fp32 PyTorch, the same batch
size) on the same passages in one process, alternating between them every two batches so that
whatever else loads the machine hits every contender alike; the ratio is taken per round (a
pass over all passages), then the median over rounds.
``quality`` builds the index of a labeled set with one backend and scores the default method.

    python -m evaluation.encoding_speed --dataset ../shared/datasets/scifact --passages 400 \\
        --backends openvino-int8 onnx-int8 openvino-bf16 [--quality openvino-int8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from evaluation.beir import load_labeled_set
from evaluation.runner import evaluate_index
from search.chunking import chunk_documents
from search.config import DEFAULT_MODEL, IndexConfig, Method
from search.encoding import (
    DEFAULT_BACKEND,
    EmbeddingCache,
    Encoder,
    calibration_sample,
    cpu_threads,
    load_encoder,
    parse_backend,
    resolve_model,
)

PLAIN = "plain sentence-transformers"
DEFAULT_EXPORT_DIR = Path(
    "/tmp/docsearch-exported"
)  # benchmarks only; the product's is DOCSEARCH_HOME


def load_backends(
    backends: Sequence[str],
    export_dir: Path,
    calibration: Sequence[str],
    batch_size: int = 64,
    model: str = DEFAULT_MODEL,
) -> dict[str, Encoder]:
    """The product's encoder for each backend name (exported on first use, then reused)."""
    return {
        str(parse_backend(b)): load_encoder(
            model,
            device="cpu",
            batch_size=batch_size,
            backend=b,
            export_dir=export_dir,
            calibration=calibration_sample(calibration),
        )
        for b in backends
    }


def measure(
    passages: Sequence[str],
    backends: Sequence[str] | dict[str, Encoder] = (str(DEFAULT_BACKEND),),
    batch_size: int = 64,
    repeats: int = 3,
    export_dir: Path | None = None,
    model: str = DEFAULT_MODEL,
) -> dict:
    """Passages/s of each backend and of plain sentence-transformers on ``passages``, timed in
    blocks of two batches that alternate between the contenders (see ``_interleaved_rates``).

    ``backends`` are names (loaded here; a static quantization calibrates on ``passages``) or
    encoders already loaded. The first is the product's default: its figures are the top-level
    keys ``encode_passages_per_s``, ``plain_st_passages_per_s`` and ``encode_speedup``.
    """
    from sentence_transformers import SentenceTransformer

    encoders = (
        backends
        if isinstance(backends, dict)
        else load_backends(backends, export_dir or DEFAULT_EXPORT_DIR, passages, batch_size, model)
    )

    plain = SentenceTransformer(resolve_model(model), device="cpu")
    contenders = {
        PLAIN: lambda texts: plain.encode(
            texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=False
        ),
        **{name: encoder.encode for name, encoder in encoders.items()},
    }
    texts = list(passages)
    cosines = _cosines_to_plain(contenders, texts)  # also the warm-up of every contender
    rates = _interleaved_rates(contenders, texts, repeats, block=2 * batch_size)
    figures = {}
    for name in encoders:
        ratios = [mine / base for mine, base in zip(rates[name], rates[PLAIN], strict=True)]
        figures[name] = {
            "passages_per_s": round(statistics.median(rates[name]), 1),
            "speedup": round(statistics.median(ratios), 2),
            "min_cosine_to_fp32": _rounded(cosines.get(name), np.min, 4),
            "mean_cosine_to_fp32": _rounded(cosines.get(name), np.mean, 5),
            "runs_passages_per_s": [round(r, 1) for r in rates[name]],
        }
    default = next(iter(encoders))
    return {
        "encode_backend": default,
        "encode_passages_per_s": figures[default]["passages_per_s"],
        "plain_st_passages_per_s": round(statistics.median(rates[PLAIN]), 1),
        "encode_speedup": figures[default]["speedup"],
        "plain_st_runs_passages_per_s": [round(r, 1) for r in rates[PLAIN]],
        "backends": figures,
        "passages": len(texts),
        "mean_tokens": round(_mean_tokens(plain.tokenizer, texts, plain.max_seq_length), 1),
        "batch_size": batch_size,
        "repeats": repeats,
        "threads": cpu_threads(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def _cosines_to_plain(contenders: dict, texts: list[str]) -> dict[str, np.ndarray]:
    """Per contender, the cosine of each of its vectors to plain fp32's (another model, a
    test's, has nothing to match and is left out)."""
    reference = contenders[PLAIN](texts)
    cosines = {}
    for name, encode in contenders.items():
        if name == PLAIN:
            continue
        vectors = encode(texts)
        if vectors.shape == reference.shape:
            cosines[name] = np.sum(vectors * reference, axis=1)
    return cosines


def _rounded(values, summary, digits: int) -> float | None:
    return None if values is None else round(float(summary(values)), digits)


def _interleaved_rates(
    contenders: dict, texts: list[str], repeats: int, block: int
) -> dict[str, list[float]]:
    """Passages/s of each contender per round. Within a round every contender encodes the same
    ``block`` of passages before the next block starts, in an order that rotates from block to
    block: load from other processes that comes and goes within seconds then falls on every
    contender alike, and the per-round ratios compare like with like."""
    names = list(contenders)
    rates: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(repeats):
        seconds = dict.fromkeys(names, 0.0)
        for turn, start in enumerate(range(0, len(texts), block)):
            part = texts[start : start + block]
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                started = time.perf_counter()
                contenders[name](part)
                seconds[name] += time.perf_counter() - started
        for name in names:
            rates[name].append(len(texts) / seconds[name])
    return rates


def _mean_tokens(tokenizer, texts: list[str], max_length: int) -> float:
    ids = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    return float(np.mean([len(i) for i in ids])) if ids else 0.0


def corpus_passages(dataset: str | Path, split: str, limit: int | None = None) -> list[str]:
    """The texts the product embeds for a labeled set (chunks with their titles), in order."""
    labeled = load_labeled_set(dataset, split)
    tokenizer = load_encoder(DEFAULT_MODEL, device="cpu")  # the chunker needs only its tokenizer
    documents = labeled.documents
    chunks = chunk_documents(
        documents if limit is None else documents[: max(limit, 1)],
        tokenizer,
        IndexConfig().chunk_tokens,
        IndexConfig().chunk_overlap,
    )
    texts = [c.embedding_text(IndexConfig().title_in_chunks) for c in chunks]
    return texts if limit is None else texts[:limit]


def quality(
    dataset: str | Path,
    split: str,
    encoder: Encoder,
    scratch: Path,
    method: Method = Method.HYBRID,
) -> dict:
    """The default method's scores on ``dataset`` with ``encoder``, the index built from
    scratch (an embedding cache under ``scratch`` keeps a rerun cheap)."""
    from search.index import SearchIndex

    labeled = load_labeled_set(dataset, split)
    config = IndexConfig(encoder_backend=str(getattr(encoder, "backend", "torch")))
    cache = EmbeddingCache(Path(scratch) / "embeddings.sqlite")
    started = time.perf_counter()
    index = SearchIndex.build(labeled.documents, config, encoder, cache)
    seconds = time.perf_counter() - started
    scores = evaluate_index(index, labeled, method).mean
    cache.close()
    return {
        "backend": config.encoder_backend,
        "method": method.value,
        "ndcg_at_10": round(scores["ndcg_at_10"], 4),
        "recall_at_100": round(scores["recall_at_100"], 4),
        "chunks": len(index.chunks),
        "chunks_encoded": index.build_stats.chunks_embedded,
        "build_seconds": round(seconds, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True, type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument("--passages", type=int, default=400)
    parser.add_argument("--backends", nargs="+", default=[str(DEFAULT_BACKEND)])
    parser.add_argument("--batch-size", type=int, default=IndexConfig().batch_size)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--export-dir", type=Path, default=DEFAULT_EXPORT_DIR)
    parser.add_argument("--quality", nargs="*", default=[], help="backends to score on --split")
    parser.add_argument("--scratch", type=Path, default=Path("/tmp/docsearch-encoding-quality"))
    args = parser.parse_args(argv)
    if not args.dataset.is_dir():
        sys.exit(f"error: no dataset at {args.dataset}; pass --dataset PATH (BEIR layout)")
    corpus = corpus_passages(args.dataset, args.split)  # calibration: the corpus's own passages
    encoders = load_backends(
        list(dict.fromkeys([*args.backends, *args.quality])),
        args.export_dir,
        corpus,
        args.batch_size,
    )
    timed = {str(parse_backend(b)): encoders[str(parse_backend(b))] for b in args.backends}
    out = measure(corpus[: args.passages], timed, args.batch_size, args.repeats)
    out["quality"] = [
        quality(args.dataset, args.split, encoders[str(parse_backend(b))], args.scratch / b)
        for b in args.quality
    ]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
