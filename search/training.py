"""Learning from feedback: training pairs with hard negatives, encoder fine-tuning, fusion re-fit."""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from search.feedback import Impression, query_key
from search.index import SearchIndex

# Position bias: a result at rank r is examined with probability (1 / r) ** ETA (Joachims et al.,
# "Unbiased Learning-to-Rank with Biased Feedback", WSDM 2017). A click deep in the list is
# stronger evidence than one at rank 1, so positives are weighted by the inverse propensity
# r ** ETA (clipped). Negatives come only from results the cascade model says were examined:
# shown above a click and skipped, or voted down.
ETA = 1.0
MAX_PROPENSITY_WEIGHT = 5


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

    @property
    def fingerprint(self) -> str:
        digest = hashlib.sha256()
        for pair in self.pairs:
            digest.update(json.dumps(asdict(pair), sort_keys=True).encode())
        digest.update(json.dumps(self.validation_qrels, sort_keys=True).encode())
        return digest.hexdigest()[:16]

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
        )


def is_validation(key: str, fraction: float) -> bool:
    """Deterministic split by query: the same question always lands on the same side."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < fraction


def build_training_data(
    impressions: Iterable[Impression],
    index: SearchIndex,
    validation_fraction: float = 0.2,
    seed: int = 13,
) -> TrainingData:
    """Turn logged impressions into de-duplicated training pairs and a validation slice.

    Per distinct (normalised) query: positives are clicked or up-voted documents; negatives are
    documents skipped above a click or voted down. When a query has positives but no such
    negative, the highest-ranked shown result that is not a positive is used instead, and failing
    that the top BM25 document that is not a positive. Passages are the chunks that were shown.
    """
    rng = random.Random(seed)
    per_query: dict[str, dict] = {}
    query_ids: list[int] = []
    versions: list[str] = []
    for imp in impressions:
        key, text = query_key(imp.query)
        votes = imp.votes_in_force()
        positives = imp.clicked() | {d for d, v in votes.items() if v > 0}
        negatives_down = {d for d, v in votes.items() if v < 0}
        if not positives and not negatives_down:
            continue
        entry = per_query.setdefault(
            key, {"text": text, "pos": {}, "neg": {}, "shown": {}, "chunks": {}}
        )
        query_ids.append(imp.query_id)
        if imp.index_version not in versions:
            versions.append(imp.index_version)
        ranks = {s.doc_id: s.rank for s in imp.shown}
        for s in imp.shown:
            entry["chunks"].setdefault(s.doc_id, s.chunk_id)
            entry["shown"][s.doc_id] = min(s.rank, entry["shown"].get(s.doc_id, s.rank))
        for doc in positives:
            weight = min(MAX_PROPENSITY_WEIGHT, round(ranks.get(doc, 1) ** ETA))
            entry["pos"][doc] = max(entry["pos"].get(doc, 0), weight)
        for doc in imp.skipped():
            entry["neg"].setdefault(doc, "skipped")
        for doc in negatives_down:
            entry["neg"][doc] = "voted_down"

    pairs: list[TrainingPair] = []
    val_queries: dict[str, str] = {}
    val_qrels: dict[str, dict[str, int]] = {}
    fallback_negatives = 0
    for key in sorted(per_query):
        entry = per_query[key]
        positives = entry["pos"]
        negatives = {d: s for d, s in entry["neg"].items() if d not in positives}
        if not positives:
            continue
        if is_validation(key, validation_fraction):
            val_queries[key] = entry["text"]
            val_qrels[key] = {d: 1 for d in positives}
            continue
        if not negatives:
            shown = sorted((r, d) for d, r in entry["shown"].items() if d not in positives)
            if shown:
                negatives = {shown[0][1]: "shown_unclicked"}
            else:
                for result in index.search(entry["text"], k=10, method="bm25"):
                    if result.doc_id not in positives:
                        negatives = {result.doc_id: "bm25"}
                        entry["chunks"].setdefault(result.doc_id, result.chunk_id)
                        break
            fallback_negatives += bool(negatives)
        if not negatives:
            continue
        neg_docs = sorted(negatives)
        for doc, weight in sorted(positives.items()):
            neg_doc = rng.choice(neg_docs)
            pairs.append(
                TrainingPair(
                    query=entry["text"],
                    positive=_passage(index, doc, entry["chunks"].get(doc)),
                    negative=_passage(index, neg_doc, entry["chunks"].get(neg_doc)),
                    positive_doc=doc,
                    negative_doc=neg_doc,
                    negative_source=negatives[neg_doc],
                    weight=weight,
                )
            )
    stats = {
        "queries_with_feedback": len(per_query),
        "training_queries": len({p.query for p in pairs}),
        "pairs": len(pairs),
        "weighted_pairs": sum(p.weight for p in pairs),
        "validation_queries": len(val_queries),
        "fallback_negatives": fallback_negatives,
        "feedback_events": len(query_ids),
    }
    return TrainingData(pairs, val_queries, val_qrels, query_ids, versions, stats)


def _passage(index: SearchIndex, doc_id: str, chunk_id: str | None) -> str:
    """The passage the user saw for a document (its first chunk when unknown)."""
    chunks = index.chunks_of(doc_id)
    if not chunks:
        raise KeyError(f"document {doc_id!r} is not in the index the feedback is applied to")
    chunk = next((c for c in chunks if c.id == chunk_id), chunks[0])
    return chunk.embedding_text(index.config.title_in_chunks)


@dataclass(frozen=True)
class FineTuneConfig:
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 3e-5
    warmup_ratio: float = 0.1
    max_seq_length: int = 256
    seed: int = 13


@dataclass(frozen=True)
class FineTuneResult:
    path: Path
    base_model: str
    steps: int
    examples: int
    seconds: float
    device: str
    final_loss: float | None


def fine_tune(
    base_model: str,
    data: TrainingData,
    output_dir: Path,
    config: FineTuneConfig = FineTuneConfig(),
    device: str | None = None,
    log=print,
) -> FineTuneResult:
    """Fine-tune a sentence-transformers encoder with MultipleNegativesRankingLoss.

    Each example is (query, positive, hard negative); every other positive and negative in the
    batch is an extra in-batch negative (Henderson et al. 2017; Karpukhin et al. 2020, DPR).
    Uses the GPU when there is one. Writes a complete model folder to ``output_dir``.
    """
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("WANDB_DISABLED", "true")
    from datasets import Dataset
    from sentence_transformers import (
        SentenceTransformer,
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss
    from transformers import TrainerCallback

    from search.encoder import pick_device, resolve_model

    if not data.pairs:
        raise ValueError("No training pairs: collect more feedback (clicks or votes) first.")
    device = device or pick_device()
    started = time.perf_counter()
    model = SentenceTransformer(resolve_model(base_model), device=device)
    serving_length = model.max_seq_length
    model.max_seq_length = config.max_seq_length  # shorter while training: far cheaper on a CPU
    # Inverse-propensity weighting by sampling: an epoch holds as many examples as there are
    # pairs, drawn with probability proportional to each pair's weight.
    rng = random.Random(config.seed)
    drawn = rng.choices(data.pairs, weights=[p.weight for p in data.pairs], k=len(data.pairs))
    rows = {
        "anchor": [p.query for p in drawn],
        "positive": [p.positive for p in drawn],
        "negative": [p.negative for p in drawn],
    }
    dataset = Dataset.from_dict(rows)
    output_dir = Path(output_dir)
    checkpoints = output_dir.parent / f".{output_dir.name}-checkpoints"
    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=config.epochs,
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_ratio=config.warmup_ratio,
        batch_sampler=BatchSamplers.NO_DUPLICATES,
        seed=config.seed,
        save_strategy="no",
        logging_steps=5,
        report_to="none",
        use_cpu=device == "cpu",
        fp16=device == "cuda",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    losses: list[float] = []

    class _Progress(TrainerCallback):
        def on_log(self, _args, state, _control, logs=None, **_kwargs):
            if logs and "loss" in logs:
                losses.append(float(logs["loss"]))
                elapsed = time.perf_counter() - started
                done, total = state.global_step, state.max_steps
                left = elapsed / max(done, 1) * (total - done)
                log(
                    f"fine-tune: step {done}/{total}, loss {logs['loss']:.4f}, about {left:.0f}s left"
                )

    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=MultipleNegativesRankingLoss(model),
        callbacks=[_Progress()],
    )
    trainer.train()
    output_dir.mkdir(parents=True, exist_ok=True)
    model.max_seq_length = serving_length  # encode whole chunks when serving
    model.save(str(output_dir))
    import shutil

    shutil.rmtree(checkpoints, ignore_errors=True)
    return FineTuneResult(
        path=output_dir,
        base_model=base_model,
        steps=int(trainer.state.global_step),
        examples=len(dataset),
        seconds=time.perf_counter() - started,
        device=device,
        final_loss=losses[-1] if losses else None,
    )
