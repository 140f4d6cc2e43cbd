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
indexes each document in BM25 together with its expansion terms, so a new question that shares
the words people used for it (a gene name, a product code) finds it too.

Questions are personal data, and the memory travels with every index version (and its MLflow
artifact), so it keeps no question text: per remembered question only its vector and the
documents chosen for it, and per document only the expansion terms that at least
``MIN_ASKERS`` (2) distinct people used in questions for which they chose it (k-anonymity,
k = 2: a word one person asked never reaches anyone else), as single words with the number of
people who used each, never sentences. Nothing records who asked. A term is attached to the
one document it was asked about, so it can only lift that document, which access control
shows only to people who may read it.

Only what the loop learned from goes in: the training questions, never the held-back ones
that judge the index holding the memory.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

import bm25s
import numpy as np

from search.encoding import Encoder, query_fingerprint
from search.retrieval.dense import HNSW, DenseIndex

ENTRIES = "entries.jsonl"  # one line per remembered question: {"documents": [...]}
VECTORS = "vectors.faiss"  # the questions' vectors, in ENTRIES' order
TERMS = "terms.json"  # {doc_id: {expansion term: how many people used it}}
INFO = "memory.json"
MIN_ASKERS = 2  # k: distinct people who must have used a word for a document before it expands
MAX_TERM_REPEATS = 5  # BM25 sees a term once per person who used it, up to this many times
STOPWORDS = "en"  # the BM25 index's stop words, never worth keeping as expansion terms

# {question: documents chosen for it}, or {question: {document: who chose it}}
Choices = Mapping[str, Iterable[str]] | Mapping[str, Mapping[str, Collection[str]]]


def question_terms(text: str) -> set[str]:
    """The words of a question that may expand a document: lower-cased, no stop words."""
    tokens = bm25s.tokenize(
        [text], stopwords=STOPWORDS, stemmer=None, return_ids=False, show_progress=False
    )[0]
    return {t for t in tokens if 2 <= len(t) <= 40}


def expansion_terms(choices: Choices, min_askers: int = MIN_ASKERS) -> dict[str, dict[str, int]]:
    """``{doc_id: {term: how many people used it}}``: the words that at least ``min_askers``
    distinct people used in the questions they chose the document for. Without who chose
    (plain document lists) nobody is counted and no word qualifies."""
    askers: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for question, docs in choices.items():
        if not isinstance(docs, Mapping):
            continue
        words = question_terms(question)
        for doc_id, people in docs.items():
            for word in words:
                askers[doc_id][word].update(people)
    terms = {
        doc_id: {w: len(people) for w, people in sorted(words.items()) if len(people) >= min_askers}
        for doc_id, words in askers.items()
    }
    return {doc_id: words for doc_id, words in sorted(terms.items()) if words}


