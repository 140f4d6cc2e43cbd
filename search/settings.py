"""Deployment settings: where state lives and which documents to index. Read at the edges only."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HOME = ".docsearch"  # relative to the working directory; git ignores it
DEFAULT_DOCS = "data/sample/docs"
SAMPLE_SET = "data/sample"


@dataclass(frozen=True)
class Settings:
    """Paths of all runtime state, under one folder (``DOCSEARCH_HOME``)."""

    home: Path
    docs: Path
    model: str
    mlflow_uri: str = ""  # empty: a SQLite store under home
    feedback_url: str = ""  # empty: a SQLite file under home
    index_name: str = "default"

    def __post_init__(self) -> None:
        if not self.mlflow_uri:
            object.__setattr__(
                self, "mlflow_uri", f"sqlite:///{self.home / 'mlflow' / 'mlflow.db'}"
            )
        if not self.feedback_url:
            object.__setattr__(self, "feedback_url", f"sqlite:///{self.home / 'feedback.sqlite'}")

    @classmethod
    def from_env(cls, env: dict | None = None) -> Settings:
        from search.config import DEFAULT_MODEL

        env = os.environ if env is None else env
        home = Path(env.get("DOCSEARCH_HOME") or DEFAULT_HOME).expanduser().resolve()
        docs = (
            Path(env.get("DOCSEARCH_DOCS") or _project_relative(DEFAULT_DOCS))
            .expanduser()
            .resolve()
        )
        return cls(
            home=home,
            docs=docs,
            model=env.get("DOCSEARCH_MODEL") or DEFAULT_MODEL,
            mlflow_uri=env.get("MLFLOW_TRACKING_URI", ""),
            feedback_url=env.get("DOCSEARCH_FEEDBACK_URL", ""),
        )

    @property
    def cache_path(self) -> Path:
        return self.home / "cache" / "embeddings.sqlite"

    def index_root(self, name: str | None = None) -> Path:
        return self.home / "indexes" / (name or self.index_name)

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def mlflow_artifacts(self) -> Path:
        return self.home / "mlflow" / "artifacts"


def _project_relative(path: str) -> str:
    """Paths of the shipped sample resolve against the project, whatever the working directory."""
    candidate = PROJECT_ROOT / path
    return str(candidate) if candidate.exists() else path


def sample_set_path() -> Path:
    return PROJECT_ROOT / SAMPLE_SET
