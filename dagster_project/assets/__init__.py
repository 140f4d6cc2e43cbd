"""The asset graph, one module per group: ingestion, indexing, evaluation, registry."""

from dagster_project.assets.evaluation import retrieval_evaluation
from dagster_project.assets.indexing import chunks, embeddings, index_version
from dagster_project.assets.ingestion import source_documents
from dagster_project.assets.registry import champion_alias, mlflow_run, registered_version

ALL_ASSETS = [
    source_documents,
    chunks,
    embeddings,
    index_version,
    retrieval_evaluation,
    mlflow_run,
    registered_version,
    champion_alias,
]

__all__ = ["ALL_ASSETS"]
