"""A labeled set's two parts as labeled sets of their own: the part choices are tuned on
(``TUNE``) and the part only reported (``REPORT``), as ``evaluation.splits`` deals them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from evaluation.beir import LabeledSet, load_labeled_set
from evaluation.splits import PARTS, REPORT, TUNE, split


def labeled_parts(root: str | Path) -> dict[str, LabeledSet]:
    """``{TUNE: ..., REPORT: ...}`` of the BEIR-layout set at ``root``: its own train and test
    judgements when it has both, else its test judgements dealt by query id (the set's
    folder name salts the deal), without documents."""
    root = Path(root)
    if (root / "qrels" / "train.tsv").is_file() and (root / "qrels" / "test.tsv").is_file():
        return {
            TUNE: load_labeled_set(root, "train", with_documents=False),
            REPORT: load_labeled_set(root, "test", with_documents=False),
        }
    whole = load_labeled_set(root, "test", with_documents=False)
    dealt = split(whole.queries, whole.name)
    return {part: _only(whole, dealt[part], part) for part in PARTS}


def _only(labeled: LabeledSet, query_ids: list[str], part: str) -> LabeledSet:
    keep = set(query_ids)
    return dataclasses.replace(
        labeled,
        split=part,
        queries={q: t for q, t in labeled.queries.items() if q in keep},
        qrels={q: r for q, r in labeled.qrels.items() if q in keep},
    )


__all__ = ["REPORT", "TUNE", "labeled_parts"]
