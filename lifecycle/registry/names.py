"""Names the registry writes and reads: the model, the experiment, the aliases, the tags."""

# run tag: the hash of the access policy the version enforces (named where policies are kept)
from lifecycle.access import POLICY_HASH_TAG as POLICY_HASH_TAG
from search.settings import DEFAULT_PROFILE, Settings

MODEL_NAME = "docsearch-index"
EXPERIMENT = "docsearch"
CHAMPION = "champion"  # the alias of the version that serves
CHALLENGER = "challenger"  # the alias of the newest version the gate did not promote
MODEL_DIR = "index_model"  # where the pyfunc model sits among the run's artifacts
HISTORY_TAG = "docsearch.champion_history"  # registered-model tag: versions promoted, in order
INDEX_VERSION_TAG = "docsearch.index_version"  # run and version tags: the index folder's id,
INDEX_PATH_TAG = "docsearch.index_path"  # its path,
INDEX_ROOT_TAG = "docsearch.index_root"  # and the IndexStore it belongs to
MANIFEST_HASH_TAG = "docsearch.manifest_sha256"  # run and version tags: its manifest's sha256
PARENT_VERSION_TAG = "docsearch.parent_version"  # the registered version a version came from
PROMOTION_TAG = "docsearch.promotion"  # prefix of the tags a cross-environment promotion writes
REASON_TAG = "docsearch.reason"  # run tag: why the version exists (``reasons``)
REASON_DETAIL_TAG = "docsearch.reason_detail"  # and what it was compared with, value by value
ALIAS_TAG = "docsearch.alias"  # run tag kept in step with the aliases: "champion", "challenger"
CHAMPION_SINCE_TAG = "docsearch.champion_since"  # version tag: when it last became champion


def model_name_for(settings: Settings) -> str:
    """The registered model of an environment: each has its own, hence its own champion."""
    if settings.registry_model:
        return settings.registry_model
    return MODEL_NAME if settings.env == DEFAULT_PROFILE else f"{MODEL_NAME}-{settings.env}"


def experiment_for(settings: Settings) -> str:
    """The MLflow experiment of an environment's builds (environments may share a server)."""
    return EXPERIMENT if settings.env == DEFAULT_PROFILE else f"{EXPERIMENT}-{settings.env}"


def artifact_root_for(settings: Settings) -> str | None:
    """Where a new experiment keeps its artifacts: chosen by the tracking server when it is
    one (``--serve-artifacts``, clients never see the bucket), else the artifact store or the
    folder under the home."""
    if settings.mlflow_uri.startswith(("http://", "https://")):
        return None
    return settings.artifact_store or settings.mlflow_artifacts.resolve().as_uri()
