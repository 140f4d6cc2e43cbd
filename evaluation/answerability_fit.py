"""``make fit-answerability``: fit the model that decides whether the chat's quoted sentences
answer a question (``search.chat.evidence``) and store it with the product.

Every labeled question set with unanswerable questions (``QUESTION_SETS``: the sample set's
own, the sample's questions written independently, the municipality's) is run through the chat
as the benchmark runs it, with nothing declined, and each answerable or unanswerable question's
evidence is a row. Each answerable question is also asked with the documents that state its
answer withheld from the search (``bench_chat.withheld_turns``: a reader who may not open them
must be told the documents do not say), a set of its own. Only the ``dev`` half of each set
(even-numbered ids) is read for fitting; the ``test`` half is only reported. The public
SQuAD 2.0 set (``data/squad2``) is never fitted on, only reported by ``make bench-chat``: fitted
with the others (its dev half weighing as one set), it lowered the dev halves of ours (the
sample's answer accuracy 0.769 -> 0.692), its adversarial questions being of another kind.

- Which evidence, how much regularisation and which cut-off: chosen by 5-fold
  cross-validation over the dev rows (``SHUFFLES`` times), for the most unanswerable questions
  declined less ``FALSE_DECLINE_COST`` times the answerable ones declined (a wrong "the
  documents do not say" costs more than a near miss quoted: the reader sees the sources),
  each set weighing the same;
- the model: a logistic regression over the standardised evidence, each set weighing the
  same, refitted on every dev row and stored in the evidence's own units.

A question the rules decide is left out (``evidence.ruled``: one mostly in another language is
never declined on this evidence, one whose quoted sentences answer about a neighbouring model,
version or year, or lack the amount it asks for, always is), and so is one that retrieval alone
declined (nothing above the floor).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

from evaluation.bench_chat import QUESTIONS, load_questions, single_turns, withheld_turns
from evaluation.datasets import index_for_labeled_set
from search.chat.evidence import (
    EVIDENCE,
    MODEL_FILE,
    RULED_BY,
    AnswerabilityModel,
    Evidence,
    ruled,
)
from search.settings import Settings

QUESTION_SETS = {
    "sample": (Path("data/sample"), Path("data/sample") / QUESTIONS),
    "sample-independent": (Path("data/sample"), Path("data/sample/independent") / QUESTIONS),
    "municipality": (Path("data/municipality"), Path("data/municipality") / QUESTIONS),
}
TARGET_PRECISION = 0.85  # of declines: a decline pays when this likely to be right
FALSE_DECLINE_COST = TARGET_PRECISION / (1 - TARGET_PRECISION)
CUTOFFS = (0.2, 0.3, 0.4, 0.5, 0.6)
STRENGTHS = (0.1, 1.0)  # the inverse regularisation strength C
WITHHELD = ", answer withheld"  # the set of a set's answerable questions asked without it
WEIGHED = tuple(n for n in EVIDENCE if n not in RULED_BY)  # the rules decide on the rest
MAX_EVIDENCE = 4  # parts of the evidence one model weighs at most
FOLDS = 5
SHUFFLES = 6  # two left the choice among near-equal models to the shuffle


def evidence_rows(sets: dict[str, tuple[Path, Path]]) -> list[dict]:
    """One row per answerable or unanswerable question of each set: its set, half, label,
    whether the undeclined answer was right, its evidence, the question and the answer."""
    settings = Settings.from_env()
    rows, indexes = [], {}
    for name, (dataset, questions) in sets.items():
        if dataset not in indexes:  # two question sets ask about the sample's documents
            built = index_for_labeled_set(dataset, settings, settings.index_config())
            indexes[dataset] = built.index
        index = indexes[dataset]
        asked = [r for r in load_questions(questions) if r["kind"] != "follow_up"]
        for row in single_turns(index, asked, None, float("-inf")):
            rows.append(
                _row(name, row, row["answerable"], row["correct"], row["answer"], row["evidence"])
            )
        for row in withheld_turns(index, asked, None, float("-inf")):
            rows.append(
                _row(f"{name}{WITHHELD}", row, False, False, row["answer"], row["evidence"])
            )
    return rows


def _row(name, row, answerable, correct, answer, evidence) -> dict:
    return {
        "set": name,
        "id": row["id"],
        "half": row["half"],
        "answerable": answerable,
        "correct": correct,
        "evidence": evidence,
        "question": row["question"],
        "answer": answer,
    }


def _matrix(rows: list[dict], names: tuple[str, ...]) -> np.ndarray:
    return np.array([[r["evidence"][n] for n in names] for r in rows], dtype=float)


def _set_weights(rows: list[dict]) -> np.ndarray:
    """Each set weighs the same in all (and each of its rows the same within it)."""
    sizes = {s: sum(r["set"] == s for r in rows) for s in {r["set"] for r in rows}}
    weights = np.array([1.0 / sizes[r["set"]] for r in rows])
    return weights * len(rows) / weights.sum()


def fit_model(rows: list[dict], names: tuple[str, ...], strength: float, cutoff: float):
    """The logistic regression over ``names`` fitted on ``rows``, in the evidence's units."""
    from sklearn.linear_model import LogisticRegression

    x = _matrix(rows, names)
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    fitted = LogisticRegression(C=strength, max_iter=2000)
    fitted.fit(
        (x - mean) / scale, [r["answerable"] for r in rows], sample_weight=_set_weights(rows)
    )
    weights = fitted.coef_[0] / scale
    intercept = float(fitted.intercept_[0] - (weights * mean).sum())
    return AnswerabilityModel(
        {n: round(float(w), 6) for n, w in zip(names, weights, strict=True)},
        round(intercept, 6),
        cutoff,
    )


