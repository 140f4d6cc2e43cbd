"""Quality per labeled set, its TUNE and REPORT parts apart (``evaluation.parts``), per method,
beside the public-library anchors computed in the same run (``evaluation.anchors``), and what
the relevance floor does: how many results a query shows, how many of the relevant first-page
results it holds back, how often a query shows nothing. Figures to quote are REPORT's."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from evaluation.anchors import ANCHORS, anchor_runs, tool_scores
from evaluation.beir import LabeledSet
from evaluation.datasets import index_for_labeled_set
from evaluation.metrics import evaluate
from evaluation.parts import labeled_parts
from search.config import Fusion, Method
from search.encoding import EmbeddingCache
from search.index import SearchIndex
from search.index.forgiving import forgiving_page
from search.progress import ProgressPrinter
from search.settings import Settings

# (label, method, fusion): the product's methods; hybrid with the default fusion first
METHODS = (
    ("hybrid", Method.HYBRID, None),
    ("hybrid_rrf", Method.HYBRID, Fusion.RRF),
    ("hybrid_zscore", Method.HYBRID, Fusion.ZSCORE),
    ("bm25", Method.BM25, None),
    ("dense", Method.DENSE, None),
)


def quality(collections: Mapping[str, Path], settings: Settings) -> dict:
    """``{set: {"tune"|"report": {...}}}`` for each labeled set (name -> BEIR folder)."""
    config = settings.index_config()
    cache = EmbeddingCache(settings.cache_path)
    out = {}
    for name, root in collections.items():
        index = index_for_labeled_set(root, settings, config, progress=ProgressPrinter()).index
        parts = labeled_parts(root)
        every = {q: t for part in parts.values() for q, t in part.queries.items()}
        anchors = anchor_runs(root, every, cache)
        out[name] = {part: _part(index, labeled, anchors) for part, labeled in parts.items()}
    return out


def _part(index: SearchIndex, labeled: LabeledSet, anchors: dict) -> dict:
    methods, by_kind = {}, {}
    for label, method, fusion in METHODS:
        run = index.run(labeled.queries, k=100, method=method, fusion=fusion)
        scored = evaluate(run, labeled.qrels)
        methods[label] = {m: round(v, 4) for m, v in scored.mean.items()}
        if label == "hybrid":
            by_kind = _by_kind(labeled, scored.per_query)
    anchored = {
        a: tool_scores({q: anchors[a][q] for q in labeled.queries}, labeled.qrels) for a in ANCHORS
    }
    best_anchor = max(v["ndcg_at_10"] for v in anchored.values())
    rrf = anchored["rrf_bm25s_minilm"]["ndcg_at_10"]
    return {
        "queries": len(labeled.queries),
        "methods": methods,
        "anchors": anchored,
        "default_minus_anchor_rrf": round(methods["hybrid"]["ndcg_at_10"] - rrf, 4),
        "default_minus_best_anchor": round(methods["hybrid"]["ndcg_at_10"] - best_anchor, 4),
        "floor": floor_effect(index, labeled),
        **({"ndcg_at_10_by_kind": by_kind} if by_kind else {}),
    }


def _by_kind(labeled: LabeledSet, per_query: dict[str, dict[str, float]]) -> dict[str, float]:
    """Mean nDCG@10 per query ``kind`` (keyword, typo, other_language ...) where the set's
    queries.jsonl says each query's kind; {} where it does not."""
    kinds: dict[str, list[float]] = {}
    path = Path(labeled.root) / "queries.jsonl"
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line) if line.strip() else {}
            if row.get("kind") and str(row["_id"]) in per_query:
                kinds.setdefault(row["kind"], []).append(per_query[str(row["_id"])]["ndcg_at_10"])
    return {kind: round(float(np.mean(v)), 4) for kind, v in sorted(kinds.items())}


def forgiving_run(index: SearchIndex, queries: Mapping[str, str]) -> dict:
    """The default search as the app, the API and the command line run it: spelling
    correction included (``search.index.forgiving``), every result (no floor), depth 100."""
    run = {}
    for qid, text in queries.items():
        page = forgiving_page(index, text, k=100, weaker=True, wait=None).results
        run[qid] = {r.doc_id: r.score for r in page.results}
    return run


def floor_effect(index: SearchIndex, labeled: LabeledSet) -> dict:
    """What the relevance floor does to the first page (10 results) of each query: results
    shown (mean), share of queries showing none, share of the relevant first-page results
    held back."""
    shown, empty, relevant, held = [], 0, 0, 0
    for qid, text in labeled.queries.items():
        page = index.search_page(text, k=10, weaker=True)
        judged = labeled.qrels.get(qid, {})
        floor = page.floor if page.floor is not None else -1.0
        above = [r for r in page.results if (r.relevance or 0.0) >= floor]
        shown.append(len(above))
        empty += not above
        good = [r for r in page.results if judged.get(r.doc_id, 0) > 0]
        relevant += len(good)
        held += sum(1 for r in good if (r.relevance or 0.0) < floor)
    return {
        "shown_per_query": round(float(np.mean(shown)), 2) if shown else 0.0,
        "queries_showing_nothing": round(empty / max(1, len(shown)), 4),
        "relevant_first_page_held_back": round(held / relevant, 4) if relevant else 0.0,
    }
