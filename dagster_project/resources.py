"""Resources: deployment settings and storage paths, the encoder, the MLflow tracker."""

import functools
from pathlib import Path

import dagster as dg

from lifecycle.builds import serving_model
from lifecycle.gate import GatePolicy
from lifecycle.registry import Registry
from search.config import IndexConfig
from search.encoding import Encoder, load_encoder
from search.index import IndexStore
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
    ndcg_floor: float = GatePolicy.floor
    regression_tolerance: float = GatePolicy.tolerance

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
        return IndexConfig(model=serving_model(self.settings(), self.store()))

    def store(self) -> IndexStore:
        settings = self.settings()
        return IndexStore(settings.index_root(settings.index_name))

    def labeled_sets(self) -> dict[str, Path]:
        """Evaluation sets by name: the sample's own queries always, SciFact when configured."""
        return self.settings().labeled_sets()

    def policy(self) -> GatePolicy:
        return GatePolicy(floor=self.ndcg_floor, tolerance=self.regression_tolerance)


@functools.lru_cache(maxsize=2)
def _encoder(model: str) -> Encoder:
    return load_encoder(
        model
    )  # loaded once per process: all steps run in one (in-process executor)


class EncoderResource(dg.ConfigurableResource):
    """The text encoder the settings name (a hashing encoder for ``hashing-<dim>``)."""

    docsearch: dg.ResourceDependency[DocsearchSettings]

    def load(self) -> Encoder:
        return _encoder(self.docsearch.index_config().model)


class MlflowTracker(dg.ConfigurableResource):
    """MLflow runs and the model registry (a SQLite store under DOCSEARCH_HOME by default)."""

    docsearch: dg.ResourceDependency[DocsearchSettings]

    def registry(self) -> Registry:
        return Registry.from_settings(self.docsearch.settings())


def make_resources(docsearch: DocsearchSettings, storage: str | Path) -> dict:
    """All resources wired to one settings resource; ``storage`` holds pickled asset values."""
    return {
        "docsearch": docsearch,
        "encoder": EncoderResource(docsearch=docsearch),
        "mlflow": MlflowTracker(docsearch=docsearch),
        "io_manager": dg.FilesystemIOManager(base_dir=str(storage)),
    }