class ChoiceMemory:
    """Earlier questions' vectors with the documents users chose for each, and the documents'
    k-anonymous expansion terms: what the learning loop distilled from feedback
    (``TrainingData.choices``), never the feedback store's raw events or question text."""

    def __init__(
        self,
        chosen: list[tuple[str, ...]],
        vectors: DenseIndex,
        query_fingerprint: str,
        source: Mapping | None = None,
        terms: Mapping[str, Mapping[str, int]] | None = None,
        min_askers: int = MIN_ASKERS,
    ) -> None:
        if len(chosen) != len(vectors):
            raise ValueError("a choice memory needs one vector per list of chosen documents")
        self.chosen = chosen
        self.vectors = vectors
        self.query_fingerprint = query_fingerprint
        self.source = dict(source or {})  # lineage: the training data it was made from
        self.terms = {d: dict(t) for d, t in (terms or {}).items() if t}
        self.min_askers = min_askers  # k of the terms' k-anonymity

    @classmethod
    def build(
        cls,
        choices: Choices,
        encoder: Encoder,
        source: Mapping | None = None,
        approximate_above: int = 200_000,
        min_askers: int = MIN_ASKERS,
    ) -> ChoiceMemory:
        """A memory of ``{question: documents chosen for it}`` (with who chose each, when
        known: ``{question: {document: people}}``), questions encoded as queries; the texts
        themselves are not kept."""
        questions = sorted(q for q, docs in choices.items() if docs)
        chosen = [tuple(sorted(set(choices[q]))) for q in questions]
        vectors = (
            encoder.encode_queries(questions)
            if questions
            else np.zeros((0, encoder.dim), dtype=np.float32)
        )
        index = DenseIndex.build(vectors.reshape(len(questions), encoder.dim), approximate_above)
        terms = expansion_terms(choices, min_askers)
        return cls(chosen, index, query_fingerprint(encoder), source, terms, min_askers)

    def __len__(self) -> int:
        return len(self.chosen)

    def for_encoder(self, encoder: Encoder) -> ChoiceMemory:
        """This memory in ``encoder``'s query space. Without the question texts the vectors
        cannot be moved to another query encoder: there the memory keeps its expansion terms
        and forgets its recall (the learning loop builds a new memory with each encoder)."""
        if query_fingerprint(encoder) == self.query_fingerprint:
            return self
        logging.getLogger(__name__).info(
            "choice memory: %d question vectors belong to another query encoder; recall dropped",
            len(self),
        )
        empty = DenseIndex.build(np.zeros((0, encoder.dim), dtype=np.float32), 0)
        return ChoiceMemory(
            [], empty, query_fingerprint(encoder), self.source, self.terms, self.min_askers
        )

    def restricted_to(self, documents: Collection[str]) -> ChoiceMemory:
        """Only choices of documents still in ``documents`` (for an index rebuilt after edits);
        a question left with none is dropped. The stored vectors are kept: nothing is encoded."""
        kept = {i: tuple(d for d in docs if d in documents) for i, docs in enumerate(self.chosen)}
        terms = {d: t for d, t in self.terms.items() if d in documents}
        if len(terms) == len(self.terms) and all(
            len(kept[i]) == len(docs) for i, docs in enumerate(self.chosen)
        ):
            return self
        rows = [i for i, docs in kept.items() if docs]
        vectors = DenseIndex.build(
            self.vectors.vectors()[rows],
            approximate_above=0 if self.vectors.kind == HNSW else len(rows),
        )
        return ChoiceMemory(
            [kept[i] for i in rows],
            vectors,
            self.query_fingerprint,
            self.source,
            terms,
            self.min_askers,
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

    def expansion_by_document(self) -> dict[str, str]:
        """``{doc_id: the text BM25 indexes with it}``: each expansion term once per person
        who used it (at most ``MAX_TERM_REPEATS`` times): a word many people used for a
        document says more about it, as their questions' text did when it was kept."""
        return {
            d: " ".join(
                t for t, n in sorted(terms.items()) for _ in range(min(n, MAX_TERM_REPEATS))
            )
            for d, terms in self.terms.items()
        }

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=False)
        with open(folder / ENTRIES, "w", encoding="utf-8") as fh:
            for docs in self.chosen:
                fh.write(json.dumps({"documents": list(docs)}) + "\n")
        self.vectors.save(folder / VECTORS)
        (folder / TERMS).write_text(json.dumps(self.terms, indent=0, sort_keys=True))
        info = {
            "format": 2,  # 1: entries held the question text
            "questions": len(self),
            "query_fingerprint": self.query_fingerprint,
            "dense_index": self.vectors.kind,
            "expansion_min_askers": self.min_askers,
            "source": self.source,
        }
        (folder / INFO).write_text(json.dumps(info, indent=2))

    @classmethod
    def load(cls, folder: Path) -> ChoiceMemory:
        """Read a memory folder. One written before questions were kept private (``format``
        1: entries with their question text) loads without its text: the words are dropped,
        and with them its expansion terms, since who asked them was never recorded."""
        info = json.loads((folder / INFO).read_text())
        with open(folder / ENTRIES, encoding="utf-8") as fh:
            chosen = [tuple(json.loads(line)["documents"]) for line in fh]
        terms = json.loads((folder / TERMS).read_text()) if (folder / TERMS).exists() else {}
        vectors = DenseIndex.load(folder / VECTORS, info["dense_index"])
        k = info.get("expansion_min_askers", MIN_ASKERS)
        return cls(chosen, vectors, info["query_fingerprint"], info.get("source"), terms, k)

    def describe(self) -> dict:
        """What a manifest records of the memory."""
        return {
            "questions": len(self),
            "documents": len({d for docs in self.chosen for d in docs}),
            "query_fingerprint": self.query_fingerprint,
            "expansion_terms": sum(len(t) for t in self.terms.values()),
            "expansion_min_askers": self.min_askers,
            **self.source,
        }
