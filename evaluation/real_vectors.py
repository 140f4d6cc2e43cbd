"""Real MiniLM vectors for ``bench_scale``: the chunks of a BEIR corpus (SciFact by default) and its
queries, encoded once by the product's own encoder (chunked as the product chunks, its default
backend) and cached as ``.npy`` files outside the repository (``--cache``, by default under
``$DOCSEARCH_HOME/bench-scale``). Synthetic vectors alone have the neighbourhood structure their
generator gives them; real sentence embeddings crowd into a narrow cone, and an approximate index
that is good on one may not be on the other.

``python -m evaluation.real_vectors --dataset ../shared/datasets/scifact`` encodes and caches them
(minutes on two cores); ``load`` reads them back (or encodes them the first time).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

DEFAULT_DATASET = Path("../shared/datasets/scifact")  # beside the repository, as the README says


def default_cache() -> Path:
    """``bench-scale`` under the product's home (``DOCSEARCH_HOME``); called by the commands."""
    from search.settings import Settings

    return Settings.from_env().home / "bench-scale"


def _key(dataset: Path) -> str:
    """Files differ per corpus, query set and encoder (model and backend)."""
    from search.config import DEFAULT_ENCODER_BACKEND, DEFAULT_MODEL

    hasher = hashlib.sha256(f"{DEFAULT_MODEL}:{DEFAULT_ENCODER_BACKEND}".encode())
    for name in ("corpus.jsonl", "queries.jsonl"):
        hasher.update((dataset / name).read_bytes())
    return hasher.hexdigest()[:12]


def load(
    dataset: Path = DEFAULT_DATASET, cache: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(chunk vectors, query vectors) of ``dataset``, unit length, float32; encoded on first use."""
    cache = Path(cache or default_cache())
    stem = cache / f"{dataset.name}-{_key(dataset)}"
    chunks, queries = stem.with_suffix(".chunks.npy"), stem.with_suffix(".queries.npy")
    if not (chunks.is_file() and queries.is_file()):
        cache.mkdir(parents=True, exist_ok=True)
        found = encode(dataset, cache)
        np.save(chunks, found[0])
        np.save(queries, found[1])
    return np.load(chunks), np.load(queries)


def encode(dataset: Path, export_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The corpus's chunks and its queries through the product's default encoder."""
    from evaluation.beir import load_documents, load_queries
    from search.config import IndexConfig
    from search.encoding import calibration_sample, load_encoder
    from search.index.build import chunk_for_index

    config = IndexConfig()
    documents = load_documents(dataset).documents
    encoder = load_encoder(
        config.model,
        batch_size=config.batch_size,
        backend=config.encoder_backend,
        export_dir=export_dir / "exported",
        calibration=calibration_sample([f"{d.title}\n{d.text}" for d in documents]),
    )
    chunks = chunk_for_index(documents, config, encoder)
    texts = [c.embedding_text(config.title_in_chunks) for c in chunks]
    print(f"real-vectors: {len(documents)} documents, {len(texts)} chunks", file=sys.stderr)
    vectors = encoder.encode(texts)
    asked = encoder.encode_queries(list(load_queries(dataset / "queries.jsonl").values()))
    return _unit(vectors), _unit(asked)


def _unit(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=DEFAULT_DATASET)
    parser.add_argument("--cache", type=Path, help="where the vectors go (default: see module)")
    args = parser.parse_args(argv)
    chunks, queries = load(args.dataset, args.cache)
    print(json.dumps({"chunks": len(chunks), "queries": len(queries), "dim": chunks.shape[1]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
