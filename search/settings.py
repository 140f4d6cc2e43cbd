"""Deployment settings: the one place that reads environment variables.

``Settings.from_env()`` is called by the interfaces only (the CLI, the Streamlit app, the Dagster
definitions, ``make run``, the benchmarks); the layers below receive a ``Settings`` or plain
values and never read or write ``os.environ``. Each field documents itself: the README's
configuration table is generated from these fields (``python -m search.settings``) and a test
checks that the two agree.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from search.access import POLICY_FILE
from search.config import DEFAULT_ENCODER_BACKEND, DEFAULT_MODEL, IndexConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SET = PROJECT_ROOT / "data" / "sample"

# What the libraries underneath read from the environment. The interfaces apply these (without
# overriding what the user set) before those libraries are imported: Hugging Face reads
# HF_HUB_OFFLINE at import time, and models cannot be downloaded here.
LIBRARY_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # models come from local folders or the packaged weights
    "TOKENIZERS_PARALLELISM": "false",  # no tokenizer threads forked into worker processes
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # no progress bars in logs
    "WANDB_DISABLED": "true",  # fine-tuning reports to nobody
}


class SettingsError(ValueError):
    """An environment variable holds a value the product cannot use."""


class Settings(BaseSettings):
    """Where runtime state lives, what to index, which services run where."""

    model_config = SettingsConfigDict(
        env_prefix="DOCSEARCH_", frozen=True, extra="ignore", populate_by_name=True
    )

    home: Path = Field(
        Path(".docsearch"), description="all runtime state (relative to the working directory)"
    )
    docs: Path = Field(SAMPLE_SET / "docs", description="the documents folder to index")
    model: str = Field(
        DEFAULT_MODEL, description="encoder: a local path, or a hub name with internet"
    )
    encoder_backend: str = Field(
        DEFAULT_ENCODER_BACKEND,
        description="encoder runtime: openvino-int8 (int8 calibrated on your corpus), "
        "openvino-bf16, onnx-int8, onnx, openvino, torch (plain PyTorch), torch-fp16 (GPU)",
    )
    index_name: str = Field(
        "default", description="the served index, under `$DOCSEARCH_HOME/indexes`"
    )
    mlflow_uri: str = Field(
        "",
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", "DOCSEARCH_MLFLOW_URI"),
        description="MLflow tracking and registry store (empty: SQLite under the home)",
    )
    # ---- the product's own SQL store (feedback, users and tokens, monitoring)
    database_url: str = Field(
        "",
        validation_alias=AliasChoices("DOCSEARCH_DATABASE_URL", "DOCSEARCH_FEEDBACK_URL"),
        description="the product's store (feedback, users, tokens): a SQLAlchemy URL, e.g. `postgresql+psycopg://user@host/db` (empty: SQLite `feedback.sqlite` under the home); `DOCSEARCH_FEEDBACK_URL` is its old name and still works",
    )
    sample_set: Path = Field(
        SAMPLE_SET, description="labeled queries every build is evaluated and gated on"
    )
    eval_scifact: Path | None = Field(
        None,
        description="a BEIR SciFact folder: also evaluate every build on it (first run encodes it, ~10 min on CPU)",
    )
    host: str = Field("127.0.0.1", description="address the UIs bind to (`make run`)")
    dagster_port: int = Field(3000, description="port of the Dagster UI")
    mlflow_port: int = Field(5000, description="port of the MLflow UI")
    app_port: int = Field(8501, description="port of the search app")
    retrain_min_feedback: int = Field(
        200, description="new clicks and votes that start `retrain_job` (the feedback sensor)"
    )
    llm_url: str = Field("", description="OpenAI-compatible base URL for generated chat answers")
    llm_model: str = Field("", description="model name sent to that endpoint (both must be set)")
    llm_api_key: str = Field("", description="bearer token for that endpoint, if it needs one")
    # ---- who may see what: the access policy, sign-in, the REST API
    access: Path | None = Field(
        None,
        description="the access policy file (YAML; unset: `access.yaml` at the root of the documents folder, never indexed)",
    )
    api_port: int = Field(8000, description="port of the REST API (`make run`, `docsearch api`)")
    auth_secrets: Path = Field(
        Path(".streamlit/secrets.toml"),
        description="Streamlit secrets file whose `[auth]` section configures OpenID Connect sign-in (the API accepts the same provider's access tokens)",
    )
    groups_claim: str = Field(
        "groups", description="OIDC claim that lists a signed-in person's groups"
    )
    name_claim: str = Field(
        "email", description="OIDC claim that names a signed-in person (`sub` when absent)"
    )
    admin_group: str = Field(
        "docsearch-admins",
        description="members of this group (from the claim or `docsearch users add --groups`) are admins",
    )
    api_rate_limit: int = Field(
        120, description="API requests per minute per token (then 429 with Retry-After)", ge=1
    )

    @field_validator(
        "home", "docs", "sample_set", "eval_scifact", "access", "auth_secrets", mode="after"
    )
    @classmethod
    def _absolute(cls, path: Path | None) -> Path | None:
        return None if path is None else path.expanduser().resolve()

    @field_validator("encoder_backend", mode="after")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from search.encoding.backend import parse_backend  # light: no runtime is imported

        return parse_backend(value).value

    @field_validator("eval_scifact", "access", mode="before")
    @classmethod
    def _empty_is_none(cls, value):
        return value or None

    def model_post_init(self, _context) -> None:
        if not self.mlflow_uri:
            object.__setattr__(
                self, "mlflow_uri", f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"
            )
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.home / 'feedback.sqlite'}")

    @classmethod
    def from_env(cls, **overrides) -> Settings:
        """Settings from the environment, ``overrides`` (field names) taking precedence.
        A malformed value raises SettingsError naming the variable and what it must be."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v not in (None, "")})
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

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
        """The product's index configuration with this deployment's encoder and backend."""
        return IndexConfig(model=self.model, encoder_backend=self.encoder_backend).replace(
            **changes
        )

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
    def access_dir(self) -> Path:
        """Where the last good access policy is kept (it stays in force while the file is bad)."""
        return self.home / "access"

    def labeled_sets(self) -> dict[str, Path]:
        """Evaluation sets by name: the sample's own queries always, SciFact when configured."""
        sets = {"sample": self.sample_set}
        if self.eval_scifact is not None:
            sets["scifact"] = self.eval_scifact
        return sets


