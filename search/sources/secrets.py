"""Secrets of a source, read when it is opened and never kept: an option names where one is.

``password_env=SMB_PASSWORD`` reads the environment variable ``SMB_PASSWORD`` of the process
that syncs (the CLI, a Dagster run); ``password_file=/run/secrets/smb`` reads a file (its
content, without the final newline). The value itself is never an option, so it never reaches
the product's store, a log line or a listing of sources. The environment is handed in by the
interface that runs the sync (the layers below never read ``os.environ`` themselves).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from search.sources.model import SourceError

SECRET_WORDS = ("password", "secret", "token", "key")  # an option named like this is a secret
MAX_SECRET_BYTES = 64 * 1024


def secret_options(*names: str) -> dict[str, str]:
    """The options that say where each secret in ``names`` is (``NAME_env``, ``NAME_file``)."""
    out = {}
    for name in names:
        out[f"{name}_env"] = f"environment variable that holds the {name.replace('_', ' ')}"
        out[f"{name}_file"] = f"file that holds the {name.replace('_', ' ')}"
    return out


def refuse_plain_secret(option: str) -> str | None:
    """Why an option looks like a secret written out (None when it does not)."""
    if option.endswith(("_env", "_file")) or not any(w in option for w in SECRET_WORDS):
        return None
    return (
        f"option {option!r} would store a secret; put it in an environment variable or a file "
        f"and give `{option}_env=VARIABLE` or `{option}_file=PATH` instead"
    )


def read_secret(options: Mapping[str, str], name: str, environ: Mapping[str, str]) -> str | None:
    """The secret ``name`` from where the options say it is; None when they name no place."""
    variable, file = options.get(f"{name}_env"), options.get(f"{name}_file")
    if variable:
        value = environ.get(variable)
        if value is None:
            raise SourceError(
                f"the environment variable {variable} (option {name}_env) is not set; set it "
                "in the environment docsearch syncs in"
            )
        return value
    if file:
        try:
            raw = Path(file).expanduser().read_bytes()[: MAX_SECRET_BYTES + 1]
        except OSError as exc:
            raise SourceError(
                f"the file {file} (option {name}_file) cannot be read ({exc.strerror})"
            ) from None
        if len(raw) > MAX_SECRET_BYTES:
            raise SourceError(f"the file {file} (option {name}_file) is too big for a secret")
        return raw.decode("utf-8", errors="strict").rstrip("\r\n")
    return None
