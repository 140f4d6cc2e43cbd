"""Deployment settings: the one place that reads environment variables.

``Settings.from_env()`` is called by the interfaces only (the CLI, the Streamlit app, the Dagster
definitions, ``make run``, the benchmarks); the layers below receive a ``Settings`` or plain
values and never read or write ``os.environ``. Each field documents itself: the README's
configuration table is generated from these fields (``python -m search.settings``) and a test
checks that the two agree.
"""

from __future__ import annotations

import contextvars
import tomllib
from pathlib import Path
from typing import Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from search.access import POLICY_FILE
from search.config import DEFAULT_ENCODER_BACKEND, DEFAULT_MODEL, IndexConfig

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_SET = PROJECT_ROOT / "data" / "sample"
PROFILES_FILE = PROJECT_ROOT / "docsearch.toml"  # the profiles table shipped with the product
DEFAULT_PROFILE = "dev"
PATH_FIELDS = ("home", "docs", "sample_set", "eval_scifact")  # relative to the profiles file

# What the libraries underneath read from the environment. The interfaces apply these (without
# overriding what the user set) before those libraries are imported: Hugging Face reads
# HF_HUB_OFFLINE at import time, and models cannot be downloaded here.
LIBRARY_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # models come from local folders or the packaged weights
    "TOKENIZERS_PARALLELISM": "false",  # no tokenizer threads forked into worker processes
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # no progress bars in logs
    # a client of a tracking server writes "View run ... at" to stdout: JSON output stays JSON
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
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

    # -------------------------------------------------- environments and the deployment
    env: str = Field(
        DEFAULT_PROFILE,
        description="the environment (profile): its table `[profiles.NAME]` in the profiles "
        "file supplies every setting the environment does not set",
    )
    config_file: Path = Field(
        PROFILES_FILE,
        validation_alias=AliasChoices("DOCSEARCH_CONFIG", "config_file"),
        description="the profiles file (TOML, one `[profiles.NAME]` table each)",
    )
    registry_model: str = Field(
        "",
        description="registered model of this environment's index versions and champion "
        "(empty: `docsearch-index` in dev, `docsearch-index-ENV` elsewhere)",
    )
    gate_floor: float | None = Field(
        None, description="minimum sample nDCG@10 a version needs to serve (empty: the gate's 0.5)"
    )
    gate_tolerance: float | None = Field(
        None,
        description="largest drop of a quality metric against the champion (empty: the gate's 0.01)",
    )
    dagster_database_url: str = Field(
        "",
        description="PostgreSQL URL of Dagster's runs, events and schedules (empty: SQLite "
        "under `$DOCSEARCH_HOME/dagster`)",
    )
    dagster_storage: str = Field(
        "",
        description="where Dagster keeps asset values between steps: `s3://BUCKET/PREFIX` for "
        "workers on other machines (empty: `$DOCSEARCH_HOME/dagster/storage`)",
    )
    executor: str = Field(
        "in_process",
        description="how `index_job` runs its steps: `in_process`, `multiprocess` (batches "
        "side by side) or `celery` (batches on Celery workers)",
    )
    celery_broker: str = Field(
        "pyamqp://guest:guest@127.0.0.1:5672//",
        description="broker the Celery executor and its workers share (RabbitMQ or Redis URL)",
    )
    batch_size: int = Field(
        64, description="documents per chunking batch and chunks per embedding batch in Dagster"
    )
    mlflow_backend_uri: str = Field(
        "",
        description="the MLflow server's own store, e.g. `postgresql://...` (empty: the "
        "tracking URI when it is a database, else SQLite under the home)",
    )
    artifact_store: str = Field(
        "",
        description="where the MLflow server keeps artifacts: `s3://BUCKET/PREFIX` (empty: "
        "`$DOCSEARCH_HOME/mlflow/artifacts`)",
    )
    s3_endpoint_url: str = Field(
        "",
        description="S3-compatible endpoint (MinIO, ...) of the artifact store and Dagster "
        "storage (empty: AWS); credentials come from `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`",
    )
    code_server_port: int = Field(4000, description="port of the Dagster code server (gRPC)")
    dagster_ui_url: str = Field(
        "", description="Dagster UI address for links (empty: `http://HOST:DAGSTER_PORT`)"
    )
    mlflow_ui_url: str = Field(
        "",
        description="MLflow UI address for links (empty: the tracking URI when it is http, "
        "else `http://HOST:MLFLOW_PORT`)",
    )
    serve_poll_seconds: float = Field(
        30.0, description="how often a serving process looks whether the champion alias moved"
    )
    keep_versions: int = Field(
        5,
        ge=1,
        description="index versions a store keeps when a build or a serving process starts: "
        "older ones are removed, never the current one, the one activated before it, or one a "
        "registry alias (champion, challenger) or the previous champion points at",
    )
    unactivated_retention_hours: float = Field(
        24.0,
        ge=0,
        description="a version built but never activated is removed on the next start after "
        "this many hours (staging folders of interrupted writes are removed at once)",
    )

    @field_validator(
        "home",
        "docs",
        "sample_set",
        "eval_scifact",
        "access",
        "auth_secrets",
        "config_file",
        mode="after",
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
        """Settings from the environment over the active profile (``DOCSEARCH_ENV``, default
        dev) over the defaults, ``overrides`` (field names) taking precedence over all.
        A malformed value raises SettingsError naming the variable and what it must be."""
        try:
            return cls(**{k: v for k, v in overrides.items() if v not in (None, "")})
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    @classmethod
    def from_profile(
        cls, name: str, config_file: str | Path | None = None, **overrides
    ) -> Settings:
        """The settings of another environment: its profile over the defaults, the
        environment variables of this process left out (they configure this environment)."""
        token = _READ_ENVIRONMENT.set(False)
        try:
            return cls.from_env(env=name, config_file=config_file, **overrides)
        finally:
            _READ_ENVIRONMENT.reset(token)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls, init_settings, env_settings, dotenv_settings, file_secret_settings
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # arguments > environment variables > the active profile's table > field defaults
        if not _READ_ENVIRONMENT.get():
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


_READ_ENVIRONMENT = contextvars.ContextVar("docsearch_read_environment", default=True)


class ProfileSource(PydanticBaseSettingsSource):
    """The active profile's table of the profiles file: ``[profiles.NAME]`` with field names
    as keys (``home = "/srv/docsearch"``). The profile and the file come from the sources
    before it (arguments, then environment variables). ``dev`` needs no table; any other name
    must have one. Relative paths are taken from the file's folder."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # the whole table is read at once in __call__

    def __call__(self) -> dict[str, Any]:
        name = str(self.current_state.get("env") or DEFAULT_PROFILE)
        chosen = self.current_state.get("config_file") or self.current_state.get("DOCSEARCH_CONFIG")
        path = Path(chosen or PROFILES_FILE).expanduser()
        profiles = _read_profiles(path)
        if name not in profiles:
            if name == DEFAULT_PROFILE:
                return {}
            known = ", ".join(sorted(profiles) or [DEFAULT_PROFILE])
            raise SettingsError(
                f"DOCSEARCH_ENV: no profile {name!r} in {path} (profiles: {known}); add a "
                f"[profiles.{name}] table there or pick another name"
            )
        table = dict(profiles[name])
        unknown = sorted(set(table) - set(self.settings_cls.model_fields))
        if unknown:
            raise SettingsError(
                f"{path} [profiles.{name}]: unknown setting(s) {', '.join(unknown)}; use the "
                "field names of the README's configuration table (home, mlflow_uri, ...)"
            )
        for key in PATH_FIELDS:
            if table.get(key):
                table[key] = str((path.parent / Path(table[key]).expanduser()).resolve())
        return table


def _read_profiles(path: Path) -> dict[str, dict]:
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SettingsError(f"DOCSEARCH_CONFIG: {path} is not readable TOML ({exc})") from None
    profiles = data.get("profiles", {})
    if not isinstance(profiles, dict):
        raise SettingsError(f"{path}: `profiles` must be a table of [profiles.NAME] tables")
    return profiles


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
