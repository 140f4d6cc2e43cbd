"""Resources: deployment settings and storage paths, the encoder, the MLflow tracker."""

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from lifecycle.builds import serving_model
from lifecycle.environments import policy_for
from lifecycle.gate import GatePolicy
from lifecycle.housekeeping import open_store
from lifecycle.registry import Registry
from search.config import IndexConfig
from search.encoding import Encoder
from search.index import IndexStore, encoder_for
from search.ingest import Document
from search.settings import Settings


class DocsearchSettings(dg.ConfigurableResource):
    """Where state lives, what to index and evaluate, and the promotion gate.

    An empty field means "as the product's settings say" (``search.settings.Settings``: the
    environment, else its defaults); a value set here (in code or the launchpad) overrides it.
    """

    home: str = ""
    docs: str = ""
    model: str = ""
    mlflow_uri: str = ""
    sample_set: str = ""  # BEIR-layout labeled set; empty: data/sample
    scifact: str = ""  # SciFact in BEIR layout; empty: not evaluated
    ndcg_floor: float | None = None  # None: the environment's gate (settings), else the default
    regression_tolerance: float | None = None

    def settings(self) -> Settings:
        return Settings.from_env(
            home=self.home,
            docs=self.docs,
            model=self.model,
            mlflow_uri=self.mlflow_uri,
            sample_set=self.sample_set,
            eval_scifact=self.scifact,
        )

    def index_config(self) -> IndexConfig:
        """The product's config with the serving encoder (a promoted fine-tuned one, if any)."""
        settings = self.settings()
        return settings.index_config(model=serving_model(settings, self.store()))

    def store(self) -> IndexStore:
        settings = self.settings()
        return open_store(settings, settings.index_name)  # cleaned once per process

    def labeled_sets(self) -> dict[str, Path]:
        """Evaluation sets by name: the sample's own queries always, SciFact when configured."""
        return self.settings().labeled_sets()

    def policy(self) -> GatePolicy:
        """The environment's gate (``gate_floor``, ``gate_tolerance``) unless set here."""
        return policy_for(
            self.settings(), floor=self.ndcg_floor, tolerance=self.regression_tolerance
        )


_ENCODERS: dict[tuple, Encoder] = {}  # loaded once per process and shared by its steps


class EncoderResource(dg.ConfigurableResource):
    """The text encoder the settings name (a hashing encoder for ``hashing-<dim>``), run by the
    configured backend; an int8 export calibrates on ``documents`` the first time."""

    docsearch: dg.ResourceDependency[DocsearchSettings]

    def load(self, documents: Sequence[Document] = (), model: str | None = None) -> Encoder:
        """The serving encoder, or the one ``model`` names (what a batch was cut for), run by
        the configured backend; an int8 export calibrates on ``documents`` the first time."""
        settings = self.docsearch.settings()
        config = self.docsearch.index_config()
        if model:
            config = config.replace(model=model)
        key = (config.model, config.encoder_backend, str(settings.exported_models_dir))
        if key not in _ENCODERS:  # once per process: every step in-process, every Celery task
            _ENCODERS[key] = encoder_for(config, settings, documents)
        return _ENCODERS[key]


class MlflowTracker(dg.ConfigurableResource):
    """MLflow runs and the model registry (a SQLite store under DOCSEARCH_HOME by default)."""

    docsearch: dg.ResourceDependency[DocsearchSettings]

    def registry(self) -> Registry:
        return Registry.from_settings(self.docsearch.settings())


def make_resources(
    docsearch: DocsearchSettings, storage: str | Path, s3_endpoint_url: str = ""
) -> dict:
    """All resources wired to one settings resource. ``storage`` holds pickled asset values
    between steps: a folder (every step on this machine), or ``s3://BUCKET/PREFIX`` so Celery
    workers on other machines read and write them too."""
    return {
        "docsearch": docsearch,
        "encoder": EncoderResource(docsearch=docsearch),
        "mlflow": MlflowTracker(docsearch=docsearch),
        "io_manager": io_manager(str(storage), s3_endpoint_url),
    }


def io_manager(storage: str, s3_endpoint_url: str = "") -> dg.ConfigurableIOManager:
    if not storage.startswith("s3://"):
        return dg.FilesystemIOManager(base_dir=storage)
    from dagster_aws.s3 import S3PickleIOManager, S3Resource

    bucket, _, prefix = storage.removeprefix("s3://").partition("/")
    s3 = S3Resource(endpoint_url=s3_endpoint_url or None)
    return S3PickleIOManager(s3_resource=s3, s3_bucket=bucket, s3_prefix=prefix or "dagster")
