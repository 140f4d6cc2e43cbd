"""Training pairs from feedback: (query, chosen passage, hard negative passage), position-bias
weighted, de-duplicated by question, with a held-back validation slice.

Which documents are positives and which are negatives is the label policy of
``lifecycle.feedback.labels`` (the one ``export_labels`` follows too), evidence rules included:
a choice counts only when two people chose the document or its chooser also gave it a
thumbs-up, and each person counts once. This module adds what only training needs:
inverse-propensity weights, the passages that were shown, fallback negatives, the split by
question, and who chose what (as pseudonyms), so the choice memory can keep only the words
several people asked.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lifecycle.feedback import Evidence, Impression, LabelEvidence, Verdict
from search.index import SearchIndex

# Position bias: a result at rank r is examined with probability (1 / r) ** ETA (Joachims et al.,
# "Unbiased Learning-to-Rank with Biased Feedback", WSDM 2017). A click deep in the list is
# stronger evidence than one at rank 1, so positives are weighted by the inverse propensity
# r ** ETA (clipped). Negatives come only from results the cascade model says were examined:
# shown above a click and skipped, or voted down.
ETA = 1.0
MAX_PROPENSITY_WEIGHT = 5
VALIDATION_FRACTION = 0.2  # share of distinct questions held back from training
TRAINING_DIR = "training"  # under DOCSEARCH_HOME: one folder per training-data fingerprint


@dataclass(frozen=True)
class TrainingPair:
    """(query, relevant passage, hard negative passage) with where each came from."""

    query: str
    positive: str
    negative: str
    positive_doc: str
    negative_doc: str
    negative_source: str  # "skipped" | "voted_down" | "shown_unclicked" | "bm25"
    weight: int  # inverse-propensity weight: relative chance of being drawn into an epoch


@dataclass(frozen=True)
class TrainingData:
    """Pairs for fine-tuning, a held-back validation slice, and their lineage."""

    pairs: list[TrainingPair]
    validation_queries: dict[str, str]
    validation_qrels: dict[str, dict[str, int]]
    query_ids: list[int]  # feedback events (queries table ids) the data came from
    index_versions: list[str]  # index versions those results were shown on
    stats: dict = field(default_factory=dict)
    # question -> positive document -> pseudonyms of the people who chose it for that question
    chosen_by: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for pair in self.pairs:
            digest.update(json.dumps(asdict(pair), sort_keys=True).encode())
        digest.update(json.dumps(self.validation_qrels, sort_keys=True).encode())
        if self.chosen_by:
            digest.update(json.dumps(self.chosen_by, sort_keys=True).encode())
        return digest.hexdigest()[:16]

    def choices(self) -> dict[str, dict[str, frozenset[str]]]:
        """``{question: {document users chose for it: who chose it (pseudonyms)}}`` over the
        training questions (never the held-back ones): the label policy's positives, what a
        choice memory remembers (``ChoiceMemory.build`` keeps a question's words only where
        several people asked them)."""
        chosen: dict[str, dict[str, frozenset[str]]] = {}
        for pair in self.pairs:
            askers = self.chosen_by.get(pair.query, {}).get(pair.positive_doc, ())
            chosen.setdefault(pair.query, {})[pair.positive_doc] = frozenset(askers)
        return chosen

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "pairs.jsonl", "w", encoding="utf-8") as fh:
            for pair in self.pairs:
                fh.write(json.dumps(asdict(pair), ensure_ascii=False) + "\n")
        meta = {
            "validation_queries": self.validation_queries,
            "validation_qrels": self.validation_qrels,
            "query_ids": self.query_ids,
            "index_versions": self.index_versions,
            "stats": self.stats,
            "chosen_by": self.chosen_by,
            "fingerprint": self.fingerprint,
        }
        (folder / "data.json").write_text(json.dumps(meta))

    @classmethod
    def load(cls, folder: Path) -> TrainingData:
        with open(folder / "pairs.jsonl", encoding="utf-8") as fh:
            pairs = [TrainingPair(**json.loads(line)) for line in fh]
        meta = json.loads((folder / "data.json").read_text())
        return cls(
            pairs,
            meta["validation_queries"],
            meta["validation_qrels"],
            meta["query_ids"],
            meta["index_versions"],
            meta["stats"],
            meta.get("chosen_by", {}),  # training data saved before it was recorded: none
        )


def _pseudonym(asker: str) -> str:
    """Who chose, as the memory may count them: a stable name that is not the person's."""
    return hashlib.sha256(asker.encode()).hexdigest()[:16]


