"""Drift and freshness of what serves, as checks that say what to do.

Four checks, each a figure, the environment's threshold (``search.settings.experiments``) and
an action when it fails:

- ``queries_near_evaluation``: the share of recent questions (people's, not the simulator's)
  whose nearest evaluation query (the labeled sets the gate uses) is below
  ``drift_min_similarity`` in the serving encoder's cosine. Above ``drift_max_far_share``
  the evaluation no longer speaks for the traffic: retrain on the feedback (and label some
  of those questions).
- ``query_words_known``: the mean share of a recent question's content words no document of
  the serving index uses (its corpus words and BM25 stems; a common English word counts too).
  Above ``drift_max_unknown_words`` people ask after what the documents lack: an alert.
- ``index_fresh``: documents new, changed or removed in the documents folder since the serving
  version was built (content hashes). Above ``freshness_max_stale_documents``: re-index.
- ``evaluation_recent``: hours since the newest evaluation logged to MLflow. Above
  ``freshness_max_evaluation_age_hours``: evaluate again.

The Dagster asset ``serving_health`` reports them as asset checks and ``health_sensor`` acts
on them; the monitoring page shows the same figures (``assess``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

QUERIES_NEAR_EVALUATION = "queries_near_evaluation"
QUERY_WORDS_KNOWN = "query_words_known"
INDEX_FRESH = "index_fresh"
EVALUATION_RECENT = "evaluation_recent"
CHECKS = (QUERIES_NEAR_EVALUATION, QUERY_WORDS_KNOWN, INDEX_FRESH, EVALUATION_RECENT)
RETRAIN, REINDEX, EVALUATE, ALERT = "retrain", "re-index", "evaluate", "alert"
PEOPLE = ("search", "api", "chat")  # query sources that are people (not the simulator)


@dataclass(frozen=True)
class HealthCheck:
    name: str
    value: float | None  # None: nothing to measure yet (no queries, say): passes
    threshold: float
    action: str  # what to do when it fails
    detail: str

    @property
    def passed(self) -> bool:
        return self.value is None or self.value <= self.threshold

    def as_dict(self) -> dict:
        return {**self.__dict__, "passed": self.passed}


def recent_questions(settings, now: pd.Timestamp | None = None) -> list[str]:
    """People's questions of the last ``drift_window_days``."""
    from lifecycle.feedback import FeedbackStore
    from lifecycle.monitoring import load_frames, of_sources

    store = FeedbackStore(settings.feedback_url)
    try:
        frames = of_sources(load_frames(store), PEOPLE)
    finally:
        store.close()
    queries = frames["queries"]
    if queries.empty:
        return []
    since = (now or pd.Timestamp.now(tz="UTC")) - pd.Timedelta(days=settings.drift_window_days)
    return queries.loc[queries["created_at"] >= since, "query"].astype(str).tolist()


def far_share(index, questions: list[str], evaluation: list[str], min_similarity: float):
    """Share of ``questions`` whose most similar ``evaluation`` query has cosine below
    ``min_similarity`` (the index's query encoder; vectors are unit length)."""
    if not questions or not evaluation:
        return None
    asked = np.asarray(index.encoder.encode_queries(questions))
    known = np.asarray(index.encoder.encode_queries(evaluation))
    nearest = (asked @ known.T).max(axis=1)
    return float((nearest < min_similarity).mean())


def unknown_share(index, questions: list[str]) -> float | None:
    """Mean share of a question's content words the index does not know."""
    from search.retrieval.forgiving import corrector_for

    if not questions:
        return None
    corrector = corrector_for(index, wait=None)
    return float(np.mean([corrector.unused_share(q) for q in questions]))


