"""Settings of the product itself: where its state lives, what it indexes with which encoder,
its stores, its UIs' ports, and the optional LLM endpoint."""

from __future__ import annotations

from pathlib import Path

from pydantic import AliasChoices, BaseModel, Field, field_validator

from search.config import DEFAULT_ENCODER_BACKEND, DEFAULT_MODEL
from search.settings.base import SAMPLE_SET, absolute


class CoreSettings(BaseModel):
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

    @field_validator("home", "docs", "sample_set", "eval_scifact", mode="after")
    @classmethod
    def _absolute_core_paths(cls, path: Path | None) -> Path | None:
        return absolute(path)

    @field_validator("encoder_backend", mode="after")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from search.encoding.backend import parse_backend  # light: no runtime is imported

        return parse_backend(value).value

    @field_validator("eval_scifact", mode="before")
    @classmethod
    def _core_empty_is_none(cls, value):
        return value or None
