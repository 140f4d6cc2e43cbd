"""What every part of the settings shares: where the project lives, the shipped profiles file,
what the libraries underneath read from the environment, and the error a bad value raises."""

from __future__ import annotations

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE_SET = PROJECT_ROOT / "data" / "sample"
PROFILES_FILE = PROJECT_ROOT / "docsearch.toml"  # the profiles table shipped with the product
DEFAULT_PROFILE = "dev"
ENV_PREFIX = "DOCSEARCH_"

# What the libraries underneath read from the environment. The interfaces apply these (without
# overriding what the user set) before those libraries are imported: Hugging Face reads
# HF_HUB_OFFLINE at import time, and models cannot be downloaded here.
LIBRARY_ENVIRONMENT = {
    "HF_HUB_OFFLINE": "1",  # models come from local folders or the packaged weights
    "TOKENIZERS_PARALLELISM": "false",  # no tokenizer threads forked into worker processes
    # no "Loading weights" bar for a model read from a local folder (nothing is downloaded)
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR": "false",  # no progress bars in logs
    # a client of a tracking server writes "View run ... at" to stdout: JSON output stays JSON
    "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    "WANDB_DISABLED": "true",  # fine-tuning reports to nobody
}


class SettingsError(ValueError):
    """An environment variable holds a value the product cannot use."""


def absolute(path: Path | None) -> Path | None:
    """A path setting as the product uses it: user-expanded and absolute."""
    return None if path is None else path.expanduser().resolve()
