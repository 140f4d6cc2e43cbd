"""Each mixing weight's challenger after ``make bench-loop``: the fine-tuned query encoder of the
loop's home mixed with its start at every weight (``lifecycle.loop.mixing``), built as it would
serve (``build_challenger``), and scored on the held-back feedback (what the loop chooses on),
the held-back train claims and the test claims (reported only). One JSON line per weight, the
champion first.

    DOCSEARCH_HOME=$PWD/.docsearch/bench-loop python -m scripts.mixture_sweep \\
        --dataset ../shared/datasets/scifact --weights 0.3 0.4 0.5 0.6 0.7 0.8 0.9 1.0

Needs the loop's home as ``make bench-loop`` leaves it: the champion (the store's first
version) and the training data. The encoder there holds the chosen mixture, so the sweep
fine-tunes again from the champion with the loop's settings (seeded: the same weights; about a
minute on 2 cores) and mixes that.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

from evaluation.beir import load_labeled_set
from lifecycle.loop import (
    EvalSet,
    TrainingData,
    build_challenger,
    eval_set_of,
    feedback_set,
    fine_tune,
    held_out_set,
    write_mixture,
)
from search.index import IndexStore
from search.settings import Settings


def _split_by_shared_abstract(labeled: EvalSet, trained_docs: set[str]) -> tuple[EvalSet, ...]:
    """(claims sharing a relevant document with a trained pair, claims sharing none)."""
    shared = {q for q in labeled.queries if set(labeled.qrels.get(q, {})) & trained_docs}

    def part(keep: set[str], name: str) -> EvalSet:
        queries = {q: t for q, t in labeled.queries.items() if q in keep}
        return EvalSet(name, queries, {q: labeled.qrels[q] for q in queries if q in labeled.qrels})

    return part(shared, "shared"), part(set(labeled.queries) - shared, "unshared")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--index", default="eval-scifact", help="the loop home's index name")
    parser.add_argument("--weights", type=float, nargs="+", default=[0.4, 1.0])
    args = parser.parse_args()
    settings = Settings.from_env()
    store = IndexStore(settings.index_root(args.index))
    if not store.versions():
        parser.error(f"no index {args.index!r} in {settings.home}: run make bench-loop first")
    champion = store.load(store.versions()[0])
    newest = max((settings.home / "training").iterdir(), key=lambda p: p.stat().st_mtime)
    data = TrainingData.load(newest)
    held = held_out_set(load_labeled_set(args.dataset, "train", with_documents=False))
    test = eval_set_of(load_labeled_set(args.dataset, "test", with_documents=False))
    trained_docs = {pair.positive_doc for pair in data.pairs}
    sets = {"feedback": feedback_set(data), "heldout": held, "test": test}
    for name, labeled in (("heldout", held), ("test", test)):
        shared, unshared = _split_by_shared_abstract(labeled, trained_docs)
        sets[f"{name}_shared"], sets[f"{name}_unshared"] = shared, unshared

    def scores(index) -> dict[str, float]:
        return {
            name: round(s.evaluate(index.run(s.queries, k=100)).mean["ndcg_at_10"], 4)
            for name, s in sets.items()
        }

    print(json.dumps({"weight": "champion", **scores(champion)}), flush=True)
    with tempfile.TemporaryDirectory(dir=settings.models_dir) as scratch:
        tuned = fine_tune(champion, data, Path(scratch) / "tuned", log=lambda _line: None)
        for weight in args.weights:
            mixed = Path(scratch) / f"mix-{weight}"
            folder = write_mixture(tuned.base_model, tuned.path, weight, mixed)
            challenger, _ = build_challenger(champion, folder, data)
            print(json.dumps({"weight": weight, **scores(challenger)}), flush=True)
            shutil.rmtree(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
