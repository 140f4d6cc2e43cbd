"""Choice memory: the documents users chose for earlier questions, recalled for similar ones.

Fine-tuning teaches the encoder what users want in general; the memory keeps the particular:
a question close to one users asked before brings back the documents they clicked then, even
when neither retriever ranks them high. This is query-log document association (Scholer,
Williams and Turpin, "Query association surrogates for Web search", JASIST 2004; Xue et al.,
"Optimizing web search using web click-through data", CIKM 2004), kept as a nearest-neighbour
search over the questions' vectors in the same space the index encodes queries in.

A question recalls a document with strength ``(cos - threshold) / (1 - threshold)`` for the
most similar earlier question that chose it, 0 below the threshold; ``SearchIndex`` adds
``memory_weight`` times the strength to the fused score. ``SearchIndex.with_memory`` also
indexes each document in BM25 together with the questions users chose it for, so a new
question that shares their words (a gene name, a product code) finds it too.

Only what the loop learned from goes in: the training questions, never the held-back ones
that judge the index holding the memory.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import numpy as np

from search.encoding import Encoder, query_fingerprint
from search.retrieval.dense import HNSW, DenseIndex

ENTRIES = "entries.jsonl"
VECTORS = "vectors.faiss"
INFO = "memory.json"


class ChoiceMemory:
    """Earlier questions (text and vector) with the documents users chose for each: what the
    learning loop distilled from feedback (``TrainingData.choices``), not the feedback store's
    raw events."""

    def __init__(
        self,
        questions: list[str],
        chosen: list[tuple[str, ...]],
        vectors: DenseIndex,
        query_fingerprint: str,
        source: Mapping | None = None,
    ) -> None:
        if len(questions) != len(chosen) or len(questions) != len(vectors):
            raise ValueError("a choice memory needs one vector and one document list per question")
        self.questions = questions
        self.chosen = chosen
        self.vectors = vectors
        self.query_fingerprint = query_fingerprint
        self.source = dict(source or {})  # lineage: the training data it was made from

    @classmethod
    def build(
        cls,
        choices: Mapping[str, Iterable[str]],
        encoder: Encoder,
        source: Mapping | None = None,
        approximate_above: int = 200_000,
    ) -> ChoiceMemory:
        """A memory of ``{question: documents chosen for it}``, questions encoded as queries."""
        questions = sorted(q for q, docs in choices.items() if docs)
        chosen = [tuple(sorted(set(choices[q]))) for q in questions]
        vectors = (
            encoder.encode_queries(questions)
            if questions
            else np.zeros((0, encoder.dim), dtype=np.float32)
        )
        index = DenseIndex.build(vectors.reshape(len(questions), encoder.dim), approximate_above)
        return cls(questions, chosen, index, query_fingerprint(encoder), source)

    def __len__(self) -> int:
        return len(self.questions)

    def for_encoder(self, encoder: Encoder) -> ChoiceMemory:
        """This memory in ``encoder``'s query space (re-encoded only when the query side differs)."""
        if query_fingerprint(encoder) == self.query_fingerprint:
            return self
        choices = dict(zip(self.questions, self.chosen, strict=True))
        return ChoiceMemory.build(choices, encoder, self.source)

    def restricted_to(self, documents: Collection[str]) -> ChoiceMemory:
        """Only choices of documents still in ``documents`` (for an index rebuilt after edits);
        a question left with none is dropped. The stored vectors are kept: nothing is encoded."""
        kept = {i: tuple(d for d in docs if d in documents) for i, docs in enumerate(self.chosen)}
        if all(len(kept[i]) == len(docs) for i, docs in enumerate(self.chosen)):
            return self
        rows = [i for i, docs in kept.items() if docs]
        vectors = DenseIndex.build(
            self.vectors.vectors()[rows],
            approximate_above=0 if self.vectors.kind == HNSW else len(rows),
        )
        return ChoiceMemory(
            [self.questions[i] for i in rows],
            [kept[i] for i in rows],
            vectors,
            self.query_fingerprint,
            self.source,
        )

    def recall(
        self,
        query_vectors: np.ndarray,
        threshold: float,
        neighbours: int = 10,
        allowed: Collection[str] | None = None,
    ) -> list[dict[str, float]]:
        """Per query, ``{doc_id: strength in (0, 1]}`` from the ``neighbours`` most similar
        earlier questions above ``threshold``; documents outside ``allowed`` never come back."""
        if len(self) == 0 or len(query_vectors) == 0:
            return [{} for _ in range(len(query_vectors))]
        scores, rows = self.vectors.search(query_vectors, neighbours)
        recalled = []
        for row_scores, row_ids in zip(scores, rows, strict=True):
            strengths: dict[str, float] = {}
            for score, row in zip(row_scores, row_ids, strict=True):
                if row < 0 or score <= threshold:
                    continue
                strength = min(1.0, (float(score) - threshold) / (1.0 - threshold))
                for doc_id in self.chosen[row]:
                    if allowed is None or doc_id in allowed:
                        strengths[doc_id] = max(strengths.get(doc_id, 0.0), strength)
            recalled.append(strengths)
        return recalled

    def questions_by_document(self) -> dict[str, list[str]]:
        """``{doc_id: the questions users chose it for}``."""
        asked: dict[str, list[str]] = {}
        for question, docs in zip(self.questions, self.chosen, strict=True):
            for doc_id in docs:
                asked.setdefault(doc_id, []).append(question)
        return asked

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=False)
        with open(folder / ENTRIES, "w", encoding="utf-8") as fh:
            for question, docs in zip(self.questions, self.chosen, strict=True):
                fh.write(json.dumps({"question": question, "documents": list(docs)}) + "\n")
        self.vectors.save(folder / VECTORS)
        info = {
            "questions": len(self),
            "query_fingerprint": self.query_fingerprint,
            "dense_index": self.vectors.kind,
            "source": self.source,
        }
        (folder / INFO).write_text(json.dumps(info, indent=2))

    @classmethod
    def load(cls, folder: Path) -> ChoiceMemory:
        info = json.loads((folder / INFO).read_text())
        questions, chosen = [], []
        with open(folder / ENTRIES, encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                questions.append(row["question"])
                chosen.append(tuple(row["documents"]))
        vectors = DenseIndex.load(folder / VECTORS, info["dense_index"])
        return cls(questions, chosen, vectors, info["query_fingerprint"], info.get("source"))

    def describe(self) -> dict:
        """What a manifest records of the memory."""
        return {
            "questions": len(self),
            "documents": len({d for docs in self.chosen for d in docs}),
            "query_fingerprint": self.query_fingerprint,
            **self.source,
        }
