"""``Settings``: every setting of the product in one frozen object, composed of the groups in
this package (one module per group: ``core``, ``access``, ``deployment``, ...; a new group of
settings is a module of its own, added to the bases below), read from arguments > environment
variables > the active profile > defaults. Validators are looked up by name across the groups,
so each group names its own (``_absolute_core_paths``, ...): two groups with a ``_absolute``
would keep only one."""

from __future__ import annotations

from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from search.access import POLICY_FILE
from search.config import IndexConfig
from search.settings.access import AccessSettings
from search.settings.base import ENV_PREFIX, SettingsError
from search.settings.command_line import CommandLineSettings
from search.settings.core import CoreSettings
from search.settings.deployment import DeploymentSettings
from search.settings.experiments import ExperimentSettings
from search.settings.milvus import MilvusSettings
from search.settings.profiles import READ_ENVIRONMENT, ProfileSource
from search.settings.sources import SourcesSettings


class Settings(
    MilvusSettings,
    CommandLineSettings,
    ExperimentSettings,
    SourcesSettings,
    DeploymentSettings,
    AccessSettings,
    CoreSettings,
    BaseSettings,
):
    """Where runtime state lives, what to index, which services run where."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, frozen=True, extra="ignore", populate_by_name=True
    )

    def model_post_init(self, _context) -> None:
        if not self.mlflow_uri:
            object.__setattr__(
                self, "mlflow_uri", f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"
            )
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.home / 'feedback.sqlite'}")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from the environment over the active profile (``DOCSEARCH_ENV``, default
        dev) over the defaults, ``overrides`` (field names) taking precedence over all.
        A malformed value raises SettingsError naming the variable and what it must be."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v not in (None, "")})
        except ValidationError as exc:
            from search.settings.table import explain

            raise SettingsError(explain(exc)) from None

    @classmethod
    def from_profile(
        cls, name: str, config_file: str | Path | None = None, **overrides
    ) -> Settings:
        """The settings of another environment: its profile over the defaults, the
        environment variables of this process left out (they configure this environment)."""
        token = READ_ENVIRONMENT.set(False)
        try:
            return cls.from_env(env=name, config_file=config_file, **overrides)
        finally:
            READ_ENVIRONMENT.reset(token)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # arguments > environment variables > the active profile's table > field defaults
        if not READ_ENVIRONMENT.get():
            return init_settings, ProfileSource(settings_cls)
        return init_settings, env_settings, ProfileSource(settings_cls)

    # ------------------------------------------------------------------ derived paths
    @property
    def feedback_url(self) -> str:
        """The feedback store's URL: the product's store (``database_url``), its old name."""
        return self.database_url

    @property
    def cache_path(self) -> Path:
        return self.home / "cache" / "embeddings.sqlite"

    def index_root(self, name: str | None = None) -> Path:
        return self.home / "indexes" / (name or self.index_name)

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def exported_models_dir(self) -> Path:
        """Encoders exported for a faster runtime, by weights fingerprint and backend."""
        return self.models_dir / "exported"

    def index_config(self, **changes) -> IndexConfig:
        """The product's index configuration with this deployment's encoder and backends."""
        return IndexConfig(
            model=self.model, encoder_backend=self.encoder_backend, **self.index_backend_fields()
        ).replace(**changes)

    def index_backend_fields(self) -> dict:
        """The ``IndexConfig`` fields of the index backend: none for FAISS (its configs stay
        as they were), the backend, the address and the prefix for Milvus (the token is kept
        by the Milvus client of this process, never in a config or a manifest)."""
        if self.index_backend != "milvus":
            return {}
        if self.milvus_token:
            from search.retrieval.milvus.connection import remember_token

            remember_token(self.milvus_address, self.milvus_token)
        return {
            "index_backend": "milvus",
            "milvus_uri": self.milvus_address,
            "milvus_collection_prefix": self.milvus_collection_prefix,
        }

    @property
    def milvus_address(self) -> str:
        """Milvus's address: ``milvus_uri``, else a Milvus Lite file under the home."""
        return self.milvus_uri or str(self.home / "milvus" / "milvus.db")

    @property
    def sources_dir(self) -> Path:
        """Where each connected source's mirror lives (``<home>/sources/<name>/``)."""
        return self.home / "sources"

    @property
    def training_dir(self) -> Path:
        return self.home / "training"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.home / "mlflow" / "artifacts"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    @property
    def access_policy(self) -> Path:
        """The access policy file: DOCSEARCH_ACCESS, else access.yaml in the documents folder."""
        return self.access if self.access is not None else self.docs / POLICY_FILE

    @property
    def api_address(self) -> str:
        """The REST API the command line talks to: ``api_url``, else this machine's API."""
        if self.api_url:
            return self.api_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self.api_port}"

    @property
    def tokens_dir(self) -> Path:
        """API tokens the command line acts with for ``--as-user NAME`` (one file per user,
        readable by this account only)."""
        return self.home / "tokens"

    @property
    def access_dir(self) -> Path:
        """Where the last good access policy is kept (it stays in force while the file is bad)."""
        return self.home / "access"

    def labeled_sets(self) -> dict[str, Path]:
        """Evaluation sets by name: the sample's own queries always, SciFact when configured."""
        sets = {"sample": self.sample_set}
        if self.eval_scifact is not None:
            sets["scifact"] = self.eval_scifact
        return sets
