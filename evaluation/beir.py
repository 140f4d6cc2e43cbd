"""Labeled query sets in BEIR layout: corpus (or a documents folder), queries, qrels per split."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from search.ingest import Document, LoadReport, load_beir_corpus, load_folder

Qrels = dict[str, dict[str, int]]


@dataclass(frozen=True)
class LabeledSet:
    """A dataset for evaluation: documents, queries that have judgements, and the judgements."""

    name: str
    root: Path
    split: str
    documents: list[Document]
    queries: dict[str, str]
    qrels: Qrels
    rejected: tuple = ()


def documents_location(root: str | Path) -> Path:
    """``corpus.jsonl`` when the set has one, else its ``docs/`` folder of files; a question
    set without either asks about the documents of the folder it sits in (the sample's
    ``independent/`` questions are about ``data/sample/docs``)."""
    root = Path(root)
    for folder in (root, root.parent):
        if (folder / "corpus.jsonl").is_file():
            return folder / "corpus.jsonl"
        if (folder / "docs").is_dir():
            return folder / "docs"
    raise FileNotFoundError(
        f"{root} is not a BEIR-layout dataset: expected corpus.jsonl or a docs/ folder beside "
        "queries.jsonl and qrels/<split>.tsv."
    )


def load_documents(root: str | Path) -> LoadReport:
    location = documents_location(root)
    if location.suffix == ".jsonl":
        docs = load_beir_corpus(location)
        return LoadReport(documents=docs, rejected=[], seen=len(docs))
    return load_folder(location)


def load_queries(path: str | Path) -> dict[str, str]:
    queries = {}
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                queries[str(row["_id"])] = row["text"]
    return queries


def load_qrels(path: str | Path) -> Qrels:
    """Relevance judgements with score > 0 (a header line is skipped)."""
    qrels: Qrels = {}
    with open(path, encoding="utf-8") as fh:
        for row in csv.reader(fh, delimiter="\t"):
            if len(row) < 3 or row[0] == "query-id":
                continue
            qid, doc_id, score = row[0], row[1], int(row[2])
            if score > 0:
                qrels.setdefault(qid, {})[doc_id] = score
    return qrels


def load_labeled_set(
    root: str | Path, split: str = "test", with_documents: bool = True
) -> LabeledSet:
    """Load a BEIR-layout folder; only queries judged in ``split`` are kept."""
    root = Path(root)
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        available = sorted(p.stem for p in (root / "qrels").glob("*.tsv"))
        raise FileNotFoundError(
            f"No qrels for split {split!r} in {root}/qrels (have: {available})."
        )
    qrels = load_qrels(qrels_path)
    queries = {q: t for q, t in load_queries(root / "queries.jsonl").items() if q in qrels}
    report = load_documents(root) if with_documents else LoadReport([], [], 0)
    return LabeledSet(
        name=root.resolve().name,
        root=root,
        split=split,
        documents=report.documents,
        queries=queries,
        qrels={q: r for q, r in qrels.items() if q in queries},
        rejected=tuple(report.rejected),
    )