def stale_documents(settings, serving_path) -> tuple[int, list[str]]:
    """Documents of the documents folder (and the connected sources' mirrors) new, changed or
    gone since the serving version."""
    from lifecycle.builds import read_folder
    from search.index.changes import indexed_hashes

    indexed = indexed_hashes(serving_path)
    read = read_folder(settings, settings.docs)  # as a build reads it: links, sources and all
    now = {d.id: d.metadata.get("content_hash", "") for d in read.report.documents}
    changed = sorted(
        {d for d in now if indexed.get(d) != now[d]} | {d for d in indexed if d not in now}
    )
    return len(changed), changed


def evaluation_age_hours(settings, now: float | None = None) -> float | None:
    """Hours since the newest quality metric logged in the environment's MLflow experiment
    (None: never evaluated, which fails the check: an unevaluated version is not known good)."""
    from lifecycle.gate import is_quality_metric
    from lifecycle.registry import Registry

    try:
        registry = Registry.from_settings(settings)
        runs = registry.client.search_runs(
            [registry.experiment_id()], order_by=["attributes.start_time DESC"], max_results=20
        )
    except Exception:  # noqa: BLE001 - an unreachable registry: never evaluated, as far as known
        return None
    newest = 0
    for run in runs:
        quality = [k for k in run.data.metrics if is_quality_metric(k)]
        if not quality:
            continue
        # a build's run logs its evaluation as it ends; a re-scoring later logs with its time
        newest = max(newest, run.info.end_time or run.info.start_time or 0)
        for key in quality:
            history = registry.client.get_metric_history(run.info.run_id, key)
            newest = max([newest, *(m.timestamp for m in history)])
    if not newest:
        return None
    return ((now or time.time()) * 1000 - newest) / 3_600_000


def assess(settings, index, serving_path, evaluation: list[str]) -> list[HealthCheck]:
    """The four checks on what serves (``index`` at ``serving_path``)."""
    questions = recent_questions(settings)
    far = far_share(index, questions, evaluation, settings.drift_min_similarity)
    unknown = unknown_share(index, questions)
    stale, changed = stale_documents(settings, serving_path)
    age = evaluation_age_hours(settings)
    return [
        HealthCheck(
            QUERIES_NEAR_EVALUATION,
            far,
            settings.drift_max_far_share,
            RETRAIN,
            f"{len(questions)} questions of the last {settings.drift_window_days:g} days against "
            f"{len(evaluation)} evaluation queries; far = nearest cosine below "
            f"{settings.drift_min_similarity:g}",
        ),
        HealthCheck(
            QUERY_WORDS_KNOWN,
            unknown,
            settings.drift_max_unknown_words,
            ALERT,
            f"mean share of a question's content words the index does not know, over "
            f"{len(questions)} questions",
        ),
        HealthCheck(
            INDEX_FRESH,
            float(stale),
            float(settings.freshness_max_stale_documents),
            REINDEX,
            "documents changed since the serving version: " + (", ".join(changed[:5]) or "none"),
        ),
        HealthCheck(
            EVALUATION_RECENT,
            age if age is not None else float("inf"),
            settings.freshness_max_evaluation_age_hours,
            EVALUATE,
            "hours since the newest evaluation in MLflow"
            + ("" if age is not None else ": never evaluated"),
        ),
    ]


def evaluation_queries(settings) -> list[str]:
    """The queries of every labeled set the environment evaluates on."""
    from evaluation.beir import load_labeled_set

    out: list[str] = []
    for root in settings.labeled_sets().values():
        try:
            out += list(load_labeled_set(root, with_documents=False).queries.values())
        except (OSError, ValueError):
            continue  # a labeled set that cannot be read measures nothing here
    return out


def serving_health(settings) -> list[HealthCheck]:
    """The checks on the version that serves now (what the Dagster asset and the monitoring
    page call); empty when nothing serves yet."""
    from lifecycle.serving import LoadedIndexes, resolve_serving

    served = resolve_serving(settings)
    if served is None:
        return []
    index = LoadedIndexes(keep=1).index(served)
    return assess(settings, index, served.path, evaluation_queries(settings))
