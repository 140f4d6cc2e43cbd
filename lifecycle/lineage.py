"""Lineage of an answer: from a logged query (its ``query_id``, as the app and the API record
it) back to the index version that answered, the encoder and the data it was trained on, the
MLflow runs, the Dagster run, and the files and content hashes the results came from (for a
connected source's document, the object in its store and the version that was indexed).

``trace`` is what ``docsearch lineage QUERY_ID`` prints and what the app and the API call;
``version_links`` gives an index version's MLflow and Dagster run addresses for result details.
A promoted version is followed back to the environment it was proved in.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlflow.entities import Run
from mlflow.tracking import MlflowClient
from sqlalchemy import select

from lifecycle.environments import FROM_RUN_TAG, FROM_TRACKING_TAG
from lifecycle.feedback import FeedbackStore
from lifecycle.feedback.schema import answers, queries, shown
from lifecycle.registry import INDEX_VERSION_TAG, MODEL_DIR, Registry
from search.index import DOCUMENTS, MANIFEST, IndexStore, read_manifest
from search.settings import Settings

DAGSTER_RUN_TAG = "dagster.run_id"  # what the registry's runs record of the Dagster run
DAGSTER_URL_TAG = "docsearch.dagster_url"  # and its address in that environment's Dagster UI
DOCUMENT_FIELDS = ("path", "content_hash", "size", "modified")  # a result's file
# a connected source's document: the object in its store (URL) and the version that was indexed
SOURCE_FIELDS = ("source", "source_url", "source_version")


class LineageError(ValueError):
    """A query id the feedback store does not hold."""


@dataclass(frozen=True)
class Lineage:
    """Everything an answer came from, as plain data (``as_dict`` for JSON)."""

    query: dict  # id, text, when, method, source, index version
    results: list[dict]  # rank, doc id, chunk id, score, file path, content hash, source object
    index: dict  # version, where it is, encoder, corpus fingerprint, file checksums
    runs: list[dict] = field(default_factory=list)  # MLflow runs, the serving one first
    encoder: dict = field(default_factory=dict)  # the fine-tuned encoder and its training data
    dagster_run: dict = field(default_factory=dict)  # id and address
    answers: list[dict] = field(default_factory=list)  # chat answers built on this query

    def as_dict(self) -> dict:
        return asdict(self)


def trace(settings: Settings, query_id: int) -> Lineage:
    """The lineage of one logged query; LineageError when the store has no such query."""
    query, results, chat = _logged(settings.feedback_url, query_id)
    folder = _index_folder(settings, query["index_version"])
    documents = _documents(folder) if folder else {}
    for row in results:
        meta = documents.get(row["doc_id"], {}).get("metadata", {})
        row |= {k: meta.get(k) for k in (*DOCUMENT_FIELDS, *SOURCE_FIELDS)}
    manifest = read_manifest(folder) if folder else {}
    registry = Registry.from_settings(settings)
    runs = _runs(registry, query["index_version"])
    encoder = _encoder(runs)
    dagster_id, address = _dagster_run(runs)
    dagster = {"run_id": dagster_id, "url": address or dagster_url(settings, dagster_id)}
    dagster = dagster if dagster_id else {}
    for run in runs:
        run["url"] = mlflow_url(settings, run["experiment_id"], run["run_id"], run["tracking_uri"])
    index = {
        "version": query["index_version"],
        "folder": str(folder or ""),
        "model": manifest.get("model", {}),
        "corpus_fingerprint": manifest.get("corpus_fingerprint"),
        "config_fingerprint": manifest.get("config_fingerprint"),
        "created": manifest.get("created"),
        "files": manifest.get("files", {}),
    }
    return Lineage(query, results, index, runs, encoder, dagster, chat)


def version_links(settings: Settings, index_version: str) -> dict[str, str]:
    """``{"MLflow run": url, "Dagster run": url}`` of the build of an index version (the
    source environment's build for a promoted one); empty when the registry has none."""
    uri = settings.mlflow_uri
    if uri.startswith("sqlite:///") and not Path(uri.removeprefix("sqlite:///")).is_file():
        return {}  # no store yet; asking would create one
    try:
        runs = _runs(Registry.from_settings(settings), index_version)
    except Exception:  # noqa: BLE001 - links are a convenience: no registry, no links
        return {}
    links = {}
    if runs:
        first = runs[0]
        links["MLflow run"] = mlflow_url(
            settings, first["experiment_id"], first["run_id"], first["tracking_uri"]
        )
    dagster, address = _dagster_run(runs)
    if dagster:
        links["Dagster run"] = address or dagster_url(settings, dagster)
    return links


def mlflow_url(settings: Settings, experiment_id: str, run_id: str, tracking_uri: str = "") -> str:
    base = settings.mlflow_ui_url
    for uri in (tracking_uri, settings.mlflow_uri):
        if not base and uri.startswith(("http://", "https://")):
            base = uri
    base = base or f"http://{settings.host}:{settings.mlflow_port}"
    return f"{base.rstrip('/')}/#/experiments/{experiment_id}/runs/{run_id}"


def dagster_url(settings: Settings, run_id: str) -> str:
    base = settings.dagster_ui_url or f"http://{settings.host}:{settings.dagster_port}"
    return f"{base.rstrip('/')}/runs/{run_id}"


def _logged(url: str, query_id: int) -> tuple[dict, list[dict], list[dict]]:
    store = FeedbackStore(url)
    try:
        with store.engine.connect() as conn:
            row = conn.execute(select(queries).where(queries.c.id == query_id)).first()
            if row is None:
                raise LineageError(
                    f"no query {query_id} in the feedback store {url}; query ids are in the "
                    "app's result details and the API's answers"
                )
            shown_rows = conn.execute(
                select(shown).where(shown.c.query_id == query_id).order_by(shown.c.rank)
            ).all()
            chat = conn.execute(select(answers).where(answers.c.query_id == query_id)).all()
    finally:
        store.close()
    q = row._mapping
    query = {
        "id": q["id"],
        "text": q["query"],
        "at": q["created_at"].isoformat() if q["created_at"] else None,
        "method": q["method"],
        "source": q["source"],
        "index_version": q["index_version"],
    }
    results = [
        {k: r._mapping[k] for k in ("rank", "doc_id", "chunk_id", "score")} for r in shown_rows
    ]
    said = [
        {"id": a.id, "answer": a.answer, "cited": list(a.cited_doc_ids), "mode": a.mode}
        for a in chat
    ]
    return query, results, said


def _index_folder(settings: Settings, version: str) -> Path | None:
    """The index folder of a version on this machine: the builder's store, a fetched copy, or
    (when neither is here) its documents and manifest fetched from the registry."""
    local = IndexStore(settings.index_root()).path(version)
    if (local / MANIFEST).is_file():
        return local
    for fetched in sorted(settings.models_dir.glob(f"*/{MODEL_DIR}/artifacts/{version}")):
        if (fetched / MANIFEST).is_file():
            return fetched
    return _download_index(settings, version)


def _download_index(settings: Settings, version: str) -> Path | None:
    registry = Registry.from_settings(settings)
    run_id = registry.find_build(version)
    if run_id is None:
        return None
    target = Path(tempfile.mkdtemp(prefix="docsearch-lineage-"))
    for name in (MANIFEST, DOCUMENTS):
        path = f"{MODEL_DIR}/artifacts/{version}/{name}"
        registry.client.download_artifacts(run_id, path, str(target))
    return target / MODEL_DIR / "artifacts" / version


def _documents(folder: Path) -> dict[str, dict]:
    rows = {}
    with open(folder / DOCUMENTS, encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            rows[row.pop("id")] = row
    return rows


def _runs(registry: Registry, index_version: str) -> list[dict]:
    """The run that logged the version in this environment, then, for a promoted version, the
    runs it was promoted from, environment by environment."""
    run_id = registry.find_build(index_version)
    if run_id is None:
        return []
    found, client, uri = [], registry.client, registry.tracking_uri
    while run_id and len(found) < 10:
        run = client.get_run(run_id)
        found.append(_run_record(run, uri, registry))
        uri = run.data.tags.get(FROM_TRACKING_TAG, "")
        run_id = run.data.tags.get(FROM_RUN_TAG, "")
        if run_id:
            client = MlflowClient(tracking_uri=uri, registry_uri=uri)
    return found


def _run_record(run: Run, uri: str, registry: Registry) -> dict:
    tags = {k: v for k, v in run.data.tags.items() if not k.startswith("mlflow.")}
    registered = ""
    if uri == registry.tracking_uri:
        version = registry.version_for_run(run.info.run_id)
        if version is not None:  # a search leaves the aliases out: read the version itself
            version = registry.client.get_model_version(registry.model_name, version.version)
            aliases = f" ({', '.join(version.aliases)})" if version.aliases else ""
            registered = f"{registry.model_name} v{version.version}{aliases}"
    return {
        "run_id": run.info.run_id,
        "experiment_id": run.info.experiment_id,
        "tracking_uri": uri,
        "name": run.info.run_name,
        "index_version": tags.get(INDEX_VERSION_TAG, ""),
        "registered": registered,
        "gate": {k: v for k, v in tags.items() if k.startswith("gate.")},
        "tags": tags,
        "metrics": {k: round(v, 4) for k, v in sorted(run.data.metrics.items())},
    }


def _dagster_run(runs: list[dict]) -> tuple[str, str]:
    """The Dagster run that built the version (a promotion run has none: its source has), and
    its address as the building environment recorded it ("" when it did not)."""
    for run in runs:
        if run["tags"].get(DAGSTER_RUN_TAG):
            return run["tags"][DAGSTER_RUN_TAG], run["tags"].get(DAGSTER_URL_TAG, "")
    return "", ""


def _encoder(runs: list[dict]) -> dict:
    """The fine-tuned encoder a version was built with, and the training data behind it."""
    for run in runs:
        encoder_run = run["tags"].get("docsearch.encoder_run")
        if encoder_run:
            client = MlflowClient(
                tracking_uri=run["tracking_uri"], registry_uri=run["tracking_uri"]
            )
            tags = client.get_run(encoder_run).data.tags
            return {
                "registered": run["tags"].get("docsearch.encoder_model", ""),
                "run_id": encoder_run,
                "base_model": tags.get("docsearch.base_model", ""),
                "training_data": tags.get("docsearch.training_data", ""),
                "feedback_events": tags.get("docsearch.feedback_events", ""),
                "feedback_index_versions": tags.get("docsearch.feedback_index_versions", ""),
            }
    return {}
