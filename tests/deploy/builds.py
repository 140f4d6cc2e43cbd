"""Index versions built and registered the way a builder does, for the deployment tests."""

from __future__ import annotations

import shutil
from pathlib import Path

from evaluation.metrics import Evaluation
from lifecycle.registry import Registry
from search.config import IndexConfig
from search.index import CHUNKS, IndexStore, SearchIndex, read_manifest
from search.settings import Settings

BEIR_TINY = Path(__file__).resolve().parents[1] / "fixtures" / "beir_tiny"


def tiny_documents():
    from search.ingest import load_beir_corpus

    return load_beir_corpus(BEIR_TINY / "corpus.jsonl")


def build_version(settings: Settings, documents=None, dense_weight: float | None = None) -> Path:
    """A new (not current) index version over beir_tiny in the settings' home."""
    from search.encoding import HashingEncoder

    config = IndexConfig(model="hashing-128")
    if dense_weight is not None:  # a different config, so a different version
        config = config.replace(dense_weight=dense_weight)
    store = IndexStore(settings.index_root())
    index = SearchIndex.build(documents or tiny_documents(), config, HashingEncoder(dim=128))
    return store.path(store.write(index, activate=False))


def register(settings: Settings, path: Path, ndcg: float, tags: dict | None = None) -> str:
    """Log the version as a run with a given sample nDCG@10, register it; its version number."""
    registry = Registry.from_settings(settings)
    evaluation = Evaluation(
        mean={"ndcg_at_10": ndcg, "recall_at_100": 1.0, "mrr_at_10": ndcg},
        per_query={"q1": {"ndcg_at_10": ndcg, "recall_at_100": 1.0, "mrr_at_10": ndcg}},
    )
    run_id = registry.log_build(path, read_manifest(path), {"sample": evaluation}, {}, tags or {})
    return str(registry.register(run_id, path).version)


def damaged_copy(path: Path, where: Path) -> Path:
    """The same version folder with one chunk's text changed after the manifest was written."""
    copy = where / path.name
    shutil.copytree(path, copy)
    chunks = copy / CHUNKS
    chunks.write_text(chunks.read_text().replace("WireGuard", "WireGuarb"))
    return copy
