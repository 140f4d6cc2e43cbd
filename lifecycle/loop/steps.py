"""One turn of the learning loop as five steps: collect impressions -> prepare the training
data -> train the encoder -> build and store the challenger -> judge it.

``retrain`` composes them for ``docsearch retrain`` and ``make bench-loop``; each Dagster
training asset calls one of them. Every choice of the loop (which feedback counts, where the
training data goes, what the fine-tune summary holds, which labeled sets may judge an index,
what MLflow records) is made here once, so the two paths cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from evaluation import flat_metrics
from evaluation.metrics import Evaluation
from lifecycle.experiments.decisions import OnlineGate
from lifecycle.feedback import FeedbackStore, Impression
from lifecycle.gate import EvidencePolicy, GateDecision, GatePolicy, decide, gain_evidence
from lifecycle.loop.challenger import build_challenger, challenger_policy, fit_metrics
from lifecycle.loop.evaluation_sets import (
    EvalSet,
    covers,
    evaluate_on,
    feedback_set,
)
from lifecycle.loop.fine_tuning import FineTuneConfig, fine_tune, new_encoder_dir
from lifecycle.loop.mixing import Mixture, choose_mixture
from lifecycle.loop.pairs import (
    VALIDATION_FRACTION,
    TrainingData,
    build_training_data,
    training_data_dir,
)
from lifecycle.loop.records import lineage_tags, log_encoder, record_challenger
from lifecycle.registry import Registry
from lifecycle.serving import resolve_serving
from search.encoding import EmbeddingCache
from search.index import IndexStore, SearchIndex
from search.settings import Settings

Log = Callable[[str], None]


@dataclass(frozen=True)
class ChampionIndex:
    """The index version a turn learns from and is compared with, and the store of versions
    its challenger is written to."""

    index: SearchIndex
    version: str
    store: IndexStore

    @classmethod
    def load(cls, store: IndexStore, version: str) -> ChampionIndex:
        return cls(store.load(version), version, store)


def serving_champion(settings: Settings, store: IndexStore) -> ChampionIndex:
    """What serves now: the MLflow champion when the registry has one, else ``store``'s current
    version."""
    serving = resolve_serving(settings)
    if serving is None:
        raise LookupError(
            f"No index serves from {store.root} yet: build one first (`docsearch build`, or "
            "Dagster's index_job)."
        )
    return ChampionIndex.load(store, Path(serving.path).name)


# ------------------------------------------------------------------------ 1. collect impressions
def collect_impressions(feedback_url: str, store: IndexStore) -> list[Impression]:
    """Every impression shown on a version of ``store``'s index, oldest first: feedback on
    other indexes that share the feedback store is not this index's to learn from."""
    versions = set(store.versions())
    feedback = FeedbackStore(feedback_url)
    try:
        return [i for i in feedback.impressions() if i.index_version in versions]
    finally:
        feedback.close()


# --------------------------------------------------------------------- 2. prepare training data
@dataclass(frozen=True)
class PreparedData:
    data: TrainingData
    path: Path  # where it was saved: <home>/training/<fingerprint>


def prepare_training_data(
    impressions: Iterable[Impression],
    champion: ChampionIndex,
    home: Path,
    validation_fraction: float = VALIDATION_FRACTION,
    log: Log = print,
) -> PreparedData:
    """Training pairs and the held-back feedback from the impressions, saved under ``home``
    with the feedback event ids and index versions behind them (lineage)."""
    data = build_training_data(impressions, champion.index, validation_fraction)
    path = training_data_dir(home, data)
    data.save(path)
    log(f"training data {data.fingerprint}: {data.stats}")
    return PreparedData(data, path)


# ---------------------------------------------------------------------------- 3. train encoder
@dataclass(frozen=True)
class TrainedEncoder:
    path: Path  # the fine-tuned model folder (``search.encoding.load_encoder`` loads it)
    summary: dict  # FineTuneResult.summary(): the run and its hyperparameters
    mlflow_run: str | None = None  # set when the encoder was logged to a registry
    mlflow_version: str | None = None  # its ``docsearch-encoder`` model version


