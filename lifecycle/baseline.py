"""The data-and-model check CI runs (``make gate``): build the sample corpus's index with the
product's defaults, evaluate it on the sample's labeled queries, and fail when it falls below
the gate's floor or regresses against the recorded baseline (``data/gate_baseline.json``,
committed). A deliberate change of quality records a new baseline with ``--update-baseline``,
reviewed like any other change."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from evaluation import evaluate_version, flat_metrics
from lifecycle.gate import GateDecision, GatePolicy, decide, quality_metrics
from search.config import IndexConfig
from search.encoding import EmbeddingCache, load_encoder
from search.index import SearchIndex, corpus_fingerprint
from search.index.parts import drop_unsaved
from search.ingest import load_folder
from search.settings import PROJECT_ROOT, Settings

BASELINE = PROJECT_ROOT / "data" / "gate_baseline.json"


@dataclass(frozen=True)
class GateRun:
    """The sample build's metrics, the baseline they were held against, and the verdict."""

    metrics: dict[str, float]
    baseline: dict[str, float] | None
    decision: GateDecision
    recorded: bool  # the baseline file was (re)written with these metrics

    @property
    def passed(self) -> bool:
        return self.decision.promote


def run_gate(
    settings: Settings,
    policy: GatePolicy,
    baseline: Path = BASELINE,
    update: bool = False,
    log: Callable[[str], None] = lambda _line: None,
) -> GateRun:
    """Build, evaluate, judge. ``update`` records the metrics as the new baseline when they
    reach the floor (a baseline below the floor would let anything pass)."""
    report = load_folder(settings.docs)
    config = IndexConfig(model=settings.model, **settings.index_backend_fields())
    encoder = load_encoder(config.model, batch_size=config.batch_size)
    cache = EmbeddingCache(settings.cache_path)
    try:
        index = SearchIndex.build(report.documents, config, encoder, cache)
    finally:
        cache.close()
    log(f"built the index of {settings.docs}: {len(report.documents)} documents")
    try:
        evaluated = evaluate_version(index, settings.labeled_sets(), settings, config, log=log)
    finally:
        drop_unsaved(index.dense, index.sparse)  # the gate's build is never a version
    metrics = quality_metrics(flat_metrics(evaluated.evaluations))
    recorded = read_baseline(baseline)
    decision = decide(metrics, recorded, policy)
    written = False
    if update and (decision.value or 0.0) >= policy.floor:
        write_baseline(baseline, metrics, encoder.model_id, corpus_fingerprint(report.documents))
        written = True
    return GateRun(metrics, recorded, decision, written)


def read_baseline(path: Path) -> dict[str, float] | None:
    """The recorded metrics, or None when no baseline was recorded yet (the floor alone)."""
    if not path.is_file():
        return None
    try:
        return {k: float(v) for k, v in json.loads(path.read_text())["metrics"].items()}
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a gate baseline ({exc}); record one with `docsearch gate "
            "--update-baseline`"
        ) from None


def write_baseline(path: Path, metrics: dict[str, float], model: str, corpus: str) -> None:
    record = {
        "recorded": datetime.now(UTC).isoformat(timespec="seconds"),
        "encoder": model,
        "corpus_fingerprint": corpus,
        "metrics": {k: round(v, 4) for k, v in sorted(metrics.items())},
    }
    path.write_text(json.dumps(record, indent=2) + "\n")