def training_data_dir(home: Path, data: TrainingData) -> Path:
    """Where ``data`` is saved: ``<home>/training/<fingerprint>``."""
    return Path(home) / TRAINING_DIR / data.fingerprint


def is_validation(key: str, fraction: float) -> bool:
    """Deterministic split by query: the same question always lands on the same side."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < fraction


@dataclass
class _Question:
    """What the feedback on one question says, gathered over its impressions."""

    text: str
    evidence: dict[str, LabelEvidence]  # the label policy's, per document (``Evidence``)
    weights: dict[str, int] = field(default_factory=dict)  # chosen doc -> largest IPS weight
    shown: dict[str, int] = field(default_factory=dict)  # doc -> best rank it was shown at
    chunks: dict[str, str] = field(default_factory=dict)  # doc -> chunk first shown for it

    def positives(self) -> dict[str, int]:
        """Chosen documents (label policy) with their inverse-propensity weights."""
        return {
            d: self.weights[d] for d, ev in self.evidence.items() if ev.verdict is Verdict.CHOSEN
        }

    def negatives(self) -> dict[str, str]:
        """Documents judged irrelevant (label policy), by verdict: skipped or voted_down."""
        return {
            d: ev.verdict.value
            for d, ev in self.evidence.items()
            if ev.verdict is not None and ev.verdict is not Verdict.CHOSEN
        }

    def unconfirmed(self) -> set[str]:
        """Documents someone chose without the evidence a positive needs (rule 6): neither
        positives nor negatives, and never judged in the validation slice."""
        return {d for d, ev in self.evidence.items() if ev.unconfirmed}

    def choosers(self, positives: dict[str, int]) -> dict[str, list[str]]:
        """Pseudonyms of who chose each positive for this question."""
        return {d: sorted(_pseudonym(a) for a in self.evidence[d].chosen_by) for d in positives}


def build_training_data(
    impressions: Iterable[Impression],
    index: SearchIndex,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = 13,
) -> TrainingData:
    """Turn logged impressions into de-duplicated training pairs and a validation slice.

    Per distinct (normalised) query, positives and negatives follow the label policy
    (``lifecycle.feedback.labels``): chosen documents with enough evidence are positives;
    voted-down or skipped ones, never chosen, are negatives. When a query has positives but no
    such negative, the highest-ranked shown result nobody chose is used instead, and failing
    that the top BM25 document nobody chose. Passages are the chunks that were shown.
    """
    questions, query_ids, versions = _gather(impressions)
    rng = random.Random(seed)
    pairs: list[TrainingPair] = []
    val_queries: dict[str, str] = {}
    val_qrels: dict[str, dict[str, int]] = {}
    chosen_by: dict[str, dict[str, list[str]]] = {}
    fallback_negatives = 0
    for key in sorted(questions):
        question = questions[key]
        positives = question.positives()
        if not positives:
            continue
        if is_validation(key, validation_fraction):
            val_queries[key] = question.text
            val_qrels[key] = _validation_judgements(question, positives)
            continue
        negatives = question.negatives()
        if not negatives:
            negatives = _fallback_negative(question, positives, index)
            fallback_negatives += bool(negatives)
        made = _pairs(question, positives, negatives, index, rng)
        if made:
            chosen_by[question.text] = question.choosers(positives)
        pairs += made
    stats = {
        "queries_with_feedback": len(questions),
        "training_queries": len({p.query for p in pairs}),
        "pairs": len(pairs),
        "weighted_pairs": sum(p.weight for p in pairs),
        "validation_queries": len(val_queries),
        "fallback_negatives": fallback_negatives,
        "feedback_events": len(query_ids),
        **_evidence_stats(questions.values()),
    }
    return TrainingData(pairs, val_queries, val_qrels, query_ids, versions, stats, chosen_by)


def _validation_judgements(question: _Question, positives: dict[str, int]) -> dict[str, int]:
    """Every result shown is judged, except choices without evidence (rule 6). A chosen one
    has its inverse-propensity weight as gain, the rest 0; scored on condensed lists (unshown
    documents removed), DCG is then the IPS estimate of the DCG of the relevant shown documents
    under the position-bias model (Joachims et al. 2017): no bias toward the champion that
    showed them, and (unlike judging only results above a click) no reward for reordering
    them at random."""
    unjudged = question.unconfirmed()
    return {**{d: 0 for d in question.shown if d not in unjudged}, **positives}


def _evidence_stats(questions: Iterable[_Question]) -> dict[str, int]:
    """How much of what people chose had the evidence a positive needs (label policy rule 4)."""
    chosen = qualified = 0
    for question in questions:
        for ev in question.evidence.values():
            if ev.chosen_by:
                chosen += 1
                qualified += not ev.unconfirmed
    return {"chosen_pairs": chosen, "qualified_pairs": qualified}


def _gather(
    impressions: Iterable[Impression],
) -> tuple[dict[str, _Question], list[int], list[str]]:
    """Questions by key, the impressions that said something (ids) and their index versions."""
    evidence = Evidence()
    questions: dict[str, _Question] = {}
    query_ids: list[int] = []
    versions: list[str] = []
    for imp in impressions:
        key, judged = evidence.record(imp)
        if not judged:
            continue
        question = questions.get(key) or _Question(evidence.texts[key], evidence.questions[key])
        questions[key] = question
        query_ids.append(imp.query_id)
        if imp.index_version not in versions:
            versions.append(imp.index_version)
        ranks = {s.doc_id: s.rank for s in imp.shown}
        for s in imp.shown:
            question.chunks.setdefault(s.doc_id, s.chunk_id)
            question.shown[s.doc_id] = min(s.rank, question.shown.get(s.doc_id, s.rank))
        for doc, verdict in judged.items():
            if verdict is Verdict.CHOSEN:
                weight = min(MAX_PROPENSITY_WEIGHT, round(ranks.get(doc, 1) ** ETA))
                question.weights[doc] = max(question.weights.get(doc, 0), weight)
    return questions, query_ids, versions


def _fallback_negative(
    question: _Question, positives: dict[str, int], index: SearchIndex
) -> dict[str, str]:
    """The best-ranked shown result nobody chose, else the top BM25 one nobody chose."""
    chosen = set(positives) | question.unconfirmed()
    shown = sorted((r, d) for d, r in question.shown.items() if d not in chosen)
    if shown:
        return {shown[0][1]: "shown_unclicked"}
    for result in index.search(question.text, k=10, method="bm25"):
        if result.doc_id not in chosen:
            question.chunks.setdefault(result.doc_id, result.chunk_id)
            return {result.doc_id: "bm25"}
    return {}


def _pairs(
    question: _Question,
    positives: dict[str, int],
    negatives: dict[str, str],
    index: SearchIndex,
    rng: random.Random,
) -> list[TrainingPair]:
    """One pair per positive, each with a negative drawn from ``negatives``."""
    if not negatives:
        return []
    neg_docs = sorted(negatives)
    pairs = []
    for doc, weight in sorted(positives.items()):
        neg_doc = rng.choice(neg_docs)
        pairs.append(
            TrainingPair(
                query=question.text,
                positive=_passage(index, doc, question.chunks.get(doc)),
                negative=_passage(index, neg_doc, question.chunks.get(neg_doc)),
                positive_doc=doc,
                negative_doc=neg_doc,
                negative_source=negatives[neg_doc],
                weight=weight,
            )
        )
    return pairs


def _passage(index: SearchIndex, doc_id: str, chunk_id: str | None) -> str:
    """The passage the user saw for a document (its first chunk when unknown)."""
    chunks = index.chunks_of(doc_id)
    if not chunks:
        raise KeyError(f"document {doc_id!r} is not in the index the feedback is applied to")
    chunk = next((c for c in chunks if c.id == chunk_id), chunks[0])
    return chunk.embedding_text(index.config.title_in_chunks)