def train_encoder(
    champion: ChampionIndex,
    data: TrainingData,
    models_dir: Path,
    config: FineTuneConfig = FineTuneConfig(),
    registry: Registry | None = None,
    log: Log = print,
) -> TrainedEncoder:
    """Fine-tune the champion's encoder into a new folder under ``models_dir``, its query side
    mixed with the encoder it started from by the weight the held-back feedback prefers
    (``lifecycle.loop.mixing``; both sides trained: as trained, since every weight would
    re-encode the corpus); with a ``registry`` the folder is logged and registered as a
    ``docsearch-encoder`` version."""
    result = fine_tune(champion.index, data, new_encoder_dir(models_dir, data), config, log=log)
    mixture = Mixture()
    if not config.documents:
        mixture = choose_mixture(champion.index, result.base_model, result.path, data, log=log)
    summary = result.summary() | mixture.summary()
    if registry is None:
        return TrainedEncoder(result.path, summary)
    run_id, version = log_encoder(registry, result.path, summary, data)
    return TrainedEncoder(result.path, summary, run_id, version)


# ------------------------------------------------------------------- 4. build and store challenger
@dataclass(frozen=True)
class ChallengerBuild:
    """A challenger written to the store (not current) and what its build measured. The fit's
    grid travels with it, so the judging step logs it beside the evaluation."""

    version: str
    path: Path
    dense_weight: float
    weight_grid: dict[float, float]  # dense weight -> validation nDCG@10
    memory_questions: int
    chunks_embedded: int
    encode_seconds: float


def build_challenger_version(
    champion: ChampionIndex,
    encoder_path: Path,
    data: TrainingData,
    cache_path: Path,
    log: Log = print,
) -> tuple[SearchIndex, ChallengerBuild]:
    """The challenger (``lifecycle.loop.challenger.build_challenger``), written to the
    champion's store as a new version that does not serve yet."""
    cache = EmbeddingCache(cache_path)
    try:
        challenger, grid = build_challenger(champion.index, Path(encoder_path), data, cache)
    finally:
        cache.close()
    version = champion.store.write(challenger, activate=False)
    log(
        f"challenger {version}: choice memory of {len(challenger.memory or ())} questions, "
        f"dense weight {challenger.config.dense_weight} (validation nDCG@10 {grid})"
    )
    return challenger, ChallengerBuild(
        version=version,
        path=champion.store.path(version),
        dense_weight=challenger.config.dense_weight,
        weight_grid=dict(grid),
        memory_questions=len(challenger.memory or ()),
        chunks_embedded=challenger.build_stats.chunks_embedded,
        encode_seconds=challenger.build_stats.encode_seconds,
    )


# ---------------------------------------------------------------------------------- 5. judge
@dataclass(frozen=True)
class Judgement:
    """The gate's verdict on a challenger and the evaluations behind it."""

    promoted: bool
    reason: str
    decision: GateDecision  # the verdict (promote, reject, keep collecting) and its evidence
    gated: tuple[EvalSet, ...]  # the held-back feedback, then the trusted labeled sets
    reported: tuple[EvalSet, ...]  # measured only, never part of the decision
    skipped: tuple[str, ...]  # labeled sets left out: the index lacks documents they judge
    before: dict[str, Evaluation]  # set name -> the champion as it serves
    after: dict[str, Evaluation]  # set name -> the challenger as it would serve
    mlflow: dict = field(default_factory=dict)  # runs and versions, when a registry recorded it

    @property
    def measured(self) -> tuple[EvalSet, ...]:
        return self.gated + self.reported


