"""What a challenger is judged on: the held-back feedback and labeled sets, each a named
``EvalSet``, kept only where the index holds every document they judge."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from evaluation.metrics import Evaluation, evaluate
from lifecycle.feedback import query_key
from lifecycle.loop.pairs import VALIDATION_FRACTION, TrainingData, is_validation
from search.index import SearchIndex

FEEDBACK_SET = "feedback"  # name of the held-back validation feedback as an evaluation set


@dataclass(frozen=True)
class EvalSet:
    """Queries with judgements, under a name used in metric keys (``<name>/ndcg_at_10``).

    ``judged_only``: score condensed lists (unjudged documents removed), for judgements that
    cover only what one system showed.
    """

    name: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]
    judged_only: bool = False

    def evaluate(self, run) -> Evaluation:
        return evaluate(run, self.qrels, judged_only=self.judged_only)


def feedback_set(data: TrainingData) -> EvalSet:
    """The held-back feedback, scored on condensed lists: only the results users were shown
    are judged, a click or thumbs-up gaining its inverse-propensity weight (see
    ``lifecycle.loop.pairs.build_training_data``). Plain scoring would count every document the
    champion never showed as a miss: a bias toward the champion that made the gate refuse a
    challenger better on SciFact's test claims by +0.017 nDCG@10."""
    return EvalSet(FEEDBACK_SET, data.validation_queries, data.validation_qrels, judged_only=True)


def held_out_set(labeled, fraction: float = VALIDATION_FRACTION) -> EvalSet:
    """A labeled split's queries that feedback on them would hold back from training (the same
    split by query as ``build_training_data``): trusted judgements for the gate that no
    training pair ever came from. Named ``<dataset>-<split>-heldout``."""
    queries = {q: t for q, t in labeled.queries.items() if is_validation(query_key(t)[0], fraction)}
    qrels = {q: labeled.qrels[q] for q in queries if q in labeled.qrels}
    return EvalSet(f"{labeled.name}-{labeled.split}-heldout", queries, qrels)


def eval_set_of(labeled) -> EvalSet:
    """A LabeledSet as an evaluation set named ``<dataset>-<split>``."""
    return EvalSet(f"{labeled.name}-{labeled.split}", labeled.queries, labeled.qrels)


def covers(index: SearchIndex, labeled_set: EvalSet) -> bool:
    """A labeled set can be run against an index only when its judged documents are in it:
    the product's sample queries say nothing about an index of other documents."""
    judged = {d for docs in labeled_set.qrels.values() for d in docs}
    return bool(judged) and judged <= set(index.documents)


def evaluate_on(
    index: SearchIndex, sets: Iterable[EvalSet], method: str = "hybrid"
) -> dict[str, Evaluation]:
    """The index as it serves (its own fusion settings) on each set."""
    return {
        s.name: s.evaluate(index.run(s.queries, k=100, method=method)) for s in sets if s.queries
    }


def benchmark_sets(
    dataset: Path, split: str, gate_split: str | None
) -> tuple[list[EvalSet], list[EvalSet], str]:
    """(gate sets, report sets, note) for the loop on a benchmark: ``split`` is measured before
    and after and never takes part in a decision; the held-back questions of ``gate_split``
    (never trained on) join the gate when the dataset has that split and it is not ``split``."""
    from evaluation.beir import load_labeled_set

    report = eval_set_of(load_labeled_set(dataset, split, with_documents=False))
    if not gate_split or gate_split == split:
        return [], [report], ""
    if not (Path(dataset) / "qrels" / f"{gate_split}.tsv").is_file():
        return [], [report], f"no {gate_split} split to gate on; the feedback alone decides"
    gate = held_out_set(load_labeled_set(dataset, gate_split, with_documents=False))
    return [gate], [report], ""
