"""Learning from feedback: training pairs with hard negatives, encoder fine-tuning, fusion re-fit."""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch

from lifecycle.feedback import Impression, query_key
from search.index import SearchIndex

# Position bias: a result at rank r is examined with probability (1 / r) ** ETA (Joachims et al.,
# "Unbiased Learning-to-Rank with Biased Feedback", WSDM 2017). A click deep in the list is
# stronger evidence than one at rank 1, so positives are weighted by the inverse propensity
# r ** ETA (clipped). Negatives come only from results the cascade model says were examined:
# shown above a click and skipped, or voted down.
ETA = 1.0
MAX_PROPENSITY_WEIGHT = 5
VALIDATION_FRACTION = 0.2  # share of distinct questions held back from training


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

    def choices(self) -> dict[str, set[str]]:
        """``{question: documents users chose for it}`` over the training questions (never the
        held-back ones): what a choice memory remembers."""
        chosen: dict[str, set[str]] = {}
        for pair in self.pairs:
            chosen.setdefault(pair.query, set()).add(pair.positive_doc)
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


def new_encoder_dir(models_dir: Path, data: TrainingData) -> Path:
    """A fresh folder for a fine-tuned encoder: named by its training data and the time, so a
    second run on the same pairs never overwrites weights an index version was built with."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(models_dir) / f"encoder-{data.fingerprint}-{stamp}"


def is_validation(key: str, fraction: float) -> bool:
    """Deterministic split by query: the same question always lands on the same side."""
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
    return bucket < fraction


def build_training_data(
    impressions: Iterable[Impression],
    index: SearchIndex,
    validation_fraction: float = VALIDATION_FRACTION,
    seed: int = 13,
) -> TrainingData:
    """Turn logged impressions into de-duplicated training pairs and a validation slice.

    Per distinct (normalised) query: positives are clicked or up-voted documents (not those the
    same user then voted down); negatives are documents skipped above a click or voted down.
    When a query has positives but no such negative, the highest-ranked shown result that is not
    a positive is used instead, and failing that the top BM25 document that is not a positive.
    Passages are the chunks that were shown.
    """
    rng = random.Random(seed)
    per_query: dict[str, dict] = {}
    query_ids: list[int] = []
    versions: list[str] = []
    for imp in impressions:
        key, text = query_key(imp.query)
        votes = imp.votes_in_force()
        negatives_down = {d for d, v in votes.items() if v < 0}
        # a thumbs-down after a click says the click was a mistake: a negative, not a positive
        positives = (imp.clicked() | {d for d, v in votes.items() if v > 0}) - negatives_down
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
            # Judged: every result shown. A clicked or up-voted one has its inverse-propensity
            # weight as gain, the rest 0; scored on condensed lists (unshown documents removed),
            # DCG is then the IPS estimate of the DCG of the relevant shown documents under the
            # position-bias model (Joachims et al. 2017): no bias toward the champion that
            # showed them, and (unlike judging only results above a click) no reward for
            # reordering them at random.
            val_qrels[key] = {**{d: 0 for d in entry["shown"]}, **positives}
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
    """Hyperparameters of one fine-tuning run.

    By default only the query side is trained, against the champion's stored passage vectors:
    every passage in the index is a negative for every query (not only the few in a batch), and
    the challenger reuses the champion's vectors, so the corpus is never re-encoded. That fits a
    2-core machine. ``documents=True`` fine-tunes one shared model for both sides instead (in-batch
    plus hard negatives); the challenger then re-encodes every chunk, which wants a GPU.
    """

    # tuned on SciFact train (held-back questions' labels and the validation feedback): lr 2e-4
    # over 1e-4, 8 epochs over 12 and 16, scale 40 over 20 and 30, hard negatives 5x over 1x
    epochs: int = 8
    batch_size: int = 32
    learning_rate: float = 2e-4
    warmup_ratio: float = 0.1
    max_seq_length: int = 128  # tokens per text while training (queries are far shorter)
    # query side: cosine similarities times this before the softmax; both sides use
    # MultipleNegativesRankingLoss's own scale (20)
    scale: float = 40.0
    hard_negative_weight: float = 5.0  # query side: a skipped or voted-down result counts 5 times
    documents: bool = False
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
    trained: str  # "queries" or "queries and documents"


# Above this many chunks the negatives of query-side training are a fixed random sample of the
# index (plus every chunk of the documents in the training pairs), so memory stays bounded.
MAX_NEGATIVE_CHUNKS = 500_000


def fine_tune(
    champion: SearchIndex,
    data: TrainingData,
    output_dir: Path,
    config: FineTuneConfig = FineTuneConfig(),
    device: str | None = None,
    log=print,
) -> FineTuneResult:
    """Fine-tune the champion's encoder on the training pairs; writes a model folder to
    ``output_dir`` that ``search.encoding.encoder.load_encoder`` loads.

    Query side only (the default): the loss is the cross-entropy of each (query, clicked
    document) pair over every document in the index, a document scoring its best chunk as at
    search time; the query's other positives are left out of the softmax. Both sides
    (``config.documents``): MultipleNegativesRankingLoss over (query, positive, hard negative),
    every other passage in the batch an extra negative (Henderson et al. 2017; DPR, Karpukhin
    et al. 2020). Uses the GPU when there is one.
    """
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("WANDB_DISABLED", "true")
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    from search.encoding import (
        document_encoder,
        pick_device,
        resolve_model,
        write_query_encoder_pairing,
    )

    if not data.pairs:
        raise ValueError("No training pairs: collect more feedback (clicks or votes) first.")
    device = device or pick_device()
    started = time.perf_counter()
    # Inverse-propensity weighting by sampling: each epoch is drawn afresh, as many examples as
    # there are pairs, each pair with probability proportional to its weight (one draw reused
    # for every epoch would leave a third of the pairs out of training altogether).
    rng = random.Random(config.seed)
    weights = [p.weight for p in data.pairs]
    drawn = [
        i
        for _ in range(config.epochs)
        for i in rng.choices(range(len(data.pairs)), weights=weights, k=len(data.pairs))
    ]
    # both sides start from the passage model; the query side from the query model in service
    # (a query encoder tuned before goes on learning)
    encoder = document_encoder(champion.encoder) if config.documents else champion.encoder
    base_model = encoder.model_id
    model = SentenceTransformer(resolve_model(base_model), device=device)
    if config.documents:
        rows = {
            "anchor": [data.pairs[i].query for i in drawn],
            "positive": [data.pairs[i].positive for i in drawn],
            "negative": [data.pairs[i].negative for i in drawn],
        }
        loss = MultipleNegativesRankingLoss(model)
    else:
        loss = AllPassagesLoss(
            model, champion, data.pairs, config.scale, config.seed, config.hard_negative_weight
        )
        rows = {"anchor": [data.pairs[i].query for i in drawn], "label": drawn}
    serving_length = model.max_seq_length
    model.max_seq_length = config.max_seq_length  # shorter while training: far cheaper on a CPU
    steps, losses = _train(model, loss, Dataset.from_dict(rows), config, device, output_dir, log)
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    model.max_seq_length = serving_length  # encode whole chunks when serving
    model.save(str(output_dir))
    if not config.documents:
        write_query_encoder_pairing(output_dir, document_encoder(champion.encoder))
    return FineTuneResult(
        path=output_dir,
        base_model=base_model,
        steps=steps,
        examples=len(drawn),
        seconds=time.perf_counter() - started,
        device=device,
        final_loss=losses[-1] if losses else None,
        trained="queries and documents" if config.documents else "queries",
    )


def _train(model, loss, dataset, config: FineTuneConfig, device: str, output_dir: Path, log):
    """Run SentenceTransformerTrainer; returns (optimizer steps, logged losses)."""
    import shutil

    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers import PrinterCallback, TrainerCallback

    started = time.perf_counter()
    output_dir = Path(output_dir)
    checkpoints = output_dir.parent / f".{output_dir.name}-checkpoints"
    args = SentenceTransformerTrainingArguments(
        output_dir=str(checkpoints),
        num_train_epochs=1,  # the dataset already holds every epoch's draw
        per_device_train_batch_size=config.batch_size,
        learning_rate=config.learning_rate,
        warmup_steps=config.warmup_ratio,  # a float below 1: a fraction of all steps
        batch_sampler=BatchSamplers.NO_DUPLICATES
        if config.documents
        else BatchSamplers.BATCH_SAMPLER,
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
        model=model, args=args, train_dataset=dataset, loss=loss, callbacks=[_Progress()]
    )
    # without tqdm, transformers prints every log dict to stdout (which `--json` owns)
    trainer.remove_callback(PrinterCallback)
    try:
        trainer.train()
    finally:
        shutil.rmtree(checkpoints, ignore_errors=True)
    return int(trainer.state.global_step), losses


class AllPassagesLoss(torch.nn.Module):
    """Cross-entropy of a query over every document of a fixed index (ADORE-style training:
    Zhan et al., SIGIR 2021). A document scores its best chunk, as at search time; the passage
    vectors stay fixed, so only the query encoder learns. The label of an example is the index of
    its TrainingPair; other documents clicked for the same query are left out of the softmax.
    A negative the user surely examined (skipped above a click, or voted down) counts
    ``hard_negative_weight`` times in the softmax's denominator."""

    def __init__(
        self,
        model,
        index: SearchIndex,
        pairs: list[TrainingPair],
        scale: float,
        seed: int,
        hard_negative_weight: float = 1.0,
    ):
        super().__init__()
        self.model = model
        self.scale = scale
        doc_row = {d: i for i, d in enumerate(index.doc_ids)}
        vectors = index.dense.vectors()
        chunk_docs = np.array([doc_row[c.doc_id] for c in index.chunks], dtype=np.int64)
        if len(vectors) > MAX_NEGATIVE_CHUNKS:
            needed = {doc_row[d] for p in pairs for d in (p.positive_doc, p.negative_doc)}
            keep = np.isin(chunk_docs, list(needed))
            sample = np.random.default_rng(seed).choice(
                len(vectors), MAX_NEGATIVE_CHUNKS, replace=False
            )
            keep[sample] = True
            vectors, chunk_docs = vectors[keep], chunk_docs[keep]
        self.n_docs = len(index.doc_ids)
        self.register_buffer("passages", torch.from_numpy(np.ascontiguousarray(vectors)))
        self.register_buffer("chunk_docs", torch.from_numpy(chunk_docs))
        positives_of: dict[str, set[int]] = {}
        for p in pairs:
            positives_of.setdefault(p.query, set()).add(doc_row[p.positive_doc])
        width = max(len(v) for v in positives_of.values())
        target = torch.tensor([doc_row[p.positive_doc] for p in pairs])
        others = torch.full((len(pairs), width), -1, dtype=torch.long)
        for row, p in enumerate(pairs):
            rest = sorted(positives_of[p.query] - {doc_row[p.positive_doc]})
            others[row, : len(rest)] = torch.tensor(rest, dtype=torch.long)
        self.register_buffer("target", target)
        self.register_buffer("others", others)
        examined = [p.negative_source in ("skipped", "voted_down") for p in pairs]
        self.register_buffer("negative", torch.tensor([doc_row[p.negative_doc] for p in pairs]))
        boost = torch.tensor([math.log(hard_negative_weight) if e else 0.0 for e in examined])
        self.register_buffer("negative_boost", boost)

    def forward(self, sentence_features, labels: torch.Tensor) -> torch.Tensor:
        query = self.model(sentence_features[0])["sentence_embedding"]
        query = torch.nn.functional.normalize(query, dim=-1)
        passages = self.passages.to(query.device)
        scores = query @ passages.T
        index = self.chunk_docs.to(query.device).expand(len(query), -1)
        docs = torch.full((len(query), self.n_docs), -1.0, device=query.device, dtype=scores.dtype)
        docs = docs.scatter_reduce(1, index, scores, reduce="amax", include_self=True)
        logits = docs * self.scale
        labels = labels.to(self.target.device)
        others = self.others[labels].to(query.device)
        # padding (-1) goes to an extra column that is dropped
        others = torch.where(others >= 0, others, self.n_docs)
        mask = torch.zeros((len(query), self.n_docs + 1), dtype=torch.bool, device=query.device)
        mask.scatter_(1, others, True)
        logits = logits.masked_fill(mask[:, : self.n_docs], float("-inf"))
        boost = torch.zeros_like(logits).scatter_(
            1,
            self.negative[labels].to(query.device)[:, None],
            self.negative_boost[labels].to(query.device, logits.dtype)[:, None],
        )
        logits = logits + boost
        target = self.target[labels].to(query.device)
        return torch.nn.functional.cross_entropy(logits, target)