def _probabilities(model: AnswerabilityModel, rows: list[dict]) -> np.ndarray:
    return np.array([model.probability(Evidence(**r["evidence"])) for r in rows])


def utility(rows: list[dict], probability: np.ndarray, cutoff: float) -> float:
    """Unanswerable questions declined, less ``FALSE_DECLINE_COST`` per answerable one, each
    set weighing the same (``_set_weights``: the many withheld-answer rows do not outvote the
    questions nobody can answer)."""
    declined = probability < cutoff
    weights = _set_weights(rows)
    answerable = np.array([r["answerable"] for r in rows])
    caught = weights[declined & ~answerable].sum()
    wrong = weights[declined & answerable].sum()
    return float(caught - FALSE_DECLINE_COST * wrong)


def cross_validated(
    rows: list[dict], names, strength: float, seeds=range(SHUFFLES)
) -> dict[float, float]:
    """Mean utility at each cut-off of models fitted on the other folds."""
    from sklearn.model_selection import StratifiedKFold

    out = dict.fromkeys(CUTOFFS, 0.0)
    strata = [f"{r['set']}{r['answerable']}" for r in rows]
    for seed in seeds:
        probability = np.zeros(len(rows))
        folds = StratifiedKFold(FOLDS, shuffle=True, random_state=seed)
        for train, held in folds.split(rows, strata):
            model = fit_model([rows[i] for i in train], names, strength, 0.5)
            probability[held] = _probabilities(model, [rows[i] for i in held])
        for cutoff in CUTOFFS:
            out[cutoff] += utility(rows, probability, cutoff) / len(seeds)
    return out


def choose(rows: list[dict]) -> tuple[AnswerabilityModel, dict]:
    """The best evidence, strength and cut-off by cross-validation on ``rows``, refitted."""
    tried = []
    for size in range(1, MAX_EVIDENCE + 1):
        for names in itertools.combinations(WEIGHED, size):
            for strength in STRENGTHS:
                for cutoff, value in cross_validated(rows, names, strength).items():
                    tried.append((round(value, 3), -size, strength, cutoff, names))
    value, _, strength, cutoff, names = max(tried, key=lambda t: t[:2])
    model = fit_model(rows, names, strength, cutoff)
    return model, {"cv_utility": value, "strength": strength, "evidence": list(names)}


def figures(model: AnswerabilityModel, rows: list[dict]) -> dict:
    """Per set: how the model's declines fare (questions retrieval declined not counted)."""
    out = {}
    for name in dict.fromkeys(r["set"] for r in rows):
        mine = [r for r in rows if r["set"] == name]
        declined = _probabilities(model, mine) < model.cutoff
        answerable = sum(r["answerable"] for r in mine)
        caught = sum(d and not r["answerable"] for d, r in zip(declined, mine, strict=True))
        right = sum(
            r["answerable"] and r["correct"] and not d for d, r in zip(declined, mine, strict=True)
        )
        out[name] = {
            "answer_accuracy": round(right / answerable, 3) if answerable else None,
            "no_answer_precision": round(caught / declined.sum(), 3) if declined.any() else None,
            "no_answer_recall": round(caught / (len(mine) - answerable), 3)
            if len(mine) > answerable
            else None,
            "questions": len(mine),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fit_answerability", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=MODEL_FILE, help=f"default: {MODEL_FILE}")
    parser.add_argument("--rows", type=Path, help="reuse the evidence rows saved in this file")
    args = parser.parse_args(argv)
    if args.rows and args.rows.is_file():
        rows = json.loads(args.rows.read_text())
    else:
        rows = evidence_rows(QUESTION_SETS)
        if args.rows:
            args.rows.write_text(json.dumps(rows))
    usable = [r for r in rows if r["evidence"] and ruled(Evidence(**r["evidence"])) is None]
    model, chosen = choose([r for r in usable if r["half"] == "dev"])
    args.out.write_text(json.dumps(model.to_json(), indent=2) + "\n")
    report = {
        "model": model.to_json(),
        **chosen,
        "dev": figures(model, [r for r in usable if r["half"] == "dev"]),
        "test": figures(model, [r for r in usable if r["half"] == "test"]),
        "stored": str(args.out),
    }
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