def env_name(field: str) -> str:
    """The environment variable a field is read from (its first alias, else the prefix)."""
    info = Settings.model_fields[field]
    alias = info.validation_alias
    if isinstance(alias, AliasChoices):
        return str(alias.choices[0])
    return f"{Settings.model_config['env_prefix']}{field.upper()}"


def environment_table() -> str:
    """The README's configuration table, generated from the fields."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for field, info in Settings.model_fields.items():
        default = info.default
        if isinstance(default, Path):
            shown = (
                default.relative_to(PROJECT_ROOT).as_posix()
                if default.is_relative_to(PROJECT_ROOT)
                else str(default)
            )
        else:
            shown = "" if default in (None, "") else str(default)
        rows.append(
            f"| `{env_name(field)}` | {f'`{shown}`' if shown else 'unset'} | {info.description} |"
        )
    for name, value in LIBRARY_ENVIRONMENT.items():
        rows.append(
            f"| `{name}` | `{value}` | set for the libraries underneath unless already set |"
        )
    return "\n".join(rows)


def _explain(exc: ValidationError) -> str:
    problems = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else "?"
        name = env_name(field) if field in Settings.model_fields else field
        problems.append(f"{name}: {error['msg']}")
    return "bad setting: " + "; ".join(problems)


if __name__ == "__main__":
    print(environment_table())
