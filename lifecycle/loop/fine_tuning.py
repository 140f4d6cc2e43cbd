"""Fine-tuning the encoder on the training pairs with sentence-transformers' trainer."""

from __future__ import annotations

import random
import shutil
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from lifecycle.loop.loss import AllPassagesLoss
from lifecycle.loop.pairs import TrainingData
from search.index import SearchIndex


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
    config: FineTuneConfig = FineTuneConfig()

    def summary(self) -> dict:
        """What the run did and with which hyperparameters: printed by ``docsearch retrain``,
        logged to MLflow with the encoder, shown as Dagster metadata."""
        return {
            "base_model": self.base_model,
            "steps": self.steps,
            "examples": self.examples,
            "seconds": round(self.seconds, 1),
            "device": self.device,
            "final_loss": self.final_loss,
            "trained": self.trained,
            **asdict(self.config),
        }


def new_encoder_dir(models_dir: Path, data: TrainingData) -> Path:
    """A fresh folder for a fine-tuned encoder: named by its training data and the time, so a
    second run on the same pairs never overwrites weights an index version was built with."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(models_dir) / f"encoder-{data.fingerprint}-{stamp}"


def fine_tune(
    champion: SearchIndex,
    data: TrainingData,
    output_dir: Path,
    config: FineTuneConfig = FineTuneConfig(),
    device: str | None = None,
    log=print,
) -> FineTuneResult:
    """Fine-tune the champion's encoder on the training pairs; writes a model folder to
    ``output_dir`` that ``search.encoding.load_encoder`` loads.

    Query side only (the default): the loss is the cross-entropy of each (query, clicked
    document) pair over every document in the index, a document scoring its best chunk as at
    search time; the query's other positives are left out of the softmax. Both sides
    (``config.documents``): MultipleNegativesRankingLoss over (query, positive, hard negative),
    every other passage in the batch an extra negative (Henderson et al. 2017; DPR, Karpukhin
    et al. 2020). Uses the GPU when there is one. Nothing is reported to an experiment tracker
    (``report_to="none"``); whether models may be fetched from the hub is the caller's
    environment (``HF_HUB_OFFLINE``), which the CLI and the app set.
    """
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer

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
    drawn = _epoch_draws(data, config)
    # both sides start from the passage model; the query side from the query model in service
    # (a query encoder tuned before goes on learning)
    encoder = document_encoder(champion.encoder) if config.documents else champion.encoder
    model = SentenceTransformer(resolve_model(encoder.model_id), device=device)
    rows, loss = _examples_and_loss(model, champion, data, drawn, config)
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
        base_model=encoder.model_id,
        steps=steps,
        examples=len(drawn),
        seconds=time.perf_counter() - started,
        device=device,
        final_loss=losses[-1] if losses else None,
        trained="queries and documents" if config.documents else "queries",
        config=config,
    )


def _epoch_draws(data: TrainingData, config: FineTuneConfig) -> list[int]:
    """Inverse-propensity weighting by sampling: each epoch is drawn afresh, as many examples
    as there are pairs, each pair with probability proportional to its weight (one draw reused
    for every epoch would leave a third of the pairs out of training altogether)."""
    rng = random.Random(config.seed)
    weights = [p.weight for p in data.pairs]
    return [
        i
        for _ in range(config.epochs)
        for i in rng.choices(range(len(data.pairs)), weights=weights, k=len(data.pairs))
    ]


def _examples_and_loss(model, champion: SearchIndex, data, drawn, config: FineTuneConfig):
    """The training columns and the loss: (anchor, positive, negative) triples with
    MultipleNegativesRankingLoss for both sides, (anchor, pair index) with AllPassagesLoss for
    the query side."""
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    anchors = [data.pairs[i].query for i in drawn]
    if config.documents:
        rows = {
            "anchor": anchors,
            "positive": [data.pairs[i].positive for i in drawn],
            "negative": [data.pairs[i].negative for i in drawn],
        }
        return rows, MultipleNegativesRankingLoss(model)
    loss = AllPassagesLoss(
        model, champion, data.pairs, config.scale, config.seed, config.hard_negative_weight
    )
    return {"anchor": anchors, "label": drawn}, loss


def _train(model, loss, dataset, config: FineTuneConfig, device: str, output_dir: Path, log):
    """Run SentenceTransformerTrainer; returns (optimizer steps, logged losses)."""
    from sentence_transformers import (
        SentenceTransformerTrainer,
        SentenceTransformerTrainingArguments,
    )
    from sentence_transformers.base.sampler import BatchSamplers
    from transformers import PrinterCallback

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
        report_to="none",  # no experiment tracker (wandb and the like) is ever started
        use_cpu=device == "cpu",
        fp16=device == "cuda",
        dataloader_num_workers=0,
        disable_tqdm=True,
    )
    losses: list[float] = []
    trainer = SentenceTransformerTrainer(
        model=model,
        args=args,
        train_dataset=dataset,
        loss=loss,
        callbacks=[_progress_callback(losses, log)],
    )
    # without tqdm, transformers prints every log dict to stdout (which `--json` owns)
    trainer.remove_callback(PrinterCallback)
    try:
        trainer.train()
    finally:
        shutil.rmtree(checkpoints, ignore_errors=True)
    return int(trainer.state.global_step), losses


def _progress_callback(losses: list[float], log):
    """A trainer callback that keeps every logged loss and logs progress with a time left."""
    from transformers import TrainerCallback

    started = time.perf_counter()

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

    return _Progress()
