"""The asset graph, one module per group: sources, ingestion, indexing, evaluation, registry,
training, monitoring."""

from dagster_project.assets.batches import chunks, embeddings
from dagster_project.assets.evaluation import retrieval_evaluation
from dagster_project.assets.feedback import feedback_events
from dagster_project.assets.health import online_experiments, serving_health
from dagster_project.assets.indexing import index_version
from dagster_project.assets.ingestion import source_documents
from dagster_project.assets.registry import champion_alias, mlflow_run, registered_version
from dagster_project.assets.sources import source_mirror, sources_fresh
from dagster_project.assets.training import (
    challenger_decision,
    challenger_index,
    fine_tuned_encoder,
    training_pairs,
)

INDEX_ASSETS = [
    source_documents,
    chunks,
    embeddings,
    index_version,
    retrieval_evaluation,
    mlflow_run,
    registered_version,
    champion_alias,
]
TRAINING_ASSETS = [
    feedback_events,
    training_pairs,
    fine_tuned_encoder,
    challenger_index,
    challenger_decision,
]

SOURCE_ASSETS = [source_mirror]
SOURCE_CHECKS = [sources_fresh]
MONITORING_ASSETS = [serving_health, online_experiments]

ALL_ASSETS = SOURCE_ASSETS + INDEX_ASSETS + TRAINING_ASSETS + MONITORING_ASSETS

__all__ = [
    "ALL_ASSETS",
    "INDEX_ASSETS",
    "MONITORING_ASSETS",
    "SOURCE_ASSETS",
    "SOURCE_CHECKS",
    "TRAINING_ASSETS",
]