def judge_challenger(
    champion: ChampionIndex,
    challenger: SearchIndex,
    build: ChallengerBuild,
    data: TrainingData,
    *,
    gate_sets: Iterable[EvalSet] = (),
    report_sets: Iterable[EvalSet] = (),
    tolerance: float = GatePolicy.tolerance,
    evidence: EvidencePolicy | None = EvidencePolicy(),
    registry: Registry | None = None,
    encoder: TrainedEncoder | None = None,
    tags: Mapping[str, str] | None = None,
    online: OnlineGate | None = None,
    log: Log = print,
) -> Judgement:
    """Evaluate champion and challenger on the held-back feedback, the ``gate_sets`` and the
    ``report_sets`` (labeled sets whose judged documents the index lacks are left out), and
    decide with ``challenger_policy``: with ``evidence``, the gain must be significant on
    enough of the gated sets' queries (``lifecycle.gate.EvidencePolicy``). Without a registry a promoted challenger becomes the
    store's current version; with one, it is logged and registered beside the ``encoder``
    (which ``train_encoder`` must have logged to it) with ``tags`` added to its lineage, and
    the registry moves the aliases (and the store's current version). Where the environment
    wants an online win (``online.required``), a challenger that passes stays challenger and
    an interleaving experiment with the champion starts instead."""
    gated, reported, skipped = _choose_sets(champion.index, data, gate_sets, report_sets)
    if skipped:
        log(f"not judged on {', '.join(skipped)}: the index lacks documents they judge")
    before = evaluate_on(champion.index, gated + reported)
    after = evaluate_on(challenger, gated + reported)
    policy = challenger_policy([s.name for s in gated], tolerance, evidence)
    proof = gain_evidence(before, after, policy.sets, evidence.metric) if evidence else None
    if registry is None:
        verdict = decide(flat_metrics(after), flat_metrics(before), policy, proof)
        if verdict.promote:
            champion.store.activate(build.version)
        promoted, recorded = verdict.promote, {}
    else:
        hold = online is not None and online.required
        recorded = _record(
            registry, champion, challenger, build, data, (before, after, proof), policy, encoder,
            tags, hold,
        )  # fmt: skip
        promoted, verdict = recorded["promoted"], recorded.pop("decision")
        if recorded["held_for_online"]:
            experiment = online.start(registry, recorded["challenger_version"])
            recorded["experiment"] = experiment.id
            log(f"online: interleaving experiment {experiment.id} decides the promotion")
        elif promoted and online is not None:
            canary = online.after_promotion(
                registry, recorded["champion_version_before"], recorded["challenger_version"]
            )
            if canary is not None:
                recorded["canary"] = canary.id
                log(f"online: canary {canary.id} serves the new champion to a share first")
    log(f"gate: {'promote' if promoted else 'keep the champion'}: {verdict.reason}")
    return Judgement(
        promoted, verdict.reason, verdict, gated, reported, skipped, before, after, recorded
    )


def _choose_sets(
    index: SearchIndex,
    data: TrainingData,
    gate_sets: Iterable[EvalSet],
    report_sets: Iterable[EvalSet],
) -> tuple[tuple[EvalSet, ...], tuple[EvalSet, ...], tuple[str, ...]]:
    """(gated, reported, skipped names): the held-back feedback always decides; a labeled set
    takes part only when the index holds every document it judges (one without queries, such
    as a held-back split no question fell into, has nothing to measure and is dropped)."""
    gate_sets = [s for s in gate_sets if s.queries]
    report_sets = [s for s in report_sets if s.queries]
    gated = (feedback_set(data), *(s for s in gate_sets if covers(index, s)))
    reported = tuple(s for s in report_sets if covers(index, s))
    skipped = tuple(s.name for s in gate_sets + report_sets if not covers(index, s))
    return gated, reported, skipped


def _record(
    registry: Registry,
    champion: ChampionIndex,
    challenger: SearchIndex,
    build: ChallengerBuild,
    data: TrainingData,
    judged: tuple,  # (before, after, the paired evidence or None)
    policy: GatePolicy,
    encoder: TrainedEncoder | None,
    tags: Mapping[str, str] | None,
    hold: bool = False,
) -> dict:
    """Log and register the challenger with its lineage and fit; the registry decides."""
    before, after, proof = judged
    if encoder is None or encoder.mlflow_run is None:
        raise ValueError(
            "The challenger's encoder is not in the registry: run train_encoder with the same "
            "registry before judging."
        )
    lineage = lineage_tags(
        encoder.mlflow_version, encoder.mlflow_run, data.fingerprint, champion.version
    )
    return record_challenger(
        registry,
        Path(build.path),
        champion.version,
        before,
        after,
        policy,
        lineage={**lineage, **(tags or {})},
        metrics=fit_metrics(challenger, build.weight_grid),
        evidence=proof,
        hold=hold,
    )
